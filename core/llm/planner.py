"""The LLM planner: the `Planner` protocol answered by a chat model, checked by the engine.

Each step asks the model for a typed answer, turns it into the plan contract (core.spec) and
validates it (core.planning.validate: columns exist, estimators are in the registry,
parameters within bounds, the data checks' exclusions kept). An invalid answer goes back to
the model with the error; still invalid after the adapter's retries, the offline planner
answers that step instead, and `fallbacks` records which step fell back and why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel

from core.errors import PlanError
from core.llm.adapter import LLMAdapter, LLMSetupError, LLMUsage
from core.llm.answers import (
    CandidateAnswer,
    RefineAnswer,
    ReportAnswer,
    SearchAnswer,
    TaskAnswer,
)
from core.llm.prompts import render_prompt
from core.llm.summary import (
    CLOSE_MARKER,
    OPEN_MARKER,
    clip_text,
    resolve_column,
    summarise_profile,
    to_prompt_json,
)
from core.planner import Planner
from core.planning.validate import (
    validate_refinements,
    validate_search_plan,
    validate_task_proposal,
)
from core.spec import (
    Candidate,
    DataProfile,
    Exclusion,
    Finding,
    SearchPlan,
    TargetCandidate,
    TaskProposal,
    TaskSpec,
    TaskType,
    TrialResult,
)

StepResult = TypeVar("StepResult")

MAX_BRIEF_CHARS = 4000
MAX_FACTS_CHARS = 16000
MAX_FIRST_CANDIDATES = 6
LEADERBOARD_ROWS = 15
MAX_FACT_ITEMS = 20
MAX_FREE_TEXT = 600  # rationale, reasons: shown to users, so kept short


class LLMPlanner:
    """A `Planner` backed by a chat model, falling back per step to a rules planner.

    Attributes:
        usage: tokens, calls and estimated cost of every call so far (`LLMUsage`).
        fallbacks: one entry per step the fallback planner answered, saying why.
    """

    def __init__(
        self, adapter: LLMAdapter, *, fallback: Planner | None = None, send_examples: bool = True
    ):
        self.adapter = adapter
        self.fallback = fallback if fallback is not None else _offline_planner()
        self.send_examples = send_examples
        self.name = f"llm:{adapter.model_name}" if adapter.model_name else "llm"
        self.fallbacks: list[str] = []

    @property
    def usage(self) -> LLMUsage:
        return self.adapter.usage

    @property
    def fell_back(self) -> bool:
        """True once any step was answered by the fallback planner."""
        return bool(self.fallbacks)

    # ----------------------------------------------------------------------- the four steps

    def propose_task(
        self, brief: str, profile: DataProfile, findings: list[Finding]
    ) -> TaskProposal:
        """Target, task type, metric and exclusions for the brief, validated."""

        def ask() -> TaskProposal:
            user = render_prompt(
                "task.md",
                brief=clip_text(brief, MAX_BRIEF_CHARS),
                summary=summarise_profile(profile, findings, send_examples=self.send_examples),
                metrics=_metrics_by_task(),
            )
            return self._ask(TaskAnswer, user, lambda a: _task_proposal(a, profile, findings))

        return self._step(
            "propose_task", ask, lambda: self.fallback.propose_task(brief, profile, findings)
        )

    def propose_search(
        self, spec: TaskSpec, profile: DataProfile, budget_seconds: float
    ) -> SearchPlan:
        """The first round of candidates, registry-checked."""

        def ask() -> SearchPlan:
            user = render_prompt(
                "search.md",
                task=_task_text(spec),
                rows=profile.rows,
                columns=profile.columns,
                budget=round(budget_seconds),
                registry=_registry_text(spec.task_type),
                max_candidates=MAX_FIRST_CANDIDATES,
            )
            return self._ask(SearchAnswer, user, check)

        def check(answer: SearchAnswer) -> SearchPlan:
            plan = SearchPlan(
                candidates=[_candidate(c) for c in answer.candidates[:MAX_FIRST_CANDIDATES]],
                validation=answer.validation,
                budget_seconds=budget_seconds,
                ensemble=answer.ensemble,
                rationale=clip_text(answer.rationale, MAX_FREE_TEXT),
            )
            return validate_search_plan(plan, spec)

        return self._step(
            "propose_search",
            ask,
            lambda: self.fallback.propose_search(spec, profile, budget_seconds),
        )

    def refine(
        self, spec: TaskSpec, profile: DataProfile, leaderboard: list[TrialResult], max_new: int
    ) -> list[Candidate]:
        """Children of the most promising trials (or untried families), registry-checked.

        An empty answer means "nothing worth trying"; an answer whose every candidate was
        already tried is sent back.
        """

        def ask() -> list[Candidate]:
            user = render_prompt(
                "refine.md",
                task=_task_text(spec),
                leaderboard=_leaderboard_text(leaderboard),
                registry=_registry_text(spec.task_type),
                max_new=max_new,
            )
            return self._ask(RefineAnswer, user, check)

        def check(answer: RefineAnswer) -> list[Candidate]:
            candidates = [_candidate(c) for c in answer.candidates]
            fresh = validate_refinements(candidates, spec, leaderboard, max_new)
            if candidates and not fresh:
                raise PlanError(
                    "Every proposed candidate repeats a configuration on the leaderboard; "
                    "change at least one parameter or try another estimator."
                )
            return fresh

        return self._step(
            "refine", ask, lambda: self.fallback.refine(spec, profile, leaderboard, max_new)
        )

    def write_report(self, context: dict) -> str:
        """Markdown report in the model's words; every number in it must be from `context`."""
        known_numbers: list[float] = []

        def ask() -> str:
            compact = _compact(context)
            known_numbers.extend(_numbers_in(compact))
            facts = clip_text(to_prompt_json(compact), MAX_FACTS_CHARS)
            return self._ask(ReportAnswer, render_prompt("report.md", facts=facts), check)

        def check(answer: ReportAnswer) -> str:
            unsupported = _unsupported_numbers(_report_text(answer), known_numbers)
            if unsupported:
                raise PlanError(
                    f"The report contains numbers that are not in the facts: "
                    f"{', '.join(unsupported)}. Copy numbers from the facts or leave them out."
                )
            return _render_report(answer, self.adapter.model_name, context)

        return self._step("write_report", ask, lambda: self.fallback.write_report(context))

    # ----------------------------------------------------------------------- plumbing

    def _ask(self, schema: type, user: str, check: Callable[[Any], StepResult]) -> StepResult:
        return self.adapter.ask(schema, system=render_prompt("system.md"), user=user, check=check)

    def _step(
        self, step: str, ask: Callable[[], StepResult], offline: Callable[[], StepResult]
    ) -> StepResult:
        try:
            return ask()
        except Exception as exc:  # noqa: BLE001 - any LLM failure: fall back, say why
            self.fallbacks.append(f"{step}: {exc}")
            return offline()


