"""Builds planned in the web-app layer and trained by a real worker, against a local scripted
OpenAI-compatible server (127.0.0.1) through the real langchain-openai client."""

from __future__ import annotations

import langchain_openai  # noqa: F401 - in the dev extra: missing, these tests must fail, not skip
import pytest

from db.models import BuildStatus
from tests.openai_server import ScriptedOpenAI, answers_for, hostile_answers
from tests.workspace.build_helpers import add_dataset, cancer_csv, wait_for
from tests.workspace.test_queue import _finished, _versions
from workspace import builds

GOOD = answers_for("diagnosis", "binary", "roc_auc", "malignant")


def llm_settings(server: ScriptedOpenAI) -> dict:
    return {"llm": "openai:x", "llm_base_url": server.base_url, "llm_api_key": "test-key",
            "llm_timeout_seconds": "2"}


def worker_env(settings: dict) -> dict:
    return {f"BRIEFML_{key.upper()}": value for key, value in settings.items()}


def plan_and_train(team, workers, set_env, server, budget=8,  # noqa: F811 - the fixture
                   brief="predict the diagnosis"):
    settings = llm_settings(server)
    set_env(**settings)
    dataset = add_dataset(team.editor, team.project_id, cancer_csv(), "cancer.csv")
    planned = builds.create_build(actor=team.editor, project_id=team.project_id,
                                  dataset_id=dataset, brief=brief, budget_seconds=budget)
    workers.start("llm-worker", env=worker_env(settings))
    builds.approve_build(actor=team.editor, build_id=planned.id)
    done = wait_for(lambda: _finished(team.viewer, planned.id), timeout=150,
                    what="the build to finish")
    assert done.status == BuildStatus.SUCCEEDED, (done.error, workers.logs())
    return planned, done


@pytest.mark.slow
def test_a_hostile_server_is_asked_about_and_its_report_never_shown(team, workers, set_env):  # noqa: F811
    answers = hostile_answers(GOOD, "mean radius", "regression", "rmse")
    with ScriptedOpenAI("hostile", answers) as server:
        # the brief points at 'diagnosis' without naming it: the model's pick stands, doubted
        planned, done = plan_and_train(team, workers, set_env, server,
                                       brief="which tumours are malignant?")
    doubt = planned.plan["target_doubt"]
    assert (doubt["chosen"], doubt["suggested"]) == ("mean radius", "diagnosis")
    assert doubt["message"] in planned.plan["planner_notes"]
    steps = {f["step"]: f["kind"] for f in done.planner_report["fallbacks"]}
    assert steps.get("write_report") in ("contradiction", "invalid answer"), done.planner_report
    assert done.planner_report["usage"]["calls"] >= 3  # planning and training add up
    [version] = _versions(team.project_id)
    for banned in ("<script", "evil.example", "javascript:", "no columns were left out"):
        assert banned not in version.report
    assert version.metrics["planner_report"]["fallbacks"]


@pytest.mark.slow
def test_a_hung_server_costs_one_timeout_per_process_and_is_saved_on_the_build(
        team, workers, set_env):  # noqa: F811
    with ScriptedOpenAI("hang") as server:
        planned, done = plan_and_train(team, workers, set_env, server)
        asked = len(server.requests)
    assert planned.status == BuildStatus.PLANNED and planned.planner_report["fell_back"]
    assert planned.planner_report["fallbacks"][0]["kind"] == "timeout"
    kinds = [f["kind"] for f in done.planner_report["fallbacks"]]
    assert kinds.count("timeout") == 2  # once while planning, once in the training process
    assert asked == 2
    assert "timeout" in (done.planner_fallback or "").lower()


def test_a_failed_training_still_saves_its_planner_fallbacks(team, set_env, monkeypatch):
    import uuid

    from core.errors import BriefmlError
    from workspace import build_runner, tasks

    def failing_build(df, plan, *, planner, **kwargs):
        planner.fallbacks.append({"step": "refine", "attempt": 1, "kind": "timeout",
                                  "reason": "no answer"})
        raise BriefmlError("No model finished training within the budget.")

    with ScriptedOpenAI("good", GOOD) as server:
        set_env(**llm_settings(server))
        dataset = add_dataset(team.editor, team.project_id, cancer_csv(), "cancer.csv")
        build = builds.create_and_approve(actor=team.editor, project_id=team.project_id,
                                          dataset_id=dataset, brief="predict the diagnosis",
                                          budget_seconds=5)
        monkeypatch.setattr(build_runner, "run_build", failing_build)
        start = tasks.begin_attempt(str(build.id), build.job_id)
        with pytest.raises(BriefmlError):
            build_runner.run_attempt(uuid.UUID(str(build.id)), start.attempt)
    saved = builds.get_build(actor=team.viewer, build_id=build.id)
    assert [f["step"] for f in saved.planner_report["fallbacks"]] == ["refine"]
    assert saved.llm_usage["calls"] == 2  # planning's two calls, kept
