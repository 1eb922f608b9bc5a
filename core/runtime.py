"""Prediction runtime: turn raw input rows into model features and predictions.

This module is the single source of truth for how an input table becomes predictions.
The engine uses it while training and evaluating, `briefml predict` uses it, and the bundle
ships a copy of it as `predict.py`. Because of that last use it must stay standalone:
it imports only the standard library, numpy, pandas, the one table reader
(`core/tableread.py`, shipped next to it as `tableread.py`), and (lazily) catboost / lightgbm /
skops / shap / threadpoolctl. Never import anything else from briefml here.

Sections: features (schema → feature frame), members (predictions), output files,
explanations (SHAP by input column), bundles (`load()`, manifest check, `main()` for the
`python predict.py in.csv -o out.csv [--explain]` command line).

Schema (``schema.json`` in a bundle) is a plain dict::

    {"target": "species", "task_type": "multiclass", "classes": ["Adelie", ...],
     "columns": [{"name": "island", "kind": "categorical", "categories": [...]},
                 {"name": "bill_length_mm", "kind": "numeric", "min": 32.1, "max": 59.6},
                 {"name": "price", "kind": "numeric", "decimal": ","},
                 {"name": "comment", "kind": "text"}, {"name": "day", "kind": "datetime"},
                 {"name": "member", "kind": "boolean"}]}

A classifier says on which probabilities its class is decided: ``"class_scale":
"calibrated"`` (the ones shown), and a binary classifier with a rare positive class also has
``"decision_threshold": 0.23`` and ``"decision_threshold_scale": "calibrated"`` (see
`class_indices`).

Column kinds: numeric, boolean, categorical, text, datetime. Datetime columns become numeric
parts (``<name>__year``, ``__month``, ``__day``, ``__dayofweek``, ``__hour``). A numeric
column the training table wrote with decimal commas says so (``"decimal": ","``), and so does
a datetime column written day first (``"dayfirst": true``), so that rows to predict are read
as the training rows were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


def _sibling_module(name: str):
    """A module that ships next to this file in a bundle (predict.py runs without briefml)."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().with_name(f"{name}.py")
    if not path.is_file():
        raise ImportError(f"{path.name} is missing next to {Path(__file__).name}: unzip the whole bundle.")
    key = f"briefml_bundle_{name}_{abs(hash(str(path))):x}"  # each bundle folder its own copy
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules[key]


if __package__:  # core.runtime, inside briefml
    from . import tableread
else:  # predict.py in a bundle, with tableread.py next to it
    tableread = _sibling_module("tableread")

MISSING_CATEGORY = "__missing__"
DATETIME_PARTS = ("year", "month", "day", "dayofweek", "hour")
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


class SchemaError(ValueError):
    """The input table does not fit the model's schema; the message says how to fix it."""


@dataclass
class InputReport:
    """What `prepare_frame` had to do to the input, so callers can tell the user."""

    ignored_columns: list[str] = field(default_factory=list)
    unseen_categories: dict[str, int] = field(default_factory=dict)  # column -> rows
    coerced_to_missing: dict[str, int] = field(default_factory=dict)  # column -> rows
    unreadable_rows: int = 0  # rows with at least one value the model could not read
    drift: dict | None = None  # the batch against the training rows (see `drift_report`)
    gap_filled: dict[str, int] = field(default_factory=dict)  # column -> rows (see `gap_filled`)

    def warnings(self) -> list[str]:
        out = []
        if self.ignored_columns:
            out.append(
                f"Ignored {len(self.ignored_columns)} column(s) the model does not use: "
                + ", ".join(self.ignored_columns[:10])
            )
        for col, n in self.unseen_categories.items():
            out.append(f"Column '{col}': {n} row(s) have a category not seen in training.")
        if self.coerced_to_missing:
            rows = self.unreadable_rows or max(self.coerced_to_missing.values())
            names = ", ".join(self.coerced_to_missing)
            out.append(
                f"{rows} row{'s' if rows != 1 else ''} had values the model cannot read in "
                f"column{'s' if len(self.coerced_to_missing) != 1 else ''} {names}; "
                f"{'they were' if rows != 1 else 'it was'} predicted as missing."
            )
        if self.gap_filled:
            names = ", ".join(f"'{c}'" for c in list(self.gap_filled)[:10])
            rows = max(self.gap_filled.values())
            out.append(
                f"{rows} row{'s' if rows != 1 else ''} had no value in {names}, which the training "
                "rows almost always had: the prediction averages the model over typical training "
                "values there. Fill them in for a sharper answer."
            )
        return out


# --------------------------------------------------------------------------- features


def feature_names(schema: dict) -> list[str]:
    """Names of the model's feature columns, in order, after datetime expansion."""
    names: list[str] = []
    for col in schema["columns"]:
        if col["kind"] == "datetime":
            names.extend(f"{col['name']}__{part}" for part in DATETIME_PARTS)
        else:
            names.append(col["name"])
    return names


def feature_kinds(schema: dict) -> dict[str, str]:
    """Feature name -> kind ('numeric', 'categorical' or 'text') after preparation."""
    kinds: dict[str, str] = {}
    for col in schema["columns"]:
        if col["kind"] == "datetime":
            kinds.update({f"{col['name']}__{part}": "numeric" for part in DATETIME_PARTS})
        elif col["kind"] in ("numeric", "boolean"):
            kinds[col["name"]] = "numeric"
        else:
            kinds[col["name"]] = col["kind"]
    return kinds


def source_column(feature: str) -> str:
    """The input column a prepared feature came from (undoes datetime expansion)."""
    base, sep, part = feature.rpartition("__")
    return base if sep and part in DATETIME_PARTS else feature


def _to_number(values: pd.Series, decimal: str = ".") -> pd.Series:
    """Numbers as the training table's reader read them (see `tableread.parse_numbers`)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    return tableread.parse_numbers(values, decimal=decimal)


def _to_boolean(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64").where(values.isin([0, 1]))
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(np.nan, index=values.index, dtype="float64")
    out[text.isin(_TRUE).fillna(False).astype(bool)] = 1.0
    out[text.isin(_FALSE).fillna(False).astype(bool)] = 0.0
    return out


def _to_category(values: pd.Series) -> pd.Series:
    """Categories as Python strings (object dtype), missing as NaN."""
    return values.map(lambda v: np.nan if pd.isna(v) else _category_text(v)).astype(object)


def _category_text(value: Any) -> str:
    # 1.0 and 1 must be the same category, written as the file writes it ("3", not "3.0"):
    # a float column, or a number among text cells (Excel and Parquet keep such cells as floats)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _to_text(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else str(v)).astype(object)


def _datetime_parts(values: pd.Series, name: str, dayfirst: bool = False) -> pd.DataFrame:
    stamps = tableread.parse_datetimes(values, dayfirst=dayfirst)
    # feature names keep 'dayofweek'; pandas 3 deprecates that accessor in favour of day_of_week
    accessor = {"dayofweek": "day_of_week"}
    parts = {f"{name}__{p}": getattr(stamps.dt, accessor.get(p, p)).astype("float64") for p in DATETIME_PARTS}
    return pd.DataFrame(parts, index=values.index)


def prepare_frame(df: pd.DataFrame, schema: dict) -> tuple[pd.DataFrame, InputReport]:
    """Check `df` against the schema and return the model's feature frame.

    Raises SchemaError naming every missing column. Extra columns are ignored, unseen
    categories are kept (the models handle them) and counted, and values that cannot be
    read as the column's type become missing and are counted.
    """
    report = InputReport()
    expected = [c["name"] for c in schema["columns"]]
    missing = [name for name in expected if name not in df.columns]
    if missing:
        shown = ", ".join(f"'{m[:80]}'" for m in missing[:10])
        more = f" and {len(missing) - 10:,} more" if len(missing) > 10 else ""
        raise SchemaError(
            f"The input is missing {len(missing)} column(s) the model needs: {shown}{more}"
            + ". Add them (empty values are allowed) and try again."
        )
    target = schema.get("target")
    report.ignored_columns = [c for c in df.columns if c not in expected and c != target]

    pieces: list[pd.Series | pd.DataFrame] = []
    unreadable = np.zeros(len(df), dtype=bool)
    for col in schema["columns"]:
        name, kind = col["name"], col["kind"]
        raw = tableread.blank_missing(df[name])
        if kind == "numeric":
            values = _to_number(raw, col.get("decimal", "."))
        elif kind == "boolean":
            values = _to_boolean(raw)
        elif kind == "categorical":
            values = _to_category(raw)
            known = set(col.get("categories") or [])
            if known:
                unseen = int((values.notna() & ~values.isin(known)).sum())
                if unseen:
                    report.unseen_categories[name] = unseen
        elif kind == "text":
            values = _to_text(raw)
        elif kind == "datetime":
            parts = _datetime_parts(raw, name, bool(col.get("dayfirst")))
            lost = (parts.iloc[:, 0].isna() & raw.notna()).to_numpy()
            if lost.any():
                report.coerced_to_missing[name] = int(lost.sum())
                unreadable |= lost
            pieces.append(parts)
            continue
        else:
            raise SchemaError(f"Column '{name}' has an unknown kind '{kind}' in schema.json.")
        if kind in ("numeric", "boolean"):
            lost = (values.isna() & raw.notna()).to_numpy()
            if lost.any():
                report.coerced_to_missing[name] = int(lost.sum())
                unreadable |= lost
        pieces.append(values.rename(name))
    report.unreadable_rows = int(unreadable.sum())
    frame = pd.concat(pieces, axis=1) if pieces else pd.DataFrame(index=df.index)
    return frame[feature_names(schema)], report


# --------------------------------------------------------------------------- members


@dataclass
class Member:
    """One fitted model of an ensemble.

    kind 'catboost': a CatBoost model fitted on the prepared frame, with categorical
    features filled with MISSING_CATEGORY and text with "".
    kind 'lightgbm': a LightGBM Booster fitted on `lightgbm_frame(prepare_frame(df))`.
    kind 'sklearn': a scikit-learn Pipeline fitted on the prepared frame as is.
    Classifiers are fitted on label indices 0..K-1 (positions in schema['classes']).
    """

    kind: str
    estimator: Any
    weight: float = 1.0
    name: str = ""


FOLD_MARK = "/fold"  # a member that ships as a trial's fold models: 't002/fold0' ... 't002/fold4'


def fold_member_name(trial_id: str, fold: int) -> str:
    return f"{trial_id}{FOLD_MARK}{fold}"


def trial_of_fold_member(name: str) -> str | None:
    """The trial a fold model belongs to ('t002' of 't002/fold3'); None for any other member."""
    return name.split(FOLD_MARK)[0] if FOLD_MARK in name else None


def catboost_frame(frame: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """The prepared frame as CatBoost wants it: no NaN in categorical or text columns."""
    out = frame.copy()
    for name, kind in feature_kinds(schema).items():
        if kind == "categorical":
            out[name] = out[name].where(out[name].notna(), MISSING_CATEGORY).astype(str)
        elif kind == "text":
            out[name] = out[name].astype(str)
    return out


def lightgbm_features(schema: dict) -> list[str]:
    """The prepared features a LightGBM member uses, in order: all but text."""
    return [name for name, kind in feature_kinds(schema).items() if kind != "text"]


def lightgbm_frame(frame: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """The prepared frame as LightGBM takes it: numbers as floats, categories as pandas
    categoricals, text left out. LightGBM's model file keeps each categorical column's
    category list and maps new rows onto it (a category it never saw counts as missing).
    Columns are named by position: LightGBM refuses names with JSON characters, and a
    user's column names may have any."""
    kinds = feature_kinds(schema)
    columns = {}
    for i, name in enumerate(lightgbm_features(schema)):
        values = frame[name]
        columns[f"f{i}"] = (values.astype("category") if kinds[name] == "categorical"
                            else values.astype("float64"))
    return pd.DataFrame(columns, index=frame.index)


