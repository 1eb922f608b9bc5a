"""A stress test of a trained model on messy versions of held-out rows: categories with a
typo, another case or surrounding spaces, unseen categories, missing values column by
column, numbers beyond the training range, empty text, extra and reordered columns.

Each check changes a copy of the rows and predicts it through `TabularModel.predict_table`,
the `core.runtime` path a bundle's `predict.py` runs, then measures whether prediction
still ran and how far the predictions moved from those on the clean rows. A check whose
change should not matter (case, spaces, extra or reordered columns) that moves predictions
marks the model *fragile*; one that removes information (missing, unseen, typo, out of
range) and moves them marks it *sensitive*, which is expected for a column the model uses.
Everything returned is plain JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from core import runtime
from core.jsonsafe import json_safe

STRESS_ROWS = 200
STRESS_TOTAL_ROWS = 20000  # over all checks: a wide table gets fewer rows per check...
MIN_STRESS_ROWS = 30  # ...but never fewer than this
CALL_ROWS = 1000  # a prediction call costs about the same for up to this many rows
MAX_BATCH_ROWS = 20000  # rows per prediction call, at most
BATCH_GROWTH = 4  # a call's rows, at most this many times the last call timed
MOVES_CLASSIFICATION = 0.05  # share of changed labels, or half the mean probability change
MOVES_REGRESSION = 0.1  # mean absolute change as a share of the predictions' spread
UNSEEN_VALUE = "never-seen-before"
MAX_SUGGESTIONS = 6  # the worst columns first; a wide table would otherwise list them all
# changes a person would read as the same input: predictions should not move
MEANING_KEPT = {"case change", "extra spaces", "extra columns", "reordered columns"}


def stress_test(model, rows: pd.DataFrame, *, seed: int = 0, deadline: float | None = None) -> dict:
    """Run every check on (a sample of) `rows`, raw input rows with the model's columns.

    `model` is a `core.model.TabularModel`; `deadline` (a `time.monotonic()` value) bounds
    the cost: checks that do not fit are listed as skipped.
    """
    start = time.monotonic()
    schema = model.schema
    checks = column_checks(schema, rows)
    rows = _sample(rows, seed, max(MIN_STRESS_ROWS, STRESS_TOTAL_ROWS // max(1, len(checks))))
    if deadline is not None and time.monotonic() >= deadline:
        results, left_over, used = [], checks, 0
    else:
        results, left_over, used = _checks_within(model, rows, checks, deadline)
    skipped = [f"{name} ({column})" if column else name for name, column, *_ in left_over]
    out = {"rows": used, "checks": results, "skipped": skipped,
           "most_fragile": most_fragile(results),
           "seconds": time.monotonic() - start}
    out["suggestions"] = stress_suggestions(out)
    return json_safe(out)


def _checks_within(model, rows: pd.DataFrame, checks: list[Check], deadline: float | None):
    """Predict the clean rows, then run the checks on as many of them as the time allows
    (big ensembles predict slowly: fewer rows, rather than fewer checks). Returns the
    results, the checks left over and the number of rows used."""
    t = time.monotonic()
    clean, _ = model.predict_table(rows)
    cost = _CallCost(time.monotonic() - t, len(rows))
    if deadline is not None:
        affordable = cost.rows_within(deadline - time.monotonic()) // max(1, len(checks))
        if affordable < len(rows):
            keep = max(MIN_STRESS_ROWS, affordable)
            rows, clean = rows.head(keep), clean.head(keep)
    return (*_run_checks(model, rows, clean, checks, deadline, cost), len(rows))


class _CallCost:
    """What a prediction call costs: a fixed part, the same for up to CALL_ROWS rows (the
    members' per-call overhead dominates small batches), then growing with the rows.
    Learned from the last call measured."""

    def __init__(self, seconds: float, rows: int):
        self.observe(seconds, rows)

    def observe(self, seconds: float, rows: int) -> None:
        self.unit_ = max(seconds, 1e-4) / max(1.0, rows / CALL_ROWS)

    def rows_within(self, seconds: float) -> int:
        """How many rows one call can predict in `seconds` (0 if not even a small call)."""
        return 0 if seconds < self.unit_ else int(CALL_ROWS * seconds / self.unit_)


def _sample(rows: pd.DataFrame, seed: int, most: int) -> pd.DataFrame:
    most = min(STRESS_ROWS, most)
    if len(rows) > most:
        rows = rows.sample(n=most, random_state=seed)
    return rows.reset_index(drop=True)


# --------------------------------------------------------------------------- the checks

# a check: (name, column or "", column kind, change) where change(rows) gives the changed
# table and a mask of the rows it changed (and, for case changes, of the rows whose new
# spelling is itself a training category)
Check = tuple[str, str, str, Callable[[pd.DataFrame], tuple]]


def column_checks(schema: dict, rows: pd.DataFrame) -> list[Check]:
    """Every check that applies to the model's columns, then the table-wide ones (the
    runtime picks columns by name, so these rarely find anything)."""
    checks: list[Check] = []
    for col in schema["columns"]:
        name, kind = col["name"], col["kind"]
        if kind == "categorical":
            known = [str(c) for c in col.get("categories") or []]
            checks += [
                ("case change", name, kind, _per_value(name, _case_changer(known), known)),
                ("typo", name, kind, _per_value(name, _typo_maker(known))),
                ("extra spaces", name, kind, _per_value(name, lambda v: f"  {v} ")),
                ("unseen category", name, kind, _per_value(name, lambda v: UNSEEN_VALUE)),
            ]
        elif kind == "numeric" and col.get("min") is not None and col.get("max") is not None:
            checks.append(("out of range", name, kind, _out_of_range(name, col["min"], col["max"])))
        elif kind == "text":
            checks.append(("empty text", name, kind, _per_value(name, lambda v: "")))
        if kind != "text":  # an empty text is the text's missing value, checked above
            checks.append(("missing", name, kind, _missing(name)))
    return checks + [("extra columns", "", "table", _extra_columns),
                     ("reordered columns", "", "table", _reordered_columns)]


def _extra_columns(rows):
    extra = rows.copy()
    extra["unexpected_extra_column"] = "x"
    extra.insert(0, "another_extra_column", np.arange(len(rows)))
    return extra, np.ones(len(rows), dtype=bool), None


def _reordered_columns(rows):
    return rows[list(reversed(rows.columns))], np.ones(len(rows), dtype=bool), None


def _missing(name: str):
    def change(rows):
        changed = rows.copy()
        mask = rows[name].notna().to_numpy()
        changed[name] = rows[name].where(np.zeros(len(rows), dtype=bool))  # keeps the dtype
        return changed, mask, None
    return change


def _out_of_range(name: str, low: float, high: float):
    span = (float(high) - float(low)) or max(1.0, abs(float(high)))

    def change(rows):
        changed = rows.copy()
        values = np.where(np.arange(len(rows)) % 2 == 0, float(high) + span, float(low) - span)
        changed[name] = values
        return changed, np.ones(len(rows), dtype=bool), None
    return change


def _per_value(name: str, alter: Callable[[str], str | None], known: list[str] | None = None):
    """A change applied to each present value (as the text the runtime reads)."""
    known_set = set(known or [])

    def change(rows):
        changed = rows.copy()
        text = runtime._to_category(rows[name])
        new = text.map(lambda v: alter(v) if isinstance(v, str) else None)
        mask = (new.notna() & (new != text)).to_numpy()
        changed[name] = changed[name].astype(object)
        changed.loc[mask, name] = new[mask]
        variant = mask & new.isin(known_set).to_numpy() if known_set else None
        return changed, mask, variant
    return change


def _case_changer(known: list[str]) -> Callable[[str], str | None]:
    """Another spelling by case: a training category that differs only in case if there is
    one (the model may have learned the two apart), else lower or upper case."""
    by_fold: dict[str, list[str]] = {}
    for value in known:
        by_fold.setdefault(value.casefold(), []).append(value)

    def alter(value: str) -> str | None:
        others = [k for k in by_fold.get(value.casefold(), []) if k != value]
        if others:
            return others[0]
        for candidate in (value.lower(), value.upper()):
            if candidate != value:
                return candidate
        return None  # no letters: case cannot change
    return alter


def _typo_maker(known: list[str]) -> Callable[[str], str | None]:
    """A one-keystroke slip that makes a value no training category has: two letters
    swapped in the middle, else a letter dropped, else one added."""
    known_set = set(known)

    def alter(value: str) -> str:
        candidates = []
        if len(value) >= 2:
            i = len(value) // 2 - 1 if len(value) > 2 else 0
            candidates.append(value[:i] + value[i + 1] + value[i] + value[i + 2:])
            candidates.append(value[:-1])
        candidates.append(value + value[-1:] if value else "x")
        return next((c for c in candidates if c and c != value and c not in known_set), value + "x")
    return alter


# --------------------------------------------------------------------------- measuring


def _run_checks(model, rows: pd.DataFrame, clean: pd.DataFrame, checks: list[Check],
                deadline: float | None, cost: _CallCost) -> tuple[list[dict], list[Check]]:
    """Predict every changed table and measure it against the clean predictions; return the
    results and the checks left for lack of time.

    Column checks go in batches, one prediction call each (a call costs far less than one
    per check), each as big as the last call's cost says fits before the deadline (and at
    most MAX_BATCH_ROWS rows, to measure again; the first at least CALL_ROWS rows). Tables
    are changed only when their batch runs."""
    results, pending = [], list(checks)
    measured = len(rows)  # the rows of the last call timed: the clean one first
    while pending:
        # a call may grow to BATCH_GROWTH times the last one timed: a clean call of 66 rows
        # says little of what 20,000 cost (digits: its three 10-class members took 11 s for
        # a test kept to 2 s), and a bigger call is timed before a still bigger one
        most = MAX_BATCH_ROWS if deadline is None else min(
            MAX_BATCH_ROWS, BATCH_GROWTH * max(measured, CALL_ROWS // BATCH_GROWTH),
            cost.rows_within(deadline - time.monotonic()))
        if not results:  # one small call at least, as cheap as the clean one: a busy machine
            most = max(most, CALL_ROWS)  # would otherwise leave the test empty
        size = max(1, most // len(rows)) if most else 0
        if pending[0][1]:  # column checks share the columns: one table
            size = min(size, sum(1 for c in pending if c[1]))
        else:
            size = min(size, 1)  # table-wide checks change the columns: each on its own
        if size <= 0:
            break
        start = time.monotonic()
        batch = [_change(check, rows) for check in pending[:size]]
        results += _measure_batch(model, rows, clean, [c for c in batch if c is not None])
        cost.observe(time.monotonic() - start, size * len(rows))
        measured = size * len(rows)
        del pending[:size]
    return results, pending


def _change(check: Check, rows: pd.DataFrame):
    name, column, kind, change = check
    changed, mask, variant = change(rows)
    if not mask.any():  # nothing to change (no letters, all missing)
        return None
    return {"check": name, "column": column, "kind": kind, "rows": int(mask.sum())}, changed, mask, variant


def _measure_batch(model, rows: pd.DataFrame, clean: pd.DataFrame, batch: list) -> list[dict]:
    if not batch:
        return []
    table = batch[0][1] if len(batch) == 1 else pd.concat([c[1] for c in batch], ignore_index=True)
    predicted = _predict(model, table)
    out = []
    for i, c in enumerate(batch):
        if isinstance(predicted, Exception) and len(batch) > 1:  # find the check that breaks
            part = _predict(model, c[1])
        elif isinstance(predicted, Exception):
            part = predicted
        else:
            part = predicted.iloc[i * len(rows):(i + 1) * len(rows)].reset_index(drop=True)
        out.append(_measure(model, clean, *c, part))
    return out


def _predict(model, table: pd.DataFrame) -> pd.DataFrame | Exception:
    try:
        return model.predict_table(table)[0]
    except Exception as exc:  # that prediction fails is the finding
        return exc


def _measure(model, clean, entry, changed, mask, variant, predicted) -> dict:
    if isinstance(predicted, Exception):
        return {**entry, "runs": False, "verdict": "breaks",
                "error": f"{type(predicted).__name__}: {predicted}"[:300]}
    entry = {**entry, "runs": True, **movement(model.schema, clean, predicted, mask)}
    if variant is not None and variant.any():
        entry["known_variant_rows"] = int(variant.sum())
        entry["known_variant"] = movement(model.schema, clean, predicted, variant)
    entry["verdict"] = verdict(entry["check"], model.schema, entry)
    return entry


def movement(schema: dict, clean: pd.DataFrame, changed: pd.DataFrame, mask: np.ndarray) -> dict:
    """How far predictions moved on the changed rows: the share of labels that changed and
    the mean probability change (total variation), or the mean absolute change in the
    target's units and as a share of the spread of the clean predictions."""
    target = schema["target"]
    if schema["task_type"] == "regression":
        before = clean[target].to_numpy(dtype="float64")
        after = changed[target].to_numpy(dtype="float64")
        change = float(np.abs(after - before)[mask].mean())
        spread = float(np.std(before)) or 1.0
        return {"mean_change": change, "movement": change / spread}
    columns = [f"proba_{c}" for c in schema["classes"]]
    before, after = clean[columns].to_numpy("float64"), changed[columns].to_numpy("float64")
    probability = float((0.5 * np.abs(after - before).sum(axis=1))[mask].mean())
    labels = float((clean[target].to_numpy() != changed[target].to_numpy())[mask].mean())
    # a label that flips is what a user sees; a probability that drifts counts half as much
    return {"changed_labels": labels, "mean_probability_change": probability,
            "movement": max(labels, probability / 2)}


