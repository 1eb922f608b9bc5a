"""Are the probabilities honest? Reliability curves, expected calibration error, and a
calibrator fitted on out-of-fold predictions where it helps.

Candidates: none, Platt (a sigmoid on the log-odds: two numbers per class) and isotonic
(a step function: x/y thresholds per class). Each is scored by the log loss of cross-fitted
predictions on the out-of-fold rows (fit on four fifths, predict the fifth), so the choice
never sees the held-out rows; a calibrator is used only when it beats "none" clearly (by a
margin and by more than two standard errors of the per-row difference), and isotonic, which
has far more freedom, only when it also beats Platt clearly.
Binary tasks calibrate the positive class; multiclass tasks each class one-vs-rest, then
rows are scaled to sum to one (as scikit-learn's CalibratedClassifierCV does). The result is
plain JSON, applied by `core.runtime.calibrated_output`.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import KFold, StratifiedKFold

from core import metrics, runtime

CURVE_BINS = 10
CROSS_FIT_FOLDS = 5
MIN_ROWS = 50  # fewer out-of-fold rows than this: no calibrator is fitted
MIN_GAIN = 0.01  # relative log-loss improvement a calibrator must bring on validation
MIN_GAIN_ABS = 0.001
KINDS = ("platt", "isotonic")
PLATT_STEPS = 50


def _class_columns(proba: np.ndarray) -> list[int]:
    """The columns a calibrator is fitted for: the positive class only for a binary task."""
    return [1] if proba.shape[1] == 2 else list(range(proba.shape[1]))


def _platt(p: np.ndarray, hit: np.ndarray) -> dict:
    """Platt's sigmoid on the log-odds, by Newton's method on two numbers (a general solver
    took a tenth of a second per class, which a build budget notices). Targets are Platt's
    smoothed ones, (positives + 1) / (positives + 2) and 1 / (negatives + 2), so that data the
    scores separate perfectly still gives finite numbers."""
    z = runtime._logit(p)
    positives = hit.sum()
    target = np.where(hit > 0.5, (positives + 1) / (positives + 2), 1 / (len(hit) - positives + 2))
    a, b = 1.0, 0.0
    for _ in range(PLATT_STEPS):
        s = 1.0 / (1.0 + np.exp(-(a * z + b)))
        w = s * (1 - s) + 1e-12
        gradient = np.array([np.dot(s - target, z), np.sum(s - target)])
        hessian = np.array([[np.dot(w, z * z), np.dot(w, z)], [np.dot(w, z), w.sum()]])
        step = np.linalg.solve(hessian + 1e-9 * len(z) * np.eye(2), gradient)
        step *= min(1.0, 5.0 / max(1e-12, np.abs(step).max()))  # no wild first steps
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-9:
            break
    return {"a": float(a), "b": float(b)}


def _fit_one(kind: str, p: np.ndarray, hit: np.ndarray) -> dict:
    if kind == "platt":
        return _platt(p, hit)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, hit)
    return {"x": [round(float(v), 6) for v in iso.X_thresholds_],
            "y": [round(float(v), 6) for v in iso.y_thresholds_]}


def fit_calibrator(kind: str, y: np.ndarray, proba: np.ndarray) -> dict:
    """A calibrator of `kind` ('none', 'platt' or 'isotonic') fitted on (y, proba)."""
    if kind == "none":
        return {"kind": "none"}
    return {"kind": kind, "classes": [_fit_one(kind, proba[:, k], (y == k).astype(float))
                                      for k in _class_columns(proba)]}


def _cross_fitted(kind: str, y: np.ndarray, proba: np.ndarray, seed: int) -> np.ndarray:
    """Each row calibrated by a calibrator fitted without it."""
    if kind == "none":
        return proba
    counts = np.bincount(y, minlength=proba.shape[1])
    splitter = (StratifiedKFold(CROSS_FIT_FOLDS, shuffle=True, random_state=seed)
                if counts[counts > 0].min() >= CROSS_FIT_FOLDS else
                KFold(CROSS_FIT_FOLDS, shuffle=True, random_state=seed))
    out = np.empty_like(proba)
    for fit_rows, apply_rows in splitter.split(proba, y):
        calibrator = fit_calibrator(kind, y[fit_rows], proba[fit_rows])
        out[apply_rows] = runtime.calibrated_output(proba[apply_rows], calibrator)
    return out


def log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    return metrics.value("log_loss", y, proba, proba.shape[1])


def _row_losses(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    p = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    return -np.log(p)


def _clear_gain(y: np.ndarray, before: np.ndarray, after: np.ndarray) -> bool:
    """Does `after` lower the log loss by a margin and by more than chance (two standard
    errors of the per-row difference)? On a few hundred rows one confident mistake can make
    a calibrator look good on validation and worse on new rows."""
    diff = _row_losses(y, before) - _row_losses(y, after)
    margin = max(MIN_GAIN_ABS, MIN_GAIN * float(_row_losses(y, before).mean()))
    return diff.mean() > margin and diff.mean() > 2 * diff.std(ddof=1) / np.sqrt(len(diff))


def choose_calibrator(y: np.ndarray, proba: np.ndarray, seed: int = 0) -> tuple[dict, dict, np.ndarray]:
    """(calibrator, validation log loss per kind, cross-fitted calibrated out-of-fold
    probabilities): the kind with the lowest cross-fitted log loss, if it beats none."""
    if len(y) < MIN_ROWS or len(np.unique(y)) < 2:
        return {"kind": "none", "why": f"too few out-of-fold rows ({len(y)}) to fit one"}, {}, proba
    crossed = {kind: _cross_fitted(kind, y, proba, seed) for kind in ("none", *KINDS)}
    losses = {kind: log_loss(y, p) for kind, p in crossed.items()}
    # isotonic has many more degrees of freedom: it must beat Platt clearly, not by a hair
    best = "isotonic" if _clear_gain(y, crossed["platt"], crossed["isotonic"]) else "platt"
    if not _clear_gain(y, crossed["none"], crossed[best]):
        why = "neither calibrator lowered the validation log loss clearly"
        return {"kind": "none", "why": why}, losses, proba
    calibrator = fit_calibrator(best, y, proba)
    calibrator["why"] = (f"{best} lowered the cross-fitted validation log loss from "
                         f"{losses['none']:.4f} to {losses[best]:.4f}")
    return calibrator, losses, crossed[best]


def reliability_curve(y: np.ndarray, proba: np.ndarray, bins: int = CURVE_BINS) -> dict:
    """Predicted against observed, in equal-width bins, and the expected calibration error
    (the row-weighted mean gap). Binary: the positive class's probability against how often
    it is the class; multiclass: the top probability against how often the top class is right."""
    if proba.shape[1] == 2:
        confidence, hit, about = proba[:, 1], (y == 1).astype(float), "positive class"
    else:
        confidence, hit, about = proba.max(axis=1), (proba.argmax(axis=1) == y).astype(float), "top class"
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    points, gap = [], 0.0
    for b in range(bins):
        rows = which == b
        if rows.any():
            predicted, observed = float(confidence[rows].mean()), float(hit[rows].mean())
            points.append({"predicted": predicted, "observed": observed, "rows": int(rows.sum())})
            gap += rows.sum() * abs(predicted - observed)
    return {"about": about, "points": points, "ece": float(gap / max(1, len(y)))}


def calibration_figures(y: np.ndarray, raw: np.ndarray, calibrated: np.ndarray) -> dict:
    """Held-out log loss, ECE and curve, before and after the calibrator."""
    before, after = reliability_curve(y, raw), reliability_curve(y, calibrated)
    return {"before": {"log_loss": log_loss(y, raw), "ece": before["ece"], "curve": before},
            "after": {"log_loss": log_loss(y, calibrated), "ece": after["ece"], "curve": after}}
