"""Benchmark: how long profiling and the data checks take, and their peak memory.

Tables: the `flights` task (327k rows after dropping missing targets, 19 columns) and a
generated 1M × 20 table of mixed types. Run from the repository root:

    .venv/bin/python -m bench.profile_bench [--rows 1000000]

Prints one row per (table, step): seconds (best of --repeat runs) and the peak of memory
allocated during the step (tracemalloc, measured in a separate run since tracing slows
things down). A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/<name>.py` finds bench/

from bench.tasks import load_task
from core.checks import run_checks
from core.loading import infer_types, load_table
from core.profile import profile_frame
from core.spec import TaskType


def generated_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """20 columns: 8 numeric, 4 integer, 4 categorical, 2 boolean, 1 datetime, 1 id."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i in range(8):
        values = rng.normal(i, 1 + i, rows)
        values[rng.random(rows) < 0.05] = np.nan
        data[f"num_{i}"] = values
    for i in range(4):
        data[f"int_{i}"] = rng.integers(0, 10 ** (i + 1), rows)
    for i in range(4):
        levels = np.array([f"level_{k}" for k in range(5 * (i + 1) ** 2)])
        data[f"cat_{i}"] = pd.Series(levels[rng.integers(0, len(levels), rows)], dtype="str")
    data["flag_0"] = rng.random(rows) < 0.3
    data["flag_1"] = rng.integers(0, 2, rows)
    data["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(
        rng.integers(0, 10**8, rows), unit="s"
    )
    data["row_id"] = pd.Series([f"r{i:08d}" for i in range(rows)], dtype="str")
    frame = pd.DataFrame(data)
    frame["target"] = frame["num_0"].fillna(0) * 2 + frame["int_0"] + rng.normal(0, 1, rows)
    return frame.drop(columns=["num_7"])  # keep 20 columns


def measure(step: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best seconds, peak MB allocated) of running `step`."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated table")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    flights, task = load_task("flights")
    flights = infer_types(flights)
    generated = generated_table(args.rows)
    tables = [
        ("flights", flights, task["target"], TaskType.REGRESSION),
        (f"generated {args.rows:,}×20", generated, "target", TaskType.REGRESSION),
    ]
    rows = []
    for name, df, target, task_type in tables:
        profile = profile_frame(df)
        steps = {
            "profile_frame": lambda df=df: profile_frame(df),
            "run_checks (no target)": lambda df=df, p=profile: run_checks(df, p),
            "run_checks (target)": lambda df=df, p=profile, t=target, k=task_type: run_checks(
                df, p, t, k
            ),
        }
        if name == "flights":
            csv_bytes = df.to_csv(index=False).encode()
            steps["load_table (CSV, %.0f MB)" % (len(csv_bytes) / 1e6)] = lambda b=csv_bytes: (
                load_table(b, filename="flights.csv")
            )
        for step, fn in steps.items():
            seconds, peak = measure(fn, args.repeat)
            rows.append((name, f"{len(df):,}×{df.shape[1]}", step, seconds, peak))

    header = f"{'table':<22} {'shape':<14} {'step':<28} {'seconds':>8} {'peak MB':>9}"
    print(header)
    print("-" * len(header))
    for name, shape, step, seconds, peak in rows:
        print(f"{name:<22} {shape:<14} {step:<28} {seconds:>8.2f} {peak:>9.1f}")


if __name__ == "__main__":
    main()