def make_planner(
    llm: str | None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    send_examples: bool = True,
    max_retries: int = 2,
    chat_model: BaseChatModel | None = None,
) -> tuple[Planner, str | None]:
    """The planner for a `BRIEFML_LLM` setting, and a warning for the user (or None).

    No LLM configured → the offline planner and no warning. An LLM that cannot be set up
    (unknown provider, missing package, missing API key) → the offline planner and a message
    saying what to fix. `chat_model` injects a ready model (tests use fake chat models);
    `llm` then only names it for the price table.

    Make one planner per build: its `usage` and `fallbacks` add up over its lifetime, and the
    build records them.
    """
    offline = _offline_planner()
    if chat_model is not None:
        adapter = LLMAdapter(chat_model, model_name=llm or "", max_retries=max_retries)
    elif llm is None or not llm.strip():
        return offline, None
    else:
        try:
            adapter = LLMAdapter.from_model_string(
                llm.strip(), base_url=base_url, api_key=api_key, max_retries=max_retries
            )
        except LLMSetupError as exc:
            return offline, str(exc)
    return LLMPlanner(adapter, fallback=offline, send_examples=send_examples), None


def _offline_planner() -> Planner:
    from core.planning.offline import OfflinePlanner

    return OfflinePlanner()


# --------------------------------------------------------------------------- answers → spec


