"""Label and distil: an LLM labels the rows of a dataset whose target is missing, within a
cost cap the user sees first; a person reviews a sample (accept or fix); the normal search
then trains a small model on the labelled rows.

Each step makes a new dataset version (versions are immutable). Where every label came from
is kept in the version's `provenance["labels"]`: by row position, `llm` (with the model id) or
`human`, so the version page can report the model's agreement with each apart.
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd

from core.errors import DataError, PlanError
from core.llm.adapter import LLMAdapter
from core.llm.labelling import estimate_labelling, label_rows, rows_to_label
from db.engine import session_scope
from db.models import Dataset
from workspace import versions
from workspace.access import load_in_project
from workspace.datasets import _llm_adapter, _store, load_dataset_frame, load_limits
from workspace.permissions import Action, Actor
from workspace.settings import get_settings

MAX_LABEL_ROWS = 2000


def _check_column(frame: pd.DataFrame, column: str) -> None:
    if column not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:20]))
        raise DataError(f"There is no column '{column}' to label. The columns are: {shown}.")


def _inputs(frame: pd.DataFrame, column: str) -> list[str]:
    return [c for c in frame.columns if c != column]


def labelling_estimate(*, actor: Actor | None, dataset_id: uuid.UUID | str, column: str,
                       max_rows: int = 200) -> dict:
    """How many rows lack a label, how many would be asked, and the estimated tokens and
    cost with the configured LLM (None when its price is not known). Editors+."""
    with session_scope() as session:
        load_in_project(session, actor, Dataset, dataset_id, Action.UPLOAD, what="dataset")
    frame = load_dataset_frame(actor=actor, dataset_id=dataset_id)
    _check_column(frame, column)
    positions = rows_to_label(frame, column, min(int(max_rows), MAX_LABEL_ROWS))
    estimate = estimate_labelling(frame, positions, _inputs(frame, column),
                                  get_settings().llm or "")
    return {**estimate, "missing": int(frame[column].isna().sum()), "total": len(frame)}


def _new_version(session, actor: Actor, source: Dataset, frame: pd.DataFrame, provenance: dict,
                 action: str) -> Dataset:
    data = frame.to_csv(index=False).encode("utf-8")
    name = source.name
    dataset = _store(session, actor, source.project_id, data, filename=f"{name}.csv", name=name,
                     sheet=None, df=_read_back(data, name), synthetic=source.synthetic,
                     labelled=action)
    dataset.provenance = {**(source.provenance or {}), "labels": provenance}
    session.add(dataset)
    session.flush()
    return dataset


def _read_back(data: bytes, name: str) -> pd.DataFrame:
    # read exactly as an upload of these bytes would be, so a build sees what is stored
    from core.loading import load_table

    return load_table(data, filename=f"{name}.csv", limits=load_limits())


def label_dataset(*, actor: Actor | None, dataset_id: uuid.UUID | str, column: str,
                  allowed: list[str], brief: str, max_rows: int = 200,
                  max_cost_usd: float | None = None, max_tokens: int | None = None,
                  chat_model: Any = None) -> tuple[Dataset, dict]:
    """Label up to `max_rows` rows whose `column` is empty; store the result as a new
    version. Returns (the new version, the run's summary: labelled, invalid, unanswered,
    stopped_at_cap, tokens, cost). A run stopped by its cap keeps what it labelled."""
    with session_scope() as session:
        source = load_in_project(session, actor, Dataset, dataset_id, Action.UPLOAD, what="dataset")
    frame = load_dataset_frame(actor=actor, dataset_id=dataset_id)
    _check_column(frame, column)
    allowed = [str(a).strip() for a in allowed if str(a).strip()]
    positions = rows_to_label(frame, column, min(int(max_rows), MAX_LABEL_ROWS))
    if not positions:
        raise PlanError(f"Every row already has a '{column}': there is nothing to label.")
    adapter = _llm_adapter(chat_model)
    if not isinstance(adapter, LLMAdapter):  # a LangChain chat model given directly (tests)
        adapter = LLMAdapter(adapter, max_retries=0)
    run = label_rows(frame, brief=brief, label_column=column, allowed=allowed,
                     inputs=_inputs(frame, column), adapter=adapter, positions=positions,
                     max_cost_usd=max_cost_usd, max_tokens=max_tokens)
    if not run.labels:
        raise PlanError("The LLM labelled no row: " + (run.stopped_because or
                        f"all {run.invalid} answers were outside the allowed labels") + ".")
    labelled = frame.copy()
    labelled[column] = labelled[column].astype(object)
    for position, label in run.labels.items():
        labelled.iloc[position, labelled.columns.get_loc(column)] = label
    previous = (source.provenance or {}).get("labels") or {}
    provenance = {
        "column": column, "allowed": allowed,
        "llm": {**previous.get("llm", {}), **{str(p): l for p, l in run.labels.items()}},
        "human": previous.get("human", {}), "model": run.model or "an unnamed LLM",
        "run": run.summary(),
    }
    with session_scope() as session:
        source = load_in_project(session, actor, Dataset, dataset_id, Action.UPLOAD, what="dataset")
        return _new_version(session, actor, source, labelled, provenance, "llm"), run.summary()


def labels_to_review(*, actor: Actor | None, dataset_id: uuid.UUID | str,
                     sample: int = 20, seed: int = 0) -> pd.DataFrame:
    """A seeded sample of the LLM's labels not yet reviewed: row, the inputs, the label."""
    dataset = _view_dataset(actor, dataset_id)
    labels = (dataset.provenance or {}).get("labels") or {}
    pending = [int(p) for p in labels.get("llm", {}) if p not in labels.get("human", {})]
    if not pending:
        return pd.DataFrame(columns=["row", "llm_label"])
    frame = load_dataset_frame(actor=actor, dataset_id=dataset_id)
    chosen = sorted(pd.Series(pending).sample(n=min(sample, len(pending)), random_state=seed))
    shown = frame.iloc[chosen].copy()
    shown.insert(0, "row", chosen)
    shown = shown.drop(columns=[labels["column"]])
    shown["llm_label"] = [labels["llm"][str(p)] for p in chosen]
    return shown.reset_index(drop=True)


