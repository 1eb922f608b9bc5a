"""The one table reader: every table the product reads goes through `read_table`.

Training, a web upload, a web batch prediction, `briefml predict` and a bundle's `predict.py`
all read files here, so one file gives the same values, and so the same predictions, on every
path. `read_table` accepts a path, raw bytes or a binary file-like object (a Streamlit upload
has a ``.name``), works out the format, the text encoding (BOM, UTF-8, UTF-16, Windows and
Latin-1 files) and the delimiter, enforces size limits, and hands back a frame whose columns
are numeric, datetime or string. Numbers may use decimal commas, thousands separators,
currency signs or percent signs; `parse_numbers` reads them the same way at prediction time.
Every problem is raised as `TableReadError` with a one-line message that says what is wrong
and what to do.

Standalone on purpose: a bundle ships this file next to `predict.py`, so it imports only the
standard library, numpy and pandas (pyarrow, openpyxl and charset-normalizer lazily; without
charset-normalizer a simple UTF-8 / cp1252 / Latin-1 ladder decodes other text).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd


class TableReadError(ValueError):
    """The file cannot be read as a table; the message says what is wrong and what to do."""


# Only tab-separated extensions fix the separator: many ".csv" files use ";".
TEXT_FORMATS = {".tsv": "\t", ".tab": "\t"}
EXCEL_FORMATS = {".xlsx", ".xlsm"}
PARQUET_FORMATS = {".parquet", ".pq"}
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = [",", ";", "\t", "|"]

# Values the readers treat as missing, besides an empty cell.
MISSING_TOKENS = [
    "",
    "NA",
    "N/A",
    "n/a",
    "na",
    "NaN",
    "nan",
    "NULL",
    "null",
    "None",
    "none",
    "#N/A",
    "?",
    "-",
    "--",
    "missing",
    "<NA>",
]

# Whole numbers written with thousands separators, optionally with decimals and a sign.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+(,\d+)?$")  # 3,5 in many European files
_PERCENT = re.compile(r"^[+-]?(\d+[.,]?\d*|[.,]\d+)\s*%$")  # 12%, 5.5 %, 12,5 %
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_CURRENCY = re.compile(r"^([+-]?)\s*[$€£¥]\s*|\s*[$€£¥]$")  # "$1,505.20", "-£3", "12,50 €"
_HAS_CURRENCY = re.compile(r"^[+-]?\s*[$€£¥]|[$€£¥]$")
_DATE_LIKE = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T].*)?$"  # 2024-01-31, 2024/01/31 10:00
    r"|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}([ T].*)?$"  # 31/01/2024, 1-31-24
    r"|^\d{1,2}[ -][A-Za-z]{3,9}[ -]\d{2,4}$"  # 31 Jan 2024
    r"|^[A-Za-z]{3,9} \d{1,2},? \d{4}$"  # January 31, 2024
)
# Numeric-looking columns that are codes, not quantities, judging by their name.
_CODE_NAME = re.compile(
    r"(^|[_\s.-])(zip|zipcode|zip_code|postal|postcode|post_code|phone|fips|ssn|iban)($|[_\s.-])"
    r"|^zip|postcode|postal|phone",
    re.IGNORECASE,
)
_ID_NAME = re.compile(r"(?i:(^|[_\s.-])id$|^id($|[_\s.-])|^uuid$|^guid$)|[a-z0-9](Id|ID)$")
_MAX_EXACT_DIGITS = 15  # beyond this a float64 would change the value: keep as text


MiB = 1024 * 1024


@dataclass(frozen=True)
class LoadLimits:
    """Limits on what `read_table` accepts, checked before the work they bound.

    The workspace settings pass their values in; the CLI and a bundle's predict.py read the
    same BRIEFML_* environment variables (`limits_from_env`).
    """

    max_bytes: int = 500 * MiB  # the file as stored
    max_rows: int = 5_000_000
    max_columns: int = 2_000
    # A model needs a target and at least one column to learn from; prediction inputs for a
    # one-feature model may pass min_columns=1.
    min_columns: int = 2
    max_cells: int = 50_000_000  # rows x columns
    max_cell_chars: int = 1_000_000  # the longest single value
    # What a Parquet or Excel file expands to: a 474 KB dictionary-encoded file can hold 8 GB
    # of strings, and a 5 MB .xlsx gigabytes of XML.
    max_decompressed_bytes: int = 2048 * MiB
    max_memory_bytes: int = 4096 * MiB  # address space of the process that parses the file
    max_seconds: float = 600.0  # longest parse
    seconds_limit_name: str = "the limit"  # what max_seconds is, in the message: "the build's budget"


# BRIEFML_* variables a headless reader honours, the same names as the workspace settings.
_ENV_LIMITS = {
    "BRIEFML_MAX_UPLOAD_MB": ("max_bytes", MiB),
    "BRIEFML_MAX_ROWS": ("max_rows", 1),
    "BRIEFML_MAX_COLUMNS": ("max_columns", 1),
    "BRIEFML_MAX_CELLS": ("max_cells", 1),
    "BRIEFML_MAX_CELL_CHARS": ("max_cell_chars", 1),
    "BRIEFML_MAX_DECOMPRESSED_MB": ("max_decompressed_bytes", MiB),
    "BRIEFML_READ_MEMORY_MB": ("max_memory_bytes", MiB),
    "BRIEFML_READ_SECONDS": ("max_seconds", 1),
}


def limits_from_env(base: LoadLimits | None = None, environ: dict | None = None) -> LoadLimits:
    """`base` (the defaults) with any BRIEFML_* limit set in the environment.

    Raises TableReadError naming a variable that is not a positive number.
    """
    import dataclasses
    import os

    environ = os.environ if environ is None else environ
    changes: dict[str, Any] = {}
    for variable, (field_name, unit) in _ENV_LIMITS.items():
        raw = str(environ.get(variable, "")).strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise TableReadError(f"{variable} must be a positive number, not {raw!r}.")
        changes[field_name] = value if field_name == "max_seconds" else int(value * unit)
    return dataclasses.replace(base or LoadLimits(), **changes)


def size_text(n: float) -> str:
    """Bytes in the units the limits are set in: "200 MiB", "1.5 GiB", "512 KiB"."""
    for unit, size in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:,.0f} {unit}" if value >= 100 or value == int(value) else f"{value:,.1f} {unit}"
    return f"{int(n):,} bytes"


def too_large(label: str, size: int, limit: int) -> TableReadError:
    return TableReadError(
        f"{label} is {size_text(size)}; the limit is {size_text(limit)}. "
        "Upload a smaller file or a sample of the rows."
    )


# --------------------------------------------------------------------------- entry point


def read_table(
    source: str | Path | bytes | IO[bytes],
    *,
    filename: str | None = None,
    sheet: str | int | None = None,
    limits: LoadLimits = LoadLimits(),
    infer: bool = True,
    isolate: bool | None = None,
) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet or Excel table; infer its column types unless `infer` is False.

    source: a path, the file's bytes, or a binary file-like object (its ``.name`` is used as
    the filename when there is one). filename: only used to tell the format by its extension.
    sheet: the Excel sheet to read (name or position); the first sheet by default.
    infer=False keeps every cell of a text file as the string it is in the file (rows to
    predict: the model's schema says how to read each column, and the user's columns come
    back unchanged).
    isolate: parse in a child process bounded by ``limits.max_memory_bytes`` and
    ``limits.max_seconds`` (see `read_in_child`), so a file the checks miss cannot take this
    process down. By default every file is, except a small text file, whose parse is
    bounded by its size.

    Raises TableReadError when the file cannot be read or breaks `limits`.
    """
    data, name = read_source(source, filename, limits)
    label = f"'{name}'" if name else "The file"
    if len(data) > limits.max_bytes:
        raise too_large(label, len(data), limits.max_bytes)
    if not data.strip():
        raise TableReadError(f"{label} is empty. Upload a table with a header row and data rows.")
    kind = _detect_format(data, name)
    if kind == "xls":
        raise TableReadError(
            f"{label} is an old-style Excel .xls file, which cannot be read. "
            "Open it in Excel and save it as .xlsx or .csv, then upload it again."
        )
    _reader_module(kind, label)  # a missing reader is said here, not in a child
    if isolate is None:
        isolate = not (kind == "text" and len(data) <= IN_PROCESS_TEXT_BYTES)
    if isolate and _can_isolate():
        df, attrs = read_in_child(data, name, sheet=sheet, limits=limits, infer=infer)
        df.attrs.update(attrs)
        return df
    return _parse(data, name, kind, sheet, limits, infer)


