import copy
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB

from core import runtime
from core.explain import explain_model, explain_row
from tests.core import model_factories as mf

ROWS = 60  # explained rows per test: enough to exercise everything, cheap on 2 cores


def _models(penguins, cancer, diabetes):
    pdf, pschema = penguins
    cdf, cschema = cancer
    ddf, dschema = diabetes
    return {
        "multiclass catboost (text, datetime)": (pdf, mf.model_of(pschema, mf.catboost_member(pdf, pschema))),
        "multiclass logistic (one-hot, tf-idf)": (
            pdf, mf.model_of(pschema, mf.sklearn_member(pdf, pschema, LogisticRegression(max_iter=500)))),
        "multiclass ensemble": (pdf, mf.model_of(
            pschema,
            mf.catboost_member(pdf, pschema, weight=0.5),
            mf.sklearn_member(pdf, pschema, RandomForestClassifier(n_estimators=15, random_state=0), weight=0.3),
            mf.sklearn_member(pdf, pschema, LogisticRegression(max_iter=500), weight=0.2),
        )),
        "binary ensemble": (cdf, mf.model_of(
            cschema,
            mf.catboost_member(cdf, cschema, weight=2.0),
            mf.sklearn_member(cdf, cschema, HistGradientBoostingClassifier(max_iter=20), weight=1.0),
            mf.sklearn_member(cdf, cschema, LogisticRegression(max_iter=1000), weight=1.0),
        )),
        "binary lightgbm": (cdf, mf.model_of(cschema, mf.lightgbm_member(cdf, cschema))),
        "multiclass lightgbm (text left out)": (pdf, mf.model_of(pschema, mf.lightgbm_member(pdf, pschema))),
        "multiclass naive Bayes (permutation fallback)": (
            pdf, mf.model_of(pschema, mf.sklearn_member(pdf, pschema, GaussianNB()))),
        "regression ensemble": (ddf, mf.model_of(
            dschema, mf.catboost_member(ddf, dschema), mf.sklearn_member(ddf, dschema, Ridge()))),
    }


@pytest.fixture(scope="module")
def models(penguins, cancer, diabetes):
    return _models(penguins, cancer, diabetes)


@pytest.mark.parametrize("case", [
    "multiclass catboost (text, datetime)", "multiclass logistic (one-hot, tf-idf)",
    "multiclass ensemble", "binary ensemble", "regression ensemble", "binary lightgbm",
    "multiclass lightgbm (text left out)", "multiclass naive Bayes (permutation fallback)",
])
def test_shap_values_plus_expected_value_add_up_to_the_model_output(models, case):
    df, model = models[case]
    rows = df.iloc[:12] if "permutation" in case else df.iloc[:ROWS]
    explanation = explain_model(model, rows, max_rows=ROWS)
    frame, _ = model.feature_frame(rows)
    contrib = runtime.explain_frame(model.members, frame, model.schema, explanation["references"])
    output = model.raw_output(rows)
    output = output.reshape(-1, 1) if output.ndim == 1 else output
    np.testing.assert_allclose(contrib.base + contrib.values.sum(axis=1), output, atol=1e-8, rtol=1e-8)
    # and the summary's expected value is that same base
    expected = explanation["expected_value"]
    base = [expected] if isinstance(expected, float) else list(expected.values())
    np.testing.assert_allclose(base, contrib.base)


def test_importance_is_by_original_column_with_one_hot_and_text_summed_back(models, penguins):
    df, model = models["multiclass logistic (one-hot, tf-idf)"]
    explanation = explain_model(model, df, max_rows=ROWS)
    columns = [item["column"] for item in explanation["importance"]]
    assert sorted(columns) == sorted(runtime.input_columns(model.schema))
    scores = [item["mean_abs_shap"] for item in explanation["importance"]]
    assert scores == sorted(scores, reverse=True)
    by_name = {item["column"]: item["mean_abs_shap"] for item in explanation["importance"]}
    # one-hot (island) and TF-IDF (field_note) features land on their column and count
    assert by_name["island"] > 0 and by_name["field_note"] > 0
    # datetime parts are summed back too: the random date carries no signal
    assert by_name["observed"] < by_name["bill_length_mm"]