def _view_dataset(actor: Actor | None, dataset_id) -> Dataset:
    with session_scope() as session:
        return load_in_project(session, actor, Dataset, dataset_id, Action.VIEW, what="dataset")


def review_labels(*, actor: Actor | None, dataset_id: uuid.UUID | str,
                  decisions: dict[int, str]) -> Dataset:
    """A person's review: {row position: the label they accept or set}. Stored as a new
    version whose reviewed rows are marked `human`. Labels outside the set are refused."""
    with session_scope() as session:
        source = load_in_project(session, actor, Dataset, dataset_id, Action.UPLOAD, what="dataset")
    labels = dict((source.provenance or {}).get("labels") or {})
    if not labels:
        raise PlanError("This dataset version has no LLM labels to review.")
    allowed = {a.casefold(): a for a in labels["allowed"]}
    frame = load_dataset_frame(actor=actor, dataset_id=dataset_id)
    human = dict(labels.get("human", {}))
    for position, label in decisions.items():
        spelled = allowed.get(str(label).strip().casefold())
        if spelled is None:
            raise PlanError(f"'{label}' is not one of the labels ({', '.join(labels['allowed'])}).")
        if not 0 <= int(position) < len(frame):
            raise PlanError(f"There is no row {position} in this dataset.")
        frame.iloc[int(position), frame.columns.get_loc(labels["column"])] = spelled
        human[str(int(position))] = spelled
    labels["human"] = human
    with session_scope() as session:
        source = load_in_project(session, actor, Dataset, dataset_id, Action.UPLOAD, what="dataset")
        return _new_version(session, actor, source, frame, labels, "human")


def label_agreement(*, actor: Actor | None, version_id: uuid.UUID | str) -> dict | None:
    """How often a model version predicts the label a person reviewed, and the label the LLM
    gave, on the rows of its dataset (most of them were training rows: an agreement, not a
    held-out score). None when the version's data had no LLM labels."""
    version = versions.get_model_version(actor=actor, version_id=version_id)
    dataset = _view_dataset(actor, version.dataset_id)
    labels = (dataset.provenance or {}).get("labels") or {}
    if not labels or labels.get("column") != version.target:
        return None
    frame = load_dataset_frame(actor=actor, dataset_id=dataset.id)
    out = {}
    for source in ("human", "llm"):
        given = labels.get(source) or {}
        if source == "llm":  # the LLM's labels a person did not override
            given = {p: l for p, l in given.items() if p not in (labels.get("human") or {})}
        if not given:
            out[source] = {"rows": 0, "agreement": None}
            continue
        rows = frame.iloc[[int(p) for p in given]].drop(columns=[version.target])
        predicted = versions.predict_rows(actor=actor, version_id=version_id, df=rows)["table"]
        same = (predicted[version.target].astype(str).to_numpy()
                == pd.Series(list(given.values())).astype(str).to_numpy())
        out[source] = {"rows": len(given), "agreement": float(same.mean())}
    out["model"] = labels.get("model")
    return out