# A text file this small parses within a few hundred MB however it is shaped (the header is
# measured before pandas sees it), so it is read here: a child costs a second to start.
IN_PROCESS_TEXT_BYTES = 1 * MiB


def _parse(data: bytes, name: str, kind: str, sheet: str | int | None, limits: LoadLimits,
           infer: bool) -> pd.DataFrame:
    """The table in `data`, checked against `limits` (in whichever process runs this)."""
    label = f"'{name}'" if name else "The file"
    if kind == "parquet":
        df = _read_parquet(data, label, limits)
    elif kind == "excel":
        df = _read_excel(data, label, sheet, limits)
    else:
        delimiter = TEXT_FORMATS.get(Path(name).suffix.lower()) if name else None
        df = _read_text(data, label, delimiter, limits, keep_text=not infer)
    _check_shape(df, label, limits)
    _check_cell_lengths(df, label, limits)
    return infer_types(df) if infer else df


def _reader_module(kind: str, label: str) -> Any:
    if kind == "parquet":
        return _optional("pyarrow.parquet", "pyarrow", label, "Parquet")
    if kind == "excel":
        return _optional("openpyxl", "openpyxl", label, "Excel")
    return None


def read_source(source: Any, filename: str | None, limits: LoadLimits) -> tuple[bytes, str]:
    """The file's bytes and name; a file larger than the limit is refused before it is read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), filename or ""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise TableReadError(f"There is no file at '{path}'. Check the path and try again.")
        name = filename or path.name
        if path.stat().st_size > limits.max_bytes:
            raise too_large(f"'{name}'", path.stat().st_size, limits.max_bytes)
        return path.read_bytes(), name
    if hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass
        name = filename or Path(str(getattr(source, "name", "") or "")).name
        data = source.read(limits.max_bytes + 1)  # one byte more tells "too large"
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > limits.max_bytes:
            raise TableReadError(
                f"'{name or 'The file'}' is larger than {size_text(limits.max_bytes)}, the limit. "
                "Upload a smaller file or a sample of the rows."
            )
        return bytes(data), name
    raise TableReadError(
        f"Cannot read a table from a {type(source).__name__}; "
        "pass a file path, the file's bytes or an open binary file."
    )


def _detect_format(data: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower() if name else ""
    if suffix in PARQUET_FORMATS or data[:4] == b"PAR1":
        return "parquet"
    if suffix in EXCEL_FORMATS or data[:4] == b"PK\x03\x04":
        return "excel"
    if suffix == ".xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    return "text"


def _check_shape(df: pd.DataFrame, label: str, limits: LoadLimits) -> None:
    if df.shape[1] > limits.max_columns:
        raise _too_many_columns(label, df.shape[1], limits)
    if df.shape[1] < limits.min_columns:
        raise TableReadError(
            f"{label} has only {df.shape[1]} column ('{df.columns[0]}'); a model needs the "
            "column to predict and at least one other column to learn from. If the file uses "
            "an unusual separator, save it as a standard comma-separated CSV."
        )
    if len(df) == 0:
        raise TableReadError(
            f"{label} has a header but no data rows. Upload a table with at least a few rows."
        )
    if len(df) > limits.max_rows:
        raise TableReadError(
            f"{label} has more than {limits.max_rows:,} rows, the limit. "
            "Upload a sample of the rows instead."
        )
    blank = [str(c) for c in df.columns if str(c).strip() == "" or str(c).startswith("Unnamed: ")]
    if blank and len(blank) == df.shape[1]:
        raise TableReadError(f"{label} has no column names. Add a header row naming each column.")
    _check_unique_names([str(c) for c in df.columns], label)


def _check_unique_names(names: list[str], label: str) -> None:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    shared = sorted(n for n, c in counts.items() if c > 1)
    if len(shared) == 1 and counts[shared[0]] == 2:
        raise TableReadError(
            f"Two columns of {label} share the name '{_short(shared[0])}': rename one and try again."
        )
    if shared:
        shown = ", ".join(repr(_short(n)) for n in shared[:10]) + (
            f" and {len(shared) - 10:,} more" if len(shared) > 10 else "")
        raise TableReadError(
            f"Several columns of {label} share a name ({shown}): "
            "give every column its own name and try again."
        )


def _too_many_cells(label: str, count: int, limits: LoadLimits) -> TableReadError:
    return TableReadError(
        f"{label} has about {count:,} cells (rows times columns); the limit is "
        f"{limits.max_cells:,}. Upload a sample of the rows or fewer columns."
    )


def _check_cell_lengths(df: pd.DataFrame, label: str, limits: LoadLimits) -> None:
    for name in df.columns:
        values = df[name]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        if values.dtype == object:  # Excel and Parquet cells may mix strings and numbers
            lengths = values.map(lambda v: len(v) if isinstance(v, (str, bytes)) else 0)
        else:
            lengths = values.str.len()
        longest = int(lengths.max()) if len(lengths) and lengths.notna().any() else 0
        if longest > limits.max_cell_chars:
            raise TableReadError(
                f"A value in column '{_short(name)}' of {label} has {longest:,} characters; the "
                f"limit is {limits.max_cell_chars:,}. Shorten or leave out that column."
            )


def _short(name: Any, limit: int = 80) -> str:
    """A column name short enough for a one-line message."""
    text = str(name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _too_many_columns(label: str, count: int, limits: LoadLimits) -> TableReadError:
    return TableReadError(
        f"{label} has {count:,} columns; the limit is {limits.max_columns:,}. "
        "Keep only the columns that matter for the question and upload it again."
    )


# --------------------------------------------------------------------------- text files


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _decode(data: bytes, label: str) -> str:
    text = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                pass
            break
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_other(data, label)
    if "\x00" in text[:_SNIFF_BYTES] or _control_share(text[:_SNIFF_BYTES]) > 0.01:
        raise TableReadError(
            f"{label} does not look like a text table: it contains binary data. "
            "Upload a CSV, TSV, Parquet or Excel (.xlsx) file."
        )
    return text


# When several code pages read a file equally cleanly, the one spreadsheets on Windows write
# wins: charset-normalizer alone reads a Latin-1 'Genève' or '£' as Central European 'Genčve'.
_PREFERRED_ENCODINGS = ("cp1252", "iso8859_15", "latin_1")


def _decode_other(data: bytes, label: str) -> str:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # a bundle installed without it: the encodings spreadsheets write
        return _decode_by_ladder(data)
    results = from_bytes(data[: 4 * _SNIFF_BYTES])
    best = results.best()
    if best is None or best.encoding is None:
        raise TableReadError(
            f"{label} is not readable text: its character encoding could not be recognised. "
            "Save it again as CSV with UTF-8 encoding and upload it again."
        )
    equally_clean = {m.encoding for m in results if m.chaos <= best.chaos}
    encoding = next((e for e in _PREFERRED_ENCODINGS if e in equally_clean), best.encoding)
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise TableReadError(
            f"{label} mixes character encodings (it looks like {encoding}, but some bytes "
            "do not fit). Save it again as CSV with UTF-8 encoding and upload it again."
        ) from None


def _decode_by_ladder(data: bytes) -> str:
    # UTF-16 without a BOM shows as every other byte zero; latin-1 decodes any bytes at all,
    # so binary junk still ends at the binary-data check in `_decode`.
    if data[1:200:2].count(0) > 0.8 * len(data[1:200:2]):
        try:
            return data.decode("utf-16-le")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t")
    return controls / len(text)


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text[:_SNIFF_BYTES].splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        # Sniffer gives up on ragged or quoted files: take the delimiter seen most in the header.
        header = lines[0]
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_text(
    data: bytes, label: str, delimiter: str | None, limits: LoadLimits, keep_text: bool = False
) -> pd.DataFrame:
    text = _decode(data, label)
    delimiter = delimiter or _sniff_delimiter(text)
    _check_text_extent(text, label, delimiter, limits)
    # the header as written: pandas renames a repeated 'x' to 'x.1', which hides the mistake
    header = _read_csv(text, label, delimiter, nrows=1, header=None)
    if header.shape[1] > limits.max_columns:
        raise _too_many_columns(label, header.shape[1], limits)
    names = [str(v).strip() for v in header.iloc[0].tolist()] if len(header) else []
    _check_unique_names([n for n in names if n], label)
    return _read_csv(text, label, delimiter, nrows=limits.max_rows + 1, keep_text=keep_text)


def _check_text_extent(text: str, label: str, delimiter: str, limits: LoadLimits) -> None:
    """Refuse a header wider than the column limit, or more cells than the cell limit, before
    pandas parses anything (a 7.9 MB header of 1M columns took pandas 4 GB and 200 s)."""
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]
    columns = first_line.count(delimiter) + 1  # quoted separators only make this larger
    if columns > limits.max_columns and len(first_line) <= MiB:
        columns = len(next(csv.reader([first_line], delimiter=delimiter), []))  # exact
    if columns > limits.max_columns:
        raise _too_many_columns(label, columns, limits)
    lines = min(text.count("\n") + 1, limits.max_rows + 1)
    if lines * columns > limits.max_cells:
        raise _too_many_cells(label, lines * columns, limits)


def _read_csv(
    text: str, label: str, delimiter: str, nrows: int, header: int | None = 0, keep_text: bool = False
) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[] if keep_text else MISSING_TOKENS,
            skipinitialspace=True,
            nrows=nrows,
            header=header,
        )
    except pd.errors.EmptyDataError:
        raise TableReadError(
            f"{label} is empty. Upload a table with a header row and data rows."
        ) from None
    except pd.errors.ParserError as exc:
        raise TableReadError(_ragged_message(label, str(exc), delimiter)) from None
    except (ValueError, csv.Error) as exc:
        raise TableReadError(f"{label} could not be read as a table ({exc}).") from None


def _ragged_message(label: str, detail: str, delimiter: str) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delimiter, delimiter)
    if found:
        expected, line, saw = found.groups()
        return (
            f"{label} has rows of different lengths: line {line} has {saw} values but the "
            f"header has {expected} columns (separator: {shown}). Fix that line, or quote "
            "values that contain the separator, and upload it again."
        )
    return f"{label} could not be read as a {shown}-separated table: {detail.strip()}"


# --------------------------------------------------------------------------- binary formats


def _optional(module: str, package: str, label: str, kind: str) -> Any:
    """A reader's optional helper; a bundle may be installed without it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise TableReadError(
            f"Reading {label} needs the {kind} reader: run 'pip install {package}', "
            "or save the file as CSV."
        ) from None


