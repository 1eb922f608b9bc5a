"""How often the offline planner finds the target a brief asks for, on the brief corpus.

    PYTHONPATH=$PWD python -m bench.brief_accuracy [--half dev|test|test2|test3|test4|test5|both|all] [--no-public]
        [--reliability]

`--half both` measures dev and test, `--half all` every half (test, dev, test2 to test5).
For each brief of `bench/briefs/<half>.jsonl`, the table is loaded, profiled and checked, and the
offline planner proposes a task, exactly as `briefml build` does before training. A brief is
*right* when the proposal's target is the expected one (or one of its `also_ok`), or when the
planner asks and asking was expected. *Confidently wrong* is a proposal of a wrong column
without asking: the failure that costs a user most. The public tasks of `bench/tasks.json`
are measured too (target and task type, on their training split).

`--reliability` adds, per half, how often the planner's best column is right at each level of
confidence and for each kind of evidence (`core.planning.target_scoring.evidence_of`): the
table the confidence caps and the asking threshold are set from (on dev only).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/<name>.py` finds bench/

from bench.briefs.tables import HALVES, load, read_half
from core.checks import run_checks
from core.planning.brief import Brief
from core.planning.offline import OfflinePlanner
from core.planning.target_scoring import ASK_BELOW, evidence_of, score_columns
from core.profile import profile_frame
from core.tableread import infer_types

PUBLIC_SAMPLE_ROWS = 60_000  # as tests/core/test_task_rules.py: big tables are profiled on a sample


@cache
def _profiled(spec: str):
    # as briefml reads an uploaded file: blanks missing, spaces stripped, numbers typed
    df = infer_types(load(spec))
    profile = profile_frame(df)
    return profile, run_checks(df, profile)


@dataclass
class Outcome:
    item: dict
    target: str | None  # proposed target; None when the planner asked or refused
    task_type: str | None
    confidence: float
    candidates: list[str] = field(default_factory=list)
    evidence: str = ""  # the kind of evidence for the best-scored column

    @property
    def top(self) -> str | None:
        """The column proposed, or the first one asked about."""
        return self.target or next(iter(self.candidates), None)

    @property
    def expect(self) -> dict:
        return self.item["expect"]

    @property
    def should_ask(self) -> bool:
        return bool(self.expect.get("ask"))

    @property
    def asked(self) -> bool:
        return self.target is None

    @property
    def target_right(self) -> bool:
        return self.target in _ok(self)

    @property
    def right(self) -> bool:
        return self.asked if self.should_ask else self.target_right

    @property
    def confidently_wrong(self) -> bool:
        return not self.asked and not self.target_right


def measure(item: dict, planner=None) -> Outcome:
    profile, findings = _profiled(item["table"])
    proposal = (planner or OfflinePlanner()).propose_task(item["brief"], profile, findings)
    spec = proposal.spec
    matches = score_columns(Brief.read(item["brief"]), profile) if item["brief"].strip() else []
    return Outcome(
        item,
        spec.target if spec is not None else None,
        spec.task_type.value if spec is not None else None,
        proposal.confidence,
        [c.column for c in proposal.candidates],
        evidence_of(matches[0]) if matches else "none",
    )


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else f"{part}/0"


def report(half: str, outcomes: list[Outcome]) -> list[str]:
    clear = [o for o in outcomes if not o.should_ask]
    to_ask = [o for o in outcomes if o.should_ask]
    right_target = [o for o in clear if o.target_right]
    typed = [o for o in right_target if o.task_type == o.expect.get("task_type")]
    lines = [
        f"== {half} half: {len(outcomes)} briefs, {len(clear)} clear, {len(to_ask)} where asking is right",
        f"right (target, or asked when asking is right): {_share(sum(o.right for o in outcomes), len(outcomes))}",
        f"right target on clear briefs:                   {_share(len(right_target), len(clear))}",
        f"asked: {sum(o.asked for o in outcomes)} (expected on {sum(o.asked for o in to_ask)} of them)",
        f"confidently wrong (a wrong column, no question): {_share(sum(o.confidently_wrong for o in outcomes), len(outcomes))}",
        f"clear briefs that asked:                        {_share(sum(o.asked for o in clear), len(clear))}",
        f"ambiguous/bad briefs that asked:                {_share(sum(o.asked for o in to_ask), len(to_ask))}",
        f"task type right where the target was right:     {_share(len(typed), len(right_target))}",
        "confusions (id | brief | expected | got | confidence):",
    ]
    for o in outcomes:
        if o.right and (o.asked or o.task_type == o.expect.get("task_type")):
            continue
        expected = (
            "ask" if o.should_ask else f"{o.expect.get('target')} ({o.expect.get('task_type')})"
        )
        got = f"ask {o.candidates[:4]}" if o.asked else f"{o.target} ({o.task_type})"
        lines.append(
            f"  {o.item['id']} | {o.item['brief'][:90]!r} | {expected} | {got} | {o.confidence:.2f}"
        )
    return lines


CONFIDENCE_BUCKETS = (0.0, 0.2, 0.4, ASK_BELOW, 0.6, 0.7, 0.8, 0.9, 1.0)


def reliability(outcomes: list[Outcome]) -> list[str]:
    """Share of clear briefs whose best column is right, by confidence and by evidence."""
    clear = [o for o in outcomes if not o.should_ask]
    lines = [f"reliability (clear briefs; asks below {ASK_BELOW}): confidence | briefs | best right | asked"]
    for low, high in zip(CONFIDENCE_BUCKETS, (*CONFIDENCE_BUCKETS[1:-1], 1.01)):
        part = [o for o in clear if low <= o.confidence < high]
        if part:
            right = sum(o.top in _ok(o) for o in part)
            label = f"[{low:.2f}, {min(high, 1.0):.2f}{']' if high > 1 else ')'}"
            lines.append(f"  {label:14} {len(part):4} {_share(right, len(part)):>16} {sum(o.asked for o in part):4}")
    lines.append("by evidence for the best column: evidence | briefs | best right | asked | asking was right")
    for kind in sorted({o.evidence for o in outcomes}):
        part = [o for o in clear if o.evidence == kind]
        should = [o for o in outcomes if o.should_ask and o.evidence == kind]
        right = sum(o.top in _ok(o) for o in part)
        lines.append(
            f"  {kind:24} {len(part):4} {_share(right, len(part)):>16} {sum(o.asked for o in part):4}"
            f" {sum(o.asked for o in should):4}/{len(should)}"
        )
    return lines


def _ok(outcome: Outcome) -> set[str]:
    return {outcome.expect.get("target"), *outcome.expect.get("also_ok", [])} - {None}


def public_tasks() -> list[str]:
    from bench.tasks import load_task, split_task, task_names

    wrong = []
    for name in task_names():
        df, task = load_task(name)
        train, _ = split_task(df, task, seed=0)
        if len(train) > PUBLIC_SAMPLE_ROWS:
            train = train.sample(PUBLIC_SAMPLE_ROWS, random_state=0)
        profile = profile_frame(train)
        proposal = OfflinePlanner().propose_task(task["brief"], profile, run_checks(train, profile))
        spec = proposal.spec
        got = (spec.target, spec.task_type.value) if spec is not None else (None, None)
        if got != (task["target"], task["kind"]):
            wrong.append(f"  {name}: expected {task['target']} ({task['kind']}), got {got}")
    n = len(task_names())
    return [f"== public tasks (bench/tasks.json): {n - len(wrong)}/{n} right", *wrong]


def halves_of(choice: str) -> tuple[str, ...]:
    """The corpus halves a --half choice measures ("both" keeps its old meaning: dev and test)."""
    if choice == "both":
        return ("dev", "test")
    if choice == "all":
        return HALVES
    return (choice,)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=(*HALVES, "both", "all"), default="dev",
                        help="both: dev and test; all: every half")
    parser.add_argument("--no-public", action="store_true", help="skip the public tasks")
    parser.add_argument("--reliability", action="store_true",
                        help="also print how often the best column is right by confidence and evidence")
    args = parser.parse_args(argv)
    for half in halves_of(args.half):
        outcomes = [measure(item) for item in read_half(half)]
        print("\n".join(report(half, outcomes)), flush=True)
        if args.reliability:
            print("\n".join(reliability(outcomes)), flush=True)
    if not args.no_public:
        print("\n".join(public_tasks()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
