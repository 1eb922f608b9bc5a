"""The one table reader as a bundle runs it: without charset-normalizer, conventions recorded
at training (decimal commas, dates day first) applied to rows to predict, cells kept as text."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from core import runtime, tableread

LATIN = "stadt;preis\nGenève;£3,5\nKöln;£12\n"


def test_without_charset_normalizer_a_simple_ladder_reads_windows_and_utf16_files(monkeypatch):
    monkeypatch.setitem(sys.modules, "charset_normalizer", None)  # import fails, as in a bare bundle
    latin = tableread.read_table(LATIN.encode("cp1252"), filename="p.csv")
    assert latin["stadt"].tolist() == ["Genève", "Köln"] and latin["preis"].tolist() == [3.5, 12.0]
    no_bom = tableread.read_table(LATIN.encode("utf-16-le"), filename="p.csv")
    assert no_bom["stadt"].tolist() == ["Genève", "Köln"]
    with pytest.raises(tableread.TableReadError, match="binary data"):
        tableread.read_table(bytes(range(256)) * 8, filename="junk.csv")


def test_a_latin1_file_is_not_read_as_central_european():
    # charset-normalizer alone finds cp1250 as clean as cp1252 and reads 'Genčve', 'Ł3,5'
    df = tableread.read_table(LATIN.encode("latin-1"), filename="p.csv")
    assert df["stadt"].tolist() == ["Genève", "Köln"] and df["preis"].tolist() == [3.5, 12.0]


def test_inference_records_decimal_commas_and_day_first_dates():
    df = tableread.infer_types(pd.DataFrame({
        "comma": ["3,5", "1,234", "2"], "point": ["3.5", "1,234", "2"],
        "day_first": ["31/01/2024", "05/02/2024", "01/03/2024"], "iso": ["2024-01-31"] * 3,
    }))
    assert df["comma"].tolist() == [3.5, 1.234, 2.0] and df["point"].tolist() == [3.5, 1234.0, 2.0]
    assert df["day_first"].dt.month.tolist() == [1, 2, 3]
    assert df.attrs[tableread.DECIMAL_COMMA_ATTR] == ["comma"]
    assert df.attrs[tableread.DAYFIRST_ATTR] == ["day_first"]


def test_rows_to_predict_are_read_with_the_conventions_of_training():
    # one row is ambiguous on its own: '1,234' and '05/02/2024' mean what training meant
    rows = tableread.read_table(b"n;when;flag\n1,234;05/02/2024;No\n", filename="r.csv", infer=False)
    assert rows.iloc[0].tolist() == ["1,234", "05/02/2024", "No"]  # as the file writes them
    columns = [{"name": "n", "kind": "numeric"}, {"name": "when", "kind": "datetime"}]
    plain, _ = runtime.prepare_frame(rows, {"target": "y", "task_type": "regression", "columns": columns})
    assert plain["n"].iloc[0] == 1234.0 and plain["when__month"].iloc[0] == 5
    columns = [{"name": "n", "kind": "numeric", "decimal": ","},
               {"name": "when", "kind": "datetime", "dayfirst": True}]
    european, _ = runtime.prepare_frame(rows, {"target": "y", "task_type": "regression", "columns": columns})
    assert european["n"].iloc[0] == 1.234 and european["when__month"].iloc[0] == 2


def test_missing_tokens_in_rows_to_predict_are_gaps_not_unreadable_values():
    rows = pd.DataFrame({"n": ["NA", "", " 3 ", "lots"], "c": ["null", "a", "b", "a"]})
    schema = {"target": "y", "task_type": "regression",
              "columns": [{"name": "n", "kind": "numeric"}, {"name": "c", "kind": "categorical"}]}
    frame, report = runtime.prepare_frame(rows, schema)
    assert frame["n"].isna().tolist() == [True, True, False, True]
    assert frame["c"].isna().tolist() == [True, False, False, False]
    assert report.coerced_to_missing == {"n": 1} and report.unreadable_rows == 1
    assert report.warnings() == [
        "1 row had values the model cannot read in column n; it was predicted as missing."]


def test_an_excel_file_without_openpyxl_says_what_to_install(monkeypatch, tmp_path):
    pd.DataFrame({"a": [1], "b": ["x"]}).to_excel(tmp_path / "rows.xlsx", index=False)
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # a bundle installed from its requirements
    with pytest.raises(tableread.TableReadError, match=r"^Reading 'rows.xlsx' needs the Excel reader: "
                                                       r"run 'pip install openpyxl', or save the file as CSV.$"):
        tableread.read_table(tmp_path / "rows.xlsx")