def _read_parquet(data: bytes, label: str, limits: LoadLimits) -> pd.DataFrame:
    pq = _optional("pyarrow.parquet", "pyarrow", label, "Parquet")

    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        meta = parquet.metadata
        if meta.num_columns > limits.max_columns:
            raise _too_many_columns(label, meta.num_columns, limits)
        if meta.num_rows > limits.max_rows:
            raise TableReadError(
                f"{label} has {meta.num_rows:,} rows; the limit is {limits.max_rows:,}. "
                "Upload a sample of the rows instead."
            )
        if meta.num_rows * meta.num_columns > limits.max_cells:
            raise _too_many_cells(label, meta.num_rows * meta.num_columns, limits)
        _check_parquet_expansion(data, parquet, label, limits)
        return pd.read_parquet(io.BytesIO(data))
    except TableReadError:
        raise
    except Exception as exc:  # noqa: BLE001 -- pyarrow raises many types for damaged files
        raise TableReadError(
            f"{label} is not a readable Parquet file ({type(exc).__name__}). "
            "Export it again, or upload it as CSV."
        ) from None


def _check_parquet_expansion(data: bytes, parquet: Any, label: str, limits: LoadLimits) -> None:
    """Refuse a file whose values expand past the limit, measured from its metadata and its
    dictionaries (read still encoded) before any column is decoded."""
    import pyarrow as pa
    import pyarrow.compute as pc

    meta = parquet.metadata
    pages = sum(meta.row_group(g).column(c).total_uncompressed_size
                for g in range(meta.num_row_groups) for c in range(meta.num_columns))
    if pages > limits.max_decompressed_bytes:
        raise _expands_too_far(label, pages, limits)
    schema = parquet.schema_arrow
    def variable_width(kind: Any) -> bool:
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        return (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_binary(kind) or pa.types.is_large_binary(kind))

    text = [f.name for f in schema if variable_width(f.type)]
    total = 8 * meta.num_rows * (len(schema) - len(text))  # fixed-width values once decoded
    if not text:
        return
    import pyarrow.parquet as pq

    encoded = pq.ParquetFile(io.BytesIO(data), read_dictionary=text)  # dictionaries stay encoded
    for group in range(meta.num_row_groups):
        for name in text:
            column = encoded.read_row_group(group, columns=[name], use_threads=False).column(0)
            for chunk in column.chunks:
                if pa.types.is_dictionary(chunk.type):
                    lengths = pc.binary_length(chunk.dictionary)
                    used = pc.take(lengths, chunk.indices)
                    size, longest = pc.sum(used).as_py() or 0, pc.max(used).as_py() or 0
                else:
                    size = chunk.nbytes
                    longest = (pc.max(pc.binary_length(chunk)).as_py() or 0) if len(chunk) else 0
                total += size
                if longest > limits.max_cell_chars:
                    raise TableReadError(
                        f"A value in column '{_short(name)}' of {label} has {longest:,} "
                        f"characters; the limit is {limits.max_cell_chars:,}. "
                        "Shorten or leave out that column."
                    )
                if total > limits.max_decompressed_bytes:
                    raise _expands_too_far(label, total, limits)


