"""Refit on all rows or ship the cross-validation fold models (a bag)? Measured with fixed
work, so the answer does not depend on the machine's load.

For every public task (bench/tasks.json) and seed: split 75/25 as bench/compare.py does
(`bench.tasks.split_task`), hand the 75% to briefml's own preparation (offline plan, its
held-out rows, its folds), and fit fixed configurations with no time budget:

- ``catboost``, ``lightgbm``: each family's defaults as briefml's first search plan runs them
  (early stopping on each validation fold), then

  * ``refit``: one model on all the rows briefml trains on, sized from the folds as a build
    does (`refit_params` with `refit_growth`);
  * ``bag``: the mean of the fold models' outputs (AutoGluon's "no refit": the models that
    produced the out-of-fold predictions the ensemble and the calibrator were chosen on);
  * ``bag_all``: fold models fitted again on folds of all the rows (what a bag costs if it
    should see the held-out rows too: k fits instead of one).

- ``catboost_plain``: CatBoost with its own defaults on the 75%, exactly as
  bench/compare.py's peer runs it (the bar of issue #16).

Each is scored on the 25% test split with compare.py's metrics (binary → ROC AUC, multiclass
→ log loss, regression → RMSE). The table gives means over the seeds and ratios (>1: the
first is better).

    python bench/bag_vs_refit.py                          # all tasks, seeds 0,1,2
    python bench/bag_vs_refit.py --tasks penguins,oj --seeds 0 --json-out /tmp/bag.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.compare import (
    LOWER_IS_BETTER,
    SCORE_METRIC,
    peer_catboost,
    relative,
    score_predictions,
)
from bench.tasks import load_task, split_task, task_names
from core import metrics
from core.build import _prepare, plan_build
from core.callbacks import BuildCallbacks
from core.registry import REGISTRY, FitContext
from core.runtime import prepare_frame
from core.schema import encode_target
from core.search import full_output, make_folds, refit_growth, train_one
from core.spec import Candidate

FAMILIES = ("catboost", "lightgbm")
VARIANTS = ("refit", "bag", "bag_all")
FLOOR_ROWS = 1.0  # the floor variants mix in the uniform distribution with weight this / rows
THREADS = 1  # fixed work on one core: quiet neighbours, same numbers on any machine


def _default_candidate(plan, family: str) -> Candidate | None:
    """The family's candidate in briefml's first search plan (its defaults)."""
    return next((c for c in plan.search_plan.candidates if c.estimator == family), None)


def _context(data, seed: int) -> FitContext:
    return FitContext(task_type=data.schema["task_type"], schema=data.schema, seed=seed,
                      n_classes=data.n_classes, threads=THREADS)


def _variants(candidate: Candidate, data, plan, seed: int, x_test: pd.DataFrame) -> dict:
    """Test outputs of the refit, the bag and the all-rows bag of one configuration."""
    family = REGISTRY[candidate.estimator]
    train = data.train
    x_search, y_search = data.x.iloc[train].reset_index(drop=True), data.y[train]
    folds = make_folds(y_search, str(plan.spec.task_type), plan.search_plan.validation, seed,
                       **data.search_keys())
    start = time.process_time()
    record = train_one(candidate, "t", x_search, y_search, schema=data.schema, folds=folds,
                       metric=plan.spec.metric, n_classes=data.n_classes, seed=seed,
                       deadline=math.inf, callbacks=BuildCallbacks(), threads=THREADS)
    if record.result.status != "ok":
        raise RuntimeError(record.result.error)
    outputs, seconds = {}, {"bag": time.process_time() - start}
    start = time.process_time()
    params = family.refit_params(dict(candidate.params), [m.info for m in record.models],
                                 refit_growth(folds, len(data.y)))
    refit = family.fit(params, data.x, data.y, _context(data, seed))
    outputs["refit"] = full_output(refit, x_test, data.schema, data.n_classes)
    seconds["refit"] = time.process_time() - start
    outputs["bag"] = np.mean([full_output(m, x_test, data.schema, data.n_classes)
                              for m in record.models], axis=0)
    start = time.process_time()
    all_folds = make_folds(data.y, str(plan.spec.task_type), plan.search_plan.validation, seed)
    again = train_one(candidate, "t", data.x, data.y, schema=data.schema, folds=all_folds,
                      metric=plan.spec.metric, n_classes=data.n_classes, seed=seed,
                      deadline=math.inf, callbacks=BuildCallbacks(), threads=THREADS)
    outputs["bag_all"] = np.mean([full_output(m, x_test, data.schema, data.n_classes)
                                  for m in again.models], axis=0)
    seconds["bag_all"] = time.process_time() - start
    return {"outputs": outputs, "cpu_seconds": seconds, "cv": record.result.score,
            "folds": folds.scheme, "refit_iterations": params.get(family_iterations(family))}


def family_iterations(family) -> str:
    return getattr(family, "iterations_param", "n_estimators")


def _plain_catboost(task: dict, train: pd.DataFrame, test: pd.DataFrame, seed: int) -> float:
    """CatBoost's defaults exactly as bench/compare.py's peer runs them."""
    with tempfile.TemporaryDirectory(prefix="bag_vs_refit_") as tmp:
        tmp = Path(tmp)
        train.to_csv(tmp / "train.csv", index=False)
        test.drop(columns=[task["target"]]).to_csv(tmp / "test.csv", index=False)
        peer_catboost(task, str(tmp / "train.csv"), str(tmp / "test.csv"), str(tmp / "out.csv"), seed)
        return score_predictions(task["kind"], test[task["target"]], pd.read_csv(tmp / "out.csv"),
                                 task["target"])


def run_one(name: str, seed: int, families=FAMILIES, plain: bool = True,
            extra: list[dict] = ()) -> list[dict]:
    df, task = load_task(name)
    train, test = split_task(df, task, seed)
    plan = plan_build(train, task["brief"], budget_seconds=60, seed=seed)
    data = _prepare(train, plan, seed, [])
    x_test, _ = prepare_frame(test, data.schema)
    y_test = encode_target(test[plan.spec.target], data.schema)
    metric = SCORE_METRIC[task["kind"]]
    rows = []
    configs = [(family, _default_candidate(plan, family)) for family in families]
    configs += [(f"{c['estimator']}{i}", Candidate(**c)) for i, c in enumerate(extra)]
    for family, candidate in configs:
        if candidate is None:
            continue
        got = _variants(candidate, data, plan, seed, x_test)
        if metric == "log_loss":  # how much a floor under the probabilities would save
            floor = FLOOR_ROWS / len(data.y)
            got["outputs"].update({f"{v}+floor": (1 - floor) * o + floor / data.n_classes
                                   for v, o in list(got["outputs"].items())})
            got["cpu_seconds"].update({f"{v}+floor": s for v, s in list(got["cpu_seconds"].items())})
        for variant, output in got["outputs"].items():
            rows.append({"task": name, "seed": seed, "config": family, "variant": variant,
                         "metric": metric, "rows": len(data.y), "folds": got["folds"],
                         "score": metrics.value(metric, y_test, output, data.n_classes),
                         "cpu_seconds": round(got["cpu_seconds"][variant], 2),
                         "min_true_proba": _min_true_proba(output, y_test, data.n_classes)})
    if plain:
        start = time.process_time()
        rows.append({"task": name, "seed": seed, "config": "catboost_plain", "variant": "plain",
                     "metric": metric, "rows": len(data.y), "folds": "",
                     "score": _plain_catboost(task, train, test, seed),
                     "cpu_seconds": round(time.process_time() - start, 2)})
    return rows


def _min_true_proba(output: np.ndarray, y: np.ndarray, n_classes: int) -> float | None:
    """The smallest probability given to a test row's true class: how overconfident."""
    if not n_classes:
        return None
    return float(np.min(output[np.arange(len(y)), y.astype(int)]))


