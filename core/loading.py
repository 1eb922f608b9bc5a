"""Read a user's table (CSV, TSV, Parquet, Excel) into a pandas frame with sensible types.

`load_table` accepts a path, raw bytes or a binary file-like object (a Streamlit upload has a
``.name``), works out the format, the text encoding and the delimiter, enforces size limits,
and hands back a frame whose columns are numeric, boolean, datetime or string. Every problem
is raised as `core.errors.DataError` with a message that says what is wrong and what to do.
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

from core.errors import DataError

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

_TRUE = {"true", "yes", "t", "y"}
_FALSE = {"false", "no", "f", "n"}
# Whole numbers written with thousands separators, optionally with decimals and a sign.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+(,\d+)?$")  # 3,5 in many European files
_PERCENT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)\s*%$")
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


@dataclass(frozen=True)
class LoadLimits:
    """Limits on what `load_table` accepts. The workspace settings pass their values in."""

    max_bytes: int = 500 * 1024 * 1024
    max_rows: int = 5_000_000
    max_columns: int = 2_000
    # A model needs a target and at least one column to learn from; prediction inputs for a
    # one-feature model may pass min_columns=1.
    min_columns: int = 2


# --------------------------------------------------------------------------- entry point


def load_table(
    source: str | Path | bytes | IO[bytes],
    *,
    filename: str | None = None,
    sheet: str | int | None = None,
    limits: LoadLimits = LoadLimits(),
) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet or Excel table and infer its column types.

    source: a path, the file's bytes, or a binary file-like object (its ``.name`` is used as
    the filename when there is one). filename: only used to tell the format by its extension.
    sheet: the Excel sheet to read (name or position); the first sheet by default.

    Raises DataError when the file cannot be read or breaks `limits`.
    """
    data, name = _read_source(source, filename)
    label = f"'{name}'" if name else "The file"
    if len(data) > limits.max_bytes:
        raise DataError(
            f"{label} is {len(data) / 1e6:,.1f} MB; the limit is {limits.max_bytes / 1e6:,.0f} MB. "
            "Upload a smaller file or a sample of the rows."
        )
    if not data.strip():
        raise DataError(f"{label} is empty. Upload a table with a header row and data rows.")
    kind = _detect_format(data, name)
    if kind == "parquet":
        df = _read_parquet(data, label, limits)
    elif kind == "excel":
        df = _read_excel(data, label, sheet, limits)
    elif kind == "xls":
        raise DataError(
            f"{label} is an old-style Excel .xls file, which cannot be read. "
            "Open it in Excel and save it as .xlsx or .csv, then upload it again."
        )
    else:
        delimiter = TEXT_FORMATS.get(Path(name).suffix.lower()) if name else None
        df = _read_text(data, label, delimiter, limits)
    _check_shape(df, label, limits)
    return infer_types(df)


