"""The one conversion to plain JSON (`core.jsonsafe.json_safe`)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from pydantic import BaseModel

from core.jsonsafe import json_safe


class _Point(BaseModel):
    x: float
    label: str


def test_engine_values_become_plain_json():
    value = {
        "int": np.int64(3), "float": np.float32(0.5), "bool": np.bool_(True),
        "nan": float("nan"), "inf": np.float64("inf"), "nat": pd.NaT, "na": pd.NA,
        "array": np.array([[1, 2], [3, 4]]), "tuple": (1, "a"), "model": _Point(x=1.5, label="p"),
        np.int64(7): "numpy key", "when": pd.Timestamp("2024-01-02"), "text": "ok", "none": None,
    }
    assert json_safe(value) == {
        "int": 3, "float": 0.5, "bool": True, "nan": None, "inf": None, "nat": None, "na": None,
        "array": [[1, 2], [3, 4]], "tuple": [1, "a"], "model": {"x": 1.5, "label": "p"},
        "7": "numpy key", "when": "2024-01-02 00:00:00", "text": "ok", "none": None,
    }


def test_the_result_is_strict_json_and_keeps_python_types():
    result = json_safe({"scores": [np.float64(0.25), math.nan], "rows": np.int32(10)})
    assert json.loads(json.dumps(result, allow_nan=False)) == {"scores": [0.25, None], "rows": 10}
    assert type(result["rows"]) is int and type(result["scores"][0]) is float


def test_an_unknown_object_becomes_its_text():
    class Odd:
        def __str__(self) -> str:
            return "odd thing"

    assert json_safe([Odd()]) == ["odd thing"]
