"""Failure analysis and the stress test (core.trust) on small real models."""

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from core.planning.report import failure_lines
from core.trust.failures import analyse_failures, failure_sentences, worst_slices
from core.trust.stress import flagged, stress_test
from tests.core import model_factories as mf


def _answers_table(spelling_decides: bool, n: int = 400) -> pd.DataFrame:
    """'answer' holds 'Yes', 'yes' and 'No'. Planted: the spelling 'Yes' (not 'yes') decides
    the target, so a model leans on case. Robust: the target follows x1 only."""
    rng = np.random.default_rng(0)
    answer = rng.choice(["Yes", "yes", "No"], n)
    x1, colour = rng.normal(size=n), rng.choice(["red", "green", "blue"], n)
    signal = answer == "Yes" if spelling_decides else x1 > 0
    target = np.where(signal ^ (rng.random(n) < 0.05), "buy", "skip")
    return pd.DataFrame({"answer": answer, "x1": x1, "colour": colour, "outcome": target})


def _answers_model(spelling_decides: bool):
    df = _answers_table(spelling_decides)
    schema = mf.schema_for(df, "outcome", "binary",
                           {"answer": "categorical", "x1": "numeric", "colour": "categorical"})
    model = mf.model_of(schema, mf.catboost_member(df, schema, iterations=60),
                        mf.sklearn_member(df, schema, LogisticRegression(max_iter=500)))
    return model, df


def _check(stress: dict, name: str, column: str) -> dict:
    return next(r for r in stress["checks"] if r["check"] == name and r["column"] == column)


def test_stress_test_finds_a_model_that_leans_on_one_spelling():
    model, df = _answers_model(spelling_decides=True)
    stress = stress_test(model, df.drop(columns="outcome"), seed=0)

    case = _check(stress, "case change", "answer")
    assert case["runs"] and case["known_variant_rows"] > 0
    assert case["verdict"] == "fragile" and case["known_variant"]["changed_labels"] > 0.5
    assert stress["most_fragile"]["column"] == "answer"
    assert [(r["check"], r["column"]) for r in flagged(stress)] == [("case change", "answer")]
    assert any("normalise case" in s and "'answer'" in s for s in stress["suggestions"])
    # the noise column and spelling-preserving changes stay calm
    assert _check(stress, "extra spaces", "answer")["verdict"] == "robust"
    assert _check(stress, "reordered columns", "")["movement"] == 0


def test_stress_test_does_not_flag_a_robust_model():
    model, df = _answers_model(spelling_decides=False)
    stress = stress_test(model, df.drop(columns="outcome"), seed=0)

    case = _check(stress, "case change", "answer")
    assert case["known_variant_rows"] > 0  # 'Yes' <-> 'yes' really was tried
    assert case["verdict"] == "robust"
    assert flagged(stress) == []
    assert stress["most_fragile"]["column"] == "x1"  # losing the one real input moves it
    assert not stress["skipped"] and all(r["runs"] for r in stress["checks"])
    checks = {r["check"] for r in stress["checks"]}
    assert {"typo", "unseen category", "missing", "out of range", "extra columns"} <= checks


def test_a_check_that_breaks_prediction_is_reported_not_raised():
    model, df = _answers_model(spelling_decides=False)

    class BreaksOnNewCategories:
        schema = model.schema

        def predict_table(self, table):
            if table["colour"].astype(str).str.contains("never-seen").any():
                raise ValueError("unknown colour")
            return model.predict_table(table)

    stress = stress_test(BreaksOnNewCategories(), df.drop(columns="outcome"), seed=0)
    broken = _check(stress, "unseen category", "colour")
    assert broken["runs"] is False and "unknown colour" in broken["error"]
    assert _check(stress, "typo", "colour")["runs"]  # the batch was retried check by check
    assert stress["most_fragile"]["verdict"] == "breaks"


def test_stress_test_stops_at_its_deadline():
    model, df = _answers_model(spelling_decides=False)
    stress = stress_test(model, df.drop(columns="outcome"), seed=0, deadline=0.0)
    assert stress["checks"] == [] and "case change (answer)" in stress["skipped"]
    assert "did not run: the time budget was used up" in " ".join(failure_lines({"stress": stress}))


