"""What changed between two model versions: the brief, the target, the columns used and left
out (with reasons), the planner, the budget, the held-out metrics with their intervals and the
change in what the model relies on. Removing a leak between v1 and v2 shows up here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from db.engine import session_scope
from db.models import Build, Dataset, ModelVersion
from workspace.access import load_in_project
from workspace.permissions import Action, Actor


@dataclass(frozen=True)
class VersionRecord:
    """The parts of one version that a comparison shows."""

    version: int
    brief: str | None
    target: str
    task_type: str
    metric: str
    dataset: str | None
    planner: str | None
    budget_seconds: float | None
    features: tuple[str, ...]
    excluded: dict[str, str]  # column -> reason (and detail)
    holdout: dict[str, float]
    intervals: dict[str, list[float]]
    importance: dict[str, float]  # column -> mean |SHAP|


@dataclass(frozen=True)
class VersionDiff:
    before: VersionRecord
    after: VersionRecord
    settings: list[dict] = field(default_factory=list)  # {"what", "before", "after"} that differ
    columns: list[dict] = field(default_factory=list)  # {"column", "before", "after"} that differ
    metrics: list[dict] = field(default_factory=list)  # every held-out metric of either
    importance: list[dict] = field(default_factory=list)  # {"column", "before", "after", "change"}


def _record(version: ModelVersion, build: Build | None, dataset: Dataset | None) -> VersionRecord:
    spec = version.spec or {}
    metrics = version.metrics or {}
    explanation = version.explanation or {}
    excluded = {}
    for item in spec.get("excluded") or []:
        reason = str(item.get("reason", "")).replace("_", " ")
        detail = item.get("detail") or ""
        excluded[item["column"]] = f"{reason}: {detail}" if detail else reason
    return VersionRecord(
        version=version.version,
        brief=build.brief if build else None,
        target=version.target,
        task_type=version.task_type,
        metric=version.metric,
        dataset=f"{dataset.name} v{dataset.version}" if dataset else None,
        planner=(metrics.get("planner") or (build.planner if build else None)),
        budget_seconds=build.budget_seconds if build else None,
        features=tuple(spec.get("feature_columns") or ()),
        excluded=excluded,
        holdout={k: v for k, v in (metrics.get("holdout") or {}).items()
                 if isinstance(v, (int, float))},
        intervals=dict(metrics.get("confidence_intervals") or {}),
        importance={item["column"]: float(item.get("mean_abs_shap") or 0.0)
                    for item in explanation.get("importance") or []},
    )


def _column_state(record: VersionRecord, column: str) -> str:
    if column in record.features:
        return "used"
    if column in record.excluded:
        return f"left out ({record.excluded[column]})"
    if column == record.target:
        return "target"
    return "not in the data"


def diff_records(before: VersionRecord, after: VersionRecord) -> VersionDiff:
    """Pure: what differs between two versions, in rows a table can show."""
    settings = [
        {"what": what, "before": b, "after": a}
        for what, b, a in (
            ("brief", before.brief, after.brief),
            ("target", before.target, after.target),
            ("task", before.task_type, after.task_type),
            ("main metric", before.metric, after.metric),
            ("dataset", before.dataset, after.dataset),
            ("planner", before.planner, after.planner),
            ("budget (s)", before.budget_seconds, after.budget_seconds),
        )
        if b != a
    ]
    every_column = dict.fromkeys([*before.features, *before.excluded, *after.features,
                                  *after.excluded])
    columns = [
        {"column": c, "before": _column_state(before, c), "after": _column_state(after, c)}
        for c in every_column
        if _column_state(before, c) != _column_state(after, c)
    ]
    metrics = [
        {"metric": m, "before": before.holdout.get(m), "after": after.holdout.get(m),
         "before interval": before.intervals.get(m), "after interval": after.intervals.get(m)}
        for m in dict.fromkeys([*before.holdout, *after.holdout])
    ]
    # a version without an explanation has no importance to compare with: the change is
    # unknown (None), not the other version's whole value; a column only one explained
    # version uses changes from or to 0
    both = bool(before.importance) and bool(after.importance)
    importance = sorted(
        (
            {"column": c, "before": before.importance.get(c), "after": after.importance.get(c),
             "change": (after.importance.get(c) or 0.0) - (before.importance.get(c) or 0.0)
             if both else None}
            for c in dict.fromkeys([*before.importance, *after.importance])
        ),
        key=lambda row: -abs(row["change"] if both else row["after"] or row["before"] or 0.0),
    )
    return VersionDiff(before=before, after=after, settings=settings, columns=columns,
                       metrics=metrics, importance=importance)


def diff_versions(*, actor: Actor | None, before_id: uuid.UUID | str,
                  after_id: uuid.UUID | str) -> VersionDiff:
    """The diff of two versions the actor may view (else NotFound), older one first."""
    records = []
    with session_scope() as session:
        for version_id in (before_id, after_id):
            version = load_in_project(session, actor, ModelVersion, version_id, Action.VIEW,
                                      what="model version")
            build = session.get(Build, version.build_id) if version.build_id else None
            dataset = session.get(Dataset, version.dataset_id) if version.dataset_id else None
            records.append(_record(version, build, dataset))
    before, after = sorted(records, key=lambda r: r.version)
    return diff_records(before, after)
