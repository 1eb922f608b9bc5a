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
