"""A category is named as the file writes it: 3, not 3.0, however the cell reached pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import runtime
from core.profile import profile_frame
from core.schema import build_schema
from core.spec import TaskSpec


def test_whole_numbers_among_text_cells_are_categories_without_a_decimal_point():
    # e.g. a table assembled in pandas or read by a library that keeps numbers as floats
    df = pd.DataFrame({"plan": [3.0, "gold", 2.0, np.float64(3.0), "gold", 1.5] * 5,
                       "y": ["a", "b"] * 15})
    spec = TaskSpec(target="y", task_type="binary", metric="roc_auc", feature_columns=["plan"])
    schema = build_schema(df, spec, profile_frame(df))
    [plan] = schema["columns"]
    assert plan["kind"] == "categorical"
    assert sorted(plan["categories"]) == ["1.5", "2", "3", "gold"]
    # rows to predict are read as text, as the file writes them: "3" is a known category
    frame, report = runtime.prepare_frame(pd.DataFrame({"plan": ["3", "2", "gold"]}), schema)
    assert frame["plan"].tolist() == ["3", "2", "gold"] and report.unseen_categories == {}
