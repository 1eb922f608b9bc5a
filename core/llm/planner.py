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
from core.llm.adapter import DEFAULT_TIMEOUT_SECONDS, LLMAdapter, LLMSetupError, LLMUsage
from core.llm.answers import (
    CandidateAnswer,
    RefineAnswer,
    ReportAnswer,
    SearchAnswer,
    TaskAnswer,
)
from core.llm.prompts import render_prompt
from core.llm.summary import (
    clip_text,
    delimited,
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
        fallbacks: one entry per step the fallback planner answered:
            {"step", "attempt" (tries made), "kind" (of the last problem), "reason"}.
        target_doubt: set when the brief does not support the target the model chose:
            {"chosen", "suggested", "message"}; the build shows it and the web app asks.
    """

    def __init__(
        self, adapter: LLMAdapter, *, fallback: Planner | None = None, send_examples: bool = True
    ):
        self.adapter = adapter
        self.fallback = fallback if fallback is not None else _offline_planner()
        self.send_examples = send_examples
        self.name = f"llm:{adapter.model_name}" if adapter.model_name else "llm"
        self.fallbacks: list[dict] = []
        self.target_doubt: dict | None = None

    @property
    def usage(self) -> LLMUsage:
        return self.adapter.usage

    @property
    def fell_back(self) -> bool:
        """True once any step was answered by the fallback planner."""
        return bool(self.fallbacks)

    def limit_to(self, deadline: float | None) -> None:
        """No request waits past `deadline` (a `time.monotonic()` value; None: no limit)."""
        self.adapter.deadline = deadline

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
            proposal = self._ask(
                TaskAnswer, user, lambda a: _task_proposal(a, profile, findings)
            )
            offline = self.fallback.propose_task(brief, profile, findings)
            self.target_doubt = _doubt_about_target(proposal, offline)
            return cross_checked(proposal, offline)

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
                leaderboard=_leaderboard_text(leaderboard, self.send_examples),
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
        """Markdown report in the model's words, from the engine's aggregates only.

        Every number in it must be among the facts; its text is sanitised (no HTML, images
        or links); a report that contradicts the engine's findings is replaced by the
        template report, and the contradiction is recorded as the fallback's reason.
        """
        from core.report_safety import report_contradictions, sanitise_report

        facts = report_facts(context, send_examples=self.send_examples)
        known_numbers = list(_numbers_in(facts))

        def ask() -> str:
            prompt = render_prompt("report.md", facts=clip_text(delimited(facts), MAX_FACTS_CHARS))
            report = self._ask(ReportAnswer, prompt, check)
            contradictions = report_contradictions(report, context)
            if contradictions:
                raise ReportContradiction(
                    "The report contradicts the engine: " + " ".join(contradictions)
                )
            return report

        def check(answer: ReportAnswer) -> str:
            unsupported = _unsupported_numbers(_report_text(answer), known_numbers)
            if unsupported:
                raise PlanError(
                    f"The report contains numbers that are not in the facts: "
                    f"{', '.join(unsupported)}. Copy numbers from the facts or leave them out."
                )
            return sanitise_report(_render_report(answer, self.adapter.model_name, context))

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
            self.fallbacks.append({
                "step": step,
                "attempt": int(getattr(exc, "tries", 1)),
                "kind": getattr(exc, "kind", "contradiction" if isinstance(
                    exc, ReportContradiction) else "error"),
                "reason": clip_text(" ".join(str(exc).split()), 1000),
            })
            return offline()


class ReportContradiction(Exception):
    """The LLM's report says something the engine's findings or numbers contradict."""


def make_planner(
    llm: str | None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    send_examples: bool = True,
    max_retries: int = 2,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    chat_model: BaseChatModel | None = None,
) -> tuple[Planner, str | None]:
    """The planner for a `BRIEFML_LLM` setting, and a warning for the user (or None).

    No LLM configured → the offline planner and no warning. An LLM that cannot be set up
    (unknown provider, missing package, missing API key) → the offline planner and a message
    saying what to fix (also kept as the planner's `setup_warning`, which the build reports).
    `timeout_seconds` bounds every request. `chat_model` injects a ready model (tests use fake chat models);
    `llm` then only names it for the price table.

    Make one planner per build: its `usage` and `fallbacks` add up over its lifetime, and the
    build records them.
    """
    offline = _offline_planner()
    if chat_model is not None:
        adapter = LLMAdapter(
            chat_model, model_name=llm or "", max_retries=max_retries,
            timeout_seconds=timeout_seconds,
        )
    elif llm is None or not llm.strip():
        return offline, None
    else:
        try:
            adapter = LLMAdapter.from_model_string(
                llm.strip(), base_url=base_url, api_key=api_key, max_retries=max_retries,
                timeout_seconds=timeout_seconds,
            )
        except LLMSetupError as exc:
            offline.setup_warning = str(exc)
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
    return delimited(task)


def _leaderboard_text(leaderboard: list[TrialResult], send_examples: bool = True) -> str:
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
            "error": _trial_error(t.error, send_examples),
        }
        for t in ranked[:LEADERBOARD_ROWS]
    ]
    return delimited(rows)


def _trial_error(error: str | None, send_examples: bool) -> str | None:
    # An error message may quote a cell ("could not convert 'x'"); without examples only
    # its exception type goes out.
    if not error:
        return None
    return clip_text(error, 200) if send_examples else error.split(":", 1)[0][:80]


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
    body = body.rstrip() + f"\n\n_Written by the LLM planner{by} from the engine's measurements._\n"
    return body + _failures_section(context)


def _failures_section(context: dict) -> str:
    # held-out rows never go to the LLM: the failure analysis keeps the engine's own words
    from core.planning.report import failure_lines

    if not context.get("failures"):
        return ""
    return ("\n## Where it fails\n\n" + "\n".join(failure_lines(context["failures"]))
            + "\n\n_Measured and worded by the engine._\n")


def report_facts(context: dict, *, send_examples: bool = True) -> dict:
    """What the report prompt gets: aggregates only, never rows.

    Metrics, the leaderboard, importance by column, the checks' findings and slice summaries.
    Without examples no cell value goes out at all: no class labels, no slice values, no
    check messages or warnings (they may quote values).
    """
    spec = _as_dict(context.get("spec"))
    facts: dict[str, Any] = {
        "brief": clip_text(context.get("brief") or "", MAX_BRIEF_CHARS),
        "task": {
            "target": spec.get("target"),
            "task_type": spec.get("task_type"),
            "metric": spec.get("metric"),
            "feature_columns": list(spec.get("feature_columns") or [])[:MAX_FACT_ITEMS],
            "feature_count": len(spec.get("feature_columns") or []),
        },
        "excluded_columns": [
            {"column": e.get("column"), "reason": e.get("reason")}
            for e in (spec.get("excluded") or [])[:MAX_FACT_ITEMS]
        ],
        "rows": context.get("rows"),
        "validation": context.get("validation"),
        "holdout_metrics": context.get("holdout_metrics"),
        "baseline_metrics": context.get("baseline_metrics"),
        "confidence_intervals": context.get("confidence_intervals"),
        "ensemble": _ensemble_facts(context.get("ensemble")),
        "leaderboard": [
            {k: _as_dict(t).get(k) for k in ("trial_id", "estimator", "status", "value")}
            for t in (context.get("leaderboard") or [])[:LEADERBOARD_ROWS]
        ],
        "importance_by_column": [
            {"column": i.get("column"), "mean_abs_shap": i.get("mean_abs_shap")}
            for i in ((context.get("explanation") or {}).get("importance") or [])[:MAX_FACT_ITEMS]
        ],
        "data_checks": [_finding_facts(f, send_examples) for f in context.get("findings") or []],
        "slices": _slice_facts(context.get("slices") or {}, spec.get("metric"), send_examples),
    }
    if send_examples:
        facts["positive_class"] = spec.get("positive_class")
        facts["warnings"] = [clip_text(w, 300) for w in context.get("warnings") or []]
    return facts


def _as_dict(value: Any) -> dict:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value if isinstance(value, dict) else {}


def _ensemble_facts(ensemble: Any) -> dict | None:
    ensemble = _as_dict(ensemble)
    if not ensemble:
        return None
    best = _as_dict(ensemble.get("best_single"))
    return {
        "used": ensemble.get("used"),
        "members": len(ensemble.get("weights") or {}),
        "value": ensemble.get("value"),
        "best_single": {k: best.get(k) for k in ("trial_id", "estimator", "value")},
    }


def _finding_facts(finding: Any, send_examples: bool) -> dict:
    finding = _as_dict(finding)
    entry = {k: finding.get(k) for k in ("check", "severity", "columns", "excluded_by_default")}
    if send_examples:
        entry["message"] = clip_text(finding.get("message") or "", 300)
    return entry


def _slice_facts(slices: dict, metric: str | None, send_examples: bool) -> dict:
    """Per sliced column: how many groups and the spread of the metric; group labels (cell
    values) only with examples."""
    out = {}
    for column, groups in list(slices.items())[:MAX_FACT_ITEMS]:
        scored = [g for g in groups if isinstance(g.get(metric), (int, float))]
        summary: dict[str, Any] = {"groups": len(groups), "rows": sum(g.get("rows", 0) for g in groups)}
        if scored:
            summary[f"lowest_{metric}"] = min(g[metric] for g in scored)
            summary[f"highest_{metric}"] = max(g[metric] for g in scored)
        if send_examples:
            summary["by_value"] = [
                {"value": clip_text(g.get("value"), 40), "rows": g.get("rows"), metric: g.get(metric)}
                for g in groups[:MAX_FACT_ITEMS]
            ]
        out[column] = summary
    return out


LLM_ALONE = 0.7  # how sure a model's pick is with nothing in the brief's words behind it


def cross_checked(chosen: TaskProposal, offline: TaskProposal) -> TaskProposal:
    """The model's proposal with a confidence and a runner-up from the offline scorer.

    Agreement raises the confidence above either alone; a pick among the columns the
    offline scorer hesitated between keeps the model's own confidence; a pick the brief's
    words do not support has little; and when the brief names one column outright and the
    model chose another, the planner asks which one (the model may have followed words
    hidden in the data rather than the user's)."""
    if chosen.spec is None:
        return chosen
    picked = chosen.spec.target
    scores = {c.column: c for c in offline.candidates}
    others = [c for c in offline.candidates if c.column != picked]
    if offline.spec is not None and offline.spec.target == picked:
        sure = 1 - (1 - LLM_ALONE) * (1 - offline.confidence)
        return chosen.model_copy(update={"confidence": round(sure, 3), "runner_up": offline.runner_up})
    if offline.spec is not None and _named_outright(offline):
        named = offline.spec.target
        return TaskProposal(
            spec=None,
            ambiguous=True,
            message=f"The brief names '{named}', but the LLM planner chose '{picked}' as the "
            "target. Say which one to predict.",
            candidates=[*offline.candidates[:1], TargetCandidate(
                column=picked, score=0.0, why="the LLM planner's choice")],
            confidence=0.0,
            runner_up=TargetCandidate(column=picked, score=0.0, why="the LLM planner's choice"),
        )
    if offline.spec is not None:  # the brief's words point elsewhere: the choice is doubtful
        sure = LLM_ALONE * (1 - offline.confidence)
        runner = offline.candidates[0] if offline.candidates else offline.runner_up
    elif picked in scores:  # the offline scorer hesitated, and the model settled it
        sure, runner = LLM_ALONE, others[0] if others else None
    else:  # the brief's words point at no column, nor at this one
        sure, runner = LLM_ALONE / 2, others[0] if others else None
    return chosen.model_copy(update={"confidence": round(sure, 3), "runner_up": runner})


def _named_outright(proposal: TaskProposal) -> bool:
    from core.planning.target_scoring import NAMED_REASON

    return proposal.confidence >= 1.0 and any(
        c.column == proposal.spec.target and c.why.startswith(NAMED_REASON)
        for c in proposal.candidates
    )


def _doubt_about_target(chosen: TaskProposal, offline: TaskProposal) -> dict | None:
    """A warning when the brief points to another column than the one the model chose.

    The offline matcher reads the brief as words: when it resolves the brief to a column and
    gives the model's choice almost nothing, the choice likely came from somewhere else (an
    instruction hidden in the data, say), and the user should confirm it.
    """
    if chosen.spec is None or offline.spec is None or offline.ambiguous:
        return None
    picked, suggested = chosen.spec.target, offline.spec.target
    if picked == suggested:
        return None
    scores = {c.column: c.score for c in offline.candidates}
    best = scores.get(suggested, 0.0)
    if best > 0 and scores.get(picked, 0.0) >= 0.2 * best:
        return None
    return {
        "chosen": picked,
        "suggested": suggested,
        "message": f"The LLM planner chose '{picked}' as the target, but the brief points to "
        f"'{suggested}'. Check the target before approving the plan.",
    }


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
