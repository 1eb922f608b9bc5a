"""bench/compare.py's splits: a forward split tests on the latest rows, whatever the seed,
and a peer row run on one split is never reused for another."""

import pandas as pd

from bench.compare import _reused
from bench.tasks import split_task

TASK = {"target": "y", "kind": "regression"}


def _table():
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    return pd.DataFrame({"when": days[::-1].astype(str), "y": range(40)})  # newest first


def test_a_forward_split_holds_out_the_latest_quarter_for_every_seed():
    df = _table()
    for seed in (0, 1):
        train, test = split_task(df, TASK, seed, forward="when")
        assert len(test) == 10 and len(train) == 30
        assert pd.to_datetime(train["when"]).max() < pd.to_datetime(test["when"]).min()
    random_train, _ = split_task(df, TASK, 0)
    assert not random_train["when"].is_monotonic_increasing  # the random split is unchanged


def test_a_peer_row_is_reused_only_on_the_same_split():
    row = {"task": "t", "seed": 0, "tool": "catboost", "budget": 60.0, "score": 1.0,
           "leaks": [], "known": [], "forward": ["when"]}
    same = {"leaks": [], "known": [], "forward": ["when"]}
    assert _reused([row], "t", 0, "catboost", 60.0, same)["score"] == 1.0
    assert _reused([row], "t", 0, "catboost", 60.0, {**same, "forward": []}) is None


def test_rows_without_a_target_are_left_out_of_both_sides():
    """Nothing can score a prediction of a row whose target is missing (acs12's income)."""
    df = _table().astype({"y": "float64"})
    df.loc[[3, 17, 30], "y"] = float("nan")
    for forward in (None, "when"):
        train, test = split_task(df, TASK, 0, forward=forward)
        assert len(train) + len(test) == 37
        assert train["y"].notna().all() and test["y"].notna().all()
