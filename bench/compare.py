"""Peer benchmark: briefml (through its CLI, as a user runs it) against CatBoost and LightGBM
with default parameters and FLAML with the same time budget, on the public tasks of
bench/tasks.json.

For every task and seed: split 75/25 (bench.tasks.split_task), give each tool only the 75%
(briefml also gets the brief), predict the 25%, and score the predictions the same way:
binary → ROC AUC, multiclass → log loss, regression → RMSE. A column the task marks as a leak
(`must_flag`) is dropped for the peers; briefml gets the whole file and must find it itself.
Each tool runs in its own process, so fit time is wall time of that process and peak memory is
its max RSS.

    python bench/compare.py --tasks penguins,oj --budget 60            # seeds 0,1,2
    python bench/compare.py --tasks penguins --budget 20 --seeds 0 --tools briefml,catboost
    python bench/compare.py --tasks own     # the tables of bench/own_tasks.json
    python bench/compare.py --tasks flights --leaks arr_time --known dep_delay,dep_time
        # a leak the task file does not name, and suspects a user says are known beforehand
    python bench/compare.py --tasks flights --forward time_hour ...
        # tested on the latest 25% of rows by time_hour instead of a random 25%

FLAML is an optional dependency: ``pip install -e '.[bench]'``. Prints a table per task (mean
and spread over the seeds), briefml's mean score relative to each peer (>1 means briefml is
better), and where briefml's time went, per phase, on its slowest task.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.tasks import load_task, split_task, task_names  # noqa: E402

SCORE_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
LOWER_IS_BETTER = {"log_loss", "rmse"}
TOOLS = ("briefml", "catboost", "lightgbm", "flaml")

# The CLI exactly as a user runs it.
BRIEFML = [sys.executable, "-m", "briefml"]


# --------------------------------------------------------------------------- running tools


TIMED_OUT = -999


def _run(cmd: list[str], log: Path, timeout: float | None = None) -> tuple[float, float, int]:
    """Run a process; return (wall seconds, peak RSS in MB, exit code or TIMED_OUT).

    A process still running after `timeout` seconds is killed (FLAML can overrun its budget
    by minutes on a busy machine)."""
    start = time.monotonic()
    with open(log, "wb") as out:
        # run in the task's work folder: peers (FLAML's CatBoost) drop scratch files in cwd
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.monotonic() - start > timeout:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                return time.monotonic() - start, usage.ru_maxrss / 1024.0, TIMED_OUT
            time.sleep(0.1)
    return time.monotonic() - start, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def run_briefml(task: dict, train_csv: Path, test_csv: Path, out_csv: Path, budget: float,
                seed: int, work: Path) -> dict:
    bundle = work / "model.zip"
    build = [*BRIEFML, "build", str(train_csv), "--intent", task["brief"],
             "--budget", str(budget), "--seed", str(seed), "--out", str(bundle), "--json",
             *[arg for column in task.get("known", []) for arg in ("--keep", column)]]
    seconds, peak, code = _run(build, work / "briefml_build.log")
    if code != 0:
        return {"error": _tail(work / "briefml_build.log")}
    summary = json.loads((work / "briefml_build.log").read_text().strip().splitlines()[-1])
    predict = [*BRIEFML, "predict", str(bundle), str(test_csv), "-o", str(out_csv)]
    _, peak2, code = _run(predict, work / "briefml_predict.log")
    if code != 0:
        return {"error": _tail(work / "briefml_predict.log")}
    return {"seconds": seconds, "peak_mb": max(peak, peak2), "target_found": summary["target"],
            "metric_used": summary["metric"], "excluded": summary["excluded_columns"],
            "timings": summary.get("timings", {}),
            # whether the plan's first trials shipped over a refinement that won by chance
            "floor": (summary.get("ensemble") or {}).get("floor")}


def run_peer(tool: str, task: dict, train_csv: Path, test_csv: Path, out_csv: Path, budget: float,
             seed: int, work: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--peer", tool, "--peer-task", task["name"],
           "--peer-train", str(train_csv), "--peer-test", str(test_csv), "--peer-out", str(out_csv),
           "--budget", str(budget), "--seeds", str(seed), "--leaks", ",".join(task.get("extra_leaks", []))]
    seconds, peak, code = _run(cmd, work / f"{tool}.log", timeout=3 * budget + 60)
    if code == TIMED_OUT:
        return {"error": f"killed after {seconds:.0f}s (budget {budget:g}s)"}
    if code != 0:
        return {"error": _tail(work / f"{tool}.log")}
    return {"seconds": seconds, "peak_mb": peak}


def _tail(log: Path, n: int = 300) -> str:
    text = log.read_text(errors="replace").strip()
    return text[-n:].replace("\n", " | ")


# --------------------------------------------------------------------------- peers (in a child)


def _peer_frames(train_csv: str, test_csv: str, task: dict):
    """The peer's inputs: every column but the target and the task's known leaks. briefml gets
    the whole file and must find a leak itself (`must_flag`); a peer fed the leak would score a
    problem nobody has (wage from log wage), so it never sees one."""
    train = pd.read_csv(train_csv)
    test = pd.read_csv(test_csv)
    leaks = [c for c in task.get("must_flag", []) if c in train.columns]
    return (train.drop(columns=[task["target"], *leaks]), train[task["target"]],
            test.drop(columns=[c for c in leaks if c in test.columns]))


def _catboost_columns(x: pd.DataFrame):
    cats, texts = [], []
    for col in x.columns:
        if not pd.api.types.is_numeric_dtype(x[col]):
            values = x[col].dropna().astype(str)
            long_text = values.str.len().mean() > 50 and values.nunique() > 0.5 * len(values)
            (texts if long_text else cats).append(col)
    return cats, texts


def _catboost_ready(x: pd.DataFrame, cats: list[str], texts: list[str]) -> pd.DataFrame:
    x = x.copy()
    for col in cats + texts:
        x[col] = x[col].astype(object).where(x[col].notna(), "nan").astype(str)
    return x


def peer_catboost(task: dict, train_csv: str, test_csv: str, out_csv: str, seed: int) -> None:
    from catboost import CatBoostClassifier, CatBoostRegressor

    x, y, test = _peer_frames(train_csv, test_csv, task)
    cats, texts = _catboost_columns(x)
    common = dict(thread_count=2, verbose=0, random_seed=seed, allow_writing_files=False,
                  cat_features=cats or None, text_features=texts or None)
    if task["kind"] == "regression":
        model = CatBoostRegressor(**common).fit(_catboost_ready(x, cats, texts), y)
        pd.DataFrame({"prediction": model.predict(_catboost_ready(test[x.columns], cats, texts))}).to_csv(out_csv, index=False)
        return
    y = y.astype(str)
    model = CatBoostClassifier(**common).fit(_catboost_ready(x, cats, texts), y)
    proba = model.predict_proba(_catboost_ready(test[x.columns], cats, texts))
    pd.DataFrame(proba, columns=[f"proba_{c}" for c in model.classes_]).to_csv(out_csv, index=False)


def peer_lightgbm(task: dict, train_csv: str, test_csv: str, out_csv: str, seed: int) -> None:
    """LightGBM as a user would run it: the scikit-learn wrapper, default parameters, text and
    other non-numbers as pandas categories."""
    from lightgbm import LGBMClassifier, LGBMRegressor

    x, y, test = _peer_frames(train_csv, test_csv, task)
    test = test[x.columns].copy()
    for col in x.columns:
        if not pd.api.types.is_numeric_dtype(x[col]):
            categories = pd.CategoricalDtype(sorted(x[col].dropna().astype(str).unique()))
            x[col] = x[col].astype(object).where(x[col].isna(), x[col].astype(str)).astype(categories)
            test[col] = test[col].astype(object).where(test[col].isna(), test[col].astype(str)).astype(categories)
    common = {"n_jobs": 2, "random_state": seed, "verbosity": -1}
    if task["kind"] == "regression":
        model = LGBMRegressor(**common).fit(x, y)
        pd.DataFrame({"prediction": model.predict(test)}).to_csv(out_csv, index=False)
        return
    model = LGBMClassifier(**common).fit(x, y.astype(str))
    proba = model.predict_proba(test)
    pd.DataFrame(proba, columns=[f"proba_{c}" for c in model.classes_]).to_csv(out_csv, index=False)


def peer_flaml(task: dict, train_csv: str, test_csv: str, out_csv: str, seed: int, budget: float) -> None:
    from flaml import AutoML

    x, y, test = _peer_frames(train_csv, test_csv, task)
    for frame in (x, test):
        for col in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[col]):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), "nan").astype(str).astype("category")
    automl = AutoML()
    kind = task["kind"]
    flaml_task = "regression" if kind == "regression" else "classification"
    metric = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}[kind]
    if kind != "regression":
        y = y.astype(str)
    automl.fit(x, y, task=flaml_task, time_budget=budget, metric=metric, n_jobs=2, seed=seed,
               verbose=0)
    test = test[x.columns]
    if kind == "regression":
        pd.DataFrame({"prediction": automl.predict(test)}).to_csv(out_csv, index=False)
        return
    proba = automl.predict_proba(test)
    pd.DataFrame(proba, columns=[f"proba_{c}" for c in automl.classes_]).to_csv(out_csv, index=False)


# --------------------------------------------------------------------------- scoring


def score_predictions(kind: str, truth: pd.Series, predictions: pd.DataFrame, target: str) -> float:
    """Score a tool's prediction CSV: columns proba_<class> (classification) or one column."""
    from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score

    if kind == "regression":
        column = target if target in predictions.columns else predictions.columns[0]
        return float(np.sqrt(mean_squared_error(truth.astype(float), predictions[column].astype(float))))
    proba_cols = [c for c in predictions.columns if str(c).startswith("proba_")]
    classes = [_class_name(c[len("proba_"):]) for c in proba_cols]
    truth_names = truth.map(_class_name)
    proba = predictions[proba_cols].to_numpy(dtype=float)
    if kind == "binary":
        positive = sorted(classes)[-1]
        return float(roc_auc_score(truth_names == positive, proba[:, classes.index(positive)]))
    index = {c: i for i, c in enumerate(classes)}
    y = truth_names.map(lambda v: index.get(v, -1)).to_numpy()
    proba = np.clip(proba, 1e-15, 1)
    proba /= proba.sum(axis=1, keepdims=True)
    known = y >= 0
    return float(log_loss(y[known], proba[known], labels=list(range(len(classes)))))