def _task_proposal(
    answer: TaskAnswer, profile: DataProfile, findings: list[Finding]
) -> TaskProposal:
    names = profile.names

    def resolve(column: str) -> str:
        return resolve_column(column, names)

    if answer.ambiguous:
        return _ambiguous_proposal(answer, names)
    if not answer.target or answer.task_type is None or not answer.metric:
        raise PlanError(
            "Give `target`, `task_type` and `metric`, or set `ambiguous` to true and ask a "
            "question."
        )
    target = resolve(answer.target)
    excluded = [
        Exclusion(column=resolve(e.column), reason=e.reason, detail=clip_text(e.detail, 300))
        for e in answer.excluded
    ]
    left_out = {e.column for e in excluded}
    spec = TaskSpec(
        target=target,
        task_type=answer.task_type,
        metric=answer.metric,
        positive_class=answer.positive_class,
        feature_columns=[c for c in names if c != target and c not in left_out],
        excluded=excluded,
        text_columns=[resolve(c) for c in answer.text_columns],
        datetime_columns=[resolve(c) for c in answer.datetime_columns],
        rationale=clip_text(answer.rationale, MAX_FREE_TEXT),
    )
    arguments = {resolve(k.column): clip_text(k.argument, 300) for k in answer.keep_despite_checks}
    proposal = validate_task_proposal(
        TaskProposal(spec=spec), profile, findings, arguments=arguments
    )
    return _with_arguments_in_rationale(proposal, arguments)


def _with_arguments_in_rationale(proposal: TaskProposal, arguments: dict[str, str]) -> TaskProposal:
    # Checks that need the target run again after this step and may leave out more columns;
    # the rationale travels with the spec, so the planner's case reaches the user even then.
    if not arguments or proposal.spec is None:
        return proposal
    remarks = "; ".join(f"'{column}': {argument}" for column, argument in arguments.items())
    rationale = (
        f"{proposal.spec.rationale} The planner would use these columns although the data checks "
        f"may leave them out (you decide): {remarks}."
    ).strip()
    return proposal.model_copy(
        update={"spec": proposal.spec.model_copy(update={"rationale": rationale})}
    )


def _ambiguous_proposal(answer: TaskAnswer, names: list[str]) -> TaskProposal:
    columns = [resolve_column(c, names) for c in answer.candidate_targets]
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise PlanError(
            f"The candidate targets {unknown} do not exist in the data; name real columns."
        )
    return TaskProposal(
        ambiguous=True,
        message=answer.question or "Which column should the model predict?",
        candidates=[
            TargetCandidate(column=c, score=round(1 / rank, 3), why="suggested by the LLM planner")
            for rank, c in enumerate(dict.fromkeys(columns), start=1)
        ],
    )


def _candidate(answer: CandidateAnswer) -> Candidate:
    params = {p.name: p.value for p in answer.params}
    if len(params) < len(answer.params):
        raise PlanError(f"A parameter of '{answer.estimator}' is given twice.")
    return Candidate(
        estimator=answer.estimator,
        params=params,
        parent=answer.parent,
        why=clip_text(answer.why, 300),
    )


# --------------------------------------------------------------------------- prompt pieces


def _metrics_by_task() -> str:
    from core.metrics import metrics_for

    return "\n".join(f"- {t.value}: {', '.join(metrics_for(t.value))}" for t in TaskType)


def _registry_text(task_type: TaskType) -> str:
    from core.registry import describe_registry

    return to_prompt_json(describe_registry(task_type.value))