def _read_source(source: Any, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), filename or ""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"There is no file at '{path}'. Check the path and try again.")
        return path.read_bytes(), filename or path.name
    if hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = filename or Path(str(getattr(source, "name", "") or "")).name
        return bytes(data), name
    raise DataError(
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
        raise DataError(
            f"{label} has only {df.shape[1]} column ('{df.columns[0]}'); a model needs the "
            "column to predict and at least one other column to learn from. If the file uses "
            "an unusual separator, save it as a standard comma-separated CSV."
        )
    if len(df) == 0:
        raise DataError(
            f"{label} has a header but no data rows. Upload a table with at least a few rows."
        )
    if len(df) > limits.max_rows:
        raise DataError(
            f"{label} has more than {limits.max_rows:,} rows, the limit. "
            "Upload a sample of the rows instead."
        )
    blank = [str(c) for c in df.columns if str(c).strip() == "" or str(c).startswith("Unnamed: ")]
    if blank and len(blank) == df.shape[1]:
        raise DataError(f"{label} has no column names. Add a header row naming each column.")
    duplicated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if duplicated:
        raise DataError(
            f"{label} has more than one column named {', '.join(repr(d) for d in duplicated)}. "
            "Give every column a different name."
        )


def _too_many_columns(label: str, count: int, limits: LoadLimits) -> DataError:
    return DataError(
        f"{label} has {count:,} columns; the limit is {limits.max_columns:,}. "
        "Keep only the columns that matter for the question and upload it again."
    )


# --------------------------------------------------------------------------- text files


def _decode(data: bytes, label: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_other(data, label)
    if "\x00" in text[:_SNIFF_BYTES] or _control_share(text[:_SNIFF_BYTES]) > 0.01:
        raise DataError(
            f"{label} does not look like a text table: it contains binary data. "
            "Upload a CSV, TSV, Parquet or Excel (.xlsx) file."
        )
    return text


def _decode_other(data: bytes, label: str) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * _SNIFF_BYTES]).best()
    if best is None or best.encoding is None:
        raise DataError(
            f"{label} is not readable text: its character encoding could not be recognised. "
            "Save it again as CSV with UTF-8 encoding and upload it again."
        )
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        raise DataError(
            f"{label} mixes character encodings (it looks like {best.encoding}, but some bytes "
            "do not fit). Save it again as CSV with UTF-8 encoding and upload it again."
        ) from None


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


def _read_text(data: bytes, label: str, delimiter: str | None, limits: LoadLimits) -> pd.DataFrame:
    text = _decode(data, label)
    delimiter = delimiter or _sniff_delimiter(text)
    header = _read_csv(text, label, delimiter, nrows=0)
    if header.shape[1] > limits.max_columns:
        raise _too_many_columns(label, header.shape[1], limits)
    return _read_csv(text, label, delimiter, nrows=limits.max_rows + 1)


def _read_csv(text: str, label: str, delimiter: str, nrows: int) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=MISSING_TOKENS,
            skipinitialspace=True,
            nrows=nrows,
        )
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{label} is empty. Upload a table with a header row and data rows."
        ) from None
    except pd.errors.ParserError as exc:
        raise DataError(_ragged_message(label, str(exc), delimiter)) from None
    except (ValueError, csv.Error) as exc:
        raise DataError(f"{label} could not be read as a table ({exc}).") from None


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


def _read_parquet(data: bytes, label: str, limits: LoadLimits) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        if meta.num_columns > limits.max_columns:
            raise _too_many_columns(label, meta.num_columns, limits)
        if meta.num_rows > limits.max_rows:
            raise DataError(
                f"{label} has {meta.num_rows:,} rows; the limit is {limits.max_rows:,}. "
                "Upload a sample of the rows instead."
            )
        return pd.read_parquet(io.BytesIO(data))
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 -- pyarrow raises many types for damaged files
        raise DataError(
            f"{label} is not a readable Parquet file ({type(exc).__name__}). "
            "Export it again, or upload it as CSV."
        ) from None


def _read_excel(
    data: bytes, label: str, sheet: str | int | None, limits: LoadLimits
) -> pd.DataFrame:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many types for damaged files
        raise DataError(
            f"{label} is not a readable Excel workbook ({type(exc).__name__}). "
            "Open it in Excel and save it as .xlsx or .csv, then upload it again."
        ) from None
    try:
        names = book.sheetnames
        chosen = _choose_sheet(names, sheet, label)
        ws = book[chosen]
        if (ws.max_column or 0) > limits.max_columns:
            raise _too_many_columns(label, ws.max_column, limits)
        rows = ws.iter_rows(values_only=True, max_row=limits.max_rows + 2)
        header = next(rows, None)
        if header is None:
            raise DataError(f"Sheet '{chosen}' of {label} is empty. Choose a sheet with a table.")
        body = [row for row in rows if any(v is not None and v != "" for v in row)]
    finally:
        book.close()
    columns = [str(h).strip() if h is not None else f"Unnamed: {i}" for i, h in enumerate(header)]
    df = pd.DataFrame(body, columns=columns) if body else pd.DataFrame(columns=columns)
    return df.replace({"": np.nan})


