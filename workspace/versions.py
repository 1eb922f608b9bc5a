"""Model versions, read side: list, show, compare, download, predict.

Versions are created by the build worker (workspace/builds.py) and never change afterwards,
so a loaded bundle can be cached by its SHA-256 for the life of the process. Prediction goes
through `core.bundle`, the same code a downloaded bundle's `predict.py` runs.
"""

from __future__ import annotations

import re
import tempfile
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlmodel import select

from core import runtime
from core.bundle import LoadedBundle, load_bundle
from core.explain import explain_row
from core.loading import load_rows_to_predict
from db.artifacts import read_artifact, write_artifact_to
from db.engine import session_scope
from db.models import Dataset, ModelVersion, Project, User
from workspace import audit, bundle_keys
from workspace.access import load_in_project, require_project
from workspace.datasets import load_limits
from workspace.permissions import Action, Actor

BUNDLE_CACHE_SIZE = 8
_bundles: OrderedDict[str, LoadedBundle] = OrderedDict()
_bundles_lock = threading.Lock()


@dataclass(frozen=True)
class ModelVersionSummary:
    id: uuid.UUID
    project_id: uuid.UUID
    version: int
    target: str
    task_type: str
    metric: str
    score: float | None  # metrics["holdout"][metric], when the metrics hold a number there
    build_id: uuid.UUID | None
    dataset_id: uuid.UUID | None
    dataset_label: str | None  # "customers v2"
    created_at: datetime
    created_by_email: str | None


def headline_score(metrics: dict | None, metric: str) -> float | None:
    """The held-out value of `metric` from a version's metrics JSON (either flat or under
    'holdout'/'test'), or None."""
    if not metrics:
        return None
    for holder in (metrics.get("holdout"), metrics.get("test"), metrics):
        if isinstance(holder, dict) and isinstance(holder.get(metric), (int, float)):
            return float(holder[metric])
    return None


def list_model_versions(
    *, actor: Actor | None, project_id: uuid.UUID | str
) -> list[ModelVersionSummary]:
    """Every model version of the project, newest first (one query; the big JSON stays in
    the database: only the held-out score is read from the metrics)."""
    held_out = sa.func.jsonb_extract_path(ModelVersion.metrics, "holdout", ModelVersion.metric)
    score = sa.case((sa.func.jsonb_typeof(held_out) == "number", sa.cast(held_out, sa.Float)),
                    else_=None)
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.VIEW)
        rows = session.exec(
            select(ModelVersion.id, ModelVersion.project_id, ModelVersion.version,
                   ModelVersion.target, ModelVersion.task_type, ModelVersion.metric,
                   score,
                   ModelVersion.build_id, ModelVersion.dataset_id, Dataset.name, Dataset.version,
                   ModelVersion.created_at, User.email)
            .join(Dataset, Dataset.id == ModelVersion.dataset_id, isouter=True)
            .join(User, User.id == ModelVersion.created_by, isouter=True)
            .where(ModelVersion.project_id == project_id)
            .order_by(ModelVersion.version.desc())
        ).all()
        return [
            ModelVersionSummary(
                id=r[0], project_id=r[1], version=r[2], target=r[3], task_type=r[4], metric=r[5],
                score=r[6], build_id=r[7], dataset_id=r[8],
                dataset_label=f"{r[9]} v{r[10]}" if r[9] is not None else None,
                created_at=r[11], created_by_email=r[12])
            for r in rows
        ]


def get_model_version(*, actor: Actor | None, version_id: uuid.UUID | str) -> ModelVersion:
    """One model version with its metrics, explanation, leaderboard, findings and report."""
    with session_scope() as session:
        return load_in_project(session, actor, ModelVersion, version_id, Action.VIEW,
                               what="model version")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "model"


def download_bundle(*, actor: Actor | None, version_id: uuid.UUID | str) -> tuple[str, bytes]:
    """The bundle zip: (filename like 'churn-v3.zip', bytes). Recorded in the audit log."""
    name, data = bundle_zip(actor=actor, version_id=version_id)
    record_download(actor=actor, version_id=version_id)
    return name, data


def bundle_zip(*, actor: Actor | None, version_id: uuid.UUID | str) -> tuple[str, bytes]:
    """The bundle zip, for one allowed to download it, without an audit record: a download
    button holds the bytes before anyone clicks it, and `record_download` is called on the
    click."""
    with session_scope() as session:
        version = load_in_project(session, actor, ModelVersion, version_id, Action.DOWNLOAD,
                                  what="model version")
        project = session.get(Project, version.project_id)
        return f"{_slug(project.name)}-v{version.version}.zip", read_artifact(session, version.bundle_sha256)


def record_download(*, actor: Actor | None, version_id: uuid.UUID | str) -> None:
    """Write a bundle's download to the audit log."""
    with session_scope() as session:
        version = load_in_project(session, actor, ModelVersion, version_id, Action.DOWNLOAD,
                                  what="model version")
        audit.record(session, actor, "download", project_id=version.project_id,
                     object_type="model version", object_id=version.id, version=version.version)