def _task_text(spec: TaskSpec) -> str:
    # Column names are data: they travel escaped and inside the untrusted markers.
    task = {
        "target": clip_text(spec.target, 80),
        "task_type": spec.task_type.value,
        "metric": spec.metric,
        "feature_count": len(spec.feature_columns),
        "text_columns": len(spec.text_columns),
        "datetime_columns": len(spec.datetime_columns),
    }
    return f"{OPEN_MARKER}\n{to_prompt_json(task)}\n{CLOSE_MARKER}"


def _leaderboard_text(leaderboard: list[TrialResult]) -> str:
    ranked = sorted(leaderboard, key=lambda t: (t.score is None, -(t.score or 0.0)))
    rows = [
        {
            "trial_id": t.trial_id,
            "estimator": t.estimator,
            "params": t.params,
            "score": None if t.score is None else float(f"{t.score:.5g}"),
            "status": t.status,
            "seconds": round(t.seconds, 1),
            "parent": t.parent,
            "error": clip_text(t.error, 200) if t.error else None,
        }
        for t in ranked[:LEADERBOARD_ROWS]
    ]
    return f"{OPEN_MARKER}\n{to_prompt_json(rows)}\n{CLOSE_MARKER}"


# --------------------------------------------------------------------------- report


def _report_text(answer: ReportAnswer) -> str:
    return " ".join(
        [answer.headline, answer.what_was_built, answer.how_good, answer.data_checks]
        + answer.suggestions
    )


def _render_report(answer: ReportAnswer, model_name: str, context: dict) -> str:
    # The metrics table comes from the engine's numbers, never from the model's prose.
    from core.planning.report import main_metric, metrics_table

    table = metrics_table(
        context.get("holdout_metrics"),
        context.get("baseline_metrics"),
        context.get("confidence_intervals"),
        main_metric(context),
    )
    body = render_prompt(
        "report_template.md",
        headline=answer.headline.strip(),
        what_was_built=answer.what_was_built.strip(),
        how_good=answer.how_good.strip() + "\n\n" + table,
        data_checks=answer.data_checks.strip(),
        suggestions="\n".join(f"- {s.strip()}" for s in answer.suggestions),
    )
    by = f" ({model_name})" if model_name else ""
    return body.rstrip() + f"\n\n_Written by the LLM planner{by} from the engine's measurements._\n"


def _compact(value: Any, depth: int = 0) -> Any:
    """The report context made JSON-able and small: long lists and strings cut, curves out."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        if depth > 6:
            return "…"
        return {str(k): _compact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_compact(v, depth + 1) for v in list(value)[:MAX_FACT_ITEMS]]
        return items + (["…"] if len(value) > MAX_FACT_ITEMS else [])
    if isinstance(value, str):
        return clip_text(value, 500)
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return clip_text(value, 200)


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.(\d+))?(%?)")


def _numbers_in(value: Any):
    """Every number in a nested structure of dicts, lists and strings."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _numbers_in(item)
    elif isinstance(value, str):
        for match in _NUMBER.finditer(value):
            yield float(match.group(0).rstrip("%").replace(",", ""))
    elif hasattr(value, "model_dump"):
        yield from _numbers_in(value.model_dump())


def _unsupported_numbers(text: str, known: list[float]) -> list[str]:
    """Numbers with a decimal point or a percent sign that no known number rounds to.

    Whole numbers without '%' are let through: counts, years and list positions are too
    common in prose to police, and an invented metric value shows up as a decimal or share.
    """
    unsupported = []
    for match in _NUMBER.finditer(text):
        decimals, percent = match.group(1), match.group(2)
        if not decimals and not percent:
            continue
        shown = float(match.group(0).rstrip("%").replace(",", ""))
        places = len(decimals or "")
        candidates = [k * 100 for k in known] + known if percent else known
        tolerance = 0.5 * 10 ** (-places) + 1e-9
        if not any(abs(abs(k) - abs(shown)) <= tolerance for k in candidates):
            unsupported.append(match.group(0))
    return unsupported
