"""Honest evaluation on the held-out split: metrics, a naive baseline, bootstrap intervals,
curves, confusion matrix or residuals, and per-slice metrics.

Everything returned is plain JSON (dicts, lists, floats, None), ready to store.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

from core import metrics
from core.runtime import _to_category

MAX_CURVE_POINTS = 200
MAX_RESIDUAL_POINTS = 1000
MAX_SLICE_COLUMNS = 3
MAX_SLICE_VALUES = 10
MIN_SLICE_ROWS = 5


def baseline_output(y_train: np.ndarray, n_rows: int, task_type: str, n_classes: int) -> np.ndarray:
    """The naive model: class shares of the training labels (so the majority class wins), or
    the training mean."""
    if task_type == "regression":
        return np.full(n_rows, float(np.nanmean(y_train)))
    shares = np.bincount(y_train[y_train >= 0], minlength=n_classes).astype("float64")
    shares /= shares.sum()
    return np.tile(shares, (n_rows, 1))


CI_METRICS = {"binary": ["accuracy", "balanced_accuracy", "roc_auc", "log_loss"],
              "multiclass": ["accuracy", "balanced_accuracy", "log_loss"],
              "regression": ["rmse", "mae", "r2"]}


def bootstrap_intervals(task_type: str, y: np.ndarray, output: np.ndarray, n_classes: int,
                        *, main_metric: str | None = None, seed: int = 0, n_boot: int = 200,
                        level: float = 0.95, max_seconds: float = 2.0) -> dict:
    """Percentile bootstrap intervals {metric: [low, high]} for the main metric and the
    headline ones (None where it cannot be computed). Stops resampling after `max_seconds`
    (keeping at least 30 resamples) so evaluation stays a small part of the budget."""
    rng = np.random.default_rng(seed)
    n = len(y)
    if n_boot <= 0 or n < 5:
        return {}
    names = list(dict.fromkeys([*( [main_metric] if main_metric else []), *CI_METRICS[task_type]]))
    samples: dict[str, list[float]] = {name: [] for name in names}
    start, done = time.monotonic(), 0
    for done in range(1, n_boot + 1):
        rows = rng.integers(0, n, n)
        for name in names:
            try:
                v = metrics.value(name, y[rows], output[rows], n_classes)
            except ValueError:
                continue
            if np.isfinite(v):
                samples[name].append(v)
        if done >= 30 and time.monotonic() - start > max_seconds:
            break
    alpha = (1 - level) / 2
    return {
        name: ([float(np.quantile(vals, alpha)), float(np.quantile(vals, 1 - alpha))]
               if len(vals) >= done // 2 else None)
        for name, vals in samples.items()
    }


def _thin(*arrays: np.ndarray) -> list[list[float]]:
    """At most MAX_CURVE_POINTS evenly spaced points of parallel arrays."""
    n = len(arrays[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_CURVE_POINTS)).round().astype(int)) if n else []
    return [[float(a[i]) for i in keep] for a in arrays]


def _class_curves(y_binary: np.ndarray, score: np.ndarray) -> dict | None:
    if len(np.unique(y_binary)) < 2:
        return None
    fpr, tpr, _ = roc_curve(y_binary, score)
    precision, recall, _ = precision_recall_curve(y_binary, score)
    bins = min(10, max(2, len(y_binary) // 20))
    prob_true, prob_pred = calibration_curve(y_binary, np.clip(score, 0, 1), n_bins=bins)
    fpr, tpr = _thin(fpr, tpr)
    precision, recall = _thin(precision, recall)
    return {
        "roc": {"fpr": fpr, "tpr": tpr},
        "precision_recall": {"precision": precision, "recall": recall},
        "calibration": {"mean_predicted": prob_pred.tolist(), "fraction_positive": prob_true.tolist()},
    }


def classification_details(y: np.ndarray, proba: np.ndarray, classes: list,
                           predicted: np.ndarray | None = None) -> dict:
    """Confusion matrix of the `predicted` classes (default: the likeliest) and, per class
    (one-vs-rest; only the positive class if binary), ROC, precision-recall and calibration
    curve data."""
    k = len(classes)
    labels = list(range(k))
    predicted = proba.argmax(axis=1) if predicted is None else predicted
    matrix = confusion_matrix(y, predicted, labels=labels)
    per_class = [k - 1] if k == 2 else labels
    curves = {}
    for i in per_class:
        data = _class_curves((y == i).astype(int), proba[:, i])
        if data is not None:
            curves[str(classes[i])] = data
    return {
        "confusion_matrix": {"labels": [str(c) for c in classes], "matrix": matrix.tolist(),
                             "rows": "actual", "columns": "predicted"},
        "curves": curves,
    }


def regression_details(y: np.ndarray, pred: np.ndarray, seed: int = 0) -> dict:
    """Residual summary, a histogram, and a sample of (actual, predicted) points."""
    residual = y - pred
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(y), size=min(len(y), MAX_RESIDUAL_POINTS), replace=False))
    counts, edges = np.histogram(residual, bins=30)
    return {
        "residuals": {
            "mean": float(residual.mean()), "std": float(residual.std()),
            "quantiles": {str(q): float(np.quantile(residual, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
            "histogram": [[float(edges[i]), float(edges[i + 1]), int(counts[i])] for i in range(len(counts))],
            "sample": {"actual": y[rows].tolist(), "predicted": pred[rows].tolist(),
                       "residual": residual[rows].tolist()},
        }
    }


def slice_columns(schema: dict, frame: pd.DataFrame) -> list[str]:
    """The main categorical columns: few categories (2..20), fewest missing first."""
    chosen = []
    for col in schema["columns"]:
        if col["kind"] not in ("categorical", "boolean"):
            continue
        values = frame[col["name"]]
        distinct = values.nunique(dropna=True)
        if 2 <= distinct <= 20:
            chosen.append((values.isna().mean(), distinct, col["name"]))
    return [name for *_, name in sorted(chosen)[:MAX_SLICE_COLUMNS]]


def slice_metrics(task_type: str, metric: str, y: np.ndarray, output: np.ndarray,
                  n_classes: int, raw_test: pd.DataFrame, schema: dict) -> dict:
    """{column: [{value, rows, <metric>, accuracy|mae}]} for the main categorical columns."""
    out: dict[str, list[dict]] = {}
    second = "accuracy" if task_type != "regression" else "mae"
    for name in slice_columns(schema, raw_test):
        values = _to_category(raw_test[name]).fillna("(missing)").to_numpy()
        uniques, counts = np.unique(values.astype(str), return_counts=True)
        order = np.argsort(-counts)[:MAX_SLICE_VALUES]
        rows_out = []
        for i in order:
            if counts[i] < MIN_SLICE_ROWS:
                continue
            mask = values.astype(str) == uniques[i]
            entry: dict = {"value": str(uniques[i]), "rows": int(counts[i])}
            for m in dict.fromkeys([metric, second]):
                try:
                    entry[m] = metrics.value(m, y[mask], output[mask], n_classes)
                except ValueError:
                    entry[m] = None
            rows_out.append(entry)
        if rows_out:
            out[name] = rows_out
    return out


def evaluate_holdout(*, schema: dict, metric: str, y_test: np.ndarray, output: np.ndarray,
                     y_train: np.ndarray, raw_test: pd.DataFrame, seed: int = 0,
                     n_boot: int = 200, max_bootstrap_seconds: float = 2.0,
                     predicted: np.ndarray | None = None) -> dict:
    """All held-out results in one JSON-able dict:
    holdout_metrics, baseline_metrics, confidence_intervals, details (curves, confusion or
    residuals), slices, rows. `output` is what the model outputs (probabilities as shown);
    `predicted`, the classes it decides where that is not simply the likeliest (a decision
    threshold), for the confusion matrix."""
    task_type = schema["task_type"]
    k = len(schema.get("classes") or [])
    base = baseline_output(y_train, len(y_test), task_type, k)
    result = {
        "rows": int(len(y_test)),
        "holdout_metrics": metrics.all_values(task_type, y_test, output, k),
        "baseline_metrics": metrics.all_values(task_type, y_test, base, k),
        "confidence_intervals": bootstrap_intervals(
            task_type, y_test, output, k, main_metric=metric, seed=seed, n_boot=n_boot,
            max_seconds=max_bootstrap_seconds),
        "slices": slice_metrics(task_type, metric, y_test, output, k, raw_test, schema),
    }
    if task_type == "regression":
        result["details"] = regression_details(y_test, output, seed)
    else:
        result["details"] = classification_details(y_test, output, schema["classes"], predicted)
        if schema.get("decision_threshold") is not None and predicted is not None:
            # the matrix holds the decisions, which the likeliest-class metrics do not
            result["details"]["confusion_matrix"]["decision_threshold"] = schema["decision_threshold"]
    return result
