"""One conversion to plain JSON values, for everything the product writes as JSON.

Engine results hold numpy scalars and arrays, NaN and infinities, tuples, pydantic models and
pandas' missing markers; JSONB columns, bundle files and LLM prompts need plain JSON. Every
writer goes through `json_safe` (the standalone `core.runtime` writes no JSON, so it needs
no copy).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def json_safe(value: Any) -> Any:
    """`value` as plain JSON data, recursively.

    numpy scalars and arrays become Python numbers and lists; NaN, infinities and missing
    markers (None, NaT, pd.NA) become None; tuples and sets become lists; dict keys become
    text; pydantic models are dumped; anything else becomes its text.
    """
    if value is None or isinstance(value, str):
        return None if value is None else str(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if hasattr(value, "model_dump"):
        return json_safe(value.model_dump(mode="json"))
    if _is_missing(value):
        return None
    return str(value)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar pandas can judge
        return False