_BOOLEAN_NAMES = {"yes": "True", "y": "True", "true": "True", "t": "True",
                  "no": "False", "n": "False", "false": "False", "f": "False"}


def _class_name(value) -> str:
    """'1', '1.0' and 1 are the same class; text is stripped; Yes/No and True/False are the
    same (a peer tool may read a Yes/No column as booleans)."""
    text = str(value).strip()
    if text.lower() in _BOOLEAN_NAMES:
        return _BOOLEAN_NAMES[text.lower()]
    try:
        number = float(text)
        return str(int(number)) if number.is_integer() else text
    except ValueError:
        return text


def _reused(reuse: list[dict], name: str, seed: int, tool: str, budget: float,
            seen: dict) -> dict | None:
    """A scored peer row of an earlier run for the same task, seed and budget, whose tools
    saw the same columns and split (`seen`: its --leaks, --known and --forward; rows from
    before they were recorded had none), if any."""
    for row in reuse:
        if (row["task"], row["seed"], row["tool"]) == (name, seed, tool) and "score" in row \
                and row.get("budget", budget) == budget \
                and all(sorted(row.get(k, [])) == sorted(v) for k, v in seen.items()):
            return {**row, "reused": True}
    return None


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _with_leaks(task: dict, leaks: list[str]) -> dict:
    """The task with `leaks` added to its must_flag (peers never see them)."""
    return {**task, "must_flag": [*task.get("must_flag", []), *leaks], "extra_leaks": leaks}


