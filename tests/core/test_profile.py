"""profile_frame: roles, counts, summaries, histograms, duplicates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.profile import is_id_like_name, profile_frame
from core.spec import ColumnRole


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "row": np.arange(1, n + 1),
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "income": rng.normal(50_000, 10_000, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "member": rng.choice([True, False], n),
            "churned": rng.choice([0, 1], n),
            "signup": pd.date_range("2020-01-01", periods=n, freq="D"),
            "comment": [
                f"the service was fine and the staff were helpful on visit {i}" for i in range(n)
            ],
            "country": ["NL"] * n,
            "empty": [np.nan] * n,
        }
    )


def test_roles():
    roles = {c.name: c.role for c in profile_frame(_frame()).column_profiles}
    assert roles == {
        "row": ColumnRole.IDENTIFIER,
        "customer_id": ColumnRole.IDENTIFIER,
        "income": ColumnRole.NUMERIC,  # all different, but a measurement, not a key
        "plan": ColumnRole.CATEGORICAL,
        "member": ColumnRole.BOOLEAN,
        "churned": ColumnRole.BOOLEAN,
        "signup": ColumnRole.DATETIME,
        "comment": ColumnRole.TEXT,
        "country": ColumnRole.CONSTANT,
        "empty": ColumnRole.CONSTANT,
    }


def test_counts_and_summaries():
    df = _frame()
    df.loc[:49, "income"] = np.nan
    profile = profile_frame(df)
    assert (profile.rows, profile.columns) == (200, 10)
    income = profile.column("income")
    assert income.missing_share == 0.25 and income.unique_count == 150
    assert income.min <= income.median <= income.max and income.std > 0
    assert sum(count for _, _, count in income.histogram) == 150
    plan = profile.column("plan")
    assert {v for v, _ in plan.top_values} == {"basic", "plus", "pro"}
    assert sum(c for _, c in plan.top_values) == 200
    assert profile.column("empty").missing_share == 1.0
    assert profile.column("signup").min.startswith("2020-01-01")
    assert profile.column("comment").mean_text_length > 40
    assert profile.memory_bytes > 0


def test_duplicate_rows_are_counted():
    df = pd.DataFrame({"a": [1, 1, 2, 1], "b": ["x", "x", "y", "x"]})
    assert profile_frame(df).duplicate_rows == 2


def test_numeric_codes_that_repeat_are_not_identifiers():
    df = pd.DataFrame({"store": np.tile(np.arange(10), 10), "sales": np.arange(100) * 1.5})
    roles = {c.name: c.role for c in profile_frame(df).column_profiles}
    assert roles == {"store": ColumnRole.NUMERIC, "sales": ColumnRole.NUMERIC}


def test_id_like_names():
    assert all(map(is_id_like_name, ["id", "customer_id", "CustomerID", "uuid", "order_no"]))
    assert not any(map(is_id_like_name, ["paid", "valid", "idea", "width"]))


def test_large_frame_profiles():
    rng = np.random.default_rng(1)
    n = 200_000
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 50, n),
            "c": pd.Series(rng.choice(["a", "b", "c"], n), dtype="str"),
        }
    )
    profile = profile_frame(df)
    assert profile.rows == n and profile.column("k").unique_count == 50
