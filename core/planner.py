"""The planner interface. The offline (rules) planner and the LLM planner both implement it.

A planner only proposes; the engine validates every proposal against the data profile and
the estimator registry before it runs anything.
"""

from __future__ import annotations

from typing import Protocol

from core.spec import (
    Candidate,
    DataProfile,
    Finding,
    SearchPlan,
    TaskProposal,
    TaskSpec,
    TrialResult,
)


class Planner(Protocol):
    name: str

    def propose_task(
        self, brief: str, profile: DataProfile, findings: list[Finding]
    ) -> TaskProposal:
        """Read the brief and the data summary; choose target, task type, metric, exclusions."""

    def propose_search(
        self, spec: TaskSpec, profile: DataProfile, budget_seconds: float
    ) -> SearchPlan:
        """First candidates: strong defaults per estimator family."""

    def refine(
        self, spec: TaskSpec, profile: DataProfile, leaderboard: list[TrialResult], max_new: int
    ) -> list[Candidate]:
        """After a round, propose refinements of the most promising trials (graph search)."""

    def write_report(self, context: dict) -> str:
        """Markdown report: what was built, how good it is, what the checks found, next steps."""


def limit_planner(planner, deadline: float | None) -> None:
    """Tell a planner that asks a remote model not to wait past `deadline` (monotonic time);
    planners without remote calls have nothing to limit."""
    limit = getattr(planner, "limit_to", None)
    if callable(limit):
        limit(deadline)


def planner_report(planner) -> dict:
    """What a build tells about its planner: name, whether and why it fell back, usage.

    `fallbacks` holds one {"step", "attempt", "kind", "reason"} per step another planner
    answered; `warning` says why the configured LLM was not used at all (setup problem).
    """
    fallbacks = [dict(f) for f in getattr(planner, "fallbacks", None) or []]
    warning = getattr(planner, "setup_warning", None)
    usage = getattr(planner, "usage", None)
    return {
        "name": getattr(planner, "name", type(planner).__name__),
        "fell_back": bool(fallbacks or warning),
        "fallbacks": fallbacks,
        "warning": warning,
        "usage": usage.model_dump(mode="json") if hasattr(usage, "model_dump") else None,
    }


def fallback_warnings(report: dict) -> list[str]:
    """The planner report's setup warning and fallbacks, one line each, for `warnings`."""
    lines = [report["warning"]] if report.get("warning") else []
    lines += [
        f"The {f.get('step')} step fell back to the offline planner after {f.get('attempt')} "
        f"try(ies) ({f.get('kind')}): {f.get('reason')}"
        for f in report.get("fallbacks") or []
    ]
    return lines