def _expands_too_far(label: str, size: int, limits: LoadLimits) -> TableReadError:
    # `size` is only what was counted before stopping, so the message names the limit
    return TableReadError(
        f"{label} expands to more than {size_text(limits.max_decompressed_bytes)} when read, the "
        "limit: it is compressed far more than a table usually is. Upload a sample of the rows, "
        "or the table as CSV."
    )


def _read_excel(
    data: bytes, label: str, sheet: str | int | None, limits: LoadLimits
) -> pd.DataFrame:
    openpyxl = _optional("openpyxl", "openpyxl", label, "Excel")

    chosen, extent = _measure_workbook(data, label, sheet, limits)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many types for damaged files
        raise _unreadable_workbook(label, exc) from None
    try:
        ws = book[chosen]
        rows, columns = extent
        if not rows or not columns:
            raise TableReadError(f"Sheet '{chosen}' of {label} is empty. Choose a sheet with a table.")
        # the extent measured from the cells, never the sheet's own <dimension>, which may lie
        cells = ws.iter_rows(min_row=1, max_row=rows, min_col=1, max_col=columns, values_only=True)
        header = next(cells, None)
        if header is None:
            raise TableReadError(f"Sheet '{chosen}' of {label} is empty. Choose a sheet with a table.")
        body = [row for row in cells if any(v is not None and v != "" for v in row)]
    except TableReadError:
        raise
    except Exception as exc:  # noqa: BLE001 -- a damaged sheet fails inside openpyxl's iteration
        raise _unreadable_workbook(label, exc) from None
    finally:
        book.close()
    columns = [str(h).strip() if h is not None else f"Unnamed: {i}" for i, h in enumerate(header)]
    df = pd.DataFrame(body, columns=columns) if body else pd.DataFrame(columns=columns)
    return df.replace({"": np.nan})


