"""The runtime schema (``schema.json`` in a bundle) built from the training table and the plan.

See `core.runtime` for the format. Column kinds come from the task spec (text and datetime
columns it names) and the data profile (numeric, boolean, categorical).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataError
from core.jsonsafe import json_safe
from core.profile import whole_numbers
from core.runtime import _to_category
from core.spec import ColumnRole, DataProfile, TaskSpec
from core.tableread import DAYFIRST_ATTR, DECIMAL_COMMA_ATTR

MAX_LISTED_CATEGORIES = 1000  # the schema lists the most frequent ones; others stay allowed


def _column_kind(name: str, df: pd.DataFrame, spec: TaskSpec, profile: DataProfile) -> str:
    if name in spec.text_columns:
        return "text"
    if name in spec.datetime_columns:
        return "datetime"
    try:
        role = profile.column(name).role
    except KeyError:
        role = None
    if role == ColumnRole.BOOLEAN:
        return "boolean"
    if role == ColumnRole.NUMERIC:
        return "numeric"
    if role == ColumnRole.IDENTIFIER and whole_numbers(df[name]) is not None:
        return "numeric"  # an identifier kept for its order (`core.checks._ordered_identifier`)
    if role == ColumnRole.DATETIME:
        return "datetime"
    if role == ColumnRole.TEXT:
        return "text"
    if role is None and pd.api.types.is_numeric_dtype(df[name]) and not pd.api.types.is_bool_dtype(df[name]):
        return "numeric"
    return "categorical"  # categorical, identifier or constant kept on purpose, mixed types


def _column_entry(name: str, kind: str, values: pd.Series) -> dict:
    entry: dict = {"name": name, "kind": kind}
    if kind == "numeric":
        numbers = pd.to_numeric(values, errors="coerce") if not pd.api.types.is_numeric_dtype(values) else values
        numbers = numbers.astype("float64")
        entry["min"] = json_safe(numbers.min()) if numbers.notna().any() else None
        entry["max"] = json_safe(numbers.max()) if numbers.notna().any() else None
        # a typical value (the predict form starts from it), not a midpoint nobody has
        entry["median"] = json_safe(numbers.median()) if numbers.notna().any() else None
    elif kind == "categorical":
        counts = _to_category(values).value_counts()
        entry["categories"] = [str(c) for c in counts.index[:MAX_LISTED_CATEGORIES]]
        if len(counts) > MAX_LISTED_CATEGORIES:
            entry["categories_truncated"] = True
    return entry


def class_key(value):
    """How a target value is named as a class: whole numbers as int, everything else as str."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return str(value).strip()


def target_classes(target: pd.Series, spec: TaskSpec) -> list:
    """Sorted class names; for a binary task the positive class goes last (index 1)."""
    keys = sorted({class_key(v) for v in target.dropna()}, key=lambda k: (isinstance(k, str), k))
    if spec.task_type == "binary" and spec.positive_class is not None:
        positive = [k for k in keys if str(k) == str(spec.positive_class)]
        if positive:
            keys = [k for k in keys if k != positive[0]] + positive
    return keys


def build_schema(df: pd.DataFrame, spec: TaskSpec, profile: DataProfile) -> dict:
    """Runtime schema from the training table (target included), the spec and the profile."""
    missing = [c for c in [spec.target, *spec.feature_columns] if c not in df.columns]
    if missing:
        raise DataError(
            "The plan names column(s) the table does not have: "
            + ", ".join(f"'{m}'" for m in missing) + ". Fix the plan or the table."
        )
    columns = [
        _column_entry(name, _column_kind(name, df, spec, profile), df[name])
        for name in spec.feature_columns if name != spec.target
    ]
    # how the reader found numbers and dates written: rows to predict are read alike
    decimal_comma = set(df.attrs.get(DECIMAL_COMMA_ATTR) or ())
    dayfirst = set(df.attrs.get(DAYFIRST_ATTR) or ())
    for entry in columns:
        if entry["kind"] == "numeric" and entry["name"] in decimal_comma:
            entry["decimal"] = ","
        if entry["kind"] == "datetime" and entry["name"] in dayfirst:
            entry["dayfirst"] = True
    schema: dict = {"target": spec.target, "task_type": str(spec.task_type), "columns": columns}
    if spec.task_type != "regression":
        schema["classes"] = target_classes(df[spec.target], spec)
        if spec.task_type == "binary":
            schema["positive_class"] = schema["classes"][-1] if len(schema["classes"]) == 2 else None
    return schema


def encode_target(target: pd.Series, schema: dict) -> np.ndarray:
    """Label indices 0..K-1 (classification, -1 for missing or unknown) or floats (regression)."""
    if schema["task_type"] == "regression":
        return pd.to_numeric(target, errors="coerce").astype("float64").to_numpy()
    index = {k: i for i, k in enumerate(schema["classes"])}
    return np.array(
        [-1 if pd.isna(v) else index.get(class_key(v), -1) for v in target], dtype="int64"
    )
