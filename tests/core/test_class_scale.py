"""The class a model predicts is the likeliest of the probabilities it shows.

A multiclass calibrator calibrates each class one-vs-rest and rescales the rows, so it can
rank another class first than the ensemble did. The class is therefore taken on the
calibrated probabilities (schema "class_scale": "calibrated"): in the in-memory model, a
loaded bundle and the bundle's own predict.py; a build measures its held-out metrics on
them. Naive Bayes on four overlapping classes with redundant columns is overconfident, so a
Platt calibrator is chosen every time (the choice is not left to timing), and it reorders
the classes of some rows (checked: otherwise these tests could not tell the scales apart).
Bundles from before the scale was recorded keep taking the class before calibration.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.tasks import load_task
from core import runtime
from core.build import build_model
from core.bundle import build_bundle, load_bundle
from core.reproducibility import ReplayPlanner
from core.spec import Candidate, SearchPlan
from core.trust.failures import row_errors
from tests.core import model_factories as mf


@pytest.fixture(scope="module")
def calibrated():
    return mf.calibrated_multiclass_naive_bayes()


def _likeliest_shown(proba: np.ndarray, classes) -> np.ndarray:
    return np.asarray(classes, dtype=object)[proba.argmax(axis=1)]


def test_the_calibrator_reorders_classes_here_so_the_checks_below_can_fail(calibrated):
    model, rows = calibrated
    assert model.reliability["calibrator"]["kind"] == "platt"
    reordered = model.raw_output(rows).argmax(axis=1) != model.predict_proba(rows).argmax(axis=1)
    assert reordered.sum() >= 3


def test_the_model_predicts_the_likeliest_class_it_shows(calibrated):
    model, rows = calibrated
    assert model.schema["class_scale"] == "calibrated"
    expected = _likeliest_shown(model.predict_proba(rows), model.classes_)
    assert (model.predict(rows) == expected).all()
    table, _ = model.predict_table(rows)
    shown = table[[f"proba_{c}" for c in model.classes_]].to_numpy()
    assert (table[model.target].to_numpy() == _likeliest_shown(shown, model.classes_)).all()
    assert (table[model.target].to_numpy() == expected).all()
    # a prediction set always holds the class predicted, so it is built from the same call
    assert all(label in cell.split(runtime.SET_SEPARATOR)
               for label, cell in zip(table[model.target], table["set"], strict=True))


def test_a_bundle_and_its_own_predict_py_predict_the_likeliest_class_they_show(calibrated, tmp_path):
    model, rows = calibrated
    expected = _likeliest_shown(model.predict_proba(rows), model.classes_)
    path = build_bundle(model, tmp_path / "model.zip")
    bundle = load_bundle(path).model
    assert bundle.schema["class_scale"] == "calibrated"
    assert (bundle.predict(rows) == expected).all()
    out = mf.predict_py_table(path, rows, model.target, tmp_path)
    shown = out[[f"proba_{c}" for c in model.classes_]].to_numpy()
    assert (out[model.target].to_numpy() == _likeliest_shown(shown, model.classes_)).all()
    assert (out[model.target].to_numpy() == expected).all()


def test_the_failure_analysis_reads_rows_as_the_bundle_predicts_them(calibrated):
    model, rows = calibrated
    y = mf.labels(rows, model.schema)
    _, predicted, _ = row_errors(model.schema, y, model.raw_output(rows),
                                 model.reliability["calibrator"])
    assert (np.asarray(model.classes_, dtype=object)[predicted] == model.predict(rows)).all()


def test_an_old_bundle_without_a_class_scale_still_predicts_before_calibration(calibrated, tmp_path):
    # bundles from before the scale was recorded took the likeliest class of the raw output
    model, rows = calibrated
    bundle = mf.bundle_without(model, "class_scale", tmp_path / "old.zip")
    raw = _likeliest_shown(model.raw_output(rows), model.classes_)
    assert (bundle.predict(rows) == raw).all()
    assert np.allclose(bundle.predict_proba(rows), model.predict_proba(rows))


def test_a_class_on_an_unknown_scale_is_refused(calibrated):
    model, _ = calibrated
    with pytest.raises(runtime.BundleIntegrityError, match="choice of class on scale 'logit'"):
        runtime.validate_schema({**model.schema, "class_scale": "logit"})


def test_an_onnx_export_says_its_likeliest_class_is_not_the_bundles(calibrated, tmp_path):
    model, _ = calibrated
    caveats, metadata = mf.onnx_export(model, tmp_path)
    assert any("platt calibrator" in c and "likeliest after calibration" in c
               for c in caveats), caveats
    assert json.loads(metadata["class_scale"]) == "calibrated"


def test_a_build_measures_its_held_out_figures_on_what_the_bundle_outputs(monkeypatch):
    # seattle_weather: before the class was taken after calibration, 46 and 50 of its 1,461
    # rows (two builds) were predicted as a class that was not the likeliest shown
    monkeypatch.setattr("core.trust.reliability.choose_calibrator", mf.platt_when_none_helps)
    df, task = load_task("seattle_weather")
    quick = SearchPlan(candidates=[Candidate(estimator="hist_gradient_boosting", params={"max_iter": 60}),
                                   Candidate(estimator="linear")], validation="cv3", budget_seconds=8)
    result = build_model(df, task["brief"], budget_seconds=8, seed=0, spec_overrides=quick,
                          planner=ReplayPlanner())
    model = result.model
    assert model.reliability["calibrator"]["kind"] in ("platt", "isotonic")
    assert model.schema["class_scale"] == "calibrated"
    table, _ = model.predict_table(df.drop(columns=[task["target"]]))
    shown = table[[f"proba_{c}" for c in model.classes_]].to_numpy()
    assert (table[task["target"]].to_numpy() == _likeliest_shown(shown, model.classes_)).all()
    # the held-out log loss is the calibrated probabilities', and the confusion matrix holds
    # the classes the held-out accuracy counts
    calibration = model.reliability["holdout"]["calibration"]
    assert result.holdout_metrics["log_loss"] == pytest.approx(calibration["after"]["log_loss"])
    matrix = np.array(result.confusion["matrix"])
    assert np.trace(matrix) / matrix.sum() == pytest.approx(result.holdout_metrics["accuracy"])
    assert "decision_threshold" not in result.confusion
    assert "decided on the recalibrated probabilities" in result.report


def test_a_row_is_explained_for_the_class_it_is_predicted(calibrated):
    from core.explain import explain_model, explain_row

    model, rows = calibrated
    reordered = rows[model.raw_output(rows).argmax(axis=1) != model.predict_proba(rows).argmax(axis=1)]
    explanation = explain_model(model, rows, max_rows=10)
    for i in range(3):
        explained = explain_row(model, reordered.iloc[[i]], explanation=explanation)
        assert explained["explained_class"] == explained["prediction"]
    contributions = runtime.explain_frame(model.members, model.feature_frame(reordered)[0],
                                          model.schema, explanation["references"])
    table = runtime.explanation_table(contributions, model.schema, reordered.index,
                                      model.reliability["calibrator"])
    assert (table["shap_class"].to_numpy() == model.predict(reordered)).all()