def test_explanation_is_sampled_recorded_and_json_safe(models):
    df, model = models["multiclass ensemble"]
    explanation = explain_model(model, df, seed=3, max_rows=40)
    assert explanation["sample_size"] == 40
    assert explanation["rows_available"] == len(df)
    assert any("40 of" in note for note in explanation["notes"])
    json.dumps(explanation, allow_nan=False)
    top = explanation["top_features"]
    assert explanation["beeswarm"]["columns"] == top
    assert all(len(explanation["beeswarm"]["shap"][c]) == 40 for c in top)
    assert [d["column"] for d in explanation["dependence"]] == top[:3]
    assert set(explanation["importance_by_class"]) == set(model.classes_)
    again = explain_model(model, df, seed=3, max_rows=40)
    assert again["importance"] == explanation["importance"]


def test_strong_signal_outranks_noise():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"signal": rng.normal(size=300), "noise": rng.normal(size=300),
                       "colour": rng.choice(["red", "blue"], size=300)})
    df["y"] = 5 * df["signal"] + rng.normal(scale=0.1, size=300)
    schema = mf.schema_for(df, "y", "regression", {"signal": "numeric", "noise": "numeric", "colour": "categorical"})
    model = mf.model_of(schema, mf.catboost_member(df, schema), mf.sklearn_member(df, schema, Ridge()))
    ranking = [item["column"] for item in explain_model(model, df, max_rows=100)["importance"]]
    assert ranking[0] == "signal"


def test_row_explanation_is_a_waterfall_to_the_probability_of_the_positive_class(models):
    df, model = models["binary ensemble"]
    explanation = explain_model(model, df, max_rows=ROWS)
    row = df.iloc[[7]]
    waterfall = explain_row(model, row, explanation=explanation)
    assert waterfall["explained_class"] == model.classes_[1]
    assert waterfall["output"] == pytest.approx(model.predict_proba(row)[0, 1], abs=1e-9)
    assert waterfall["base_value"] + sum(c["contribution"] for c in waterfall["contributions"]) == pytest.approx(
        waterfall["output"], abs=1e-12)
    sizes = [abs(c["contribution"]) for c in waterfall["contributions"]]
    assert sizes == sorted(sizes, reverse=True)
    assert waterfall["prediction"] == model.predict(row)[0]


def test_row_explanation_of_multiclass_explains_the_predicted_class(models):
    df, model = models["multiclass catboost (text, datetime)"]
    row = df.iloc[[200]]
    waterfall = explain_row(model, row)
    assert waterfall["explained_class"] == waterfall["prediction"] == model.predict(row)[0]
    assert waterfall["output"] == pytest.approx(model.predict_proba(row).max(), abs=1e-9)


def test_linear_member_without_its_reference_is_refused_with_a_clear_message(models):
    df, model = models["binary ensemble"]
    with pytest.raises(runtime.ExplanationError, match="cannot be explained without its reference"):
        explain_row(model, df.iloc[[0]])


def test_rebased_explanations_start_from_the_average_and_still_add_up(models):
    df, model = models["binary ensemble"]
    frame, _ = model.feature_frame(df.iloc[:ROWS])
    explanation = explain_model(model, df, max_rows=ROWS)
    plain = runtime.explain_frame(model.members, frame, model.schema, explanation["references"])
    average = np.array([0.37, 0.63])
    moved = runtime.rebased(plain, average)
    np.testing.assert_allclose(moved.base, average)
    np.testing.assert_allclose(moved.base + moved.values.sum(axis=1), plain.output, atol=1e-12)
    # where a row's contributions outweigh the shift of the base, no column changes sign
    shift = abs(plain.base[1] - average[1])
    large = np.abs(plain.values[:, :, 1]).sum(axis=1) > shift
    same_sign = np.sign(moved.values[large, :, 1]) * np.sign(plain.values[large, :, 1]) >= 0
    assert large.any() and same_sign.all()


