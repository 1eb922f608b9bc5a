"""How fast the team library ranks datasets for a brief, and whether the right table wins.

Every table of the brief corpus (bench/briefs) is a library entry (its stored profile); each
dev-half brief is asked against the whole library. Prints the time per ranking and how often
the brief's own table ranks first (top-1) or in the top 3. Uses the dev half only.

    python -m bench.library_bench [--briefs 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/<name>.py` finds bench/

from bench.briefs.tables import load
from core.checks import run_checks
from core.planning.dataset_fit import dataset_fit
from core.profile import profile_frame

HERE = Path(__file__).parent / "briefs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--briefs", type=int, default=60)
    args = parser.parse_args()
    briefs = [json.loads(line) for line in (HERE / "dev.jsonl").read_text().splitlines() if line.strip()]
    briefs = [b for b in briefs if b["expect"].get("target")][: args.briefs]
    tables = sorted({b["table"] for b in briefs})
    library = {}
    for spec in tables:
        df = load(spec)
        profile = profile_frame(df)
        library[spec] = (profile, run_checks(df, profile))
    top1 = top3 = 0
    seconds = []
    for brief in briefs:
        start = time.perf_counter()
        ranked = sorted(library, key=lambda s: -dataset_fit(brief["brief"], *library[s]).score)
        seconds.append(time.perf_counter() - start)
        top1 += ranked[0] == brief["table"]
        top3 += brief["table"] in ranked[:3]
    n = len(briefs)
    print(f"| library tables | briefs | top-1 | top-3 | ms per ranking (median) |")
    print(f"|---|---|---|---|---|")
    print(f"| {len(library)} | {n} | {top1}/{n} ({top1 / n:.0%}) | {top3}/{n} ({top3 / n:.0%}) "
          f"| {1000 * sorted(seconds)[n // 2]:.1f} |")


if __name__ == "__main__":
    main()
