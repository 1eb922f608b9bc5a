"""Conformal prediction intervals (regression) and sets (classification).

Calibrated on out-of-fold predictions of the chosen ensemble: rows each model of the search
never trained on (every row under k-fold validation, CV+ style; the validation part under a
single holdout, which is split conformal). The bundle keeps only the quantile of the scores
per coverage level; `core.runtime.with_reliability` turns them into `lower`/`upper` or `set`.

Scores: the absolute error for regression, one minus the probability of the true class for
classification (LAC, the smallest sets on average). The quantile at level 1 - alpha is the
ceil((n + 1)(1 - alpha))-th smallest score, which makes the coverage hold on new rows from
the same distribution (MAPIE and the conformal literature use the same rule; the tests check
it against MAPIE's SplitConformalRegressor). MAPIE itself is not used at build time: its
conformalizers refit or wrap one scikit-learn estimator, while the search already holds the
out-of-fold predictions of the whole ensemble.
"""

from __future__ import annotations

import math

import numpy as np

from core import runtime

LEVELS = tuple(round(0.5 + 0.01 * i, 2) for i in range(50))  # 50% .. 99%
SHOWN_LEVELS = (0.8, 0.9, 0.95)  # measured on held-out rows


def conformity_scores(task_type: str, y: np.ndarray, output: np.ndarray) -> np.ndarray:
    """Absolute errors (regression) or 1 - probability of the true class (classification)."""
    if task_type == "regression":
        return np.abs(np.asarray(y, dtype=float) - output)
    return 1.0 - output[np.arange(len(y)), np.asarray(y, dtype=int)]


def conformal_quantiles(scores: np.ndarray) -> tuple[list[float], list[float]]:
    """(levels, quantiles) for every level in LEVELS that this many scores can promise
    (a level above n / (n + 1) needs more rows than there are)."""
    ordered = np.sort(np.asarray(scores, dtype=float))
    n = len(ordered)
    levels, quantiles = [], []
    for level in LEVELS:
        rank = math.ceil((n + 1) * level - 1e-9)
        if 1 <= rank <= n:
            levels.append(level)
            quantiles.append(float(ordered[rank - 1]))
    return levels, quantiles


def fit_conformal(task_type: str, y: np.ndarray, output: np.ndarray, method: str) -> dict:
    """What the bundle needs to give intervals or sets: quantiles per coverage level."""
    levels, quantiles = conformal_quantiles(conformity_scores(task_type, y, output))
    out = {"kind": "interval" if task_type == "regression" else "set", "method": method,
           "rows": len(y), "levels": levels, "quantiles": quantiles}
    if task_type == "regression" and len(y):
        out["target_range"] = [float(np.min(y)), float(np.max(y))]
    return out


def holdout_coverage(conformal: dict, schema: dict, y: np.ndarray, raw: np.ndarray,
                     calibrator: dict | None = None) -> dict:
    """Coverage measured on held-out rows at the shown levels, beside the promise: for
    intervals also the mean width, for sets the mean size and the coverage per class.
    `raw` is the ensemble's output, `calibrator` a classifier's (the sets are built from the
    calibrated probabilities and hold the class predicted from them, as a bundle's do).

    Coverage and width are plain means, the definitions of MAPIE's
    regression/classification_coverage_score and mean_width_score (the tests check they
    agree); importing MAPIE here would cost a build about a second for them."""
    out = {}
    for level in SHOWN_LEVELS:
        if not conformal["levels"] or level > conformal["levels"][-1]:
            continue
        _, quantile = runtime.coverage_quantile(conformal, level)
        if schema["task_type"] == "regression":
            lower, upper = runtime.interval_bounds(raw, quantile, conformal)
            out[f"{level:.2f}"] = {
                "promised": level, "covered": float(np.mean((lower <= y) & (y <= upper))),
                "mean_width": float(np.mean(upper - lower)), "quantile": quantile}
        else:
            sets = runtime.prediction_sets(runtime.calibrated_output(raw, calibrator), quantile,
                                           runtime.class_indices(raw, schema, calibrator))
            hit = sets[np.arange(len(y)), y]
            per_class = {str(c): float(hit[y == k].mean()) for k, c in enumerate(schema["classes"])
                         if (y == k).any()}
            out[f"{level:.2f}"] = {
                "promised": level, "covered": float(hit.mean()),
                "mean_set_size": float(sets.sum(axis=1).mean()),
                "single_class_share": float((sets.sum(axis=1) == 1).mean()),
                "per_class": per_class, "quantile": quantile}
    return out