def _loaded_bundle(sha: str) -> LoadedBundle:
    """The bundle with this SHA-256, loaded once per process (versions are immutable)."""
    with _bundles_lock:
        if sha in _bundles:
            _bundles.move_to_end(sha)
            return _bundles[sha]
    with tempfile.TemporaryDirectory(prefix="briefml-bundle-") as tmp:
        with session_scope() as session:
            path = write_artifact_to(session, sha, Path(tmp) / "bundle.zip")
        # reads the listed files, checks them, the structure and the workspace's signature
        bundle = load_bundle(path, **bundle_keys.verification())
    with _bundles_lock:
        _bundles[sha] = bundle
        while len(_bundles) > BUNDLE_CACHE_SIZE:
            _bundles.popitem(last=False)
    return bundle


def predict_rows(
    *, actor: Actor | None, version_id: uuid.UUID | str, df: pd.DataFrame, explain: bool = False,
    coverage: float | None = None, drift: bool = False,
) -> dict:
    """Predict the rows of `df` with a model version (viewers and up).

    Returns {"table": predictions (the target column, proba_<class> columns for classifiers,
    and lower/upper or set at `coverage` when the version has reliability figures),
    "warnings": [what had to be done to the input], "explanation": the
    `core.explain.explain_row` waterfall when `explain` and `df` has exactly one row, else None,
    "drift": with `drift`, the rows against the training data (`core.runtime.drift_report`),
    "drift_lines": the same in words, "coverage": the promise and held-out coverage in words}.
    Raises core.runtime.SchemaError (a ValueError) when the rows do not fit the model.
    """
    with session_scope() as session:
        version = load_in_project(session, actor, ModelVersion, version_id, Action.PREDICT,
                                  what="model version")
    bundle = _loaded_bundle(version.bundle_sha256)
    table, report = bundle.model.predict_table(df, coverage=coverage, drift=drift)
    explanation = None
    if explain and len(df) == 1:
        explanation = explain_row(bundle.model, df, explanation=bundle.explanation)
    return {"table": table, "warnings": report.warnings(), "explanation": explanation,
            "drift": report.drift, "drift_lines": runtime.drift_lines(report.drift),
            "coverage": runtime.coverage_lines(bundle.model.reliability, coverage)}


def predict_file(
    *, actor: Actor | None, version_id: uuid.UUID | str, data: bytes, filename: str,
    coverage: float | None = None,
) -> dict:
    """Predict every row of an uploaded file with a model version (viewers and up).

    The file is read by the one table reader a bundle's predict.py uses, its cells kept as
    written, so the user's columns come back unchanged. Returns {"table": the prediction
    (a prediction whose name an input column has is named predicted_<name>, as the target's
    is when the file holds it) followed by the input columns, "warnings": [...], "drift",
    "drift_lines" and "coverage" (see `predict_rows`)}.
    Raises DataError for a file that cannot be read and core.runtime.SchemaError (a
    ValueError) when its rows do not fit the model.
    """
    with session_scope() as session:  # who may predict is checked before the file is read
        load_in_project(session, actor, ModelVersion, version_id, Action.PREDICT, what="model version")
    rows = load_rows_to_predict(data, filename=filename, limits=load_limits())
    result = predict_rows(actor=actor, version_id=version_id, df=rows, coverage=coverage, drift=True)
    table = runtime.with_input_columns(result["table"], rows)  # as a bundle's predict.py writes it
    return {"table": table, "warnings": result["warnings"],
            **{key: result[key] for key in ("drift", "drift_lines", "coverage")}}


def spreadsheet_csv(table: pd.DataFrame) -> bytes:
    """A prediction table as CSV bytes that open safely in a spreadsheet."""
    return runtime.spreadsheet_safe(table).to_csv(index=False).encode("utf-8")


def compare_versions(*, actor: Actor | None, version_ids: list[uuid.UUID | str]) -> list[dict]:
    """Side by side, oldest first: for each version its number, target, task type, metric,
    headline score, held-out metrics, baseline (when stored) and dataset. Every id must be
    visible to the actor (else NotFound)."""
    out = []
    with session_scope() as session:
        for version_id in dict.fromkeys(version_ids):
            v = load_in_project(session, actor, ModelVersion, version_id, Action.VIEW,
                                what="model version")
            dataset = session.get(Dataset, v.dataset_id) if v.dataset_id else None
            metrics = v.metrics or {}
            out.append({
                "id": v.id, "project_id": v.project_id, "version": v.version, "target": v.target,
                "task_type": v.task_type, "metric": v.metric,
                "score": headline_score(metrics, v.metric),
                "holdout": metrics.get("holdout", metrics) if isinstance(metrics, dict) else {},
                "baseline": metrics.get("baseline") if isinstance(metrics, dict) else None,
                "dataset": f"{dataset.name} v{dataset.version}" if dataset else None,
                "created_at": v.created_at,
            })
    return sorted(out, key=lambda item: (str(item["project_id"]), item["version"]))
