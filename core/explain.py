"""SHAP explanations of a `TabularModel`, by original input column.

The arithmetic (member explainers, summing one-hot / TF-IDF / datetime features back into
their input column, putting classifiers in probability space, weighting ensemble members)
lives in `core.runtime`, so a bundle's `predict.py --explain` gives the same numbers. This
module adds what the app needs on top: sampling for cost, global importance, data for
beeswarm / bar / dependence charts, and one-row waterfalls. Everything returned is JSON-able.

Spaces: regression models are explained in the prediction's units; classifiers in
probability space (CatBoost and other log-odds explainers are mapped; see `core.runtime`),
so that `expected_value + sum(values) == predicted probability` for every row. When the
schema holds the model's `average_output` (a build stores it), `expected_value` is that
average: the mean predicted probability, or the mean prediction, over the training rows. Binary
tasks explain the positive class (the second class in the schema); multiclass tasks give
importance summed over classes and per class, and row-level charts use each row's
predicted class.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from core import runtime
from core.jsonsafe import json_safe
from core.model import TabularModel

TOP_FEATURES = 10
DEPENDENCE_FEATURES = 3


def explain_model(
    model: TabularModel, frame_sample: pd.DataFrame, *, seed: int = 0, max_rows: int = 2000,
    seconds: float | None = None, held_out_rows: int = 0,
) -> dict:
    """Global SHAP explanation of `model` on (a sample of) raw input rows.

    Without `seconds`, a random sample of `max_rows` rows is explained. With `seconds`, the
    rows are taken in the order given (a build puts its held-out rows first, says how many in
    `held_out_rows`, and shuffles), in growing chunks, until `max_rows` rows are explained or
    the next chunk would not fit in the time left (see `_explain_in_time`).

    Returns a JSON-able dict: ``space``, ``task_type``, ``classes``, ``explained_class``,
    ``sample_size`` / ``rows_available`` / ``held_out_rows`` (how many of the explained rows
    were held out), ``expected_value`` (per class for classifiers), ``importance``
    ([{column, mean_abs_shap}] sorted, largest first), ``importance_by_class`` (multiclass),
    ``beeswarm`` (per-row values and SHAP of the top columns), ``dependence`` (value/SHAP
    pairs of the top few columns), ``references`` (what `explain_row` and the bundle need to
    explain linear members), and ``members`` / ``notes``.
    """
    explainers: dict = {}  # built once for all the chunks
    if seconds is None:
        rows = _sample(frame_sample, max_rows, seed)
        frame, _ = model.feature_frame(rows)
        references = _references(model, frame, explainers)
        contrib = runtime.explain_frame(model.members, frame, model.schema, references, explainers)
    else:
        deadline = time.monotonic() + seconds
        rows = frame_sample.iloc[:max_rows]
        frame, _ = model.feature_frame(rows)
        references = _references(model, frame, explainers)
        members, used = _one_model_a_member(model.members)
        contrib = _explain_in_time(model, members, frame,
                                   {str(j): references[str(i)] for j, i in enumerate(used)
                                    if str(i) in references},
                                   deadline - time.monotonic(), explainers)
        rows = rows.iloc[:len(contrib.values)]
    held_out = min(held_out_rows, len(rows))
    which = runtime.explained_output_index(contrib.output, model.schema, model.reliability.get("calibrator"))
    per_row = contrib.values[np.arange(len(which)), :, which]  # (rows, columns)
    importance = _importance(contrib)
    top = [item["column"] for item in importance[:TOP_FEATURES]]
    return {
        "space": contrib.space,
        "task_type": model.task_type,
        "classes": model.classes_,
        "explained_class": _explained_class(model),
        "sample_size": len(rows),
        "rows_available": len(frame_sample),
        "held_out_rows": held_out,
        "seed": seed,
        "expected_value": _expected_value(contrib, model),
        "importance": importance,
        "importance_by_class": _importance_by_class(contrib, model),
        "top_features": top,
        "beeswarm": _beeswarm(rows, contrib.columns, per_row, top),
        "dependence": _dependence(rows, contrib.columns, per_row, top[:DEPENDENCE_FEATURES]),
        "references": references,
        "members": [
            {"name": m.name, "kind": m.kind, "weight": float(m.weight)} for m in model.members
        ],
        "notes": _notes(model, len(rows), len(frame_sample), held_out)
        + ([FOLD_MODELS_NOTE] if seconds is not None and len(members) < len(model.members) else []),
    }


def explain_row(model: TabularModel, row_df: pd.DataFrame, *, explanation: dict | None = None) -> dict:
    """Waterfall data for the first row of `row_df`.

    Returns ``base_value``, ``output`` (base + contributions), ``prediction``, ``explained_class``,
    ``space`` and ``contributions`` ([{column, value, contribution}] largest magnitude first).
    Models with linear members need `explanation` (from `explain_model`) for their reference.
    """
    row = row_df.iloc[:1]
    frame, report = model.feature_frame(row)
    references = (explanation or {}).get("references") or {}
    contrib = runtime.explain_frame(model.members, frame, model.schema, references)
    k = int(runtime.explained_output_index(contrib.output, model.schema,
                                           model.reliability.get("calibrator"))[0])
    values = contrib.values[0, :, k]
    items = [
        {"column": col, "value": json_safe(row[col].iloc[0]), "contribution": float(v)}
        for col, v in zip(contrib.columns, values)
    ]
    items.sort(key=lambda item: abs(item["contribution"]), reverse=True)
    prediction = model.predict(row)[0]
    return {
        "space": contrib.space,
        "explained_class": None if model.task_type == "regression" else model.classes_[k],
        "prediction": json_safe(prediction),
        "base_value": float(contrib.base[k]),
        "output": float(contrib.base[k] + values.sum()),
        "contributions": items,
        "warnings": report.warnings(),
    }


PILOT_ROWS = 10  # the first chunk: a big ensemble of deep forests explains a row in a fraction of a second
GROWTH = 4  # a chunk is at most this many times the rows explained so far (timings are noisy)
SAFETY = 0.8  # of the time left, what the next chunk is planned to take


def _references(model: TabularModel, frame: pd.DataFrame, explainers: dict | None = None) -> dict:
    return {str(i): runtime.sklearn_reference(m, frame)
            for i, m in enumerate(model.members) if runtime.needs_reference(m, explainers)}


FOLD_MODELS_NOTE = ("Members that ship as their cross-validation models are explained "
                    "through the first of those models, to fit the time: their values add up "
                    "to that model's prediction, close to the ensemble's.")


def _one_model_a_member(members: list[runtime.Member]) -> tuple[list[runtime.Member], list[int]]:
    """A member shipped as its k fold models ('t002/fold0' ... 't002/fold4') once, by its
    first fold model with all their weight, and the positions of the models kept. Each
    model's SHAP set-up is paid once per explanation; k forests of deep trees can take
    seconds before a single row is explained, so a build explains one model of each."""
    kept: dict[str, int] = {}
    weights: dict[str, float] = {}
    for i, member in enumerate(members):
        trial = runtime.trial_of_fold_member(member.name) or f"#{i}"
        kept.setdefault(trial, i)
        weights[trial] = weights.get(trial, 0.0) + member.weight
    used = list(kept.values())
    reduced = [runtime.Member(members[i].kind, members[i].estimator, weights[trial],
                              members[i].name) for trial, i in kept.items()]
    return reduced, used


def _explain_in_time(model: TabularModel, members: list[runtime.Member], frame: pd.DataFrame,
                     references: dict, seconds: float,
                     explainers: dict | None = None) -> runtime.Contributions:
    """SHAP of the first rows of `frame`, as many as fit in `seconds`, in growing chunks.

    Each call of the explainers costs a fixed overhead (a CatBoost member's SHAP set-up, say)
    plus a cost per row, and the overhead dominates a small pilot: timing one pilot alone
    takes the overhead for the per-row cost and explains ten times too few rows. So chunks
    grow, and from the second on the per-row cost is the slope between the timed chunks."""
    start = time.monotonic()
    parts: list[runtime.Contributions] = []
    timings: list[tuple[int, float]] = []  # (rows, seconds) per chunk
    done, size = 0, min(PILOT_ROWS, len(frame))
    while size > 0:
        t = time.monotonic()
        parts.append(runtime.explain_frame(members, frame.iloc[done:done + size],
                                           model.schema, references, explainers))
        timings.append((size, time.monotonic() - t))
        done += size
        overhead, per_row = _chunk_cost(timings)
        left = seconds - (time.monotonic() - start)
        affordable = (SAFETY * left - overhead) / per_row
        size = int(max(0, min(len(frame) - done, GROWTH * done, affordable)))
    return _concatenated(parts)


def _chunk_cost(timings: list[tuple[int, float]]) -> tuple[float, float]:
    """(overhead per call, seconds per row) from the timed chunks: one chunk is all per-row
    cost (the cautious guess); two or more give the slope between the smallest and largest.
    The first chunk pays one-off costs too (tree explainers built, a library's first call):
    once a later chunk is timed it is left out, or its cost would pass for overhead and the
    slope after it for nearly free rows."""
    later = timings[1:] if len(timings) >= 2 else timings
    if len(later) == 1:
        rows, took = later[0]
        return 0.0, max(took / rows, 1e-6)
    (small, t_small), (large, t_large) = min(later), max(later)
    per_row = max((t_large - t_small) / max(large - small, 1), t_large / large / 50, 1e-6)
    return max(0.0, min(t for _, t in later) - small * per_row), per_row


def _concatenated(parts: list[runtime.Contributions]) -> runtime.Contributions:
    first = parts[0]
    return runtime.Contributions(
        first.columns, first.base, np.concatenate([p.values for p in parts]),
        np.concatenate([p.output for p in parts]), first.space)


def rows_explained(sample_size: int, available: int, held_out: int) -> str:
    """How many rows an explanation used, in words."""
    trained = sample_size - held_out
    return (f"SHAP values computed on {sample_size:,} of {available:,} rows: {held_out:,} "
            f"held-out row(s)" + (f" and {trained:,} training row(s)." if trained else "."))


AVERAGE_ROWS = 5000  # the mean of 5000 predictions is within about a point of the full mean


def average_output(model: TabularModel, rows: pd.DataFrame, *, seed: int = 0,
                   max_rows: int = AVERAGE_ROWS) -> list[float]:
    """The model's average output over `rows` (its training rows, sampled): per class the
    mean predicted probability for classifiers, the mean prediction for regression. Stored
    in the schema as ``average_output``, it is the base every explanation starts from: "the
    model predicts 28% on average" (see `core.runtime.rebased`)."""
    output = model.raw_output(_sample(rows, max_rows, seed))
    output = output.reshape(len(output), -1)
    return [float(v) for v in output.mean(axis=0)]


# --------------------------------------------------------------------------- pieces


def _sample(df: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    if len(df) <= max_rows:
        return df
    return df.sample(n=max_rows, random_state=seed)


def _explained_class(model: TabularModel) -> Any:
    if model.task_type == "binary":
        return model.classes_[1]
    return None


def _expected_value(contrib: runtime.Contributions, model: TabularModel) -> Any:
    if model.task_type == "regression":
        return float(contrib.base[0])
    return {str(cls): float(v) for cls, v in zip(model.classes_, contrib.base)}


def _importance(contrib: runtime.Contributions) -> list[dict]:
    """Mean |SHAP| per column; binary counts the positive class once, multiclass sums classes."""
    values = contrib.values[:, :, 1:] if contrib.values.shape[2] == 2 else contrib.values
    scores = np.abs(values).mean(axis=0).sum(axis=1)
    order = np.argsort(-scores, kind="stable")
    return [{"column": contrib.columns[i], "mean_abs_shap": float(scores[i])} for i in order]


def _importance_by_class(contrib: runtime.Contributions, model: TabularModel) -> dict | None:
    if model.task_type != "multiclass":
        return None
    scores = np.abs(contrib.values).mean(axis=0)  # (columns, classes)
    return {
        str(cls): {col: float(scores[c, k]) for c, col in enumerate(contrib.columns)}
        for k, cls in enumerate(model.classes_)
    }


def _beeswarm(rows: pd.DataFrame, columns: list[str], per_row: np.ndarray, top: list[str]) -> dict:
    position = {c: i for i, c in enumerate(columns)}
    return {
        "columns": top,
        "shap": {c: [float(v) for v in per_row[:, position[c]]] for c in top},
        "values": {c: [json_safe(v) for v in rows[c]] for c in top},
    }


def _dependence(rows: pd.DataFrame, columns: list[str], per_row: np.ndarray, top: list[str]) -> list[dict]:
    position = {c: i for i, c in enumerate(columns)}
    out = []
    for col in top:
        numeric = pd.api.types.is_numeric_dtype(rows[col]) and not pd.api.types.is_bool_dtype(rows[col])
        out.append(
            {
                "column": col,
                "kind": "numeric" if numeric else "categorical",
                "values": [json_safe(v) for v in rows[col]],
                "shap": [float(v) for v in per_row[:, position[col]]],
            }
        )
    return out


def _notes(model: TabularModel, sample_size: int, available: int, held_out: int = 0) -> list[str]:
    notes = []
    if held_out:
        notes.append(rows_explained(sample_size, available, held_out))
    elif sample_size < available:
        notes.append(f"Explained a random sample of {sample_size} of {available} rows to keep it fast.")
    if model.task_type != "regression":
        notes.append(
            "Values are in probability points; log-odds explainers were mapped to probabilities "
            "so that members add up."
        )
    if len(model.members) > 1:
        notes.append("Ensemble values are the weighted sum of the members' values.")
    return notes