def run_task(name: str, seed: int, budget: float, tools: list[str], keep: Path | None,
             reuse: list[dict] = (), leaks: list[str] = (), known: list[str] = (),
             forward: str | None = None) -> list[dict]:
    df, task = load_task(name)
    task = {**_with_leaks(task, list(leaks)), "known": list(known)}
    train, test = split_task(df, task, seed, forward)
    # what the tools saw, beyond the task file (a list each, so that --reuse compares them)
    seen = {"leaks": list(leaks), "known": list(known), "forward": [forward] if forward else []}
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"bench_{name}_") as tmp:
        work = (keep / f"{name}_{seed}" if keep else Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        train_csv, test_csv = work / "train.csv", work / "test.csv"
        train.to_csv(train_csv, index=False)
        test.drop(columns=[task["target"]]).to_csv(test_csv, index=False)
        for tool in tools:
            out_csv = work / f"{tool}_predictions.csv"
            earlier = (_reused(list(reuse), name, seed, tool, budget, seen)
                       if tool != "briefml" else None)
            if earlier:
                rows.append(earlier)
                print(_row_line(earlier) + " (reused)", file=sys.stderr, flush=True)
                continue
            if tool == "briefml":
                info = run_briefml(task, train_csv, test_csv, out_csv, budget, seed, work)
            else:
                info = run_peer(tool, task, train_csv, test_csv, out_csv, budget, seed, work)
            if "error" not in info:
                try:
                    info["score"] = score_predictions(task["kind"], test[task["target"]],
                                                      pd.read_csv(out_csv), task["target"])
                except Exception as exc:  # a scoring problem is a result too
                    info["error"] = f"scoring failed: {exc}"
            rows.append({"task": name, "kind": task["kind"], "seed": seed, "tool": tool,
                         "budget": budget, "metric": SCORE_METRIC[task["kind"]], **seen, **info})
            print(_row_line(rows[-1]), file=sys.stderr, flush=True)
    return rows


def _row_line(row: dict) -> str:
    if "error" in row:
        return f"{row['task']:<18} {row['tool']:<9} ERROR {row['error']}"
    return (f"{row['task']:<18} {row['tool']:<9} {row['metric']}={row['score']:.4f} "
            f"{row['seconds']:.1f}s {row['peak_mb']:.0f}MB")


def relative(briefml: float, peer: float, metric: str) -> float:
    """>1 means briefml is better."""
    return peer / briefml if metric in LOWER_IS_BETTER else briefml / peer


def print_table(rows: list[dict], tools: list[str]) -> None:
    """Per task: each tool's mean score ± its spread (standard deviation) over the seeds, mean
    seconds and peak MB; then briefml's mean relative score against each peer."""
    frame = pd.DataFrame(rows)
    if "score" not in frame:
        frame["score"] = np.nan
    print()
    header = f"{'task':<18} {'metric':<8} " + " ".join(f"{t + ' score ± sd':>22} {'s':>6} {'MB':>6}" for t in tools)
    print(header)
    print("-" * len(header))
    ratios: dict[str, list[float]] = {t: [] for t in tools if t != "briefml"}
    wins: dict[str, list[bool]] = {t: [] for t in tools if t != "briefml"}
    for (task, metric), group in frame.groupby(["task", "metric"], sort=False):
        cells, means = [], {}
        for tool in tools:
            ok = group[(group.tool == tool) & group.score.notna()]
            if len(ok):
                means[tool] = ok.score.mean()
                spread = f"{ok.score.std(ddof=1):.4f}" if len(ok) > 1 else "n/a"  # one seed: none
                cells.append(f"{f'{ok.score.mean():.4f} ± {spread}':>22} {ok.seconds.mean():>6.1f} "
                             f"{ok.peak_mb.max():>6.0f}")
            else:
                cells.append(f"{'failed':>22} {'':>6} {'':>6}")
        print(f"{task:<18} {metric:<8} " + " ".join(cells))
        if "briefml" in means:
            for peer in ratios:
                if peer in means:
                    ratios[peer].append(relative(means["briefml"], means[peer], metric))
                    wins[peer].append(ratios[peer][-1] >= 1.0)
    print()
    for peer, values in ratios.items():
        if values:
            print(f"briefml vs {peer}: mean relative score {np.mean(values):.4f} "
                  f"(>1 = briefml better); at least as good on {sum(wins[peer])}/{len(values)} tasks")
    print_slowest(frame)


def print_slowest(frame: pd.DataFrame) -> None:
    """Where briefml's time went, phase by phase, on its slowest run."""
    runs = frame[(frame.tool == "briefml") & frame.get("seconds", pd.Series(dtype=float)).notna()] \
        if "seconds" in frame else frame.iloc[0:0]
    if not len(runs) or "timings" not in runs:
        return
    slowest = runs.loc[runs.seconds.idxmax()]
    timings = slowest.timings if isinstance(slowest.timings, dict) else {}
    phases = ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items()
                       if name not in ("total", "training", "wall"))
    print(f"slowest briefml run: {slowest.task} seed {slowest.seed}, {slowest.seconds:.1f} s for a "
          f"{slowest.budget:g} s budget (process wall time); phases in s: {phases}")


