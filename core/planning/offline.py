"""The offline planner: rules over the brief and the data profile, no LLM needed.

It answers every step of the `core.planner.Planner` protocol. Choosing the task is done here
(`core.planning.task_rules`); the search and the report steps live in their own rule modules,
imported when first used.
"""

from __future__ import annotations

from core.planning import task_rules
from core.spec import (
    Candidate,
    DataProfile,
    Finding,
    SearchPlan,
    TaskProposal,
    TaskSpec,
    TrialResult,
)


class OfflinePlanner:
    """A `Planner` made of deterministic rules; the same inputs always give the same plan."""

    name = "offline"

    def propose_task(
        self, brief: str, profile: DataProfile, findings: list[Finding]
    ) -> TaskProposal:
        """Target, task type, metric, positive class and exclusions, or the candidates when
        the brief does not say clearly what to predict. The brief is only read as words."""
        return task_rules.propose_task(brief, profile, findings)

    def propose_search(
        self, spec: TaskSpec, profile: DataProfile, budget_seconds: float
    ) -> SearchPlan:
        from core.planning.search_rules import first_search_plan

        return first_search_plan(spec, profile, budget_seconds)

    def refine(
        self, spec: TaskSpec, profile: DataProfile, leaderboard: list[TrialResult], max_new: int
    ) -> list[Candidate]:
        from core.planning.search_rules import refine_candidates

        return refine_candidates(spec, profile, leaderboard, max_new)

    def write_report(self, context: dict) -> str:
        from core.planning.report import template_report

        return template_report(context)