def test_a_stress_test_short_of_time_still_runs_one_small_batch_of_column_checks():
    model, df = _answers_model(spelling_decides=True)
    predict = model.predict_table

    def slow_first_call(rows, **kw):  # the clean rows' prediction uses up the time left
        time.sleep(0.6)
        model.predict_table = predict
        return predict(rows, **kw)

    model.predict_table = slow_first_call
    # a deadline the clean call runs past, whatever the machine's load before it
    stress = stress_test(model, df.drop(columns="outcome"), seed=0, deadline=time.monotonic() + 0.5)
    assert stress["rows"] == 30  # fewer rows rather than no checks
    assert stress["skipped"] == ["extra columns", "reordered columns"]
    assert _check(stress, "case change", "answer")["verdict"] == "fragile"  # still found


def test_stress_test_calls_grow_only_from_calls_timed(monkeypatch):
    """A call of a few clean rows says little of what 20,000 rows cost (digits: three
    10-class members took 11 s for a test kept to 2 s), so each prediction call holds at most
    BATCH_GROWTH times the rows of the last call timed (at least CALL_ROWS)."""
    from core.trust import stress as stress_module

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(300, 40)), columns=[f"p{i}" for i in range(40)])
    df["outcome"] = np.where(df["p0"] > 0, "a", "b")
    schema = mf.schema_for(df, "outcome", "binary", {f"p{i}": "numeric" for i in range(40)})
    model = mf.model_of(schema, mf.sklearn_member(df, schema, LogisticRegression(max_iter=200)))
    calls = []
    predict = model.predict_table
    monkeypatch.setattr(model, "predict_table", lambda rows, **kw: (calls.append(len(rows)),
                                                                     predict(rows, **kw))[1])
    stress = stress_test(model, df.drop(columns="outcome"), seed=0, deadline=time.monotonic() + 600)
    assert not stress["skipped"] and len(calls) > 2
    for before, after in zip(calls, calls[1:]):
        assert after <= stress_module.BATCH_GROWTH * max(before, stress_module.CALL_ROWS
                                                          // stress_module.BATCH_GROWTH)


def test_worst_slices_find_a_planted_bad_group_and_a_bad_number_range():
    rng = np.random.default_rng(1)
    n = 400
    raw = pd.DataFrame({"region": rng.choice(["north", "south", "east", "west"], n),
                        "size": rng.uniform(0, 100, n)})
    schema = mf.schema_for(raw.assign(y=0.0), "y", "regression",
                           {"region": "categorical", "size": "numeric"})
    errors = np.abs(rng.normal(1.0, 0.2, n))
    errors[raw["region"].to_numpy() == "north"] *= 3
    errors[raw["size"].to_numpy() > 75] *= 1.8
    slices = worst_slices(schema, raw, errors)

    assert slices[0]["slice"] == "region = north" and slices[0]["clearly_worse"]
    assert slices[0]["rows"] == int((raw["region"] == "north").sum())
    assert slices[0]["error"] > 2 * slices[0]["whole"]
    top_bin = next(s for s in slices if s["column"] == "size")
    assert top_bin["clearly_worse"] and top_bin["slice"].endswith(f"– {raw['size'].max():.4g}")
    assert all(s["rows"] >= 20 for s in slices)  # 5% of 400: no tiny, noisy groups


def test_failure_analysis_of_a_classifier_names_rows_pairs_and_pushes(penguins):
    df, schema = penguins
    train, test = df.iloc[::2], df.iloc[1::2].reset_index(drop=True)
    member = mf.catboost_member(train, schema, iterations=20)
    model = mf.model_of(schema, member)
    output = model.predict_proba(test)
    y = mf.labels(test, schema)
    result = analyse_failures(schema=schema, raw_test=test, y_test=y, output=output,
                              explainer=[(1.0, [member])])

    wrong = int((output.argmax(axis=1) != y).sum())
    assert wrong > 0 and sum(p["rows"] for p in result["confusion_pairs"]) == wrong
    worst = result["worst_rows"][0]
    assert worst["actual"] != worst["predicted"]
    assert worst["error"] == pytest.approx(1 - output[worst["row"], schema["classes"].index(worst["actual"])])
    assert worst["values"]["island"] == test.at[worst["row"], "island"]
    # every named column pushed the probability of the true class down
    assert worst["pushed_wrong_by"] and all(p["contribution"] < 0 for p in worst["pushed_wrong_by"])
    assert worst["explained_share"] == 1.0
    words = " ".join(failure_sentences(result))
    assert f"'{result['confusion_pairs'][0]['actual']}' predicted as" in words