def _choose_sheet(names: list[str], sheet: str | int | None, label: str) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, int):
        if 0 <= sheet < len(names):
            return names[sheet]
    elif sheet in names:
        return sheet
    raise DataError(
        f"{label} has no sheet {sheet!r}; its sheets are: "
        + ", ".join(repr(n) for n in names)
        + ". Pick one of those."
    )


# --------------------------------------------------------------------------- type inference


def infer_types(df: pd.DataFrame) -> pd.DataFrame:
    """Give text columns their real type: numbers, booleans, dates, or clean strings.

    Numbers may use thousands separators ("1,234") or percent signs ("12%" becomes 0.12).
    yes/no and true/false become booleans. Numeric-looking codes stay strings when they have
    leading zeros ("02134"), too many digits to be a quantity, or a name like zip/phone/id.
    Columns that already have a numeric, boolean or datetime type are left as they are,
    except that time zones are converted to UTC and dropped.
    """
    out = {}
    for name in df.columns:
        out[name] = _infer_column(df[name], str(name))
    return pd.DataFrame(out, index=df.index, columns=df.columns)


def _infer_column(values: pd.Series, name: str) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values
    if pd.api.types.is_numeric_dtype(values):
        if _CODE_NAME.search(name) and _whole_numbers(values):
            return _whole_as_text(values)
        return values
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    text = _as_clean_text(values)
    present = text.dropna()
    if present.empty:
        return text
    for parse in (_parse_boolean, _parse_number, _parse_datetime):
        parsed = parse(present, name)
        if parsed is not None:
            return _reindex_like(parsed, text)
    return text


def _as_clean_text(values: pd.Series) -> pd.Series:
    """Strings with surrounding spaces removed and blanks/missing tokens as missing."""
    mask = values.notna()
    text = values.astype("str").where(mask).str.strip()
    return text.where(~text.isin(MISSING_TOKENS))


def _reindex_like(parsed: pd.Series, text: pd.Series) -> pd.Series:
    if len(parsed) == len(text):
        return parsed
    if pd.api.types.is_bool_dtype(parsed):
        return parsed.astype("boolean").reindex(text.index)
    return parsed.reindex(text.index)


def _unique_strings(present: pd.Series, limit: int) -> list[str] | None:
    uniques = present.drop_duplicates()
    return None if len(uniques) > limit else list(uniques)


def _parse_boolean(present: pd.Series, name: str) -> pd.Series | None:
    uniques = _unique_strings(present, 4)
    if uniques is None:
        return None
    lowered = {u.lower() for u in uniques}
    if not lowered <= (_TRUE | _FALSE):
        return None
    # A lone 'n'/'y' column with a single value could be a code; demand a true/false pair
    # or a full word.
    if len(lowered) == 1 and len(next(iter(lowered))) == 1:
        return None
    return present.str.lower().isin(_TRUE)


def _parse_number(present: pd.Series, name: str) -> pd.Series | None:
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
    return _compact_number(numbers)


def _parse_formatted_number(present: pd.Series, sample: pd.Series) -> pd.Series | None:
    is_percent = sample.str.match(_PERCENT.pattern)
    is_thousands = sample.str.match(_THOUSANDS.pattern) | sample.str.match(_PLAIN_NUMBER.pattern)
    if is_percent.all():
        if not present.str.match(_PERCENT.pattern).all():
            return None
        return pd.to_numeric(present.str.rstrip("%").str.strip(), errors="coerce") / 100.0
    if _decimal_comma(present):
        return pd.to_numeric(present.str.replace(",", ".", regex=False)).astype("float64")
    if is_thousands.all() and sample.str.contains(",", regex=False).any():
        valid = present.str.match(_THOUSANDS.pattern) | present.str.match(_PLAIN_NUMBER.pattern)
        if not valid.all():
            return None
        return _compact_number(pd.to_numeric(present.str.replace(",", "", regex=False)))
    return None


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


def _parse_datetime(present: pd.Series, name: str) -> pd.Series | None:
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
            return stamps
    return None
