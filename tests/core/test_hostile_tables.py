"""Issue #22 items 1, 6 and 9: hostile tables are refused before the work they would cause,
in one short line, and a file the checks miss is parsed in a bounded child process.

The files are the bench's generators (`bench.hostile_files`), scaled down, read against
limits scaled down to match."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench import hostile_files as hf
from core import tableread
from core.tableread import LoadLimits, MiB, TableReadError, read_table

SMALL = LoadLimits(max_decompressed_bytes=1 * MiB, max_cells=200_000)


def test_a_dictionary_parquet_is_refused_from_its_encoded_dictionaries(tmp_path):
    path = hf.dictionary_parquet(tmp_path, rows=400, value_chars=100_000)  # 40 MB decoded
    assert path.stat().st_size < 20_000
    with pytest.raises(TableReadError, match=r"^'dictionary_bomb.parquet' expands to more than 1 MiB when read, the limit"):
        read_table(path, limits=SMALL, isolate=False)  # refused in this process: nothing was decoded
    assert read_table(path, limits=LoadLimits(max_cell_chars=200_000), isolate=False).shape == (400, 2)


def test_a_million_column_header_is_one_short_line_before_pandas_sees_it(tmp_path):
    path = hf.wide_csv_header(tmp_path, columns=1_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(TableReadError) as refused:
        read_table(path, isolate=False)
    assert str(refused.value) == ("'wide_header.csv' has 1,000,000 columns; the limit is 2,000. Keep only the "
                                  "columns that matter for the question and upload it again.")
    # pandas took 4.3 GB for this header; the bounded count takes about the file's size
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024


def test_xlsx_shared_strings_and_references_are_counted_before_openpyxl(tmp_path):
    strings = hf.shared_strings_bomb(tmp_path, strings=30, chars=50_000)  # 1.5 MB of shared strings
    with pytest.raises(TableReadError, match=r"^'shared_strings_bomb.xlsx' expands to more than 1 MiB"):
        read_table(strings, limits=SMALL, isolate=False)
    references = hf.shared_reference_bomb(tmp_path, rows=100, chars=10_000)  # 2 MB once every cell holds it
    with pytest.raises(TableReadError, match=r"^'shared_reference_bomb.xlsx' expands to more than 1 MiB"):
        read_table(references, limits=SMALL, isolate=False)


def test_an_xlsx_sheet_bomb_is_refused_by_its_real_cell_count(tmp_path):
    path = hf.sheet_bomb(tmp_path, rows=12_000, columns=20)  # 240,000 cells
    with pytest.raises(TableReadError, match=r"^'sheet_bomb.xlsx' has about 2\d\d,\d{3} cells .*the limit is 200,000"):
        read_table(path, limits=LoadLimits(max_cells=200_000), isolate=False)


def test_a_forged_dimension_neither_truncates_nor_hides_columns(tmp_path):
    few = hf.forged_dimension(tmp_path, columns=5, name="five.xlsx")  # declares A1:B2
    df = read_table(few)
    assert list(df.columns) == ["c1", "c2", "c3", "c4", "c5"] and df.shape == (2, 5)
    many = hf.forged_dimension(tmp_path, columns=2_500, name="wide.xlsx")
    with pytest.raises(TableReadError, match=r"^'wide.xlsx' has more than 2,000 columns, the limit"):
        read_table(many, isolate=False)


def test_parquet_and_excel_are_parsed_in_a_child_and_come_back_with_their_types(tmp_path):
    frame = pd.DataFrame({"n": [1.5, None, 3.0], "s": ["a", None, "c"], "k": ["x", "y", "z"],
                          "d": pd.to_datetime(["2024-01-02", None, "2024-03-04"])})
    frame.to_parquet(tmp_path / "t.parquet")
    back = read_table(tmp_path / "t.parquet")
    assert back["n"].dtype == "float64" and back["d"].dtype.kind == "M"
    assert back["s"].isna().tolist() == [False, True, False]
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    excel = read_table(tmp_path / "t.xlsx")
    assert excel["n"].tolist()[::2] == [1.5, 3.0] and excel["n"].isna().tolist() == [False, True, False]


def test_the_child_is_killed_at_the_time_limit_and_this_process_lives_on(tmp_path):
    path = hf.big_csv(tmp_path, megabytes=2.0)
    with pytest.raises(TableReadError, match=r"^Reading 'big.csv' took longer than 0.2 s, the limit\."):
        read_table(path, limits=LoadLimits(max_seconds=0.2))


def test_the_child_stops_at_its_address_space_limit(tmp_path):
    # 11 million short cells, read and typed, need about 1 GB; the checks let them pass
    path = tmp_path / "tall.csv"
    path.write_bytes(b"a,b,c,d,e,f,g,h,i,j,k\n" + b"1,2,3,4,5,6,7,8,9,0,1\n" * 1_000_000)
    limits = LoadLimits(max_memory_bytes=600 * MiB, max_cells=100_000_000)
    with pytest.raises(TableReadError, match=r"^Reading 'tall.csv' needs more than 600 MiB of memory, the limit\."):
        read_table(path, limits=limits)


def test_sizes_are_said_in_the_units_of_the_setting(tmp_path):
    path = hf.big_csv(tmp_path, megabytes=1.2)
    with pytest.raises(TableReadError, match=r"^'big.csv' is 1.2 MiB; the limit is 1 MiB\."):
        read_table(path, limits=LoadLimits(max_bytes=1 * MiB))
    assert tableread.size_text(200 * MiB) == "200 MiB"


def test_a_long_cell_is_refused_with_its_column(tmp_path):
    (tmp_path / "long.csv").write_text("a,b\n1," + "x" * 5_000 + "\n2,y\n")
    with pytest.raises(TableReadError, match=r"^A value in column 'b' of 'long.csv' has 5,000 characters; the limit is 1,000"):
        read_table(tmp_path / "long.csv", limits=LoadLimits(max_cell_chars=1_000))


def test_limits_come_from_the_environment_for_headless_readers():
    limits = tableread.limits_from_env(environ={"BRIEFML_MAX_UPLOAD_MB": "3", "BRIEFML_READ_SECONDS": "7.5"})
    assert (limits.max_bytes, limits.max_seconds) == (3 * MiB, 7.5)
    with pytest.raises(TableReadError, match="BRIEFML_MAX_ROWS must be a positive number, not 'many'"):
        tableread.limits_from_env(environ={"BRIEFML_MAX_ROWS": "many"})


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "briefml.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})}, check=False,
                          cwd=Path(__file__).resolve().parents[2])


def test_briefml_build_counts_loading_inside_its_budget(tmp_path):
    frame = pd.DataFrame({"x": range(200), "label": [i % 2 for i in range(200)]})
    frame.to_parquet(tmp_path / "t.parquet")  # parsed in a child, which takes longer than the budget
    done = _cli("build", str(tmp_path / "t.parquet"), "--intent", "predict label", "--budget", "0.05",
                "--out", str(tmp_path / "m.zip"), env={"BRIEFML_HOME": str(tmp_path / "home")})
    assert done.returncode == 2, done.stderr
    assert " ".join(done.stderr.split()) == (
        "Error: Reading 't.parquet' took longer than 0.05 s, what was left of --budget. "
        "Use a smaller file or a sample of the rows.")
