"""Metric names, their direction, and scoring on raw model output.

Raw model output is what `core.runtime.ensemble_output` returns: class probabilities (n, K)
for classification (columns are positions in the schema's classes, labels are indices
0..K-1), values (n,) for regression. For binary tasks the positive class is index 1.

`score()` is always "higher is better": losses (log loss, RMSE, MAE) are negated, so the
search can maximise one number whatever the metric. `value()` gives the metric as people
read it (RMSE positive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn import metrics as skm

from core.errors import PlanError

CLASSIFICATION = ("binary", "multiclass")
REGRESSION = ("regression",)


@dataclass(frozen=True)
class Metric:
    name: str
    greater_is_better: bool
    tasks: tuple[str, ...]
    compute: Callable[[np.ndarray, np.ndarray, int], float]  # (y_true, raw output, n_classes)
    description: str = ""


def _labels(output: np.ndarray) -> np.ndarray:
    return np.asarray(output).argmax(axis=1)


def _proba(output: np.ndarray, n_classes: int) -> np.ndarray:
    proba = np.clip(np.asarray(output, dtype="float64"), 1e-15, 1.0)
    return proba / proba.sum(axis=1, keepdims=True)


def _need_two_classes(y: np.ndarray, name: str) -> None:
    if len(np.unique(y)) < 2:
        raise ValueError(f"{name} needs at least two classes among the true labels")


def _roc_auc(y: np.ndarray, output: np.ndarray, k: int) -> float:
    _need_two_classes(y, "ROC AUC")
    if k == 2:
        return float(skm.roc_auc_score(y, np.asarray(output)[:, 1]))
    present = np.unique(y)
    proba = _proba(output, k)
    if len(present) < k:  # one-vs-rest over the classes present in y only
        proba = proba[:, present] / proba[:, present].sum(axis=1, keepdims=True)
        y = np.searchsorted(present, y)
    return float(skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"))


def _log_loss(y: np.ndarray, output: np.ndarray, k: int) -> float:
    return float(skm.log_loss(y, _proba(output, k), labels=list(range(k))))


def _average_precision(y: np.ndarray, output: np.ndarray, k: int) -> float:
    _need_two_classes(y, "Average precision")
    if k == 2:
        return float(skm.average_precision_score(y, np.asarray(output)[:, 1]))
    onehot = np.eye(k)[y]
    return float(skm.average_precision_score(onehot, output, average="macro"))


def _binary_or_macro(fn: Callable) -> Callable:
    def compute(y: np.ndarray, output: np.ndarray, k: int) -> float:
        average = "binary" if k == 2 else "macro"
        return float(fn(y, _labels(output), average=average, zero_division=0))

    return compute


def _rmse(y: np.ndarray, output: np.ndarray, k: int) -> float:
    return float(np.sqrt(skm.mean_squared_error(y, output)))


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", True, CLASSIFICATION, _roc_auc, "area under the ROC curve"),
        Metric("log_loss", False, CLASSIFICATION, _log_loss, "cross-entropy of the probabilities"),
        Metric(
            "accuracy", True, CLASSIFICATION,
            lambda y, o, k: float(skm.accuracy_score(y, _labels(o))), "share predicted right",
        ),
        Metric(
            "balanced_accuracy", True, CLASSIFICATION,
            lambda y, o, k: float(skm.balanced_accuracy_score(y, _labels(o))),
            "mean recall over classes",
        ),
        Metric("f1", True, CLASSIFICATION, _binary_or_macro(skm.f1_score), "F1 (macro if multiclass)"),
        Metric("recall", True, CLASSIFICATION, _binary_or_macro(skm.recall_score), "recall"),
        Metric("precision", True, CLASSIFICATION, _binary_or_macro(skm.precision_score), "precision"),
        Metric("average_precision", True, CLASSIFICATION, _average_precision, "area under the PR curve"),
        Metric("rmse", False, REGRESSION, _rmse, "root mean squared error"),
        Metric(
            "mae", False, REGRESSION,
            lambda y, o, k: float(skm.mean_absolute_error(y, o)), "mean absolute error",
        ),
        Metric("r2", True, REGRESSION, lambda y, o, k: float(skm.r2_score(y, o)), "R squared"),
    ]
}

DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def get_metric(name: str, task_type: str | None = None) -> Metric:
    """The metric called `name`; PlanError if unknown or unfit for the task."""
    metric = METRICS.get(name)
    if metric is None:
        raise PlanError(
            f"Unknown metric '{name}'. Choose one of: {', '.join(METRICS)}."
        )
    if task_type is not None and str(task_type) not in metric.tasks:
        raise PlanError(
            f"The metric '{name}' does not apply to a {task_type} task; "
            f"use one of: {', '.join(metrics_for(task_type))}."
        )
    return metric


def metrics_for(task_type: str) -> list[str]:
    """Names of the metrics that apply to a task type."""
    return [m.name for m in METRICS.values() if str(task_type) in m.tasks]


def greater_is_better(name: str) -> bool:
    return get_metric(name).greater_is_better


def value(name: str, y_true: np.ndarray, output: np.ndarray, n_classes: int = 0) -> float:
    """The metric as people read it (a loss stays positive)."""
    return get_metric(name).compute(np.asarray(y_true), np.asarray(output), n_classes)


def score(name: str, y_true: np.ndarray, output: np.ndarray, n_classes: int = 0) -> float:
    """Higher-is-better version of `value` (losses negated): what the search maximises."""
    v = value(name, y_true, output, n_classes)
    return v if get_metric(name).greater_is_better else -v


def to_value(name: str, score_: float | None) -> float | None:
    """Turn a higher-is-better score back into the metric's own value."""
    if score_ is None:
        return None
    return score_ if get_metric(name).greater_is_better else -score_


def all_values(task_type: str, y_true: np.ndarray, output: np.ndarray, n_classes: int = 0) -> dict:
    """Every metric that applies to the task; a metric that cannot be computed is None."""
    out: dict[str, float | None] = {}
    for name in metrics_for(task_type):
        try:
            out[name] = value(name, y_true, output, n_classes)
        except ValueError:  # e.g. ROC AUC with one class present
            out[name] = None
    return out


# The one place metric names are worded for people (pages, reports, the CLI's tables).
DISPLAY_NAMES = {
    "roc_auc": "ROC AUC", "log_loss": "Log loss", "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy", "f1": "F1 score", "recall": "Recall",
    "precision": "Precision", "average_precision": "Average precision (PR AUC)",
    "rmse": "RMSE", "mae": "Mean absolute error", "r2": "R²",
}


def display_name(name: str) -> str:
    """'roc_auc' -> 'ROC AUC'; an unknown name is shown with spaces for underscores."""
    return DISPLAY_NAMES.get(name, str(name).replace("_", " "))
