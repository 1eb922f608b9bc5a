import numpy as np
import pandas as pd
import pytest

from core.evaluate import baseline_output, bootstrap_intervals, evaluate_holdout

SCHEMA = {"target": "y", "task_type": "binary", "classes": ["no", "yes"],
          "columns": [{"name": "colour", "kind": "categorical"}, {"name": "x", "kind": "numeric"}]}


def _binary_case(n=400):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    p = np.clip(0.25 + 0.5 * y + rng.normal(scale=0.2, size=n), 0.01, 0.99)
    raw = pd.DataFrame({"colour": rng.choice(["red", "blue", "green"], n), "x": rng.normal(size=n)})
    return y, np.column_stack([1 - p, p]), raw


def test_baseline_predicts_the_training_class_shares_and_mean():
    out = baseline_output(np.array([0, 0, 0, 1]), 3, "binary", 2)
    assert out.shape == (3, 2) and np.allclose(out[0], [0.75, 0.25])
    assert np.allclose(baseline_output(np.array([1.0, 3.0]), 2, "regression", 0), 2.0)


def test_classification_evaluation_has_metrics_baseline_intervals_and_curves():
    y, output, raw = _binary_case()
    result = evaluate_holdout(schema=SCHEMA, metric="roc_auc", y_test=y, output=output,
                              y_train=np.array([0, 1, 1]), raw_test=raw, seed=0, n_boot=50)
    metrics, base = result["holdout_metrics"], result["baseline_metrics"]
    assert metrics["roc_auc"] > 0.9 and base["roc_auc"] == pytest.approx(0.5)
    # the baseline always says "yes" (2 of its 3 training rows), the model thresholds p
    assert base["accuracy"] == pytest.approx(np.mean(y == 1))
    assert metrics["accuracy"] == pytest.approx(np.mean(output.argmax(axis=1) == y))
    assert metrics["accuracy"] > base["accuracy"] + 0.3
    low, high = result["confidence_intervals"]["roc_auc"]
    assert low <= metrics["roc_auc"] <= high and 0 <= low < high <= 1
    matrix = np.array(result["details"]["confusion_matrix"]["matrix"])
    assert matrix.sum() == len(y) and matrix.shape == (2, 2)
    curves = result["details"]["curves"]["yes"]
    assert curves["roc"]["fpr"][0] == 0.0 and curves["roc"]["tpr"][-1] == 1.0
    assert len(curves["calibration"]["mean_predicted"]) >= 2
    colour = result["slices"]["colour"]
    assert {s["value"] for s in colour} == {"red", "blue", "green"}
    assert sum(s["rows"] for s in colour) == len(y) and all("roc_auc" in s for s in colour)


def test_regression_evaluation_has_residuals():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    pred = y + rng.normal(scale=0.3, size=200)
    schema = {"target": "y", "task_type": "regression", "columns": [{"name": "x", "kind": "numeric"}]}
    result = evaluate_holdout(schema=schema, metric="rmse", y_test=y, output=pred, y_train=y,
                              raw_test=pd.DataFrame({"x": y}), n_boot=50)
    assert result["holdout_metrics"]["rmse"] < result["baseline_metrics"]["rmse"]
    residuals = result["details"]["residuals"]
    assert len(residuals["sample"]["residual"]) == 200
    assert sum(b[2] for b in residuals["histogram"]) == 200


def test_bootstrap_is_reproducible_with_a_seed():
    y, output, _ = _binary_case(100)
    first = bootstrap_intervals("binary", y, output, 2, seed=3, n_boot=40)
    assert first == bootstrap_intervals("binary", y, output, 2, seed=3, n_boot=40)
    assert set(first) >= {"accuracy", "roc_auc"}
