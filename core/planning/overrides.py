"""What a script sets by hand: the target, task type, metric or positive class.

`briefml build DATA --intent ... --target COLUMN [--task ...] [--metric ...]
[--positive-class ...]` wraps its planner in `OverridingPlanner`: the proposal uses what was
given, the rest still comes from the brief (the metric the brief asks for, its positive class),
and each override is checked against the data with a one-line error that says what exists.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.errors import PlanError
from core.planning.brief import Brief
from core.planning.target_scoring import Match, unusable_target
from core.planning.task_type import choose_metric, choose_positive_class, task_type_from_profile
from core.spec import DataProfile, Finding, TaskProposal, TaskSpec, TaskType

MAX_LISTED = 30


@dataclass(frozen=True)
class TaskOverrides:
    target: str | None = None
    task: str | None = None
    metric: str | None = None
    positive_class: str | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def given(self) -> dict[str, str]:
        """The overrides that were set, for the plan and the JSON summary."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def flags(self) -> str:
        return ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in self.given().items())


def _listed(values: list[str]) -> str:
    shown = ", ".join(f"'{v}'" for v in values[:MAX_LISTED])
    return shown + (f" and {len(values) - MAX_LISTED} more" if len(values) > MAX_LISTED else "")


def _task_type(name: str | None) -> TaskType | None:
    if name is None:
        return None
    try:
        return TaskType(name.strip().lower())
    except ValueError:
        choices = ", ".join(t.value for t in TaskType)
        raise PlanError(f"--task must be one of {choices}, not '{name}'.") from None


def propose_with_overrides(
    proposal_for_brief,
    brief: str,
    profile: DataProfile,
    findings: list[Finding],
    overrides: TaskOverrides,
    by: str = "",
) -> TaskProposal:
    """The proposal with `overrides` applied. `proposal_for_brief()` asks the planner; it is
    called only when no target is given. Raises `PlanError` for an override the data refutes.
    `by`: who set them, for the rationale (default: the command-line flags)."""
    task_type = _task_type(overrides.task)
    if overrides.target is None:
        proposal = proposal_for_brief()
        if proposal.spec is None:
            return proposal  # the brief is unclear: the caller asks for --target
    else:
        proposal = _proposal_for_target(overrides.target, brief, profile, findings)
    spec = _with_task_metric_positive(proposal.spec, brief, profile, task_type, overrides)
    how = f"'{spec.target}' picked in {by}" if by else overrides.flags()
    spec.rationale = f"{spec.rationale} Set by the user: {how}.".strip()
    from core.planning.validate import validate_task_spec

    return proposal.model_copy(
        update={"spec": validate_task_spec(spec, profile), "confidence": 1.0}
    )


def _proposal_for_target(
    target: str, brief: str, profile: DataProfile, findings: list[Finding]
) -> TaskProposal:
    from core.planning.task_rules import _proposal_for

    if target not in profile.names:
        raise PlanError(
            f"There is no column '{target}' in the data; the columns are {_listed(profile.names)}."
        )
    column = profile.column(target)
    problem = unusable_target(column)
    if problem:
        raise PlanError(problem)
    match = Match(column, 1.0, [f"set with --target {target}"], named=True)
    proposal = _proposal_for(match, Brief.read(brief), profile, findings)
    if proposal.spec is None:
        raise PlanError(proposal.message)
    return proposal


def _with_task_metric_positive(
    spec: TaskSpec,
    brief: str,
    profile: DataProfile,
    task_type: TaskType | None,
    overrides: TaskOverrides,
) -> TaskSpec:
    column = profile.column(spec.target)
    task_type = task_type or task_type_from_profile(column, brief)
    update: dict = {"task_type": task_type}
    if task_type is not spec.task_type:
        update["metric"] = choose_metric(brief, task_type)[0]
        update["positive_class"] = (
            choose_positive_class(column, Brief.read(brief))[0]
            if task_type is TaskType.BINARY
            else None
        )
    if overrides.metric is not None:
        update["metric"] = overrides.metric.strip().lower()
    if overrides.positive_class is not None:
        values = [str(v) for v, _ in column.top_values]
        if task_type is not TaskType.BINARY:
            raise PlanError(
                f"--positive-class only applies to a binary task; '{spec.target}' is "
                f"{task_type.value}."
            )
        if overrides.positive_class not in values:
            raise PlanError(
                f"'{overrides.positive_class}' is not a value of '{spec.target}'; its values are "
                f"{_listed(values)}."
            )
        update["positive_class"] = overrides.positive_class
    return spec.model_copy(update=update)


class OverridingPlanner:
    """A planner whose task proposal honours the user's overrides; every other step is the
    wrapped planner's."""

    def __init__(self, planner, overrides: TaskOverrides):
        self._planner = planner
        self.overrides = overrides

    def __getattr__(self, name: str):
        return getattr(self._planner, name)

    def propose_task(
        self, brief: str, profile: DataProfile, findings: list[Finding]
    ) -> TaskProposal:
        return propose_with_overrides(
            lambda: self._planner.propose_task(brief, profile, findings),
            brief,
            profile,
            findings,
            self.overrides,
        )


def with_overrides(planner, overrides: TaskOverrides):
    """`planner` (default: the offline rules) wrapped to honour `overrides`, if any."""
    if planner is None:
        from core.planning.offline import OfflinePlanner

        planner = OfflinePlanner()
    return OverridingPlanner(planner, overrides) if overrides else planner
