"""The version diff, as pure logic: a removed leak and a changed budget show as changes."""

from __future__ import annotations

from workspace.version_diff import VersionRecord, diff_records


def record(version: int, **changes) -> VersionRecord:
    base = {
        "version": version, "brief": "who will cancel?", "target": "churned", "task_type": "binary",
        "metric": "roc_auc", "dataset": "customers v1", "planner": "offline", "budget_seconds": 60.0,
        "features": ("tenure", "plan", "cancel_request_filed"), "excluded": {"id": "identifier"},
        "holdout": {"roc_auc": 0.986, "accuracy": 0.97}, "intervals": {"roc_auc": [0.98, 0.99]},
        "importance": {"cancel_request_filed": 0.9, "tenure": 0.1},
    }
    return VersionRecord(**{**base, **changes})


def test_a_removed_leak_and_a_new_budget_are_the_changes():
    before = record(1)
    after = record(
        2, budget_seconds=120.0,
        features=("tenure", "plan"),
        excluded={"id": "identifier", "cancel_request_filed": "leakage suspect: 98% agreement"},
        holdout={"roc_auc": 0.78, "accuracy": 0.74}, intervals={"roc_auc": [0.74, 0.82]},
        importance={"tenure": 0.5, "plan": 0.2},
    )
    diff = diff_records(before, after)
    assert diff.settings == [{"what": "budget (s)", "before": 60.0, "after": 120.0}]
    assert diff.columns == [{"column": "cancel_request_filed", "before": "used",
                             "after": "left out (leakage suspect: 98% agreement)"}]
    assert [m["metric"] for m in diff.metrics] == ["roc_auc", "accuracy"]
    assert diff.metrics[0]["before interval"] == [0.98, 0.99]
    assert diff.importance[0]["column"] == "cancel_request_filed"  # the largest change first
    assert diff.importance[0]["change"] == -0.9


def test_identical_versions_differ_in_nothing_but_their_number():
    diff = diff_records(record(1), record(2))
    assert diff.settings == [] and diff.columns == []
    assert all(row["change"] == 0 for row in diff.importance)


def test_a_version_without_an_explanation_has_no_change_in_importance():
    # e.g. a small budget used up before the model could be explained
    diff = diff_records(record(1, importance={}), record(2))
    assert [(r["column"], r["before"], r["change"]) for r in diff.importance] == [
        ("cancel_request_filed", None, None), ("tenure", None, None)]
