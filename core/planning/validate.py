"""Validation that every plan goes through, whichever planner wrote it.

A planner only proposes. Before the engine acts on a proposal this module checks it against
the data profile, the metric list and the estimator registry, and it enforces the one rule a
planner cannot bend: a column the deterministic data checks leave out stays out. A planner
may argue for such a column; the argument is recorded on the exclusion and in the proposal's
message, and the user decides.

Every check collects all problems before raising one `PlanError`, so an LLM that is told
"try again" sees everything it has to fix at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import PlanError
from core.planning.task_rules import exclusions_for, with_kept_identifiers
from core.spec import (
    Candidate,
    ColumnRole,
    DataProfile,
    Exclusion,
    Finding,
    SearchPlan,
    TaskProposal,
    TaskSpec,
    TaskType,
    TrialResult,
)

VALIDATION_SCHEMES = ("auto", "cv5", "cv3", "holdout")
MAX_CLASSES = 100  # beyond this a "class" column is an identifier or a quantity


# --------------------------------------------------------------------------- task


def validate_task_proposal(
    proposal: TaskProposal,
    profile: DataProfile,
    findings: list[Finding],
    *,
    arguments: dict[str, str] | None = None,
) -> TaskProposal:
    """Validate a proposal's spec and re-apply the data checks' exclusions.

    `arguments` maps check-excluded columns the planner wants back to its reasons; they are
    recorded for the user, never acted on. An ambiguous proposal (no spec) passes unchanged.
    """
    if proposal.spec is None:
        return proposal
    # Exclusions first: a plan whose features are all check-excluded has nothing to learn
    # from, and must be refused here rather than fail the build later.
    spec, notes = apply_check_exclusions(
        with_kept_identifiers(_without_duplicates(proposal.spec), findings), profile, findings,
        arguments=arguments,
    )
    spec = validate_task_spec(spec, profile)
    message = " ".join(part for part in [proposal.message, *notes] if part)
    return proposal.model_copy(update={"spec": spec, "message": message})


def validate_task_spec(spec: TaskSpec, profile: DataProfile) -> TaskSpec:
    """The spec with duplicates removed; `PlanError` listing every problem otherwise."""
    spec = _without_duplicates(spec)
    problems = [
        *_unknown_columns(spec, profile),
        *_overlaps(spec),
        *_target_problems(spec, profile),
    ]
    if problems:
        raise PlanError("The task cannot be used as proposed: " + " ".join(problems))
    return spec


def _without_duplicates(spec: TaskSpec) -> TaskSpec:
    seen: set[str] = set()
    excluded = []
    for exclusion in spec.excluded:
        if exclusion.column not in seen:
            seen.add(exclusion.column)
            excluded.append(exclusion)
    return spec.model_copy(
        update={
            "feature_columns": list(dict.fromkeys(spec.feature_columns)),
            "text_columns": list(dict.fromkeys(spec.text_columns)),
            "datetime_columns": list(dict.fromkeys(spec.datetime_columns)),
            "excluded": excluded,
        }
    )


def _unknown_columns(spec: TaskSpec, profile: DataProfile) -> list[str]:
    known = set(profile.names)
    named = {
        "target": [spec.target],
        "feature": spec.feature_columns,
        "excluded": [e.column for e in spec.excluded],
        "text": spec.text_columns,
        "datetime": spec.datetime_columns,
    }
    problems = []
    for kind, columns in named.items():
        missing = [c for c in columns if c not in known]
        if missing:
            problems.append(
                f"The {kind} column(s) {_quoted(missing)} do not exist in the data; "
                f"the columns are {_quoted(profile.names, limit=30)}."
            )
    return problems


def _overlaps(spec: TaskSpec) -> list[str]:
    problems = []
    excluded = set(spec.excluded_columns)
    if spec.target in spec.feature_columns:
        problems.append(f"The target '{spec.target}' cannot also be a feature.")
    if spec.target in excluded:
        problems.append(f"The target '{spec.target}' cannot also be left out.")
    for kind, columns in [
        ("feature", spec.feature_columns),
        ("text", spec.text_columns),
        ("datetime", spec.datetime_columns),
    ]:
        both = [c for c in columns if c in excluded]
        if both:
            problems.append(f"The {kind} column(s) {_quoted(both)} are also left out; choose one.")
    if not spec.feature_columns:
        problems.append("No feature columns are left to learn from.")
    return problems


def _target_problems(spec: TaskSpec, profile: DataProfile) -> list[str]:
    from core.metrics import get_metric

    if spec.target not in profile.names:
        return []  # already reported as an unknown column
    problems = []
    column = profile.column(spec.target)
    task = spec.task_type
    classes = column.unique_count
    if task is TaskType.REGRESSION and column.role is not ColumnRole.NUMERIC:
        problems.append(
            f"'{spec.target}' holds {column.role.value} values, not numbers, so it cannot be a "
            "regression target; use a binary or multiclass task."
        )
    if task is TaskType.BINARY and classes != 2:
        problems.append(
            f"'{spec.target}' has {classes} distinct values; a binary task needs exactly two "
            f"({'use multiclass' if classes > 2 else 'choose another target'})."
        )
    if task is TaskType.MULTICLASS and not 3 <= classes <= MAX_CLASSES:
        problems.append(
            f"'{spec.target}' has {classes} distinct values; a multiclass task needs between 3 "
            f"and {MAX_CLASSES} (use {'binary' if classes == 2 else 'regression'})."
        )
    try:
        get_metric(spec.metric, task.value)
    except PlanError as exc:
        problems.append(str(exc))
    problems += _positive_class_problems(spec, column.top_values, classes)
    return problems


def _positive_class_problems(
    spec: TaskSpec, top_values: list[tuple[str, int]], classes: int
) -> list[str]:
    if spec.positive_class is None:
        return []
    if spec.task_type is not TaskType.BINARY:
        return [f"A positive class only applies to binary tasks, not {spec.task_type.value}."]
    values = [str(v) for v, _ in top_values]
    # The profile may list only the most frequent values; judge only when it lists all.
    if len(values) >= classes and str(spec.positive_class) not in values:
        return [
            (
                f"The positive class '{spec.positive_class}' is not a value of '{spec.target}'; "
                f"its values are {_quoted(values)}."
            )
        ]
    return []


def apply_check_exclusions(
    spec: TaskSpec,
    profile: DataProfile,
    findings: list[Finding],
    *,
    arguments: dict[str, str] | None = None,
) -> tuple[TaskSpec, list[str]]:
    """Put back every exclusion the deterministic checks make; return the spec and notes.

    The forced exclusions are the offline planner's (`task_rules.exclusions_for`: findings
    marked `excluded_by_default` for this target, then empty, constant and identifier
    columns), so both planners leave out the same columns. A planner cannot silently use
    such a column: it stays excluded and, when the planner argued for it, the argument goes
    into the exclusion's detail and a note, so the user can decide (by removing the
    exclusion in the plan editor).
    """
    arguments = dict(arguments or {})
    excluded = {e.column: e for e in spec.excluded}
    used = set(spec.feature_columns) | set(spec.text_columns) | set(spec.datetime_columns)
    notes: list[str] = []
    for forced in exclusions_for(profile, findings, spec.target, spec.restored):
        column = forced.column
        argument = arguments.pop(column, "")
        if column in excluded and not argument:
            continue
        detail = forced.detail
        if argument:
            detail += f" The planner argues to keep it: {argument}"
        reason = excluded[column].reason if column in excluded else forced.reason
        excluded[column] = Exclusion(
            column=column, reason=reason, detail=detail, grade=forced.grade
        )
        if column in used or argument:
            notes.append(_override_note(column, forced.detail, argument))
    for column, argument in arguments.items():
        # Arguments for columns no check excluded change nothing; keep them visible anyway.
        notes.append(f"The planner remarked on '{column}': {argument}")
    out = set(excluded)
    return (
        spec.model_copy(
            update={
                "excluded": list(excluded.values()),
                "feature_columns": [c for c in spec.feature_columns if c not in out],
                "text_columns": [c for c in spec.text_columns if c not in out],
                "datetime_columns": [c for c in spec.datetime_columns if c not in out],
            }
        ),
        notes,
    )


def _override_note(column: str, why_excluded: str, argument: str) -> str:
    argued = f" The planner argued to keep it: {argument}" if argument else ""
    return (
        f"The data checks leave out '{column}' ({why_excluded.rstrip('.')}).{argued} It stays "
        "out unless you remove that exclusion from the plan."
    )


# --------------------------------------------------------------------------- search


def validate_candidates(candidates: Iterable[Candidate], task_type: TaskType) -> list[Candidate]:
    """Each candidate checked against the registry (names, parameter bounds); dupes dropped."""
    from core.registry import validate_candidate

    valid: list[Candidate] = []
    problems: list[str] = []
    for number, candidate in enumerate(candidates, start=1):
        try:
            checked = validate_candidate(candidate, task_type)
        except PlanError as exc:
            problems.append(f"Candidate {number} ({candidate.estimator}): {exc}")
            continue
        if _config(checked) not in {_config(v) for v in valid}:
            valid.append(checked)
    if problems:
        raise PlanError("Some candidates are not valid: " + " ".join(problems))
    return valid


def validate_search_plan(plan: SearchPlan, spec: TaskSpec) -> SearchPlan:
    """The plan with every candidate registry-checked; `PlanError` listing every problem."""
    problems = []
    if plan.validation not in VALIDATION_SCHEMES:
        problems.append(
            f"Validation '{plan.validation}' is unknown; use one of {_quoted(VALIDATION_SCHEMES)}."
        )
    if not plan.budget_seconds > 0:
        problems.append(f"The time budget must be positive, not {plan.budget_seconds}.")
    if not plan.candidates:
        problems.append("The plan has no candidates; propose at least one estimator.")
    try:
        candidates = validate_candidates(plan.candidates, spec.task_type)
    except PlanError as exc:
        problems.append(str(exc))
    if problems:
        raise PlanError("The search plan cannot be used: " + " ".join(problems))
    return plan.model_copy(update={"candidates": candidates})


def validate_refinements(
    candidates: list[Candidate], spec: TaskSpec, leaderboard: list[TrialResult], max_new: int
) -> list[Candidate]:
    """Refinements checked against the registry and the leaderboard.

    A parent must be a trial on the leaderboard; a configuration already tried is dropped;
    at most `max_new` are kept.
    """
    trial_ids = {t.trial_id for t in leaderboard}
    orphans = [c.parent for c in candidates if c.parent is not None and c.parent not in trial_ids]
    if orphans:
        raise PlanError(
            f"The parent trial(s) {_quoted(orphans)} are not on the leaderboard; use a trial id "
            "from the leaderboard or no parent."
        )
    tried = {(t.estimator, _frozen(t.params)) for t in leaderboard}
    fresh = [c for c in validate_candidates(candidates, spec.task_type) if _config(c) not in tried]
    return fresh[:max_new]


# --------------------------------------------------------------------------- helpers


def _config(candidate: Candidate) -> tuple[str, str]:
    return candidate.estimator, _frozen(candidate.params)


def _frozen(params: dict) -> str:
    return repr(sorted((str(k), repr(v)) for k, v in params.items()))


def _quoted(names: Iterable[object], limit: int = 10) -> str:
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