def print_table(rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    means = frame.groupby(["task", "metric", "config", "variant"], sort=False).score.mean()
    print()
    header = (f"{'task':<18} {'metric':<8} {'rows':>6} {'folds':<8} {'config':<9} "
              f"{'refit':>9} {'bag':>9} {'bag_all':>9} {'bag/refit':>9} {'bagall/refit':>12} "
              f"{'refit/cb':>9} {'bag/cb':>9}")
    print(header)
    print("-" * len(header))
    ratios: dict[str, list[float]] = {"bag/refit": [], "bag_all/refit": []}
    for (task, metric), group in frame.groupby(["task", "metric"], sort=False):
        plain = group[group.config == "catboost_plain"].score.mean()
        for config in [c for c in group.config.unique() if c != "catboost_plain"]:
            got = {v: means.get((task, metric, config, v)) for v in VARIANTS}
            if got["refit"] is None:
                continue
            r_bag = relative(got["bag"], got["refit"], metric)
            r_all = relative(got["bag_all"], got["refit"], metric)
            ratios["bag/refit"].append(r_bag)
            ratios["bag_all/refit"].append(r_all)
            first = group[group.config == config].iloc[0]
            vs_plain = [relative(got[v], plain, metric) if not np.isnan(plain) else np.nan
                        for v in ("refit", "bag")]
            print(f"{task:<18} {metric:<8} {first.rows:>6} {first.folds:<8} {config:<9} "
                  f"{got['refit']:>9.4f} {got['bag']:>9.4f} {got['bag_all']:>9.4f} "
                  f"{r_bag:>9.4f} {r_all:>12.4f} {vs_plain[0]:>9.4f} {vs_plain[1]:>9.4f}")
    print()
    for name, values in ratios.items():
        if values:
            print(f"{name}: mean {np.mean(values):.4f} over {len(values)} task x config means; "
                  f"better on {sum(v > 1 for v in values)}, worse on {sum(v < 1 for v in values)}")
    print("(ratios > 1: the first is better; cb = CatBoost's own defaults, compare.py's peer; "
          f"lower is better for {', '.join(sorted(LOWER_IS_BETTER))})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--no-plain", action="store_true", help="skip CatBoost's own defaults")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--candidates", default="[]",
                        help='JSON list of more configurations, e.g. \'[{"estimator": "linear", '
                             '"params": {"C": 30}}]\' (named estimator + position)')
    args = parser.parse_args(argv)
    names = [t.strip() for t in args.tasks.split(",") if t.strip()] or task_names()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    families = tuple(f.strip() for f in args.families.split(",") if f.strip())
    rows: list[dict] = []
    with threadpool_limits(limits=THREADS):
        for name in names:
            for seed in seeds:
                try:
                    new = run_one(name, seed, families, plain=not args.no_plain,
                                  extra=json.loads(args.candidates))
                except Exception as exc:  # noqa: BLE001 - one task's failure is a result, not the end
                    print(f"{name} seed {seed}: failed ({type(exc).__name__}: {exc})",
                          file=sys.stderr, flush=True)
                    continue
                for row in new:
                    print(json.dumps(row), file=sys.stderr, flush=True)
                rows += new
                if args.json_out:
                    args.json_out.write_text(json.dumps(rows, indent=1))
    print_table(rows)


if __name__ == "__main__":
    main()