def rescore(keep: Path) -> list[dict]:
    """Score the kept prediction files of an earlier run again (times and memory kept)."""
    rows_file = next(p for p in [keep / "rows.json", keep.parent / "rows.json"] if p.exists())
    rows = json.loads(rows_file.read_text())
    for row in rows:
        df, task = load_task(row["task"])
        _, test = split_task(df, task, row["seed"], next(iter(row.get("forward", [])), None))
        out_csv = keep / f"{row['task']}_{row['seed']}" / f"{row['tool']}_predictions.csv"
        if out_csv.exists() and ("score" in row or str(row.get("error", "")).startswith("scoring")):
            row.pop("error", None)
            row["score"] = score_predictions(task["kind"], test[task["target"]], pd.read_csv(out_csv),
                                             task["target"])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: all "
                        "public tasks; 'own': those of bench/own_tasks.json)")
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--keep", type=Path, default=None, help="keep the work files under this folder")
    parser.add_argument("--json-out", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument("--reuse", type=Path, default=None,
                        help="rows JSON of an earlier run: its peer results for the same task, "
                             "seed, budget, --leaks and --known are reused instead of run again (CatBoost with "
                             "defaults scores the same whatever the machine's load)")
    parser.add_argument("--rescore", type=Path, default=None,
                        help="re-score a finished run: the --keep folder (with rows.json beside it "
                             "or inside) instead of running anything")
    parser.add_argument("--leaks", default="",
                        help="comma-separated columns that are leaks beyond the task's must_flag: "
                             "peers never see them, briefml must find them itself")
    parser.add_argument("--known", default="",
                        help="comma-separated leakage suspects the user says are known when "
                             "predicting: briefml gets them with --keep, as a user would say so")
    parser.add_argument("--forward", default=None, metavar="DATE_COLUMN",
                        help="test on the latest 25%% of rows by this column (the same rows for "
                             "every seed) instead of a random 25%%")
    # child-process mode for the peers
    parser.add_argument("--peer", choices=["catboost", "lightgbm", "flaml"], help=argparse.SUPPRESS)
    parser.add_argument("--peer-task", help=argparse.SUPPRESS)
    parser.add_argument("--peer-train", help=argparse.SUPPRESS)
    parser.add_argument("--peer-test", help=argparse.SUPPRESS)
    parser.add_argument("--peer-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.rescore:
        rows = rescore(args.rescore)
        print_table(rows, [t for t in TOOLS if any(r["tool"] == t for r in rows)])
        return
    if args.peer:
        from bench.tasks import get_task

        task = _with_leaks(get_task(args.peer_task), _names(args.leaks))
        if args.peer == "catboost":
            peer_catboost(task, args.peer_train, args.peer_test, args.peer_out, seeds[0])
        elif args.peer == "lightgbm":
            peer_lightgbm(task, args.peer_train, args.peer_test, args.peer_out, seeds[0])
        else:
            peer_flaml(task, args.peer_train, args.peer_test, args.peer_out, seeds[0], args.budget)
        return
    names = task_names("own") if args.tasks == "own" else (_names(args.tasks) or task_names())
    tools = _names(args.tools)
    reuse = json.loads(args.reuse.read_text()) if args.reuse else []
    rows = []
    for name in names:
        for seed in seeds:
            rows += run_task(name, seed, args.budget, tools, args.keep, reuse,
                             leaks=_names(args.leaks), known=_names(args.known),
                             forward=args.forward)
            if args.json_out:
                args.json_out.write_text(json.dumps(rows, indent=1, default=str))
    print_table(rows, tools)


if __name__ == "__main__":
    main()