def verdict(check: str, schema: dict, entry: dict) -> str:
    """robust, sensitive (moves on lost information) or fragile (moves on a change that
    keeps the meaning; for case changes, between two spellings the training data had)."""
    threshold = MOVES_REGRESSION if schema["task_type"] == "regression" else MOVES_CLASSIFICATION
    if check == "case change":
        if (entry.get("known_variant") or {}).get("movement", 0.0) >= threshold:
            return "fragile"
        return "sensitive" if entry["movement"] >= threshold else "robust"
    if entry["movement"] < threshold:
        return "robust"
    return "fragile" if check in MEANING_KEPT else "sensitive"


VERDICT_ORDER = {"breaks": 0, "fragile": 1, "sensitive": 2, "robust": 3}


def most_fragile(results: list[dict]) -> dict | None:
    """The column check that breaks or moves predictions the most (None if all are robust)."""
    moved = [r for r in results if r["column"] and r.get("verdict") != "robust"]
    if not moved:
        return None
    worst = min(moved, key=lambda r: (VERDICT_ORDER[r["verdict"]], -r.get("movement", 0.0)))
    return {k: worst.get(k) for k in ("column", "check", "verdict", "movement")}


def flagged(stress: dict | None) -> list[dict]:
    """The checks that break prediction or show a fragile model."""
    return [r for r in (stress or {}).get("checks") or [] if r.get("verdict") in ("breaks", "fragile")]


