"""What the failure analysis and the stress test (core.trust) cost inside a build: the
seconds and share of the budget they take, how many stress checks ran or were skipped,
and what they found, on public benchmark tasks.

    PYTHONPATH=. python bench/trust_failures_bench.py [--budget 30] [task ...]

Prints a table; asserts nothing (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/<name>.py` finds bench/

from bench.tasks import load_task, split_task
from core.build import build_model

DEFAULT_TASKS = ["penguins", "titanic", "telco_churn", "ames", "diamonds"]


def measure(name: str, budget: float) -> dict:
    df, task = load_task(name)
    train, _ = split_task(df, task, seed=0)
    start = time.monotonic()
    result = build_model(train, task["brief"], budget_seconds=budget, seed=0)
    failures = result.failures or {}
    stress = failures.get("stress") or {}
    worst = stress.get("most_fragile") or {}
    return {
        "task": name, "rows": len(train), "columns": len(result.spec.feature_columns),
        "build s": round(time.monotonic() - start, 1),
        "failures s": round(failures.get("seconds", 0.0), 2),
        "share": f"{failures.get('share_of_budget', 0.0):.1%}",
        "checks run": len(stress.get("checks") or []), "skipped": len(stress.get("skipped") or []),
        "explained rows": sum(bool(r.get("pushed_wrong_by")) for r in failures.get("worst_rows") or []),
        "most fragile": f"{worst.get('column')} ({worst.get('check')}, {worst.get('verdict')})"
        if worst else "-",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", default=DEFAULT_TASKS)
    parser.add_argument("--budget", type=float, default=30.0)
    args = parser.parse_args()
    rows = [measure(name, args.budget) for name in args.tasks]
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths[k]) for k in keys))


if __name__ == "__main__":
    main()
