"""load_table: formats, encodings, delimiters, type inference, and clear errors."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from core.errors import DataError
from core.loading import LoadLimits, infer_types, load_table

MIXED_CSV = (
    "customer_id,zip,amount,share,member,joined,city,visits\n"
    '1,02134,"1,234",12%,yes,2024-01-31,Boston,3\n'
    '2,10001,"12,000.5",5.5%,no,2024-02-01,New York,\n'
    "3,94110,17,100%,Yes,2024-03-01,San Francisco,NA\n"
)


def test_csv_types_are_inferred():
    df = load_table(MIXED_CSV.encode(), filename="customers.csv")
    assert df["zip"].tolist() == ["02134", "10001", "94110"]  # leading zero kept
    assert df["customer_id"].tolist() == ["1", "2", "3"]  # an id is a label, not a quantity
    assert df["amount"].tolist() == [1234.0, 12000.5, 17.0]
    assert df["share"].tolist() == pytest.approx([0.12, 0.055, 1.0])
    assert df["member"].tolist() == ["yes", "no", "Yes"]  # labels stay as the file writes them
    assert pd.api.types.is_datetime64_any_dtype(df["joined"])
    assert pd.api.types.is_string_dtype(df["city"])
    assert pd.api.types.is_float_dtype(df["visits"]) and df["visits"].isna().sum() == 2


def test_money_with_a_currency_sign_is_a_number():
    df = infer_types(pd.DataFrame({
        "fee": ["$1,505.20", "$12.00", None, "-$3"],
        "price": ["12,50 €", "3,25 €", "1 €", "0,5 €"],
        "code": ["$ab", "x", "y", "z"],  # a sign on some values only: still text
    }))
    assert df["fee"].tolist()[:2] == [1505.2, 12.0] and df["fee"].tolist()[3] == -3.0
    assert df["price"].tolist() == [12.5, 3.25, 1.0, 0.5]
    assert pd.api.types.is_string_dtype(df["code"])


def test_bom_semicolon_and_windows_encoding():
    text = "name;price;in stock\ncafé;3,5;true\nthé;2;false\n"
    df = load_table(b"\xef\xbb\xbf" + text.encode("utf-8"), filename="menu.csv")
    assert list(df.columns) == ["name", "price", "in stock"]  # BOM is not part of the name
    assert df["name"].tolist() == ["café", "thé"]
    assert df["price"].tolist() == [3.5, 2.0]  # decimal comma
    latin = load_table(text.encode("cp1252"), filename="menu.csv")
    assert latin["name"].tolist() == ["café", "thé"]
    assert latin["in stock"].tolist() == ["true", "false"]  # the file's own spelling


def test_tsv_by_extension_and_sniffed_without_a_name():
    text = b"a\tb\n1\tx\n2\ty\n"
    assert load_table(text, filename="t.tsv").shape == (2, 2)
    sniffed = load_table(io.BytesIO(text))
    assert list(sniffed.columns) == ["a", "b"] and sniffed["a"].tolist() == [1, 2]


def test_path_and_file_like_with_name(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,a\n2,b\n")
    assert load_table(path).shape == (2, 2)
    upload = io.BytesIO(path.read_bytes())
    upload.name = "upload.csv"  # what a Streamlit upload looks like
    upload.read()  # already consumed once: load_table rewinds
    assert load_table(upload).shape == (2, 2)


def test_parquet_keeps_types_and_is_sniffed(tmp_path):
    df = pd.DataFrame(
        {"n": [1.5, 2.5, np.nan], "s": ["a", "b", "c"], "t": pd.to_datetime(["2024-01-01"] * 3)}
    )
    path = tmp_path / "d.parquet"
    df.to_parquet(path)
    loaded = load_table(path)
    assert loaded["n"].isna().sum() == 1 and pd.api.types.is_datetime64_any_dtype(loaded["t"])
    assert load_table(path.read_bytes()).shape == (3, 3)  # no name: recognised by its bytes


def test_excel_first_or_named_sheet(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_excel(
            writer, sheet_name="first", index=False
        )
        pd.DataFrame({"c": [3, 4, 5], "d": ["0012", "0013", "0014"]}).to_excel(
            writer, sheet_name="second", index=False
        )
    assert list(load_table(path).columns) == ["a", "b"]
    second = load_table(path, sheet="second")
    assert second.shape == (3, 2) and second["d"].tolist() == ["0012", "0013", "0014"]
    assert load_table(path, sheet=1).shape == (3, 2)
    with pytest.raises(DataError, match=r"no sheet 'third'.*'first', 'second'"):
        load_table(path, sheet="third")


def test_infer_types_on_a_frame():
    df = pd.DataFrame(
        {
            "flag": ["No", "Yes", None],
            "pct": ["1%", "2.5%", "3%"],
            "code": ["007", "008", "009"],
            "card": ["4111111111111111111", "4111111111111111112", "4111111111111111113"],
            "when": ["2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z", None],
            "num": [1, 2, 3],
        }
    )
    out = infer_types(df)
    assert out["flag"].tolist()[:2] == ["No", "Yes"] and pd.isna(out["flag"].iloc[2])
    assert out["pct"].tolist() == pytest.approx([0.01, 0.025, 0.03])
    assert out["code"].tolist() == ["007", "008", "009"]
    assert out["card"].iloc[0] == "4111111111111111111"  # too long to be a number
    assert out["when"].dt.tz is None and out["when"].iloc[0].hour == 10
    assert out["num"].dtype == "int64"


# --------------------------------------------------------------------------- errors


def test_bad_encoding_or_binary_data_is_named():
    rng = np.random.default_rng(0)
    garbage = bytes(rng.integers(0, 256, 4000, dtype=np.uint8))
    with pytest.raises(DataError, match=r"encoding|binary data"):
        load_table(garbage, filename="data.csv")


def test_ragged_rows_name_the_line():
    text = b"a,b,c\n1,2,3\n4,5,6,7,8\n"
    with pytest.raises(DataError, match=r"line 3 has 5 values but the header has 3 columns"):
        load_table(text, filename="r.csv")


def test_one_column_is_refused_with_a_reason():
    with pytest.raises(DataError, match=r"only 1 column \('only'\).*at least one other column"):
        load_table(b"only\n1\n2\n", filename="one.csv")
    one = load_table(b"only\n1\n2\n", filename="one.csv", limits=LoadLimits(min_columns=1))
    assert one.shape == (2, 1)


def test_header_only_and_empty_file():
    with pytest.raises(DataError, match="header but no data rows"):
        load_table(b"a,b,c\n", filename="h.csv")
    with pytest.raises(DataError, match="is empty"):
        load_table(b"  \n", filename="e.csv")


def test_ten_thousand_columns_break_the_limit():
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join("1" for _ in range(10_000))
    data = f"{header}\n{row}\n{row}\n".encode()
    with pytest.raises(DataError, match=r"10,000 columns; the limit is 2,000"):
        load_table(data, filename="wide.csv")


def test_size_and_row_limits():
    data = b"a,b\n" + b"1,2\n" * 50
    with pytest.raises(DataError, match=r"the limit is"):
        load_table(data, filename="x.csv", limits=LoadLimits(max_bytes=100))
    with pytest.raises(DataError, match=r"more than 10 rows"):
        load_table(data, filename="x.csv", limits=LoadLimits(max_rows=10))


def test_missing_path_damaged_files_and_old_excel(tmp_path):
    with pytest.raises(DataError, match="no file at"):
        load_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_table(b"PAR1 this is not parquet", filename="x.parquet")
    with pytest.raises(DataError, match="not a readable Excel workbook"):
        load_table(b"PK\x03\x04 broken", filename="x.xlsx")
    with pytest.raises(DataError, match=r"old-style Excel \.xls"):
        load_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, filename="x.xls")


def test_repeated_column_names_are_refused_with_the_name():
    # pandas would rename a repeated header to 'a.1' and train on two columns the user
    # thinks of as one: the user is told instead
    with pytest.raises(DataError, match=r"^Two columns of 'd.csv' share the name 'a': rename one"):
        load_table(b"a,b,a\n1,2,3\n", filename="d.csv")
    with pytest.raises(DataError, match=r"share a name \('a', 'b'\)"):
        load_table(b"a,b,a,b,c\n1,2,3,4,5\n", filename="d.csv")
    # a name like 'a.1' written in the file is its own name
    assert list(load_table(b"a,a.1\n1,2\n", filename="d.csv").columns) == ["a", "a.1"]