# --------------------------------------------------------------------------- words


def _moved(entry: dict) -> str:
    if "changed_labels" in entry:
        return (f"changes {entry['changed_labels']:.0%} of its predicted labels "
                f"(probabilities move {entry['mean_probability_change']:.2f} on average)")
    return f"moves predictions by {_number(entry['mean_change'])} on average"


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def stress_suggestions(stress: dict) -> list[str]:
    """Fixes in words, one per column that breaks, is fragile or clearly sensitive, the
    worst first (at most MAX_SUGGESTIONS)."""
    out, seen = [], set()
    checks = sorted(stress.get("checks") or [], key=lambda r: (VERDICT_ORDER[r["verdict"]], -r.get("movement", 0)))
    for r in checks:
        where = f"'{r['column']}'" if r["column"] else "the table"
        key = (r["column"], r["check"] if r["verdict"] in ("breaks", "fragile") else "sensitive")
        if r["verdict"] == "robust" or key in seen:
            continue
        seen.add(key)
        out.append(_suggestion(r, where))
    return [s for s in out if s][:MAX_SUGGESTIONS]


_UNKNOWN_CATEGORY = ("holds a misspelt or new category",
                     ("check spellings before predicting, or group rare categories into an "
                      "'other' bucket in training so the model learns an answer for unknown ones"))
