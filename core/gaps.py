"""Typical training values for the features a model never learned to read as missing.

A tree learns what a gap means only from the training rows that had one; where a feature had
fewer than GAP_ROWS of them, a gap at prediction time follows a rule learned from almost
nothing. The schema's `gap_fill` keeps GAP_FILLS typical values of each such feature, and the
runtime averages the model over them for a row with a gap there (`core.runtime.gap_filled`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import runtime

GAP_ROWS = 20  # LightGBM's smallest leaf by default: fewer gaps than this teach it nothing
GAP_FILLS = 16  # copies per row with a gap: 16x the work for those rows only


def gap_fill_reference(frame: pd.DataFrame, schema: dict) -> dict | None:
    """{"values": {feature: GAP_FILLS values}} for the features of `frame` (the prepared
    training rows) with fewer than GAP_ROWS gaps; None when every feature had enough."""
    values = {}
    for position, (name, kind) in enumerate(runtime.feature_kinds(schema).items()):
        present = frame[name].dropna()
        if kind == "text" or not len(present) or len(frame) - len(present) >= GAP_ROWS:
            continue  # an empty text is the text's own missing value; see module notes
        values[name] = _typical_values(present, kind, np.random.default_rng(position))
    return {"values": values} if values else None


def _typical_values(present: pd.Series, kind: str, rng: np.random.Generator) -> list:
    """GAP_FILLS evenly spaced order statistics of the present values (categories in order of
    frequency, so each appears about as often as in training), in a fixed shuffled order: the
    i-th values of two features are not both the smallest, which no real row may be."""
    if kind == "categorical":
        counts = present.astype(str).value_counts().sort_index().sort_values(ascending=False, kind="stable")
        ordered = np.repeat(counts.index.to_numpy(dtype=object), counts.to_numpy())
    else:
        ordered = np.sort(present.to_numpy(dtype="float64"))
    positions = ((np.arange(GAP_FILLS) + 0.5) / GAP_FILLS * len(ordered)).astype(int)
    picks = ordered[positions][rng.permutation(GAP_FILLS)]
    return [str(v) for v in picks] if kind == "categorical" else [float(v) for v in picks]
