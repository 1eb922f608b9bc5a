"""Where the model fails, from its held-out predictions: the rows with the largest errors
(with their values and SHAP explanations), the slices where it does worst (found
automatically over categories and quantile bins of numbers) and, for classifiers, the
confusion pairs that make up most of the errors.

Every figure is computed here from the held-out rows; `failure_sentences` turns them into
the words the report and the version page show. Everything returned is plain JSON.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from core import runtime
from core.jsonsafe import json_safe

WORST_ROWS = 5
ROW_CONTRIBUTIONS = 4  # the columns that pushed a bad prediction the most
SLICES_SHOWN = 5
QUANTILE_BINS = 4
MIN_SLICE_ROWS = 10
MIN_SLICE_SHARE = 0.05  # of the held-out rows: a smaller group's score is mostly noise
MAX_CATEGORIES = 20  # per column: the most frequent ones
CLEARLY_WORSE_SE = 2.0  # a slice this many standard errors worse than the whole is named
CONFUSION_PAIRS = 5
MAX_VALUE_CHARS = 80


def analyse_failures(*, schema: dict, raw_test: pd.DataFrame, y_test: np.ndarray,
                     output: np.ndarray, explainer: list | None = None,
                     deadline: float | None = None, calibrator: dict | None = None) -> dict:
    """Failure analysis of held-out predictions `output` (the ensemble's probabilities or
    values) against `y_test` (label indices or numbers) on the raw held-out rows `raw_test`;
    a classifier's rows are judged by the probabilities and labels the bundle gives them,
    after its `calibrator`.

    `explainer`: [(weight, members)] behind `output` (the model as it was evaluated: each
    ensemble member's fold models); the worst rows get their SHAP contributions from them
    as far as time (`deadline`, a `time.monotonic()` value) allows.
    """
    raw_test = raw_test.reset_index(drop=True)
    errors, predicted, measure = row_errors(schema, y_test, output, calibrator)
    result: dict = {
        "measure": measure,
        "rows": len(y_test),
        "whole": float(np.mean(errors)) if len(errors) else None,
        "worst_rows": worst_rows(schema, raw_test, y_test, output, errors, predicted),
        "slices": worst_slices(schema, raw_test, errors,
                               None if schema["task_type"] == "regression" else predicted != y_test),
        "confusion_pairs": confusion_pairs(schema, y_test, predicted),
    }
    if explainer and (deadline is None or time.monotonic() < deadline):
        _add_contributions(result["worst_rows"], explainer, raw_test, schema, deadline)
    return json_safe(result)


# --------------------------------------------------------------------------- per row


def row_errors(schema: dict, y: np.ndarray, output: np.ndarray,
               calibrator: dict | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """Per-row error, the predicted label index (or value), and what the error measures.

    Classification: 1 - the probability given to the true class ("missed probability"),
    whose mean over a slice is read beside its error rate; regression: the absolute error.
    """
    if schema["task_type"] == "regression":
        return np.abs(y - output), output, "absolute error"
    predicted = runtime.class_indices(output, schema, calibrator)
    shown = runtime.calibrated_output(output, calibrator)
    missed = 1.0 - shown[np.arange(len(y)), np.clip(y, 0, output.shape[1] - 1)]
    return missed, predicted, "missed probability"


def _shown(value):
    value = json_safe(value)
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + "…"
    return value


def _label(schema: dict, index) -> object:
    return schema["classes"][int(index)] if schema["task_type"] != "regression" else float(index)


def worst_rows(schema: dict, raw_test: pd.DataFrame, y: np.ndarray, output: np.ndarray,
               errors: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """The WORST_ROWS held-out rows with the largest errors, with their input values."""
    columns = runtime.input_columns(schema)
    order = np.argsort(-errors, kind="stable")[:WORST_ROWS]
    out = []
    for i in order:
        if schema["task_type"] != "regression" and predicted[i] == y[i]:
            continue  # a right label with low confidence is not a failure
        entry = {"row": int(i), "actual": _label(schema, y[i]), "predicted": _label(schema, predicted[i]),
                 "error": float(errors[i]),
                 "values": {c: _shown(raw_test.at[i, c]) for c in columns if c in raw_test.columns}}
        if schema["task_type"] != "regression":
            entry["probability_of_actual"] = float(1.0 - errors[i])
        out.append(entry)
    return out


def _add_contributions(rows: list[dict], groups: list, raw_test: pd.DataFrame, schema: dict,
                       deadline: float | None) -> None:
    """SHAP contributions for the worst rows, for the class they should have been (or the
    value), so each row says which columns pushed it the wrong way.

    `groups`: [(weight, members)], one per ensemble member (its fold models), explained
    heaviest first while the last one's cost says the next fits before `deadline`; the
    rows say which share of the ensemble's weight their explanation covers."""
    if not rows:
        return
    frame, _ = runtime.prepare_frame(raw_test, schema)
    chosen = frame.iloc[[r["row"] for r in rows]]
    # one fold model at a time, heaviest first: a slow one overruns by itself at most
    members = [(weight / len(group), m) for weight, group in sorted(groups, key=lambda g: -g[0])
               for m in group]
    values, covered, seconds = None, 0.0, 0.0
    for weight, member in members:
        if deadline is not None and time.monotonic() + 1.5 * seconds > deadline:
            break
        start = time.monotonic()
        try:
            reference = runtime.sklearn_reference(member, frame) if runtime.needs_reference(member) else None
            contrib = runtime.explain_frame([member], chosen, schema, {"0": reference} if reference else None)
        except Exception:  # explanations are a bonus; the errors themselves still stand
            break
        seconds = time.monotonic() - start
        values = contrib.values * weight + (0.0 if values is None else values)
        covered += weight
    if values is None:
        return
    values = values / covered
    share = covered / sum(weight for weight, _ in members)
    for k, row in enumerate(rows):
        _push(row, contrib.columns, values[k], schema, share)


def _push(row: dict, columns: list[str], values: np.ndarray, schema: dict, share: float) -> None:
    """The columns that pushed one row's prediction away from the truth, strongest first."""
    if schema["task_type"] == "regression":
        which, sign = 0, 1.0 if row["predicted"] >= row["actual"] else -1.0
    else:
        which, sign = schema["classes"].index(row["actual"]), -1.0
    push = values[:, which] * sign
    order = np.argsort(-push, kind="stable")[:ROW_CONTRIBUTIONS]
    row["pushed_wrong_by"] = [{"column": columns[c], "contribution": float(values[c, which])}
                              for c in order if push[c] > 0]
    row["explained"] = ("prediction" if schema["task_type"] == "regression"
                        else f"probability of '{row['actual']}'")
    row["explained_share"] = share


# --------------------------------------------------------------------------- slices


def _slice_groups(schema: dict, raw_test: pd.DataFrame, frame: pd.DataFrame):
    """(column, label, mask) for each category and each quantile bin of each number."""
    for col in schema["columns"]:
        name, kind = col["name"], col["kind"]
        if kind in ("categorical", "boolean"):
            values = (runtime._to_category(raw_test[name]) if kind == "categorical"
                      else frame[name].map({1.0: "true", 0.0: "false"}))
            values = values.fillna("(missing)").astype(str)
            for value in values.value_counts().index[:MAX_CATEGORIES]:
                yield name, f"{name} = {value}", (values == value).to_numpy()
        elif kind in ("numeric", "datetime"):
            feature = name if kind == "numeric" else f"{name}__year"
            yield from _numeric_bins(name, frame[feature])


def _numeric_bins(name: str, values: pd.Series):
    known = values.notna().to_numpy()
    if known.sum() >= 2 * MIN_SLICE_ROWS and values.nunique() > 1:
        bins = pd.qcut(values, QUANTILE_BINS, duplicates="drop")
        for interval in bins.cat.categories:
            label = f"{name} in {_fmt(interval.left)} – {_fmt(interval.right)}"
            yield name, label, (bins == interval).to_numpy()
    if (~known).any():
        yield name, f"{name} missing", ~known


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def worst_slices(schema: dict, raw_test: pd.DataFrame, errors: np.ndarray,
                 wrong: np.ndarray | None = None) -> list[dict]:
    """The slices with the largest mean error, at least MIN_SLICE_ROWS (or MIN_SLICE_SHARE
    of the rows) each, worst first, with their size and how clearly they differ from the
    whole (in standard errors of the slice mean). `wrong` (classification: the rows with a
    wrong label) adds each slice's error rate beside the whole's."""
    n = len(errors)
    if n == 0:
        return []
    frame, _ = runtime.prepare_frame(raw_test, schema)
    whole = float(errors.mean())
    least = max(MIN_SLICE_ROWS, math.ceil(MIN_SLICE_SHARE * n))
    found = []
    for column, label, mask in _slice_groups(schema, raw_test, frame):
        size = int(mask.sum())
        if size < least or size == n:
            continue
        part = errors[mask]
        mean = float(part.mean())
        spread = float(part.std(ddof=1)) if size > 1 else 0.0
        se = spread / math.sqrt(size) if spread > 0 else 0.0
        found.append({"column": column, "slice": label, "rows": size, "share": size / n,
                      "error": mean, "whole": whole, "ratio": mean / whole if whole > 0 else None,
                      "standard_errors": (mean - whole) / se if se > 0 else None})
        if wrong is not None:
            found[-1].update(error_rate=float(wrong[mask].mean()), whole_error_rate=float(wrong.mean()))
    found = [s for s in found if s["error"] > whole]
    found.sort(key=lambda s: -(s["error"] - s["whole"]) * math.sqrt(s["rows"]))
    for s in found:
        s["clearly_worse"] = bool((s["standard_errors"] or 0) >= CLEARLY_WORSE_SE)
    return found[:SLICES_SHOWN]


# --------------------------------------------------------------------------- confusion


def confusion_pairs(schema: dict, y: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """Classification: the (actual, predicted) pairs that make up most of the errors."""
    if schema["task_type"] == "regression":
        return []
    wrong = predicted != y
    total = int(wrong.sum())
    if total == 0:
        return []
    pairs, counts = np.unique(np.stack([y[wrong], predicted[wrong]], axis=1), axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:CONFUSION_PAIRS]
    classes = schema["classes"]
    return [{"actual": classes[int(pairs[i][0])], "predicted": classes[int(pairs[i][1])],
             "rows": int(counts[i]), "share_of_errors": float(counts[i] / total),
             "share_of_actual": float(counts[i] / max(1, int((y == pairs[i][0]).sum())))}
            for i in order]


# --------------------------------------------------------------------------- words


def failure_sentences(failures: dict | None) -> list[str]:
    """The failure analysis in words (every number from `failures`)."""
    if not failures:
        return []
    out = []
    measure = failures.get("measure", "error")
    whole = failures.get("whole")
    for s in failures.get("slices") or []:
        if not s.get("clearly_worse"):
            continue
        rate = (f"; {s['error_rate']:.0%} wrong against {s['whole_error_rate']:.0%} overall"
                if s.get("error_rate") is not None else "")
        out.append(f"Worst slice: {s['slice']} ({s['rows']} held-out rows), mean {measure} "
                   f"{s['error']:.3g} against {whole:.3g} overall{rate}.")
    if not out and failures.get("slices"):
        out.append("No slice of at least the minimum size is clearly worse than the whole "
                   "(beyond two standard errors); the errors are spread out.")
    pairs = failures.get("confusion_pairs") or []
    if pairs:
        top = pairs[0]
        out.append(f"Most errors are '{top['actual']}' predicted as '{top['predicted']}': "
                   f"{top['rows']} row(s), {top['share_of_errors']:.0%} of the held-out errors.")
    worst = failures.get("worst_rows") or []
    if worst:
        first = worst[0]
        pushed = [p["column"] for p in first.get("pushed_wrong_by") or []]
        out.append(f"The largest error: a row whose actual value is "
                   f"'{_plain_number(first['actual'])}' was predicted as "
                   f"'{_plain_number(first['predicted'])}'"
                   + (f"; {', '.join(f'{c!r}' for c in pushed[:3])} pushed it the wrong way."
                      if pushed else "."))
    return out


def _plain_number(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