SMALL_BATCH_ROWS = 1000
_thread_pools: Any = None


def _one_thread_for_small_batches(member: Member, rows: int) -> Any:
    """A context that limits native thread pools (OpenMP, BLAS) to one thread for a few rows.

    Waking a pool of threads for a handful of rows costs far more than the work itself: on a
    busy machine it turned a 5 ms single-row prediction into 100 ms. Results do not change.
    """
    import contextlib

    global _thread_pools
    if member.kind != "sklearn" or rows > SMALL_BATCH_ROWS:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import ThreadpoolController  # installed with scikit-learn
    except ImportError:
        return contextlib.nullcontext()
    if _thread_pools is None:  # created once: finding the loaded pools takes milliseconds
        _thread_pools = ThreadpoolController()
    return _thread_pools.limit(limits=1)


def member_output(member: Member, frame: pd.DataFrame, schema: dict) -> np.ndarray:
    """Class probabilities (n, K) for a classifier, predictions (n,) for a regressor."""
    if member.kind == "lightgbm":
        return _lightgbm_output(member, frame, schema)
    x = catboost_frame(frame, schema) if member.kind == "catboost" else frame
    with _one_thread_for_small_batches(member, len(frame)):
        if schema["task_type"] == "regression":
            return np.asarray(member.estimator.predict(x), dtype="float64").reshape(-1)
        return np.asarray(member.estimator.predict_proba(x), dtype="float64")


def _lightgbm_output(member: Member, frame: pd.DataFrame, schema: dict) -> np.ndarray:
    # one thread for a few rows, for the reason given in _one_thread_for_small_batches
    threads = {"num_threads": 1} if len(frame) <= SMALL_BATCH_ROWS else {}
    out = np.asarray(member.estimator.predict(lightgbm_frame(frame, schema), **threads), dtype="float64")
    if schema["task_type"] == "regression":
        return out.reshape(-1)
    if schema["task_type"] == "binary":  # LightGBM gives the positive class's probability
        return np.column_stack([1.0 - out, out])
    return out


def ensemble_output(members: list[Member], frame: pd.DataFrame, schema: dict) -> np.ndarray:
    """Weighted average of the members' outputs (weights are normalised); a row with a gap the
    model never learned to read is averaged over its gap fills (see `gap_filled`)."""
    return gap_filled(lambda part: _weighted_output(members, part, schema), frame, schema)


def _weighted_output(members: list[Member], frame: pd.DataFrame, schema: dict) -> np.ndarray:
    total = sum(m.weight for m in members)
    if not members or total <= 0:
        raise ValueError("A model needs at least one member with a positive weight.")
    out = None
    for member in members:
        part = member_output(member, frame, schema) * (member.weight / total)
        out = part if out is None else out + part
    return out


# --------------------------------------------------------------------------- gaps
#
# A tree learns what a missing value means only from the training rows that had one. Where a
# column was (almost) always filled in training, a gap at prediction time follows a rule
# learned from a handful of rows or from none (LightGBM reads it as 0, CatBoost as lower than
# every value): a penguin with no measurements at all was called Adelie at 99.99%, and it was
# a Gentoo. So the schema's `gap_fill` keeps, for each such feature, a few typical training
# values (quantiles, each column in its own fixed shuffled order), and a row with a gap there
# gets the model's answer averaged over copies of it with each gap filled by those values:
# what the model says over what the missing value could have been.
#
#   "gap_fill": {"values": {feature: [v_0, ..., v_k-1], ...}}   (the same k for every feature)