def _unreadable_workbook(label: str, exc: BaseException) -> TableReadError:
    return TableReadError(
        f"{label} is not a readable Excel workbook ({type(exc).__name__}). "
        "Open it in Excel and save it as .xlsx or .csv, then upload it again."
    )


_XLSX_PARTS_LIMIT = 16 * MiB  # workbook.xml and its relationships: a few KB in real files


def _measure_workbook(
    data: bytes, label: str, sheet: str | int | None, limits: LoadLimits
) -> tuple[str, tuple[int, int]]:
    """The sheet to read and its real extent (rows, columns of cells holding a value), found by
    streaming the zip's XML before openpyxl expands anything: the declared sizes of the zip
    entries, the shared strings (count and characters) and every cell are checked against
    `limits`. zipfile never inflates an entry past its declared size (a longer stream fails
    its CRC), so the declared sizes bound what is read."""
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = {info.filename: info for info in archive.infolist()}
        declared = sum(info.file_size for info in entries.values())
        if declared > limits.max_decompressed_bytes:
            raise _expands_too_far(label, declared, limits)
        names, targets, shared_path = _workbook_sheets(archive, entries, label)
        chosen = _choose_sheet(names, sheet, label)
        lengths = _shared_string_lengths(archive, shared_path, label, limits) if shared_path in entries else []
        sheet_path = targets.get(chosen)
        if sheet_path not in entries:
            raise TableReadError(f"Sheet '{_short(chosen)}' of {label} has no cells. Choose a sheet with a table.")
        return chosen, _sheet_extent(archive, sheet_path, lengths, label, limits)
    except TableReadError:
        raise
    except Exception as exc:  # noqa: BLE001 -- zipfile and expat raise many types for damaged files
        raise _unreadable_workbook(label, exc) from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _small_part(archive: Any, entries: dict, path: str, label: str) -> bytes:
    info = entries.get(path)
    if info is None:
        raise TableReadError(f"{label} is not a readable Excel workbook (no {path}). "
                             "Open it in Excel and save it as .xlsx or .csv, then upload it again.")
    if info.file_size > _XLSX_PARTS_LIMIT:
        raise TableReadError(f"{label} has a {path} of {size_text(info.file_size)}, far larger than a "
                             "workbook's; it was not opened. Save the table as .xlsx or .csv again.")
    return archive.read(info)


def _workbook_sheets(archive: Any, entries: dict, label: str) -> tuple[list[str], dict[str, str], str]:
    """Sheet names in order, each sheet's XML path, and the shared strings' path."""
    import xml.etree.ElementTree as ET

    rels: dict[str, str] = {}
    shared = "xl/sharedStrings.xml"
    for element in ET.fromstring(_small_part(archive, entries, "xl/_rels/workbook.xml.rels", label)):
        target = element.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        rels[element.get("Id", "")] = target
        if element.get("Type", "").endswith("/sharedStrings"):
            shared = target
    names, targets = [], {}
    for element in ET.fromstring(_small_part(archive, entries, "xl/workbook.xml", label)).iter():
        if _local(element.tag) == "sheet":
            name = element.get("name", "")
            rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
            names.append(name)
            targets[name] = rels.get(rid, "")
    if not names:
        raise TableReadError(f"{label} has no sheets. Open it in Excel and save it again.")
    return names, targets, shared


def _shared_string_lengths(archive: Any, path: str, label: str, limits: LoadLimits) -> list[int]:
    """The length of every shared string, streamed (a shared-strings bomb stops here)."""
    import xml.etree.ElementTree as ET
    from array import array

    lengths, total = array("q"), 0
    with archive.open(path) as stream:
        for _, element in ET.iterparse(stream, events=("end",)):
            if _local(element.tag) != "si":
                continue
            size = sum(len(t.text or "") for t in element.iter() if _local(t.tag) == "t")
            element.clear()
            lengths.append(size)
            total += size
            if len(lengths) > limits.max_cells:
                raise _too_many_cells(label, len(lengths), limits)
            if total > limits.max_decompressed_bytes:
                raise _expands_too_far(label, total, limits)
    return lengths


def _column_number(reference: str) -> int:
    number = 0
    for ch in reference:
        if not ch.isalpha():
            break
        number = number * 26 + (ord(ch.upper()) - 64)
    return number


