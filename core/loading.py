"""Read a user's table (CSV, TSV, Parquet, Excel) into a pandas frame with sensible types.

The reading itself lives in `core.tableread`, the one reader every path uses (training, the
web app, `briefml predict` and a bundle's `predict.py`, which ships a copy of it). This module
is the engine's door to it: `load_table` raises `core.errors.DataError`, like the rest of the
engine, with the reader's one-line message.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import IO

import pandas as pd

from core import tableread
from core.errors import DataError
from core.tableread import MISSING_TOKENS, LoadLimits, infer_types

__all__ = ["MISSING_TOKENS", "LoadLimits", "infer_types", "load_rows_to_predict", "load_table"]
DEFAULT_LIMITS = LoadLimits()


def load_table(
    source: str | Path | bytes | IO[bytes],
    *,
    filename: str | None = None,
    sheet: str | int | None = None,
    limits: LoadLimits = DEFAULT_LIMITS,
) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet or Excel table and infer its column types.

    source: a path, the file's bytes, or a binary file-like object (its ``.name`` is used as
    the filename when there is one). filename: only used to tell the format by its extension.
    sheet: the Excel sheet to read (name or position); the first sheet by default.

    Raises DataError when the file cannot be read or breaks `limits`.
    """
    try:
        return tableread.read_table(source, filename=filename, sheet=sheet, limits=limits)
    except tableread.TableReadError as exc:
        raise DataError(str(exc)) from None


def load_rows_to_predict(
    source: str | Path | bytes | IO[bytes],
    *,
    filename: str | None = None,
    limits: LoadLimits = DEFAULT_LIMITS,
) -> pd.DataFrame:
    """Read a table of rows to predict as a bundle's predict.py reads it: every text cell kept
    as the file writes it (the model's schema says how to read each column), one column
    allowed. Raises DataError when the file cannot be read or breaks `limits`.
    """
    try:
        return tableread.read_table(source, filename=filename, infer=False,
                                    limits=dataclasses.replace(limits, min_columns=1))
    except tableread.TableReadError as exc:
        raise DataError(str(exc)) from None
