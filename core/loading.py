"""Read a user's table (CSV, TSV, Parquet, Excel) into a pandas frame with sensible types.

The reading itself lives in `core.tableread`, the one reader every path uses (training, the
web app, `briefml predict` and a bundle's `predict.py`, which ships a copy of it). This module
is the engine's door to it: `load_table` raises `core.errors.DataError`, like the rest of the
engine, with the reader's one-line message.

NUL characters (U+0000) in cells and column names are removed by `load_table`: they are
never meaningful in a table (left-overs of binary exports), and Postgres cannot store them, so
a workspace would otherwise fail long after the upload. `nul_findings` tells the user what
was removed, as a data-check warning.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import IO

import pandas as pd

from core import tableread
from core.errors import DataError
from core.spec import Finding, Severity
from core.tableread import MISSING_TOKENS, LoadLimits, infer_types

__all__ = ["MISSING_TOKENS", "LoadLimits", "infer_types", "load_rows_to_predict", "load_table",
           "nul_findings", "without_nul"]
DEFAULT_LIMITS = LoadLimits()
NUL = "\x00"
NUL_REMOVED_ATTR = "briefml_nul_removed"  # {column: cells that had NUL characters}


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

    Raises DataError when the file cannot be read or breaks `limits`. NUL characters are
    removed from cells and column names (see `nul_findings`).
    """
    try:
        frame = tableread.read_table(source, filename=filename, sheet=sheet, limits=limits)
    except tableread.TableReadError as exc:
        raise DataError(str(exc)) from None
    return _without_nul_characters(frame)


def without_nul(text: str) -> str:
    """The text without NUL characters (for names and briefs a person typed or pasted)."""
    return text.replace(NUL, "")


def _without_nul_characters(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with NUL characters removed from text cells and column names; what was
    removed is in ``attrs[NUL_REMOVED_ATTR]``: {"cells": {column: count}, "names": [column]}."""
    cells: dict[str, int] = {}
    for column in frame.columns:
        has_nul = _cells_with_nul(frame[column])
        if has_nul is not None and has_nul.any():
            frame[column] = frame[column].where(~has_nul, frame[column][has_nul].str.replace(
                NUL, "", regex=False))
            cells[without_nul(str(column))] = int(has_nul.sum())
    names = [str(c) for c in frame.columns]
    renamed = [without_nul(name) for name in names if NUL in name]
    if renamed:
        clean = [without_nul(name) for name in names]
        if len(set(clean)) < len(clean) or "" in clean:
            raise DataError("Some column names are only NUL characters (\\0) or differ only by "
                            "them; give every column a distinct name and upload again.")
        frame.columns = clean
    if cells or renamed:
        frame.attrs[NUL_REMOVED_ATTR] = {"cells": cells, "names": renamed}
    return frame


def _cells_with_nul(values: pd.Series) -> pd.Series | None:
    """Which cells are text holding a NUL; None for columns that cannot hold text."""
    if values.dtype.kind != "O" and not pd.api.types.is_string_dtype(values):
        return None  # numbers, dates and booleans
    try:
        return values.str.contains(NUL, regex=False, na=False).astype(bool)
    except AttributeError:  # an object column without any text
        return None


def nul_findings(frame: pd.DataFrame) -> list[Finding]:
    """A warning per column whose cells or name had NUL characters removed by `load_table`."""
    removed = frame.attrs.get(NUL_REMOVED_ATTR) or {}
    where = {column: f"{count:,} {'cell' if count == 1 else 'cells'} of column '{column}'"
             for column, count in removed.get("cells", {}).items()}
    for column in removed.get("names", []):
        where[column] = (f"the name of column '{column}'" if column not in where
                         else f"{where[column]} and from its name")
    return [
        Finding(check="nul_characters", severity=Severity.WARNING, columns=[column],
                message=f"Removed NUL characters (\\0) from {text}: a table cannot store them. "
                        "If the column looks wrong, check how the file was exported.",
                evidence={"cells": removed.get("cells", {}).get(column, 0)})
        for column, text in where.items()
    ]


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