_XML_CHUNK = 4 * MiB
# A sheet's rows and cells as they appear in its XML (attributes, then the cell's content).
_ROW_OR_CELL = re.compile(rb"<row\b([^>]*)>|<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_ATTRIBUTE = re.compile(rb'\b(r|t)="([^"]*)"')
_TEXT = re.compile(rb"<(?:v|t)\b[^>]*>([^<]*)</(?:v|t)>")


def _sheet_extent(
    archive: Any, path: str, lengths: Any, label: str, limits: LoadLimits
) -> tuple[int, int]:
    """Rows and columns up to the last cell holding a value, streamed from the sheet's XML;
    cells, characters and the extent are checked against `limits` on the way. First a
    C-speed count of the cells refuses a sheet bomb in seconds; then a scan of each cell."""
    cells = 0
    with archive.open(path) as stream:
        while chunk := stream.read(_XML_CHUNK):
            cells += chunk.count(b"<c ") + chunk.count(b"<c>") + chunk.count(b"<c/>")
            if cells > limits.max_cells:
                raise _too_many_cells(label, cells, limits)
    scan = _SheetScan(lengths, label, limits)
    with archive.open(path) as stream:
        carry = b""
        while chunk := stream.read(_XML_CHUNK):
            buffer = carry + chunk
            cut = buffer.rfind(b"</row>")
            if cut < 0:
                carry = buffer
                continue
            scan.feed(buffer[: cut + 6])
            carry = buffer[cut + 6:]
        scan.feed(carry)
    return scan.rows, scan.columns


class _SheetScan:
    """The extent and expanded size of a sheet's cells, fed its XML a row-aligned piece at a time."""

    def __init__(self, lengths: Any, label: str, limits: LoadLimits):
        self.lengths, self.label, self.limits = lengths, label, limits
        self.rows = self.columns = self.row = self.column = self.expanded = 0

    def feed(self, xml: bytes) -> None:
        for match in _ROW_OR_CELL.finditer(xml):
            attributes = dict(_ATTRIBUTE.findall(match.group(1) or match.group(2) or b""))
            if match.group(1) is not None:  # a row
                self.row = int(attributes.get(b"r") or self.row + 1)
                self.column = 0
                continue
            reference = attributes.get(b"r")
            self.column = _column_number(reference.decode()) if reference else self.column + 1
            size = self._size(match.group(3), attributes.get(b"t"))
            if size is not None:
                self._count(size, reference)

    def _size(self, content: bytes | None, kind: bytes | None) -> int | None:
        """Characters the cell expands to, or None when it holds no value (a styled empty cell)."""
        if not content:
            return None
        texts = _TEXT.findall(content)
        if not texts:
            return None
        if kind == b"s":
            try:
                return self.lengths[int(texts[0])]
            except (ValueError, IndexError):
                return 0
        return sum(len(t) for t in texts)

    def _count(self, size: int, reference: bytes | None) -> None:
        limits, label = self.limits, self.label
        self.rows, self.columns = max(self.rows, self.row), max(self.columns, self.column)
        self.expanded += size
        if size > limits.max_cell_chars:
            where = reference.decode() if reference else f"row {self.row}"
            raise TableReadError(
                f"A cell of {label} ({where}) has {size:,} characters; the limit is "
                f"{limits.max_cell_chars:,}. Shorten it or leave that column out.")
        if self.columns > limits.max_columns:  # stopped at the first column too many
            raise TableReadError(
                f"{label} has more than {limits.max_columns:,} columns, the limit. Keep only "
                "the columns that matter for the question and upload it again.")
        if self.rows > limits.max_rows + 1:
            raise TableReadError(f"{label} has more than {limits.max_rows:,} rows, the limit. "
                                 "Upload a sample of the rows instead.")
        if self.rows * self.columns > limits.max_cells:
            raise _too_many_cells(label, self.rows * self.columns, limits)
        if self.expanded > limits.max_decompressed_bytes:
            raise _expands_too_far(label, self.expanded, limits)


def _choose_sheet(names: list[str], sheet: str | int | None, label: str) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, int):
        if 0 <= sheet < len(names):
            return names[sheet]
    elif sheet in names:
        return sheet
    raise TableReadError(
        f"{label} has no sheet {sheet!r}; its sheets are: "
        + ", ".join(repr(_short(n)) for n in names[:20])
        + ". Pick one of those."
    )


# --------------------------------------------------------------------------- child process
#
# A file the checks above miss must not take the web server or a worker down with it: it is
# parsed by `python tableread.py --child REQUEST` (this very file, so a bundle does the same)
# under an address-space limit, and killed at the time limit. The frame comes back as an
# Arrow IPC file through a temporary directory, never as a pickle.

def _can_isolate() -> bool:
    import importlib.util
    import sys

    return bool(sys.executable) and importlib.util.find_spec("pyarrow") is not None


def read_in_child(
    data: bytes, name: str, *, sheet: str | int | None, limits: LoadLimits, infer: bool
) -> tuple[pd.DataFrame, dict]:
    """Parse `data` in a child process bounded by `limits`; return the frame and its attrs.

    Raises TableReadError with the child's one-line message, or when the child runs out of
    memory or time.
    """
    import json
    import os
    import subprocess
    import sys
    import tempfile

    label = f"'{name}'" if name else "The file"
    with tempfile.TemporaryDirectory(prefix="briefml-read-") as tmp:
        folder = Path(tmp)
        (folder / "input").write_bytes(data)
        request = {"input": str(folder / "input"), "name": name, "sheet": sheet, "infer": infer,
                   "output": str(folder / "table.arrow"), "result": str(folder / "result.json"),
                   "limits": {k: getattr(limits, k) for k in LoadLimits.__dataclass_fields__}}
        (folder / "request.json").write_text(json.dumps(request))
        # Arrow's own allocator reserves address space up front: use the system's under a limit
        env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system", "OMP_NUM_THREADS": "1"}
        try:
            done = subprocess.run(
                [sys.executable, "-I", str(Path(__file__).resolve()), "--child", str(folder / "request.json")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                timeout=limits.max_seconds, env=env, check=False,
            )
        except subprocess.TimeoutExpired:
            raise TableReadError(
                f"Reading {label} took longer than {limits.max_seconds:g} s, {limits.seconds_limit_name}. "
                "Use a smaller file or a sample of the rows."
            ) from None
        result_path = folder / "result.json"
        result = json.loads(result_path.read_text()) if result_path.is_file() else {}
        if "error" in result:
            raise TableReadError(result["error"])
        if done.returncode != 0 or not result.get("ok"):
            raise TableReadError(_child_failure(label, done, limits))
        import pyarrow as pa

        with pa.memory_map(str(folder / "table.arrow")) as source:
            table = pa.ipc.open_file(source).read_all()
        df = table.to_pandas()
        del table
    return _restore_missing(df), result.get("attrs", {})


def _child_failure(label: str, done: Any, limits: LoadLimits) -> str:
    """What a child that died without an answer most likely ran into, in one line."""
    tail = (done.stderr or b"")[-2000:].decode("utf-8", "replace")
    if done.returncode < 0 or "MemoryError" in tail or "std::bad_alloc" in tail:
        return (f"Reading {label} needs more than {size_text(limits.max_memory_bytes)} of memory, "
                "the limit. Upload a smaller file, a sample of the rows or fewer columns.")
    last = next((line for line in reversed(tail.splitlines()) if line.strip()), "no message")
    return f"{label} could not be read ({_short(last, 200)}). Save it again as CSV and retry."


def _restore_missing(df: pd.DataFrame) -> pd.DataFrame:
    """Arrow gives None for a missing object value; the readers give NaN."""
    for name in df.columns:
        if df[name].dtype == object:
            df[name] = df[name].where(df[name].notna(), np.nan)
    return df


def _to_arrow(df: pd.DataFrame) -> Any:
    """The frame as an Arrow table; a column mixing types (Excel cells) travels as text."""
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        df = df.copy()
        for name in df.columns:
            try:
                pa.array(df[name], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
                df[name] = df[name].map(lambda v: v if pd.isna(v) else str(v))
        return pa.Table.from_pandas(df, preserve_index=False)


def _child_main(request_path: str) -> int:
    import json
    import resource

    request = json.loads(Path(request_path).read_text())
    limits = LoadLimits(**request["limits"])
    memory = int(limits.max_memory_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    seconds = max(1, int(limits.max_seconds) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    result_path = Path(request["result"])
    name = request["name"]
    try:
        data = Path(request["input"]).read_bytes()
        df = _parse(data, name, _detect_format(data, name), request["sheet"], limits, request["infer"])
        import pyarrow as pa

        table = _to_arrow(df)
        with pa.OSFile(request["output"], "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        attrs = {k: v for k, v in df.attrs.items() if isinstance(v, (list, str, int, float, bool))}
        result_path.write_text(json.dumps({"ok": True, "attrs": attrs}))
    except TableReadError as exc:
        result_path.write_text(json.dumps({"error": str(exc)}))
    except MemoryError:
        label = f"'{name}'" if name else "The file"
        result_path.write_text(json.dumps({"error": (
            f"Reading {label} needs more than {size_text(limits.max_memory_bytes)} of memory, the "
            "limit. Upload a smaller file, a sample of the rows or fewer columns.")}))
    return 0


# --------------------------------------------------------------------------- type inference


DECIMAL_COMMA_ATTR = "decimal_comma_columns"
DAYFIRST_ATTR = "dayfirst_date_columns"


def infer_types(df: pd.DataFrame) -> pd.DataFrame:
    """Give text columns their real type: numbers, dates, or clean strings.

    Numbers may use thousands separators ("1,234"), decimal commas ("3,5"), currency signs
    ("$1,505.20", "12,50 €") or percent signs ("12%" becomes 0.12). Labels stay as the file
    writes them: yes/no and true/false columns remain strings, so a model answers in the
    user's own words. Numeric-looking codes stay strings when they have leading zeros
    ("02134"), too many digits to be a quantity, or a name like zip/phone/id. Columns that
    already have a numeric, boolean or datetime type are left as they are, except that time
    zones are converted to UTC and dropped.

    The names of the columns read with decimal commas are listed in
    ``attrs[DECIMAL_COMMA_ATTR]`` of the result, and those of dates written day first
    (31/01/2024) in ``attrs[DAYFIRST_ATTR]``: a model's schema records them, so that the rows
    it predicts are read with the same conventions (see `parse_numbers`, `parse_datetimes`).
    """
    out, conventions = {}, {",": [], "dayfirst": []}
    for name in df.columns:
        out[name], convention = _infer_column(df[name], str(name))
        conventions.get(convention, []).append(str(name))
    frame = pd.DataFrame(out, index=df.index, columns=df.columns)
    frame.attrs[DECIMAL_COMMA_ATTR] = conventions[","]
    frame.attrs[DAYFIRST_ATTR] = conventions["dayfirst"]
    return frame


def _infer_column(values: pd.Series, name: str) -> tuple[pd.Series, str | None]:
    """The column with its type, and how it was written: the decimal mark of a column of
    numbers, or "dayfirst" for dates written day first."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None), None
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values, None
    if pd.api.types.is_numeric_dtype(values):
        if _CODE_NAME.search(name) and _whole_numbers(values):
            return _whole_as_text(values), None
        return values, None
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    text = _as_clean_text(values)
    present = text.dropna()
    if present.empty:
        return text, None
    number = _parse_number(present, name)
    if number is not None:
        parsed, decimal = number
        return _reindex_like(parsed, text), decimal
    dates = _parse_datetime(present, name)
    if dates is not None:
        stamps, dayfirst = dates
        return _reindex_like(stamps, text), "dayfirst" if dayfirst else None
    return text, None


def _as_clean_text(values: pd.Series) -> pd.Series:
    """Strings with surrounding spaces removed and blanks/missing tokens as missing."""
    mask = values.notna()
    text = values.astype("str").where(mask).str.strip()
    return text.where(~text.isin(MISSING_TOKENS))


def blank_missing(values: pd.Series) -> pd.Series:
    """Cells that the reader counts as missing ("", "NA", "null", ...) as missing; the rest
    unchanged. Rows to predict are read as text (`read_table(infer=False)`): this makes their
    gaps the gaps the model saw in training."""
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return values
    stripped = values.map(lambda v: v.strip() if isinstance(v, str) else v)
    return values.where(~stripped.isin(MISSING_TOKENS) & values.notna(), np.nan).astype(object)


def _reindex_like(parsed: pd.Series, text: pd.Series) -> pd.Series:
    if len(parsed) == len(text):
        return parsed
    return parsed.reindex(text.index)


def _parse_number(present: pd.Series, name: str) -> tuple[pd.Series, str] | None:
    """The numbers and their decimal mark, or None if the column is not one of numbers."""
    sample = present.iloc[:: max(1, len(present) // 2000)]
    if sample.str.contains(_HAS_CURRENCY.pattern, regex=True).all():
        # money: the same number rules once the currency sign is gone
        return _parse_number(present.str.replace(_CURRENCY.pattern, r"\1", regex=True), name)
    looks_numeric = sample.str.match(_PLAIN_NUMBER.pattern)
    if not looks_numeric.all():
        return _parse_formatted_number(present, sample)
    if present.str.match(_LEADING_ZERO.pattern).any():
        return None  # zip codes, account numbers: the zeros matter
    digits = present.str.len().max()
    if digits > _MAX_EXACT_DIGITS and not present.str.contains(r"[.eE]", regex=True).any():
        return None  # long integer codes (card numbers, ids) lose digits as numbers
    numbers = _to_float(present)
    if numbers is None or numbers.isna().any():
        return None
    if _CODE_NAME.search(name) or (_ID_NAME.search(name) and _whole_numbers(numbers)):
        return None
    return _compact_number(numbers), "."


def _parse_formatted_number(present: pd.Series, sample: pd.Series) -> tuple[pd.Series, str] | None:
    is_percent = sample.str.match(_PERCENT.pattern)
    is_thousands = sample.str.match(_THOUSANDS.pattern) | sample.str.match(_PLAIN_NUMBER.pattern)
    if is_percent.all():
        if not present.str.match(_PERCENT.pattern).all():
            return None
        decimal = "," if _decimal_comma(present.str.rstrip("%").str.strip()) else "."
        return parse_numbers(present, decimal=decimal), decimal
    if _decimal_comma(present):
        return parse_numbers(present, decimal=","), ","
    if is_thousands.all() and sample.str.contains(",", regex=False).any():
        valid = present.str.match(_THOUSANDS.pattern) | present.str.match(_PLAIN_NUMBER.pattern)
        if not valid.all():
            return None
        return _compact_number(parse_numbers(present)), "."
    return None


def parse_numbers(values: pd.Series, decimal: str = ".") -> pd.Series:
    """Floats from numbers written as text, by the rules `infer_types` reads a table with;
    NaN where a value is not a number.

    decimal: the decimal mark the training table used for this column. With ".", commas
    group thousands ("1,234.5") and a comma that cannot group thousands ("3,5") is read as a
    decimal comma; with ",", "3,5" is 3.5 and "1.234,5" is 1234.5. Currency signs go and
    "12%" is 0.12.
    """
    body = pd.Series(values).astype(_text_dtype()).str.strip()
    if body.str.contains(r"[$€£¥]", regex=True).fillna(False).any():
        body = body.str.replace(_CURRENCY.pattern, r"\1", regex=True)
    percent = body.str.endswith("%").fillna(False).astype(bool)
    if percent.any():
        body = body.str.rstrip("%").str.strip()
    if decimal == ",":
        body = body.str.replace(r"(?<=\d)\.(?=\d{3}(?:\D|$))", "", regex=True)
        body = body.str.replace(",", ".", regex=False)
    elif body.str.contains(",", regex=False).fillna(False).any():
        thousands = body.str.match(_THOUSANDS.pattern).fillna(False).astype(bool)
        comma = body.str.match(_DECIMAL_COMMA.pattern).fillna(False).astype(bool) & ~thousands
        body = body.where(~thousands, body.str.replace(",", "", regex=False))
        body = body.where(~comma, body.str.replace(",", ".", regex=False))
    numbers = pd.to_numeric(body, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    numbers = np.where(percent.to_numpy(), numbers / 100.0, numbers)
    return pd.Series(numbers, index=body.index, dtype="float64")


def _text_dtype() -> str:
    """Arrow-backed strings when pyarrow is there (several times faster on big columns)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return "string"
    return "string[pyarrow]"


def _to_float(present: pd.Series) -> pd.Series | None:
    """Numbers from clean numeric strings; None if any does not parse."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        # Arrow's cast is an order of magnitude faster than pd.to_numeric on strings.
        floats = pc.cast(pa.array(present.array), pa.float64()).to_numpy(zero_copy_only=False)
        return pd.Series(floats, index=present.index)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        numbers = pd.to_numeric(present, errors="coerce")
        return None if numbers.isna().any() else numbers.astype("float64")


def _decimal_comma(present: pd.Series) -> bool:
    """'3,5' and '12,25' are decimals; '1,234' alone could be a thousand, so it needs a
    sibling value whose comma cannot be a thousands separator."""
    if not present.str.match(_DECIMAL_COMMA.pattern).all():
        return False
    decimals = present.str.extract(r",(\d+)$", expand=False).dropna().str.len()
    return bool(len(decimals) and (decimals != 3).any())


def _compact_number(numbers: pd.Series) -> pd.Series:
    numbers = numbers.astype("float64")
    if _whole_numbers(numbers) and numbers.abs().max() < 2**53:
        return numbers.astype("int64")
    return numbers


def _whole_numbers(values: pd.Series) -> bool:
    present = values.dropna()
    if present.empty or not pd.api.types.is_numeric_dtype(present):
        return False
    as_float = present.astype("float64")
    return bool(np.all(np.isfinite(as_float)) and np.all(as_float == np.floor(as_float)))


def _whole_as_text(values: pd.Series) -> pd.Series:
    out = values.astype("Int64").astype("str")
    return out.where(values.notna())


def _parse_datetime(present: pd.Series, name: str) -> tuple[pd.Series, bool] | None:
    """The dates, and whether they were written day first; None if they are not dates."""
    sample = present.iloc[:: max(1, len(present) // 500)]
    if not sample.str.match(_DATE_LIKE.pattern).mean() >= 0.99:
        return None
    for options in ({"format": "ISO8601"}, {}, {"dayfirst": True}):
        try:
            stamps = pd.to_datetime(present, errors="coerce", **options)
        except (ValueError, TypeError, OverflowError):
            continue
        if stamps.notna().all():
            if isinstance(stamps.dtype, pd.DatetimeTZDtype):
                stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
            return stamps, _written_day_first(present, stamps)
    return None


def _written_day_first(present: pd.Series, stamps: pd.Series) -> bool:
    """Whether rows to predict must be read day first to get these dates (pandas may infer a
    day-first format from one unambiguous value such as 31/01/2024)."""
    step = max(1, len(present) // 500)
    sample, expected = present.iloc[::step], stamps.iloc[::step]

    def same(dayfirst: bool) -> bool:
        parsed = parse_datetimes(sample, dayfirst=dayfirst).dt.tz_localize(None)
        return bool((parsed.to_numpy() == expected.to_numpy()).all())

    return not same(False) and same(True)


def parse_datetimes(values: pd.Series, dayfirst: bool = False) -> pd.Series:
    """Timestamps (UTC) from dates written as text; NaT where a value is not a date.

    dayfirst: the training table wrote this column's dates day first (31/01/2024).
    """
    return pd.to_datetime(values, errors="coerce", utc=True, format="mixed", dayfirst=dayfirst)


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        raise SystemExit(_child_main(sys.argv[2]))
    raise SystemExit("usage: python tableread.py --child REQUEST.json (used by read_table)")
