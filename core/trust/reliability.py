"""The reliability figures of a build, in one call: conformal intervals or sets, a calibrator
where it helps, both measured on the held-out rows, and the drift reference.

Everything is fitted on out-of-fold predictions of the chosen ensemble (never on the held-out
rows), then measured once on the held-out rows. The result is plain JSON: the build stores it
under `reliability` in the version's metrics and the bundle ships it as reliability.json.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from core import runtime
from core.review import choose_threshold
from core.trust.calibration import calibration_figures, choose_calibrator
from core.trust.conformal import fit_conformal, holdout_coverage
from core.trust.drift import drift_reference

FORMAT_VERSION = 1


def decision_threshold(y_oof: np.ndarray, oof: np.ndarray, calibrator: dict | None) -> dict:
    """The schema entries of a decision threshold for a rare positive class: the one that
    maximises F1 on the out-of-fold rows, chosen on the probabilities as the bundle will show
    them (after `calibrator`), so that a row is called positive exactly when its shown
    probability reaches the shown threshold. Empty when no out-of-fold row is positive."""
    threshold = choose_threshold(y_oof == 1, runtime.calibrated_output(oof, calibrator)[:, 1])
    if threshold is None:
        return {}
    return {"decision_threshold": threshold, "decision_threshold_scale": "calibrated"}


def decision_entries(y_oof: np.ndarray, oof: np.ndarray, calibrator: dict | None,
                     rare_positive: bool = False) -> dict:
    """The schema entries that say how a classifier decides its class: always the likeliest
    of the probabilities shown (after `calibrator`), and for a rare positive class the
    decision threshold on that scale (see `decision_threshold`)."""
    entries = {"class_scale": "calibrated"}
    if rare_positive:
        entries.update(decision_threshold(y_oof, oof, calibrator))
    return entries


def assess_reliability(*, schema: dict, y_oof: np.ndarray, oof: np.ndarray, y_test: np.ndarray,
                       test_output: np.ndarray, frame: pd.DataFrame, validation: str,
                       seed: int = 0, rare_positive: bool = False) -> dict:
    """Fit on the out-of-fold predictions (`y_oof`, `oof`), measure on the held-out ones
    (`y_test`, `test_output`); `frame` is the prepared training table (drift reference).

    A classifier's result also holds, under "decision", the schema entries of how it decides
    its class (see `decision_entries`; with `rare_positive`, a binary task, the decision
    threshold too): the sets are measured with them, as they will be made."""
    start = time.monotonic()
    task = schema["task_type"]
    method = ("split conformal on the validation rows" if validation == "holdout"
              else f"out-of-fold predictions of {validation} (CV+ style)")
    out: dict = {"format_version": FORMAT_VERSION, "coverage_default": runtime.DEFAULT_COVERAGE}
    if task == "regression":
        out["conformal"] = fit_conformal(task, y_oof, oof, method)
        out["holdout"] = {"rows": len(y_test),
                          "coverage": holdout_coverage(out["conformal"], schema, y_test, test_output)}
    else:
        calibrator, losses, oof_calibrated = choose_calibrator(y_oof, oof, seed)
        out["calibrator"] = calibrator
        out["decision"] = decision_entries(y_oof, oof, calibrator, rare_positive)
        schema = {**schema, **out["decision"]}
        out["conformal"] = fit_conformal(task, y_oof, oof_calibrated, method)
        test_calibrated = runtime.calibrated_output(test_output, calibrator)
        out["holdout"] = {
            "rows": len(y_test),
            "coverage": holdout_coverage(out["conformal"], schema, y_test, test_output, calibrator),
            "calibration": calibration_figures(y_test, test_output, test_calibrated),
            "validation_log_loss": losses,
        }
    out["drift"] = drift_reference(frame, schema)
    out["seconds"] = time.monotonic() - start
    return out


def reliability_summary(reliability: dict) -> dict:
    """The figures people read (for the version's metrics JSON): everything but the drift
    reference and the calibrator's thresholds, which only predictions need."""
    out = {k: v for k, v in reliability.items() if k != "drift"}
    calibrator = out.get("calibrator")
    if calibrator:
        out["calibrator"] = {k: v for k, v in calibrator.items() if k != "classes"}
    if "drift" in reliability:
        out["drift_columns"] = len(reliability["drift"].get("columns", {}))
    return out
