"""A decision threshold and the probabilities a user is shown are on one scale.

Where a calibrator ships, the proba_ columns are calibrated; the threshold is chosen on the
calibrated out-of-fold output and compared with the calibrated output, so a row is called
positive exactly when the probability shown reaches the threshold shown: in the in-memory
model, in a loaded bundle and in the bundle's own predict.py. Naive Bayes on the breast
cancer table is overconfident, so a calibrator is chosen every time (the choice is not left
to timing), and its raw and calibrated outputs fall on different sides of the threshold for
some rows (checked: otherwise these tests could not tell the scales apart).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import runtime
from core.bundle import build_bundle, load_bundle
from core.trust.failures import row_errors
from tests.core import model_factories as mf


@pytest.fixture(scope="module")
def calibrated():
    return mf.calibrated_naive_bayes()


def _called_as_shown(model, rows: pd.DataFrame) -> np.ndarray:
    """The labels the shown probabilities and the shown threshold give."""
    shown = model.predict_proba(rows)[:, 1] >= model.schema["decision_threshold"]
    return np.asarray(model.classes_, dtype=object)[shown.astype(int)]


def test_the_scales_differ_here_so_the_checks_below_can_fail(calibrated):
    model, rows = calibrated
    threshold = model.schema["decision_threshold"]
    raw = model.raw_output(rows)[:, 1] >= threshold
    shown = model.predict_proba(rows)[:, 1] >= threshold
    assert (raw != shown).sum() >= 3


def test_the_model_calls_a_row_positive_when_its_shown_probability_reaches_the_threshold(calibrated):
    model, rows = calibrated
    expected = _called_as_shown(model, rows)
    assert (model.predict(rows) == expected).all()
    table, _ = model.predict_table(rows)
    assert (table[model.target] == expected).all()
    positive = model.classes_[1]
    assert np.allclose(table[f"proba_{positive}"], model.predict_proba(rows)[:, 1])
    # a prediction set always holds the class predicted, so it is built from the same call
    assert all(label in cell.split(runtime.SET_SEPARATOR)
               for label, cell in zip(table[model.target], table["set"], strict=True))


def test_a_bundle_and_its_own_predict_py_call_rows_as_shown(calibrated, tmp_path):
    model, rows = calibrated
    expected = _called_as_shown(model, rows)
    path = build_bundle(model, tmp_path / "model.zip")
    bundle = load_bundle(path).model
    assert bundle.schema["decision_threshold_scale"] == "calibrated"
    assert (bundle.predict(rows) == expected).all()
    assert np.allclose(bundle.predict_proba(rows), model.predict_proba(rows))
    out = mf.predict_py_table(path, rows, model.target, tmp_path)
    positive = model.classes_[1]
    called = out[f"proba_{positive}"] >= model.schema["decision_threshold"] - 1e-12
    assert ((out[model.target] == positive) == called).all()
    assert (out[model.target].to_numpy() == expected).all()


def test_the_failure_analysis_reads_rows_as_the_bundle_gives_them(calibrated):
    model, rows = calibrated
    y = mf.labels(rows, model.schema)
    calibrator = model.reliability["calibrator"]
    missed, predicted, _ = row_errors(model.schema, y, model.raw_output(rows), calibrator)
    assert (np.asarray(model.classes_, dtype=object)[predicted] == model.predict(rows)).all()
    assert np.allclose(missed, 1 - model.predict_proba(rows)[np.arange(len(y)), y])


def test_an_old_bundle_without_a_threshold_scale_still_calls_rows_on_the_raw_output(calibrated, tmp_path):
    # bundles from before the scale was recorded chose their threshold on the raw output
    model, rows = calibrated
    bundle = mf.bundle_without(model, "decision_threshold_scale", tmp_path / "old.zip")
    raw = model.raw_output(rows)[:, 1] >= model.schema["decision_threshold"]
    assert (bundle.predict(rows) == np.asarray(model.classes_, dtype=object)[raw.astype(int)]).all()


def test_a_threshold_on_an_unknown_scale_is_refused(calibrated):
    model, _ = calibrated
    with pytest.raises(runtime.BundleIntegrityError, match="decision threshold on scale 'logit'"):
        runtime.validate_schema({**model.schema, "decision_threshold_scale": "logit"})


def test_an_onnx_export_says_its_probabilities_are_before_the_calibrator(calibrated, tmp_path):
    model, _ = calibrated
    caveats, metadata = mf.onnx_export(model, tmp_path)
    kind = model.reliability["calibrator"]["kind"]
    assert any(f"{kind} calibrator" in c and "decision threshold applies to the calibrated" in c
               for c in caveats), caveats
    assert json.loads(metadata["decision_threshold_scale"]) == "calibrated"
    assert json.loads(metadata["decision_threshold"]) == model.schema["decision_threshold"]