def test_explaining_within_seconds_grows_past_the_pilot_and_takes_rows_in_order(models):
    df, model = models["binary ensemble"]
    explanation = explain_model(model, df, max_rows=300, seconds=30.0, held_out_rows=100)
    assert explanation["sample_size"] == 300  # a pilot's overhead no longer caps it at a few dozen
    assert explanation["held_out_rows"] == 100
    assert explanation["notes"][0] == ("SHAP values computed on 300 of 569 rows: 100 held-out "
                                       "row(s) and 200 training row(s).")
    assert explanation["beeswarm"]["values"][explanation["top_features"][0]] == \
        [runtime_value for runtime_value in df[explanation["top_features"][0]].iloc[:300]]
    hurried = explain_model(model, df, max_rows=300, seconds=0.0)
    assert hurried["sample_size"] == 10  # the pilot, and nothing more when no time is left


def test_a_schema_with_the_models_average_explains_from_it(models):
    df, model = models["binary ensemble"]
    average = model.raw_output(df).mean(axis=0)
    schema = {**model.schema, "average_output": average.tolist()}
    explanation = explain_model(model, df, max_rows=ROWS)
    bundle = runtime.BundleModel(schema, model.members, {}, {}, explanation["references"])
    table = bundle.explain_table(df.iloc[:5])  # what a bundle's predict.py --explain writes
    assert table["shap_base"].tolist() == pytest.approx([average[1]] * 5)
    shap_sum = table.filter(like="shap_").drop(columns=["shap_class", "shap_base"]).sum(axis=1)
    proba = bundle.predict_table(df.iloc[:5])[0].filter(like="proba_").iloc[:, 1]
    assert (table["shap_base"] + shap_sum).tolist() == pytest.approx(proba.tolist(), abs=1e-9)


class _FakeClock:
    def __init__(self):
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


def test_explaining_in_time_stops_by_its_deadline_when_the_first_chunk_pays_one_off_costs(
        models, monkeypatch):
    """The first call builds the tree explainers (seconds for a big forest), later calls cost
    a little per call and per row: that first cost must not pass for overhead that makes
    rows look free, which once sent a build's explanation far past its time."""
    from core import explain

    _, model = models["binary ensemble"]
    clock = _FakeClock()
    calls = []

    def explain_frame(members, frame, schema, references=None, explainers=None):
        clock.now += (2.0 if not calls else 0.05) + 0.01 * len(frame)
        calls.append(len(frame))
        k = len(schema["classes"])
        return runtime.Contributions(["a"], np.zeros(k), np.zeros((len(frame), 1, k)),
                                     np.zeros((len(frame), k)), "probability")

    monkeypatch.setattr(explain, "time", clock)
    monkeypatch.setattr(explain.runtime, "explain_frame", explain_frame)
    frame = pd.DataFrame({"a": np.zeros(1000)})
    contrib = explain._explain_in_time(model, model.members, frame, {}, seconds=6.0)
    assert clock.now - 100.0 <= 6.0
    assert len(contrib.values) == sum(calls) > 10 * explain.PILOT_ROWS  # it still grew


def test_a_member_shipped_as_fold_models_is_explained_through_one_of_them(models, monkeypatch):
    """k fold models of a forest each pay their SHAP set-up: a build explains one model of
    each member, with the member's whole weight, and says so; without a time limit, every
    model is explained."""
    from core import explain

    df, model = models["binary ensemble"]
    cat, hist, linear = model.members
    folds = copy.copy(model)
    folds.members = [runtime.Member(cat.kind, cat.estimator, 0.2, f"t001/fold{i}") for i in range(5)] + [
        runtime.Member(hist.kind, hist.estimator, 0.5, "t002"),
        runtime.Member(linear.kind, linear.estimator, 0.25, "t003/fold0"),
        runtime.Member(linear.kind, linear.estimator, 0.25, "t003/fold1")]
    seen = []
    real = runtime.explain_frame

    def explain_frame(members, *args, **kwargs):
        seen.append([(m.name, m.weight) for m in members])
        return real(members, *args, **kwargs)

    monkeypatch.setattr(explain.runtime, "explain_frame", explain_frame)
    timed = explain_model(folds, df, max_rows=50, seconds=30.0)
    assert seen[0] == [("t001/fold0", 1.0), ("t002", 0.5), ("t003/fold0", 0.5)]
    assert explain.FOLD_MODELS_NOTE in timed["notes"]
    assert len(timed["members"]) == 8  # the explanation still lists what ships
    seen.clear()
    untimed = explain_model(folds, df, max_rows=50)
    assert len(seen[0]) == 8 and explain.FOLD_MODELS_NOTE not in untimed["notes"]
