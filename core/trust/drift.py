"""What a batch to predict is compared with: per input column, the training rows' missing
share, range and distribution (decile bins for numbers and dates, the most frequent
categories for categories). Stored as plain JSON in the bundle's reliability.json; the
comparison itself runs at prediction time (`core.runtime.drift_report`), so `predict.py`
does it with no briefml installed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import runtime

TOP_CATEGORIES = 20  # distribution of categories: the most frequent ones plus "other"
DECILES = np.linspace(0.1, 0.9, 9)


def _numeric_reference(values: pd.Series) -> dict:
    numbers = values.to_numpy(dtype=float)
    ref = {"min": float(numbers.min()), "max": float(numbers.max())}
    edges = np.unique(np.quantile(numbers, DECILES))
    if len(edges):
        counts = np.bincount(np.searchsorted(edges, numbers, side="right"), minlength=len(edges) + 1)
        ref.update(edges=[float(e) for e in edges], shares=[float(c) for c in counts / counts.sum()])
    return ref


def _category_reference(values: pd.Series) -> dict:
    counts = values.astype(str).value_counts()
    top = counts.index[:TOP_CATEGORIES]
    shares = [*(counts.iloc[:TOP_CATEGORIES] / len(values)), counts.iloc[TOP_CATEGORIES:].sum() / len(values)]
    # Good-Turing: the share of rows whose category appears once estimates how often a new
    # row brings a category never seen
    return {"top": [str(c) for c in top], "shares": [float(s) for s in shares],
            "seen_once": float((counts == 1).sum() / len(values))}


def column_reference(values: pd.Series, kind: str) -> dict:
    """One column's training figures (see the module docstring)."""
    present = values.dropna()
    ref: dict = {"missing": float(1 - len(present) / len(values)) if len(values) else 0.0}
    if not len(present):
        return ref
    if kind in ("numeric", "boolean", "datetime"):
        ref.update(_numeric_reference(present))
    elif kind == "categorical":
        ref.update(_category_reference(present))
    return ref


def drift_reference(frame: pd.DataFrame, schema: dict) -> dict:
    """The training rows' figures per input column, from the prepared feature frame."""
    return {"rows": len(frame),
            "columns": {c["name"]: column_reference(runtime.drift_values(frame, c), c["kind"])
                        for c in schema["columns"]}}