def gap_mask(frame: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """(rows, features) True where a feature listed in the schema's gap fills is missing."""
    fill = (schema.get("gap_fill") or {}).get("values") or {}
    names = [name for name in fill if name in frame.columns]
    return frame[names].isna()


def _filled_copies(rows: pd.DataFrame, gaps: pd.DataFrame, fill: dict) -> tuple[pd.DataFrame, int]:
    """The rows stacked k times, copy i with every gap filled by each feature's i-th value."""
    k = len(next(iter(fill.values())))
    copies = []
    for i in range(k):
        copy = rows.copy()
        for name in gaps.columns:
            if gaps[name].any():
                copy[name] = copy[name].mask(gaps[name].to_numpy(), fill[name][i])
        copies.append(copy)
    return pd.concat(copies, ignore_index=True), k


GAP_COPY_ROWS = 200_000  # filled copies made at once: a batch of gaps stays in bounded memory


def _gap_copies(frame: pd.DataFrame, schema: dict):
    """Per chunk of the rows with a gap to fill: (their positions, their k filled copies
    stacked, k). Nothing when no row has a gap."""
    gaps = gap_mask(frame, schema)
    positions = np.flatnonzero(gaps.any(axis=1).to_numpy()) if gaps.shape[1] else []
    if not len(positions):
        return
    fill = schema["gap_fill"]["values"]
    step = max(1, GAP_COPY_ROWS // len(next(iter(fill.values()))))
    for start in range(0, len(positions), step):
        chunk = positions[start:start + step]
        copies, k = _filled_copies(frame.iloc[chunk], gaps.iloc[chunk], fill)
        yield chunk, copies, k


def _mean_over_copies(values: np.ndarray, k: int) -> np.ndarray:
    return values.reshape(k, -1, *values.shape[1:]).mean(axis=0)


def gap_filled(compute, frame: pd.DataFrame, schema: dict) -> np.ndarray:
    """`compute(frame)` (an array with one entry per row), where each row with a gap in a
    gap-fill feature is replaced by the mean of `compute` over its filled copies."""
    out = compute(frame)
    for i, (rows, copies, k) in enumerate(_gap_copies(frame, schema)):
        if i == 0:
            out = np.array(out, dtype="float64", copy=True)
        out[rows] = _mean_over_copies(np.asarray(compute(copies)), k)
    return out


def gap_counts(frame: pd.DataFrame, schema: dict) -> dict[str, int]:
    """Per gap-fill feature's input column: how many rows had a gap the model fills."""
    counts: dict[str, int] = {}
    for name, gaps in gap_mask(frame, schema).items():
        if gaps.any():
            column = source_column(name)
            counts[column] = max(counts.get(column, 0), int(gaps.sum()))
    return counts


# The scale a class is decided on: "calibrated", the probabilities a user is shown (after
# reliability.json's calibrator, where there is one); "raw", the ensemble's output before any
# calibrator. The schema says it for a decision threshold ("decision_threshold_scale") and for
# the likeliest class ("class_scale"). Bundles from before a scale was recorded decided on the
# raw output, so a missing scale means "raw": they keep predicting as they always did.
SCALES = ("raw", "calibrated")


def threshold_scale(schema: dict) -> str:
    return schema.get("decision_threshold_scale") or "raw"


def class_scale(schema: dict) -> str:
    return schema.get("class_scale") or "raw"


def class_indices(output: np.ndarray, schema: dict, calibrator: dict | None = None) -> np.ndarray:
    """The predicted class per row of the ensemble's `output`: the likeliest, or for a binary
    task with a decision threshold chosen on validation data (rare positive class), the
    positive class (index 1) whenever its probability reaches the threshold; each on the
    scale the schema gives it: with `calibrator` (the bundle's), "calibrated" is the
    probability shown, so the class shown is the likeliest shown (a per-class calibrator can
    move one class's probability past another's)."""
    threshold = schema.get("decision_threshold")
    if threshold is not None and output.shape[1] == 2:
        if threshold_scale(schema) == "calibrated":
            output = calibrated_output(output, calibrator)
        return (output[:, 1] >= float(threshold)).astype("int64")
    if class_scale(schema) == "calibrated":
        output = calibrated_output(output, calibrator)
    return output.argmax(axis=1)


def predictions_table(output: np.ndarray, schema: dict, index: pd.Index,
                      calibrator: dict | None = None) -> pd.DataFrame:
    """Output columns: the target (the prediction) and one proba_<class> per class, the
    probabilities after `calibrator` (the bundle's, if it has one)."""
    target = schema["target"]
    if schema["task_type"] == "regression":
        return pd.DataFrame({target: output}, index=index)
    classes = schema["classes"]
    table = pd.DataFrame({target: [classes[i] for i in class_indices(output, schema, calibrator)]},
                         index=index)
    shown = calibrated_output(output, calibrator)
    for i, cls in enumerate(classes):
        table[f"proba_{cls}"] = shown[:, i]
    return table


def predict_table(
    members: list[Member], df: pd.DataFrame, schema: dict, *, reliability: dict | None = None,
    coverage: float | None = None, drift: bool = False,
) -> tuple[pd.DataFrame, InputReport]:
    """Raw input rows in, prediction table out (see `predictions_table`); with the bundle's
    `reliability`, intervals or sets at `coverage` too (see `with_reliability`), and with
    `drift` the batch compared with the training rows in `report.drift`."""
    frame, report = prepare_frame(df, schema)
    output = ensemble_output(members, frame, schema)
    report.gap_filled = gap_counts(frame, schema)
    table = predictions_table(output, schema, df.index, (reliability or {}).get("calibrator"))
    if reliability:
        table = with_reliability(table, output, schema, reliability, coverage)
        if drift and reliability.get("drift") and len(frame):
            report.drift = drift_report(frame, schema, reliability["drift"])
    return table, report


# --------------------------------------------------------------------------- reliability
#
# `reliability.json` in a bundle (written by `core.trust` at build time) holds plain numbers:
#
#   {"conformal": {"kind": "interval" | "set", "levels": [0.5, ..., 0.99], "quantiles": [...]},
#    "calibrator": {"kind": "none" | "platt" | "isotonic", "classes": [per calibrated class]},
#    "drift": {"rows": n, "columns": {name: training missing share, range, bins, shares}},
#    "holdout": {what was measured on held-out rows, for people}}
#
# A regression interval is the prediction plus and minus the quantile of the out-of-fold
# absolute errors at the chosen coverage (kept inside the calibration rows' target range); a classification set holds every class whose
# (calibrated) probability reaches 1 - quantile (the LAC score), and always the predicted
# class. The class is decided on the calibrated probabilities, the ones shown (schema
# "class_scale" and "decision_threshold_scale"; see `class_indices`), and the held-out
# metrics are measured on them; bundles from before the scales were recorded decide on the
# output before calibration, where a calibrator can rank another class first.

RELIABILITY = "reliability.json"
DEFAULT_COVERAGE = 0.9
PROBABILITY_FLOOR = 1e-3  # a calibrated probability never claims certainty
SET_SEPARATOR = " | "
DRIFT_SHARE = 0.05  # more rows than this out of range / with unseen categories is a shift
MISSING_EXCESS = 0.10  # missing this much more often than in training is a shift
PSI_LIMIT = 0.25  # population stability index above which a distribution moved
DRIFT_MIN_ROWS = 30  # fewer rows than this: distributions are not compared


class CoverageError(SchemaError):
    """A coverage the bundle cannot give; the message says which ones it can."""


def coverage_quantile(conformal: dict, coverage: float | None = None) -> tuple[float, float]:
    """(level, quantile) for the requested coverage (a share like 0.9 or a percent like 90):
    the smallest stored level that reaches it; CoverageError outside the stored levels."""
    coverage = DEFAULT_COVERAGE if coverage is None else float(coverage)
    if coverage > 1:
        coverage /= 100
    levels, quantiles = conformal.get("levels") or [], conformal.get("quantiles") or []
    for level, quantile in zip(levels, quantiles):
        if levels[0] - 1e-9 <= coverage <= level + 1e-9 and quantile is not None:
            return float(level), float(quantile)
    shown = f"{levels[0]:.0%} to {levels[-1]:.0%}" if levels else "none"
    raise CoverageError(f"This model cannot give {coverage:.0%} coverage (it was calibrated for "
                        f"{shown}); choose a coverage in that range.")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def calibrate_probabilities(p: np.ndarray, entry: dict) -> np.ndarray:
    """One class's probabilities through a calibrator: Platt (`a`, `b`) or isotonic (`x`, `y`)."""
    if entry["kind"] == "platt":
        out = 1.0 / (1.0 + np.exp(-(entry["a"] * _logit(p) + entry["b"])))
    elif entry["kind"] == "isotonic":
        out = np.interp(p, entry["x"], entry["y"])
    else:
        return p
    return np.clip(out, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)


def calibrated_output(output: np.ndarray, calibrator: dict | None) -> np.ndarray:
    """Class probabilities (n, K) after the bundle's calibrator (unchanged without one).

    Binary: the positive class is calibrated, the other is its complement. Multiclass: each
    class one-vs-rest, then rows are scaled to sum to one."""
    if not calibrator or calibrator.get("kind", "none") == "none":
        return output
    entries = [{"kind": calibrator["kind"], **c} for c in calibrator["classes"]]
    if output.shape[1] == 2 and len(entries) == 1:
        positive = calibrate_probabilities(output[:, 1], entries[0])
        return np.column_stack([1 - positive, positive])
    out = np.column_stack([calibrate_probabilities(output[:, k], entries[k]) for k in range(output.shape[1])])
    return out / out.sum(axis=1, keepdims=True)


def prediction_sets(proba: np.ndarray, quantile: float, predicted: np.ndarray) -> np.ndarray:
    """(n, K) booleans: the classes in each row's set (LAC: probability >= 1 - quantile),
    the predicted class always among them."""
    inside = proba >= 1.0 - quantile - 1e-12
    inside[np.arange(len(predicted)), predicted] = True
    return inside


def interval_bounds(output: np.ndarray, quantile: float, conformal: dict) -> tuple[np.ndarray, np.ndarray]:
    """Prediction minus and plus the quantile, kept inside the range of the target values the
    intervals were calibrated on: a wage is never below the lowest wage seen (a new value falls
    outside that range with chance 2 / (N + 1) only), so the bounds stay meaningful."""
    low, high = conformal.get("target_range") or (-np.inf, np.inf)
    # the prediction itself stays inside its interval, even where the model extrapolates
    return (np.minimum(np.clip(output - quantile, low, high), output),
            np.maximum(np.clip(output + quantile, low, high), output))


def _usable_quantile(conformal: dict, coverage: float | None) -> float | None:
    """The quantile for `coverage`; None when the default coverage is out of reach (a table too
    small for 90%), so predictions still come, only without intervals or sets. A coverage the
    user asked for explicitly and cannot have raises CoverageError."""
    if not conformal:
        return None
    try:
        return coverage_quantile(conformal, coverage)[1]
    except CoverageError:
        if coverage is None:
            return None
        raise


def _free_name(name: str, taken: set) -> str:
    while name in taken:
        name = f"interval_{name}" if not name.startswith("interval_") else f"_{name}"
    return name


def with_reliability(table: pd.DataFrame, output: np.ndarray, schema: dict, reliability: dict,
                     coverage: float | None = None) -> pd.DataFrame:
    """The prediction table with `lower`/`upper` (regression) or `set` (classification) at
    the chosen coverage, and calibrated proba_ columns where the bundle has a calibrator."""
    table = table.copy()
    conformal = reliability.get("conformal") or {}
    taken = set(table.columns)
    quantile = _usable_quantile(conformal, coverage)
    if schema["task_type"] == "regression":
        if quantile is not None:
            lower, upper = _free_name("lower", taken), _free_name("upper", taken)
            table[lower], table[upper] = interval_bounds(output, quantile, conformal)
        return table
    calibrator = reliability.get("calibrator")
    proba = calibrated_output(output, calibrator)
    for i, cls in enumerate(schema["classes"]):
        table[f"proba_{cls}"] = proba[:, i]
    if quantile is not None:
        inside = prediction_sets(proba, quantile, class_indices(output, schema, calibrator))
        classes = [str(c) for c in schema["classes"]]
        table[_free_name("set", taken)] = [SET_SEPARATOR.join(c for c, keep in zip(classes, row) if keep)
                                           for row in inside]
    return table


def drift_values(frame: pd.DataFrame, column: dict) -> pd.Series:
    """One input column of a prepared frame as drift compares it: numbers for numeric and
    boolean columns, a day count for dates, text for categories; missing as NaN."""
    name, kind = column["name"], column["kind"]
    if kind == "datetime":
        parts = [frame[f"{name}__{p}"] for p in ("year", "month", "day")]
        return parts[0] * 372 + parts[1] * 31 + parts[2]  # monotone in the date, enough for ranges
    values = frame[name]
    if kind == "text":
        return values.where(values.astype(str).str.strip() != "")
    return values


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two share vectors (floored so empty bins count)."""
    e, a = np.maximum(expected, 1e-4), np.maximum(actual, 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def _bin_shares(values: pd.Series, ref: dict) -> np.ndarray | None:
    if "edges" in ref:
        counts = np.bincount(np.searchsorted(ref["edges"], values.to_numpy(dtype=float), side="right"),
                             minlength=len(ref["edges"]) + 1)
    elif "top" in ref:
        position = {c: i for i, c in enumerate(ref["top"])}
        counts = np.bincount([position.get(v, len(ref["top"])) for v in values],
                             minlength=len(ref["top"]) + 1)
    else:
        return None
    return counts / max(1, counts.sum())


def _unusual(count: int, n: int, expected: float, allowed: float) -> bool:
    """Is `count` of `n` rows well above the share `expected` of rows like the training data:
    more than `allowed` above it, and by more than three standard deviations (so that one odd
    row in a batch of seven is not called a shift)?"""
    if not n or count / n <= expected + allowed:
        return False
    return (count - n * expected) / np.sqrt(n * expected * (1 - expected) + 0.25) > 3


def _column_drift(values: pd.Series, column: dict, ref: dict, n_train: int) -> dict:
    """What differs in one column of a batch from the training rows, with the reasons in words."""
    n = len(values)
    present = values.dropna()
    out = {"column": column["name"], "missing": float(1 - len(present) / n) if n else 0.0,
           "missing_training": float(ref.get("missing", 0.0)), "reasons": []}
    if _unusual(n - len(present), n, out["missing_training"], MISSING_EXCESS):
        out["reasons"].append(f"missing in {out['missing']:.0%} of rows (training: "
                              f"{out['missing_training']:.0%})")
    if ref.get("min") is not None and len(present):
        numbers = present.to_numpy(dtype=float)
        outside = int(((numbers < ref["min"]) | (numbers > ref["max"])).sum())
        out["out_of_range"] = outside / n
        # a new row from the training distribution falls outside its range with chance 2/(N+1)
        if _unusual(outside, n, 2 / (n_train + 1), DRIFT_SHARE):
            out["reasons"].append(f"{out['out_of_range']:.0%} of rows outside the training range "
                                  f"({ref['min']:g} to {ref['max']:g})")
    known = column.get("categories")
    if column["kind"] == "categorical" and known and not column.get("categories_truncated"):
        unseen = int((~present.isin(set(known))).sum())
        out["unseen"] = unseen / n
        # the chance of a category training never saw: the share of categories seen once
        if _unusual(unseen, n, float(ref.get("seen_once", 0.0)), DRIFT_SHARE):
            out["reasons"].append(f"{out['unseen']:.0%} of rows with a category not seen in training")
    shares = _bin_shares(present, ref) if len(present) >= DRIFT_MIN_ROWS else None
    if shares is not None:
        out["psi"] = _psi(np.asarray(ref["shares"]), shares)
        # small samples scatter by chance: allow for it (chi-square mean of both samples)
        allowed = PSI_LIMIT + 2 * (len(shares) - 1) * (1 / len(present) + 1 / max(1, n_train))
        if out["psi"] > allowed:
            out["reasons"].append(f"values distributed differently from training (PSI {out['psi']:.2f})")
    return out


def drift_report(frame: pd.DataFrame, schema: dict, reference: dict) -> dict:
    """Per input column: the share out of the training range, with unseen categories, missing
    beyond the training rate, and a distribution shift (PSI); and one overall verdict."""
    refs = reference.get("columns") or {}
    columns = [_column_drift(drift_values(frame, c), c, refs[c["name"]], int(reference.get("rows", 0)))
               for c in schema["columns"] if c["name"] in refs]
    shifted = [c for c in columns if c["reasons"]]
    return {"rows": len(frame), "columns": columns, "looks_like_training": not shifted,
            "shifted_columns": [c["column"] for c in shifted]}


def drift_lines(report: dict | None) -> list[str]:
    """The drift report in words: the verdict first, then one line per shifted column."""
    if not report:
        return []
    if report["looks_like_training"]:
        return [(f"This batch of {report['rows']} row(s) looks like the training data "
                 f"({len(report['columns'])} column(s) checked).")]
    shifted = [c for c in report["columns"] if c["reasons"]]
    lines = [(f"This batch of {report['rows']} row(s) looks unlike the training data in "
              f"{len(shifted)} column(s): predictions for it may be less reliable than the held-out figures.")]
    return lines + [f"Column '{c['column']}': " + "; ".join(c["reasons"]) + "." for c in shifted]


def coverage_lines(reliability: dict | None, coverage: float | None = None) -> list[str]:
    """What the intervals or sets promise and what held-out rows showed, in words."""
    conformal = (reliability or {}).get("conformal")
    if _usable_quantile(conformal, coverage) is None:
        return []
    level, _ = coverage_quantile(conformal, coverage)
    what = "intervals" if conformal["kind"] == "interval" else "prediction sets"
    line = f"{level:.0%} {what}: each should hold the true value for {level:.0%} of new rows like the training data"
    measured = ((reliability.get("holdout") or {}).get("coverage") or {}).get(f"{level:.2f}")
    if measured:
        line += f"; they held it for {measured['covered']:.1%} of held-out rows"
    return [line + "."]


# --------------------------------------------------------------------------- output files

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """Make a cell safe to open in a spreadsheet: text that starts like a formula gets a quote.

    Numbers are left alone (a negative number is not a formula).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_cell)
    return out


# --------------------------------------------------------------------------- explanations
#
# SHAP values are computed per member in the member's own space, then summed back into the
# input column each feature came from (one-hot and TF-IDF features, datetime parts), and, for
# classifiers, put into probability space so that members can be added up with the
# ensemble's weights:
#
#   base[k] + sum over columns of values[row, column, k] == the model's probability of class k
#
# holds exactly (to float precision) for every row. Explainers that work in log-odds
# (CatBoost, gradient boosting, logistic regression) are mapped to probabilities by scaling
# each row's contributions with the slope of the link between the base and the row's output
# (always positive for binary tasks, so signs and order are kept; for multiclass the softmax
# Jacobian at the midpoint is used and the small remainder is spread by size). The base value
# in probability space is the link applied to the explainer's expected log-odds.
#
# That base is not what people call "the average": the sigmoid of the mean log-odds can be 7%
# where the model predicts 28% on average. So a schema that carries `average_output` (the
# model's mean output over its training rows, stored at build time) has every explanation
# measured from that average instead: each row's difference between the two bases is spread
# over its columns by size (see `rebased`), and the rows still add up exactly.


class ExplanationError(ValueError):
    """A member of the model cannot be explained; the message says which and why."""


@dataclass
class Contributions:
    """SHAP values by input column.

    values: (rows, columns, outputs); base: (outputs,); output: (rows, outputs) where outputs
    are the classes for classification (probability space) and a single value for regression.
    """

    columns: list[str]
    base: np.ndarray
    values: np.ndarray
    output: np.ndarray
    space: str  # "probability" or "prediction"


def input_columns(schema: dict) -> list[str]:
    return [c["name"] for c in schema["columns"]]


def _column_matrix(features: list[str], schema: dict) -> np.ndarray:
    """(features, input columns) 0/1 matrix that sums feature values into their column."""
    columns = input_columns(schema)
    position = {name: i for i, name in enumerate(columns)}
    matrix = np.zeros((len(features), len(columns)))
    for i, feature in enumerate(features):
        matrix[i, position[source_column(feature)]] = 1.0
    return matrix


def _as_3d(values: Any) -> np.ndarray:
    """shap returns (n, f), (n, f, k) or a list of k (n, f) arrays; always give (n, f, k)."""
    if isinstance(values, list):
        return np.stack([np.asarray(v, dtype="float64") for v in values], axis=2)
    arr = np.asarray(values, dtype="float64")
    return arr[:, :, None] if arr.ndim == 2 else arr


def _catboost_shap(member: Member, frame: pd.DataFrame, schema: dict) -> tuple[np.ndarray, np.ndarray]:
    """CatBoost's own SHAP (raw formula space), summed into input columns: (base, (n, C, K'))."""
    from catboost import Pool

    kinds = feature_kinds(schema)
    pool = Pool(
        catboost_frame(frame, schema),
        cat_features=[n for n, k in kinds.items() if k == "categorical"] or None,
        text_features=[n for n, k in kinds.items() if k == "text"] or None,
    )
    raw = np.asarray(member.estimator.get_feature_importance(pool, type="ShapValues"), dtype="float64")
    if raw.ndim == 3:  # multiclass: (n, k, f + 1)
        raw = raw.transpose(0, 2, 1)
    else:
        raw = raw[:, :, None]
    by_column = np.einsum("nfk,fc->nck", raw[:, :-1, :], _column_matrix(list(frame.columns), schema))
    return raw[0, -1, :], by_column


def _lightgbm_shap(member: Member, frame: pd.DataFrame, schema: dict) -> tuple[np.ndarray, np.ndarray]:
    """LightGBM's own SHAP (`pred_contrib`, raw score space), summed into input columns.

    LightGBM returns (n, f + 1) for one output and (n, K * (f + 1)) for K classes, class by
    class, the last column of each block being the expected value."""
    x = lightgbm_frame(frame, schema)
    width = x.shape[1] + 1
    raw = np.asarray(member.estimator.predict(x, pred_contrib=True), dtype="float64")
    raw = raw.reshape(len(x), raw.shape[1] // width, width).transpose(0, 2, 1)  # (n, f + 1, K')
    by_column = np.einsum("nfk,fc->nck", raw[:, :-1, :], _column_matrix(lightgbm_features(schema), schema))
    return raw[0, -1, :], by_column


def _transformed_feature_columns(preprocess: Any, frame: pd.DataFrame, width: int) -> list[str]:
    """For each column of the transformed matrix, the prepared-frame column it came from."""
    from sklearn.compose import ColumnTransformer

    transformer = preprocess
    if not isinstance(transformer, ColumnTransformer):
        steps = getattr(preprocess, "steps", [])
        found = [s for _, s in steps if isinstance(s, ColumnTransformer)]
        if len(found) != 1:
            raise ExplanationError("the pipeline has no single ColumnTransformer to map features back")
        transformer = found[0]
    sources: list[str | None] = [None] * width
    for name, step, cols in transformer.transformers_:
        part = transformer.output_indices_.get(name, slice(0, 0))
        if part.stop <= part.start:
            continue
        if isinstance(cols, str):
            cols = [cols]
        cols = [frame.columns[c] if isinstance(c, (int, np.integer)) else c for c in cols]
        n_out = part.stop - part.start
        if len(cols) == 1:
            owners = cols * n_out
        elif len(cols) == n_out:
            owners = list(cols)
        else:
            owners = _owners_by_name(step, cols, n_out)
        sources[part.start : part.stop] = owners
    if any(s is None for s in sources):
        raise ExplanationError("some transformed features could not be traced to an input column")
    return sources  # type: ignore[return-value]


def _owners_by_name(step: Any, cols: list[str], n_out: int) -> list[str]:
    """Match output names like 'island_Biscoe' to the longest input column they start with."""
    names = list(step.get_feature_names_out(cols))
    if len(names) != n_out:
        raise ExplanationError("a transformer's feature names do not match its output width")
    by_length = sorted(cols, key=len, reverse=True)
    owners = []
    for out_name in names:
        match = next((c for c in by_length if out_name == c or out_name.startswith(c + "_")), None)
        match = match or next((c for c in by_length if out_name.endswith("_" + c)), None)
        if match is None:
            raise ExplanationError(f"feature '{out_name}' could not be traced to an input column")
        owners.append(match)
    return owners


def _dense(matrix: Any) -> np.ndarray:
    if hasattr(matrix, "toarray"):
        return np.asarray(matrix.toarray(), dtype="float64")
    return np.asarray(matrix, dtype="float64")


def _is_linear(estimator: Any) -> bool:
    return type(estimator).__module__.startswith("sklearn.linear_model") and hasattr(estimator, "coef_")


def needs_reference(member: Member, explainers: dict | None = None) -> bool:
    """Whether explaining this member needs the mean of its training features (see sklearn_reference)."""
    if member.kind != "sklearn":
        return False
    return _is_linear(member.estimator[-1]) or _tree_explainer(member.estimator[-1], explainers) is None


def _tree_explainer(estimator: Any, explainers: dict | None = None) -> Any:
    """shap's TreeExplainer for `estimator`, or None if it does not support it. `explainers`
    keeps them across calls: building one for a big forest takes longer than using it."""
    if explainers is not None and id(estimator) in explainers:
        return explainers[id(estimator)][1]
    import shap

    try:
        explainer = shap.TreeExplainer(estimator)
    except Exception:  # noqa: BLE001 - shap raises InvalidModelError and others for unsupported models
        explainer = None
    if explainers is not None:  # the estimator is kept with it, so its id stays its own
        explainers[id(estimator)] = (estimator, explainer)
    return explainer


def sklearn_reference(member: Member, frame: pd.DataFrame) -> list[float] | dict:
    """Mean transformed feature row over `frame`: the reference linear and permutation SHAP use.

    A row that is mostly zeros (hashed text has hundreds of thousands of columns) is kept
    sparse, as ``{"size": n, "index": [...], "value": [...]}``, so it stays small as JSON."""
    matrix = member.estimator[:-1].transform(frame)
    mean = np.asarray(matrix.mean(axis=0), dtype="float64").reshape(-1)
    used = np.flatnonzero(mean)
    if len(used) < len(mean) / 4:
        return {"size": len(mean), "index": used.tolist(), "value": mean[used].tolist()}
    return mean.tolist()


def _reference_row(reference: list[float] | dict) -> np.ndarray:
    """A reference from `sklearn_reference` (dense list or sparse dict) as a dense row."""
    if not isinstance(reference, dict):
        return np.asarray(reference, dtype="float64")
    row = np.zeros(int(reference["size"]))
    row[np.asarray(reference["index"], dtype="int64")] = np.asarray(reference["value"], dtype="float64")
    return row


def _sklearn_shap(
    member: Member, frame: pd.DataFrame, schema: dict, reference: list[float] | dict | None,
    explainers: dict | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """SHAP of a scikit-learn Pipeline on its transformed matrix, summed into input columns."""
    preprocess, estimator = member.estimator[:-1], member.estimator[-1]
    matrix = preprocess.transform(frame)
    last = preprocess[-1] if hasattr(preprocess, "steps") else preprocess
    to_columns = _column_matrix(_transformed_feature_columns(last, frame, matrix.shape[1]), schema)
    explainer = None if _is_linear(estimator) else _tree_explainer(estimator, explainers)
    if explainer is None and reference is None:
        raise ExplanationError(
            f"Member '{member.name}' cannot be explained without its reference (the mean of its "
            "training features): pass the explanation from explain_model, or rebuild the bundle "
            "with an explanation."
        )
    if _is_linear(estimator):
        return _linear_shap(estimator, matrix, _reference_row(reference), to_columns)
    if explainer is None:
        base, values = _permutation_shap(estimator, _dense(matrix), _reference_row(reference), schema)
    else:
        values = explainer.shap_values(_dense(matrix), check_additivity=False)
        base = explainer.expected_value
    values = np.einsum("nfk,fc->nck", _as_3d(values), to_columns)
    return np.atleast_1d(np.asarray(base, dtype="float64")), values


def _linear_shap(estimator: Any, matrix: Any, reference: np.ndarray, to_columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact interventional SHAP of a linear model, coef * (x - reference), per input column.

    Computed as sparse matrix products, so TF-IDF matrices with tens of thousands of columns
    are never made dense (shap's LinearExplainer gives the same numbers but densifies).
    """
    coef = np.atleast_2d(np.asarray(estimator.coef_, dtype="float64"))  # (k, f)
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype="float64"))
    # weights[f, c * k + j] = coef[j, f] for the features f of column c
    weights = (to_columns[:, :, None] * coef.T[:, None, :]).reshape(coef.shape[1], -1)
    values = np.asarray(matrix @ weights) - reference @ weights
    base = intercept + coef @ reference
    return base, values.reshape(matrix.shape[0], to_columns.shape[1], coef.shape[0])


def _permutation_shap(estimator: Any, matrix: np.ndarray, reference: np.ndarray, schema: dict) -> tuple[Any, Any]:
    """Model-agnostic SHAP against the reference row, for estimators no fast explainer takes."""
    import shap

    predict = estimator.predict if schema["task_type"] == "regression" else estimator.predict_proba
    # two antithetic permutations per row: exactly additive, and affordable on a sample
    evals = 2 * (2 * matrix.shape[1] + 1)
    explained = shap.PermutationExplainer(predict, reference.reshape(1, -1))(matrix, max_evals=evals, silent=True)
    return np.asarray(explained.base_values)[0], explained.values


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _binary_logodds_to_probability(base: np.ndarray, values: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds SHAP of the positive class → probability SHAP for both classes."""
    m0 = float(base[0])
    m1 = m0 + values[:, :, 0].sum(axis=1)
    p0, p1 = _sigmoid(m0), proba[:, 1]
    change = m1 - m0
    safe = np.abs(change) > 1e-9
    slope = np.where(safe, (p1 - p0) / np.where(safe, change, 1.0), p0 * (1 - p0))
    positive = values[:, :, 0] * slope[:, None]
    return np.array([1 - p0, p0]), np.stack([-positive, positive], axis=2)


def _multiclass_logodds_to_probability(base: np.ndarray, values: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class softmax-input SHAP → probability SHAP, exactly additive per row and class."""
    p_base = _softmax(base)
    mid = _softmax(base[None, :] + values.sum(axis=1) / 2)  # (n, k)
    # softmax Jacobian d p_k / d m_j = p_k (delta_kj - p_j), at the midpoint of each row
    jac = mid[:, :, None] * (np.eye(len(base))[None] - mid[:, None, :])
    linear = np.einsum("nkj,nfj->nfk", jac, values)
    remainder = (proba - p_base[None, :]) - linear.sum(axis=1)  # (n, k)
    return p_base, linear + _spread(linear, remainder[:, None, :])


def _spread(values: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """`amount` (per row and output) shared among the columns of `values` (rows, columns,
    outputs) in proportion to their size, equally when a row has none: adding it changes
    each row's total by exactly `amount`, and a column's sign only when `amount` is larger
    than the row's contributions together."""
    size = np.abs(values)
    total = size.sum(axis=1, keepdims=True)
    share = np.where(total > 0, size / np.where(total > 0, total, 1.0), 1.0 / values.shape[1])
    return share * amount


def rebased(contrib: Contributions, base: np.ndarray) -> Contributions:
    """The same explanation measured from another base value (the model's average output):
    every row still adds up, base + sum of its contributions == its output."""
    base = np.asarray(base, dtype="float64").reshape(-1)
    shift = np.broadcast_to(contrib.base - base, (len(contrib.values), 1, len(base)))
    values = contrib.values + _spread(contrib.values, shift)
    return Contributions(contrib.columns, base, values, contrib.output, contrib.space)


def _to_output_space(
    base: np.ndarray, values: np.ndarray, output: np.ndarray, schema: dict, member: Member
) -> tuple[np.ndarray, np.ndarray]:
    """Put one member's SHAP into the space of its output (probabilities or predictions)."""
    if schema["task_type"] == "regression":
        scale = max(1.0, float(np.abs(output).max(initial=0.0)))
        if not np.allclose(base[0] + values[:, :, 0].sum(axis=1), output[:, 0], rtol=0, atol=1e-6 * scale):
            # e.g. a model trained on a transformed target explains the transformed value
            raise ExplanationError(f"SHAP values of member '{member.name}' do not add up to its output")
        return base[:1], values[:, :, :1]
    k = output.shape[1]
    reconstructed = base[None, :] + values.sum(axis=1)
    if reconstructed.shape[1] == k and np.allclose(reconstructed, output, atol=1e-6):
        return base, values  # already probabilities (random forests and permutation SHAP)
    if k == 2 and values.shape[2] == 2:  # some explainers give log-odds for both classes
        base, values = base[1:], values[:, :, 1:]
    if k == 2 and values.shape[2] == 1:
        if not np.allclose(_sigmoid(base[0] + values[:, :, 0].sum(axis=1)), output[:, 1], atol=1e-4):
            raise ExplanationError(f"SHAP values of member '{member.name}' do not add up to its output")
        return _binary_logodds_to_probability(base, values, output)
    if not np.allclose(_softmax(reconstructed), output, atol=1e-4):
        raise ExplanationError(f"SHAP values of member '{member.name}' do not add up to its output")
    return _multiclass_logodds_to_probability(base, values, output)


def member_contributions(
    member: Member, frame: pd.DataFrame, schema: dict, reference: list[float] | dict | None = None,
    explainers: dict | None = None,
) -> Contributions:
    """One member's SHAP values by input column, in its output space (see module notes);
    `explainers` keeps tree explainers between calls (see `_tree_explainer`)."""
    if member.kind == "catboost":
        base, values = _catboost_shap(member, frame, schema)
    elif member.kind == "lightgbm":
        base, values = _lightgbm_shap(member, frame, schema)
    elif member.kind == "sklearn":
        base, values = _sklearn_shap(member, frame, schema, reference, explainers)
    else:
        raise ExplanationError(f"member '{member.name}' has an unknown kind '{member.kind}'")
    output = member_output(member, frame, schema)
    output_2d = output.reshape(-1, 1) if output.ndim == 1 else output
    base, by_column = _to_output_space(base, values, output_2d, schema, member)
    space = "prediction" if schema["task_type"] == "regression" else "probability"
    return Contributions(input_columns(schema), base, by_column, output_2d, space)


def explain_frame(
    members: list[Member], frame: pd.DataFrame, schema: dict, references: dict | None = None,
    explainers: dict | None = None,
) -> Contributions:
    """The ensemble's SHAP values by input column: the weighted sum of its members' values,
    measured from the schema's `average_output` when it has one. A row with a gap the model
    fills is explained as it is predicted: the mean over its filled copies (SHAP values are
    linear in the model, so they still add up to the prediction)."""
    combined = _weighted_contributions(members, frame, schema, references, explainers)
    for rows, copies, k in _gap_copies(frame, schema):
        filled = _weighted_contributions(members, copies, schema, references, explainers)
        combined.values[rows] = _mean_over_copies(filled.values, k)
        combined.output[rows] = _mean_over_copies(filled.output, k)
    average = schema.get("average_output")  # absent in bundles built before it was stored
    if average is not None and len(average) == len(combined.base):
        return rebased(combined, np.asarray(average, dtype="float64"))
    return combined


def _weighted_contributions(members: list[Member], frame: pd.DataFrame, schema: dict,
                            references: dict | None, explainers: dict | None) -> Contributions:
    total = sum(m.weight for m in members)
    references = references or {}
    combined: Contributions | None = None
    for i, member in enumerate(members):
        part = member_contributions(member, frame, schema, references.get(str(i)), explainers)
        share = member.weight / total
        if combined is None:
            combined = Contributions(part.columns, part.base * share, part.values * share, part.output * share, part.space)
        else:
            combined.base = combined.base + part.base * share
            combined.values = combined.values + part.values * share
            combined.output = combined.output + part.output * share
    if combined is None:
        raise ValueError("A model needs at least one member with a positive weight.")
    return combined


def explained_output_index(output: np.ndarray, schema: dict,
                           calibrator: dict | None = None) -> np.ndarray:
    """Which output each row is explained for: the value (regression), the positive class
    (binary, the second class), or the predicted class (multiclass, as `class_indices`
    decides it with the bundle's `calibrator`)."""
    if schema["task_type"] == "regression":
        return np.zeros(len(output), dtype=int)
    if schema["task_type"] == "binary":
        return np.ones(len(output), dtype=int)
    return class_indices(output, schema, calibrator)


def explanation_table(contrib: Contributions, schema: dict, index: pd.Index,
                      calibrator: dict | None = None) -> pd.DataFrame:
    """Per-row columns: shap_base, shap_<column>... for the explained output of each row."""
    which = explained_output_index(contrib.output, schema, calibrator)
    rows = np.arange(len(which))
    table = pd.DataFrame({"shap_base": contrib.base[which]}, index=index)
    if schema["task_type"] != "regression":
        table.insert(0, "shap_class", [schema["classes"][i] for i in which])
    for c, name in enumerate(contrib.columns):
        table[f"shap_{name}"] = contrib.values[rows, c, which]
    return table


# --------------------------------------------------------------------------- bundles
#
# A bundle is a zip (or the folder it was unpacked into) holding manifest.json, schema.json,
# the members' model files and this file as predict.py. Models are never pickled: CatBoost
# members are .cbm files, LightGBM members are LightGBM's text model files (.txt), and
# scikit-learn members are skops files, loaded with the explicit list of types below. skops itself trusts plain scikit-learn estimators; these are the
# extra (non-estimator) types the engine's pipelines contain. Anything else in a file stops
# the load.

MANIFEST = "manifest.json"
SCHEMA = "schema.json"
EXPLAINER_REFERENCE = "explainer_reference.json"
TRUSTED_SKOPS_TYPES = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss._loss.CyHalfSquaredError",
    "collections.OrderedDict",
)


class BundleIntegrityError(ValueError):
    """A bundle file is missing, does not match its manifest, or is not safe to load."""


SIGNATURE = "signature.json"  # not in the manifest: it signs the manifest's bytes
MiB = 1024 * 1024
MAX_MANIFEST_BYTES = 4 * MiB
MAX_SIGNATURE_BYTES = 64 * 1024
# The largest single file a bundle may hold (BRIEFML_MAX_BUNDLE_FILE_MB): model files of
# a few hundred MB are real, a 4 GB entry of zeros is a zip bomb.
MAX_BUNDLE_FILE_BYTES = 1024 * MiB


def sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _bundle_file_limit() -> int:
    import os

    raw = os.environ.get("BRIEFML_MAX_BUNDLE_FILE_MB", "").strip()
    try:
        return int(float(raw) * MiB) if raw and float(raw) > 0 else MAX_BUNDLE_FILE_BYTES
    except ValueError:
        return MAX_BUNDLE_FILE_BYTES


def safe_member_name(name: Any) -> bool:
    """A path inside a bundle: relative, forward slashes, no '..', nothing hidden in it."""
    import posixpath

    if not isinstance(name, str) or not name or len(name) > 255 or "\\" in name or "\0" in name:
        return False
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    parts = name.split("/")
    return all(part not in ("", ".", "..") for part in parts) and posixpath.normpath(name) == name


def read_bundle_files(path: str | Any) -> dict[str, bytes]:
    """manifest.json, signature.json when there is one, and the files the manifest lists, of
    a bundle zip or unpacked bundle folder, by their path inside the bundle.

    Nothing else is read (users often write their CSVs next to predict.py, and an entry the
    manifest omits is never trusted). Each file is bounded by its declared size and the
    per-file limit; absolute paths, '..' and symlinks are refused.
    Raises BundleIntegrityError with a one-line message.
    """
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        return _read_bundle_folder(path)
    if not path.exists():
        raise BundleIntegrityError(f"No bundle at '{path}'. Check the path and try again.")
    return _read_bundle_zip(path)


def _listed_names(manifest_bytes: bytes) -> list[str]:
    manifest = parse_bundle_json(MANIFEST, manifest_bytes)
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(listed, dict):
        raise BundleIntegrityError("The bundle's manifest.json has no list of files, so nothing in it can be checked. "
                                   "Download or build the bundle again.")
    bad = next((n for n in listed if not safe_member_name(n) or n in (MANIFEST, SIGNATURE)), None)
    if bad is not None:
        raise BundleIntegrityError(f"The bundle's manifest lists a file outside the bundle ({_shown(bad)}): "
                                   "it was not loaded.")
    return list(listed)


def _shown(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _too_big(name: str, size: int, limit: int) -> BundleIntegrityError:
    return BundleIntegrityError(
        f"The bundle file '{name}' is {tableread.size_text(size)}, over the {tableread.size_text(limit)} limit "
        "for one file (BRIEFML_MAX_BUNDLE_FILE_MB): it was not loaded.")


def _read_bundle_zip(path: Any) -> dict[str, bytes]:
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BundleIntegrityError(f"'{path}' is not a bundle zip file. Download the bundle again.") from None
    with archive:
        entries = {info.filename: info for info in archive.infolist()}
        if MANIFEST not in entries:
            raise BundleIntegrityError("The bundle has no manifest.json, so it cannot be checked. Download it again.")
        manifest = _read_zip_entry(archive, entries[MANIFEST], MAX_MANIFEST_BYTES)
        files = {MANIFEST: manifest}
        if SIGNATURE in entries:
            files[SIGNATURE] = _read_zip_entry(archive, entries[SIGNATURE], MAX_SIGNATURE_BYTES)
        limit = _bundle_file_limit()
        for name in _listed_names(manifest):
            if name in entries:  # a missing one is named by verify_manifest
                files[name] = _read_zip_entry(archive, entries[name], limit)
    return files


def _read_zip_entry(archive: Any, info: Any, limit: int) -> bytes:
    """One entry, refused when it is a symlink or larger than `limit` (declared or actual)."""
    import stat
    import zipfile

    if stat.S_ISLNK(info.external_attr >> 16):
        raise BundleIntegrityError(f"The bundle file '{info.filename}' is a symbolic link: it was not loaded.")
    if info.file_size > limit:
        raise _too_big(info.filename, info.file_size, limit)
    try:
        with archive.open(info) as stream:
            data = stream.read(limit + 1)  # zipfile stops at the declared size; this bounds the rest
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise BundleIntegrityError(f"The bundle file '{info.filename}' cannot be unpacked ({type(exc).__name__}). "
                                   "Download the bundle again.") from None
    if len(data) > limit:
        raise _too_big(info.filename, len(data), limit)
    return data


def _read_bundle_folder(folder: Any) -> dict[str, bytes]:
    if not (folder / MANIFEST).is_file():
        raise BundleIntegrityError(f"'{folder}' has no manifest.json: it is not an unpacked bundle.")
    manifest = _read_folder_file(folder, MANIFEST, MAX_MANIFEST_BYTES)
    files = {MANIFEST: manifest}
    if (folder / SIGNATURE).is_file():
        files[SIGNATURE] = _read_folder_file(folder, SIGNATURE, MAX_SIGNATURE_BYTES)
    limit = _bundle_file_limit()
    for name in _listed_names(manifest):
        if (folder / name).is_file() or (folder / name).is_symlink():
            files[name] = _read_folder_file(folder, name, limit)
    return files


def _read_folder_file(folder: Any, name: str, limit: int) -> bytes:
    """A file inside the folder, never through a symlink (at any level) or out of the folder."""
    import os

    root = folder.resolve()
    current = folder
    for part in name.split("/"):
        current = current / part
        if current.is_symlink():
            raise BundleIntegrityError(f"The bundle file '{name}' is a symbolic link: it was not loaded.")
    target = current.resolve()
    if root not in target.parents:
        raise BundleIntegrityError(f"The bundle file '{name}' lies outside the bundle folder: it was not loaded.")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(target, flags)
    with os.fdopen(descriptor, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_big(name, len(data), limit)
    return data


def parse_bundle_json(name: str, data: bytes) -> Any:
    """A JSON file of a bundle, or BundleIntegrityError in one line (never NaN, never a
    RecursionError from a file nested a hundred thousand levels deep)."""
    import json

    def refuse_constant(value: str) -> Any:
        raise ValueError(f"{value} is not a number a bundle may hold")

    try:
        return json.loads(data, parse_constant=refuse_constant)
    except RecursionError:
        raise BundleIntegrityError(f"The bundle's {name} is nested too deeply to be real. Download it again.") from None
    except (ValueError, TypeError) as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise BundleIntegrityError(f"The bundle's {name} cannot be read ({detail}). Download it again.") from None


def verify_manifest(files: dict[str, bytes]) -> dict:
    """Check every file listed in manifest.json against its SHA-256 and the manifest's
    structure; return the manifest.

    A matching checksum shows that the files are the ones the manifest lists, which catches
    damage and accidents. It cannot show who wrote them: anyone can re-hash a changed file.
    That is what the signature is for (`verify_signature`).
    Raises BundleIntegrityError naming the first file that is missing or does not match.
    """
    if MANIFEST not in files:
        raise BundleIntegrityError("The bundle has no manifest.json, so it cannot be checked. Download it again.")
    manifest = parse_bundle_json(MANIFEST, files[MANIFEST])
    validate_manifest(manifest)
    for name, expected in sorted(manifest["files"].items()):
        if name not in files:
            raise BundleIntegrityError(f"The bundle is missing '{name}', which its manifest lists. Download it again.")
        if sha256_hex(files[name]) != expected:
            raise BundleIntegrityError(
                f"The bundle file '{name}' does not match its SHA-256 in manifest.json: it was damaged or "
                "changed. Do not use it; download the bundle again."
            )
    return manifest


# --------------------------------------------------------------------------- declared structure

TASK_TYPES = ("binary", "multiclass", "regression")
COLUMN_KINDS = ("numeric", "boolean", "categorical", "text", "datetime")
MEMBER_KINDS = ("catboost", "lightgbm", "sklearn")  # what `_load_estimator` can load


def _problem(where: str, what: str) -> BundleIntegrityError:
    return BundleIntegrityError(f"The bundle's {where} {what}; it was not loaded. Build or download it again.")


def _finite_number(value: Any) -> bool:
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_manifest(manifest: Any) -> None:
    """manifest.json as the writer declares it: files {path: sha256}, members [{kind, file,
    weight > 0 and finite, name}], each member's file listed. Raises BundleIntegrityError."""
    import re

    if not isinstance(manifest, dict):
        raise _problem("manifest.json", "is not a JSON object")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise _problem("manifest.json", "lists no files")
    for name, digest in files.items():
        if not safe_member_name(name):
            raise _problem("manifest.json", f"lists a file outside the bundle ({_shown(name)})")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise _problem("manifest.json", f"gives '{name}' a SHA-256 that is not one")
    members = manifest.get("members")
    if not isinstance(members, list) or not members or len(members) > 1000:
        raise _problem("manifest.json", "lists no model members")
    for i, member in enumerate(members):
        where = f"manifest.json member {i}"
        if not isinstance(member, dict):
            raise _problem(where, "is not a JSON object")
        if member.get("kind") not in MEMBER_KINDS:
            raise _problem(where, f"has an unknown kind {_shown(member.get('kind'))} (known: {', '.join(MEMBER_KINDS)})")
        if member.get("file") not in files:
            raise _problem(where, f"names a model file the manifest does not list ({_shown(member.get('file'))})")
        weight = member.get("weight")
        if not _finite_number(weight) or weight <= 0:
            raise _problem(where, f"has weight {_shown(weight)}; a weight must be a finite number above 0")
        if not isinstance(member.get("name", ""), str):
            raise _problem(where, "has a name that is not text")
    if SCHEMA not in files:
        raise _problem("manifest.json", f"does not list {SCHEMA}, which the model needs")


def validate_schema(schema: Any, manifest: dict | None = None) -> None:
    """schema.json as the engine declares it: a known task type, classes that fit it, and
    columns with unique names and known kinds. Raises BundleIntegrityError."""
    if not isinstance(schema, dict):
        raise _problem(SCHEMA, "is not a JSON object")
    task = schema.get("task_type")
    if task not in TASK_TYPES:
        raise _problem(SCHEMA, f"has task type {_shown(task)}, not one of {', '.join(TASK_TYPES)}")
    if manifest and manifest.get("task_type") not in (None, task):
        raise _problem(SCHEMA, f"says {task} but manifest.json says {_shown(manifest.get('task_type'))}")
    if not isinstance(schema.get("target"), str) or not schema["target"]:
        raise _problem(SCHEMA, "names no target column")
    classes = schema.get("classes")
    if task != "regression":
        if (not isinstance(classes, list) or len(classes) < 2
                or any(not isinstance(c, (str, int, float)) or isinstance(c, bool) for c in classes)
                or len({str(c) for c in classes}) != len(classes)):
            raise _problem(SCHEMA, "needs at least two distinct classes for a classifier")
        if task == "binary" and len(classes) != 2:
            raise _problem(SCHEMA, f"lists {len(classes)} classes for a binary task")
    threshold = schema.get("decision_threshold")
    if threshold is not None and not (_finite_number(threshold) and 0 <= threshold <= 1):
        raise _problem(SCHEMA, f"has decision threshold {_shown(threshold)}; it must lie between 0 and 1")
    for key, what in (("decision_threshold_scale", "its decision threshold"),
                      ("class_scale", "its choice of class")):
        scale = schema.get(key)
        if scale is not None and scale not in SCALES:
            raise _problem(SCHEMA, f"puts {what} on scale {_shown(scale)}, not one of "
                                   f"{', '.join(SCALES)}")
    columns = schema.get("columns")
    if not isinstance(columns, list) or not columns:
        raise _problem(SCHEMA, "lists no input columns")
    seen: set[str] = set()
    for i, column in enumerate(columns):
        where = f"{SCHEMA} column {i}"
        if not isinstance(column, dict) or not isinstance(column.get("name"), str) or not column["name"]:
            raise _problem(where, "has no name")
        if column["name"] in seen:
            raise _problem(where, f"repeats the name {_shown(column['name'])}")
        seen.add(column["name"])
        if column.get("kind") not in COLUMN_KINDS:
            raise _problem(where, f"has an unknown kind {_shown(column.get('kind'))}")
        categories = column.get("categories")
        if categories is not None and not isinstance(categories, list):
            raise _problem(where, "has categories that are not a list")
        if column.get("decimal", ".") not in (".", ","):
            raise _problem(where, f"has decimal mark {_shown(column.get('decimal'))}")
    _check_gap_fill(schema)


MAX_GAP_FILLS = 64


def _check_gap_fill(schema: dict) -> None:
    """The gap fills (see `gap_filled`), when present: one list of the same length per known
    feature, of finite numbers or texts."""
    if schema.get("gap_fill") is None:  # bundles built before gap fills, and complete tables
        return
    values = schema["gap_fill"].get("values") if isinstance(schema["gap_fill"], dict) else None
    if not isinstance(values, dict) or not values:
        raise _problem(SCHEMA, "has gap fills that are not a list of values per feature")
    features = set(feature_names(schema))
    for name, fills in values.items():
        if name not in features:
            raise _problem(SCHEMA, f"has gap fills for {_shown(name)}, which is not one of its features")
        if (not isinstance(fills, list) or not 0 < len(fills) <= MAX_GAP_FILLS
                or any(not (_finite_number(v) or isinstance(v, str)) for v in fills)):
            raise _problem(SCHEMA, f"has gap fills for {_shown(name)} that are not 1 to {MAX_GAP_FILLS} numbers or texts")
    if len({len(fills) for fills in values.values()}) != 1:
        raise _problem(SCHEMA, "has gap fills of different lengths")


# --------------------------------------------------------------------------- signatures


def verify_signature(files: dict[str, bytes], trusted_keys: list[bytes]) -> str:
    """Check signature.json (Ed25519 over the manifest's bytes) against the trusted public
    keys (raw 32 bytes or PEM); return the signing key's id. Needs `cryptography`, imported
    only here. Raises BundleIntegrityError saying what is wrong."""
    import base64

    if SIGNATURE not in files:
        raise BundleIntegrityError("The bundle is not signed, so who built it cannot be verified. "
                                   "Use a bundle signed by a key you trust.")
    try:
        from cryptography.exceptions import InvalidSignature
    except ImportError:
        raise BundleIntegrityError("Verifying a signature needs the cryptography package: "
                                   "pip install cryptography") from None
    signature = parse_bundle_json(SIGNATURE, files[SIGNATURE])
    try:
        value = base64.b64decode(signature["signature"], validate=True)
        key_id = str(signature.get("key_id", ""))[:64]
    except (TypeError, KeyError, ValueError):
        raise BundleIntegrityError("The bundle's signature.json is damaged. Download the bundle again.") from None
    for key in trusted_keys:
        public = _public_key(key)
        try:
            public.verify(value, files[MANIFEST])
            return public_key_id(public)
        except InvalidSignature:
            continue
    raise BundleIntegrityError(
        f"The bundle's signature does not verify against any trusted key (it names key {key_id or 'none'}): "
        "it was changed after signing or signed by someone you do not trust. Do not use it; "
        "if you trust whoever built it, pass their public key with --trust.")


def _public_key(key: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        if len(key) == 32:
            return Ed25519PublicKey.from_public_bytes(key)
        loaded = serialization.load_pem_public_key(key)
    except ValueError:
        raise BundleIntegrityError("A trusted key is not an Ed25519 public key (PEM or 32 raw bytes).") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise BundleIntegrityError("A trusted key is not an Ed25519 public key.")
    return loaded


def public_key_id(public: Any) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of its raw bytes' SHA-256."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256_hex(raw)[:16]


def _load_member(entry: dict, data: bytes, schema: dict) -> Member:
    try:
        estimator = _load_estimator(entry, data, schema["task_type"])
    except BundleIntegrityError:
        raise
    except Exception as exc:  # noqa: BLE001 -- CatBoostError, skops and numpy errors for damaged files
        raise BundleIntegrityError(
            f"The model file '{entry['file']}' cannot be loaded ({type(exc).__name__}): it is damaged or "
            "not a model. Build or download the bundle again.") from None
    member = Member(kind=entry["kind"], estimator=estimator, weight=float(entry["weight"]), name=entry.get("name", ""))
    _check_member_fits(member, schema, entry["file"])
    return member


def _load_estimator(entry: dict, data: bytes, task_type: str) -> Any:
    if entry["kind"] == "catboost":
        from catboost import CatBoostClassifier, CatBoostRegressor

        estimator = CatBoostRegressor() if task_type == "regression" else CatBoostClassifier()
        estimator.load_model(blob=data)
        return estimator
    if entry["kind"] == "lightgbm":
        import lightgbm

        return lightgbm.Booster(model_str=data.decode("utf-8"))
    if entry["kind"] == "sklearn":
        import skops.io as sio

        untrusted = sio.get_untrusted_types(data=data)
        refused = sorted(set(untrusted) - set(TRUSTED_SKOPS_TYPES))
        if refused:
            raise BundleIntegrityError(
                f"The model file '{entry['file']}' contains types this runtime does not trust: "
                + ", ".join(refused[:10]) + ". It was not loaded."
            )
        return sio.loads(data, trusted=list(untrusted))
    raise BundleIntegrityError(f"Unknown model kind '{entry['kind']}' in manifest.json.")


_CLASSIFIER_LOSSES = ("Logloss", "CrossEntropy", "MultiClass", "MultiClassOneVsAll")


def _check_member_fits(member: Member, schema: dict, file: str) -> None:
    """A member answers the schema's task with the schema's features and classes, or the
    bundle is refused (a swapped or mislabelled model predicts garbage, silently)."""
    estimator, task = member.estimator, schema["task_type"]
    expected = feature_names(schema)
    if member.kind == "catboost":
        loss = str(estimator.get_all_params().get("loss_function", ""))
        classifier = loss.split(":")[0] in _CLASSIFIER_LOSSES
        names = list(getattr(estimator, "feature_names_", None) or [])
    elif member.kind == "lightgbm":  # a Booster: its objective says the task
        objective = str(estimator.dump_model(num_iteration=0).get("objective", "")).split(" ")[0]
        classifier = objective in ("binary", "multiclass", "multiclassova", "cross_entropy")
        names = []  # LightGBM renames columns it finds awkward, so its names prove nothing
    else:
        from sklearn.base import is_classifier

        classifier = is_classifier(estimator)
        names = [str(n) for n in getattr(estimator, "feature_names_in_", [])]
    if classifier != (task != "regression"):
        raise BundleIntegrityError(
            f"The model file '{file}' is a {'classifier' if classifier else 'regressor'} but schema.json "
            f"says the task is {task}: the bundle was not loaded. Build or download it again.")
    if names and names != expected:
        raise BundleIntegrityError(
            f"The model file '{file}' was trained on other columns than schema.json lists: the bundle "
            "was not loaded. Build or download it again.")
    classes = getattr(estimator, "classes_", None)
    if task != "regression" and classes is not None and len(classes) != len(schema["classes"]):
        raise BundleIntegrityError(
            f"The model file '{file}' predicts {len(classes)} classes but schema.json lists "
            f"{len(schema['classes'])}: the bundle was not loaded. Build or download it again.")


@dataclass
class BundleModel:
    """A loaded bundle: predict with `predict_table(df)`, explain with `explain_table(df)`."""

    schema: dict
    members: list[Member]
    manifest: dict
    metrics: dict = field(default_factory=dict)
    references: dict = field(default_factory=dict)
    reliability: dict = field(default_factory=dict)  # reliability.json: intervals, calibrator, drift
    signed_by: str | None = None  # the id of the trusted key whose signature verified

    def predict_table(self, df: pd.DataFrame, *, coverage: float | None = None,
                      drift: bool = False) -> tuple[pd.DataFrame, InputReport]:
        return predict_table(self.members, df, self.schema, reliability=self.reliability,
                             coverage=coverage, drift=drift)

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        table, _ = self.predict_table(df)
        return table[self.schema["target"]].to_numpy()

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        frame, _ = prepare_frame(df, self.schema)
        output = ensemble_output(self.members, frame, self.schema)
        return calibrated_output(output, self.reliability.get("calibrator"))

    def explain_table(self, df: pd.DataFrame) -> pd.DataFrame:
        frame, _ = prepare_frame(df, self.schema)
        return explanation_table(explain_frame(self.members, frame, self.schema, self.references), self.schema, df.index,
                                 self.reliability.get("calibrator"))


def load(path: str | Any | None = None, *, trust: list[bytes] | None = None,
         require_signature: bool = True) -> BundleModel:
    """Load a bundle (zip or unpacked folder; default: the folder this file is in).

    Every file is checked against manifest.json and the declared structure first; a file
    that does not match stops the load. trust: public keys (PEM or raw bytes); when given,
    the bundle must carry a signature by one of them (see `verify_signature`), unless
    require_signature is False and it carries none (an old, unsigned bundle).
    Raises BundleIntegrityError with a one-line message.
    """
    from pathlib import Path

    files = read_bundle_files(Path(__file__).resolve().parent if path is None else path)
    manifest = verify_manifest(files)
    signed_by = None
    if trust is not None and (require_signature or SIGNATURE in files):
        signed_by = verify_signature(files, trust)
    schema = parse_bundle_json(SCHEMA, files[SCHEMA])
    validate_schema(schema, manifest)
    members = [_load_member(entry, files[entry["file"]], schema) for entry in manifest["members"]]
    metrics = _optional_json(files, "metrics.json")
    references = _optional_json(files, EXPLAINER_REFERENCE)
    reliability = _optional_json(files, RELIABILITY)
    return BundleModel(schema, members, manifest, metrics, references, reliability, signed_by)


def _optional_json(files: dict[str, bytes], name: str) -> dict:
    if name not in files:
        return {}
    value = parse_bundle_json(name, files[name])
    if not isinstance(value, dict):
        raise _problem(name, "is not a JSON object")
    return value


def input_limits() -> Any:
    """Limits on a file of rows to predict: the reader's defaults, one column allowed (a
    one-feature model), and any BRIEFML_* limit set in the environment."""
    return tableread.limits_from_env(tableread.LoadLimits(min_columns=1))


def read_input_table(source: str | Any, *, filename: str | None = None, limits: Any = None) -> pd.DataFrame:
    """Read the rows to predict with the one table reader training used (CSV, TSV, Parquet,
    Excel; any encoding and delimiter), every text cell kept as written in the file.

    Raises tableread.TableReadError (a ValueError) with a one-line message.
    """
    return tableread.read_table(source, filename=filename, limits=limits or input_limits(), infer=False)


def predict_file(
    model: BundleModel, input_path: str | Any, output_path: str | Any | None = None, *, explain: bool = False,
    coverage: float | None = None, limits: Any = None,
) -> tuple[pd.DataFrame, InputReport]:
    """Predict every row of a file; write a spreadsheet-safe CSV if `output_path` is given.
    The report says how the file compares with the training rows (`report.drift`).

    limits: a `tableread.LoadLimits` for the input (default: `input_limits()`)."""
    df = read_input_table(input_path, limits=limits)
    table, report = model.predict_table(df, coverage=coverage, drift=True)
    if explain:
        table = pd.concat([table, model.explain_table(df)], axis=1)
    table = with_input_columns(table, df)
    if output_path is not None:
        spreadsheet_safe(table).to_csv(output_path, index=False)
    return table, report


def with_input_columns(predictions: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """What the user came for first, then their own columns as the file wrote them (read
    with `read_input_table`, every cell kept as written), so each prediction sits beside its
    row. A prediction whose name an input column already has (a file that holds the target)
    is named predicted_<name>; the others keep theirs, so `proba_<label>` stays as it is."""
    taken = set(rows.columns)
    predictions = predictions.rename(columns={c: f"predicted_{c}" for c in predictions.columns if c in taken})
    return pd.concat([predictions.reset_index(drop=True), rows.reset_index(drop=True)], axis=1)


UNVERIFIED = ("the bundle is unverified: its files match manifest.json, which catches damage but not "
              "deliberate changes. Pass --trust KEYFILE (the builder's public key) to check its signature.")


def _read_key_file(name: str) -> bytes:
    from pathlib import Path

    path = Path(name)
    if not path.is_file() or path.stat().st_size > MAX_SIGNATURE_BYTES:
        raise BundleIntegrityError(f"No public key file at '{name}'. Pass the .pub file of whoever built the bundle.")
    return path.read_bytes()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 500 else text[:499] + "…"


def main(argv: list[str] | None = None) -> int:
    """`python predict.py in.csv -o out.csv [--explain] [--coverage 0.9] [--report] [--bundle PATH]`."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Predict with a briefml bundle.")
    parser.add_argument("input", help="CSV (or .tsv, .parquet, .xlsx) file with the rows to predict")
    parser.add_argument("-o", "--output", help="where to write the predictions CSV, each row's own columns after them (default: print it)")
    parser.add_argument("--explain", action="store_true", help="add SHAP contributions per input column")
    parser.add_argument("--bundle", help="bundle zip or folder (default: the folder of predict.py)")
    parser.add_argument("--coverage", type=float, default=None,
                        help="coverage of the lower/upper intervals or prediction sets (default 0.9)")
    parser.add_argument("--report", action="store_true",
                        help="also say how sure the predictions are and how the file compares with the training data")
    parser.add_argument("--trust", action="append", metavar="KEYFILE",
                        help="public key (PEM) of whoever built the bundle: its signature must verify (repeatable)")
    args = parser.parse_args(argv)
    try:
        trust = [_read_key_file(name) for name in args.trust] if args.trust else None
        model = load(args.bundle, trust=trust)
        table, report = predict_file(model, args.input, args.output, explain=args.explain,
                                     coverage=args.coverage)
        reliability = coverage_lines(model.reliability, args.coverage) if args.report else []
    except (ValueError, ImportError, OSError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    if trust is None:
        print(f"warning: {UNVERIFIED}", file=sys.stderr)
    for warning in report.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    for line in (reliability + drift_lines(report.drift)) if args.report else []:
        print(line, file=sys.stderr)
    if args.output is None:
        spreadsheet_safe(table).to_csv(sys.stdout, index=False)
    else:
        print(f"Wrote {len(table)} prediction(s) to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