# check -> (what happened to the input, the fix) for a model that moves when it loses information
SENSITIVE_FIXES = {
    "typo": _UNKNOWN_CATEGORY,
    "unseen category": _UNKNOWN_CATEGORY,
    "missing": ("is missing", ("make sure it is filled at prediction time, or train on more rows "
                               "where it is missing so the model learns what a gap means")),
    "out of range": ("is beyond the training range", ("collect more data of that kind, or keep "
                                                      "inputs within the range the model saw")),
    "empty text": ("is empty", "fill it where possible, or add training rows with empty text"),
}


def _suggestion(r: dict, where: str) -> str:
    check, verdict_ = r["check"], r["verdict"]
    if verdict_ == "breaks":
        return f"Prediction fails on {where} with {check}: {r.get('error', '')}. Fix the input before predicting."
    if check == "case change" and verdict_ == "fragile":
        v = r["known_variant"]
        return (f"{where} has categories that differ only in case and the model treats them "
                f"differently: switching the spelling {_moved(v)}. If they mean the same, "
                f"normalise case in the data and rebuild, or drop the column if its spelling "
                f"is not reliable; if they differ, make sure new data is written the same way.")
    if check == "case change":
        return (f"When the case of {where} changes, the category becomes unseen and the model "
                f"{_moved(r)}: normalise case before predicting (categories must match exactly).")
    if verdict_ == "fragile":
        return (f"With {check} in {where} the model {_moved(r)}, which should not happen; "
                f"report it as a bug.")
    when, fix = SENSITIVE_FIXES.get(check, ("changes", "check this input before predicting"))
    return f"When {where} {when}, the model {_moved(r)}: {fix}."


def stress_sentences(stress: dict | None) -> list[str]:
    """The stress test in words: what ran, what broke or moved, the column it is most
    fragile to (every number from `stress`)."""
    if not stress:
        return []
    checks = stress.get("checks") or []
    if not checks:
        skipped = ("The stress test did not run: the time budget was used up before it; give "
                   "the build more time to get one.")
        return [skipped] if stress.get("skipped") else []
    broke = [r for r in checks if not r.get("runs")]
    ran = (f"prediction failed in {len(broke)} of {len(checks)} checks" if broke
           else f"prediction ran in all {len(checks)} checks")
    out = [f"Stress test on {stress['rows']} held-out rows made messy on purpose: {ran}."]
    worst = stress.get("most_fragile")
    if worst is None:
        out.append("No check moved the predictions noticeably.")
    else:
        entry = next(r for r in checks if r["column"] == worst["column"] and r["check"] == worst["check"])
        out.append(f"Most fragile to '{worst['column']}' ({worst['check']}, {worst['verdict']}): "
                   f"the model {_moved(entry.get('known_variant') or entry)}.")
    if stress.get("skipped"):
        out.append(f"{len(stress['skipped'])} check(s) were skipped to stay within the time budget.")
    return out
