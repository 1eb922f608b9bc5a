"""AppTest: what the pages show of an LLM planner (scripted local server on 127.0.0.1)."""

from __future__ import annotations

import langchain_openai  # noqa: F401 - in the dev extra: missing, these tests must fail, not skip
import pytest

from tests.openai_server import ScriptedOpenAI, answers_for, hostile_answers
from tests.webapp.conftest import actor_of, app_as, no_exception, texts
from tests.workspace.build_helpers import cancer_csv
from workspace import builds, datasets, projects
from workspace.settings import get_settings


@pytest.fixture
def hostile_llm(monkeypatch):
    good = answers_for("diagnosis", "binary", "roc_auc", "malignant")
    with ScriptedOpenAI("hostile", hostile_answers(good, "mean radius", "regression", "rmse")) as server:
        for key, value in {"LLM": "openai:x", "LLM_BASE_URL": server.base_url,
                           "LLM_API_KEY": "test-key", "LLM_TIMEOUT_SECONDS": "5"}.items():
            monkeypatch.setenv(f"BRIEFML_{key}", value)
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


def _clinic_build(owner, brief: str):
    project = projects.create_project(actor=owner, name="Clinic")
    dataset = datasets.upload_dataset(actor=owner, project_id=project.id, source=cancer_csv(),
                                      filename="cancer.csv")
    build = builds.create_build(actor=owner, project_id=project.id, dataset_id=dataset.id,
                                brief=brief, budget_seconds=10)
    return project, build


def test_a_column_the_brief_names_beats_the_llm_and_the_picker_asks(owner_token, hostile_llm):
    owner = actor_of(owner_token)
    project, build = _clinic_build(owner, "predict the diagnosis, judged by balanced accuracy")
    assert build.plan["spec"] is None
    assert [c["column"] for c in build.plan["candidates"]] == ["diagnosis", "mean radius"]

    at = app_as(owner_token, project=str(project.id), build=str(build.id))
    at.switch_page("views/new_model.py")
    at.run()
    no_exception(at)
    assert "The brief names 'diagnosis', but the LLM planner chose 'mean radius'" in texts(at)
    at.radio(key="draft-target").set_value("diagnosis")
    next(b for b in at.button if b.label == "Use this target").click().run()
    no_exception(at)
    spec = builds.get_build(actor=owner, build_id=build.id).plan["spec"]
    # the picked column is planned from the whole brief: its metric stays
    assert (spec["target"], spec["metric"]) == ("diagnosis", "balanced_accuracy")


def test_a_target_the_brief_does_not_support_is_asked_about(owner_token, hostile_llm):
    owner = actor_of(owner_token)
    project, build = _clinic_build(owner, "which tumours are malignant?")
    assert build.plan["spec"]["target"] == "mean radius"

    at = app_as(owner_token, project=str(project.id), build=str(build.id))
    at.switch_page("views/new_model.py")
    at.run()
    no_exception(at)
    assert "chose 'mean radius' as the target, but the brief points to 'diagnosis'" in texts(at)
    at.button(key=f"use-suggested-{build.id}").click().run()
    no_exception(at)
    changed = builds.get_build(actor=owner, build_id=build.id)
    assert changed.plan["spec"]["target"] == "diagnosis" and "target_doubt" not in changed.plan
    assert "but the brief points to" not in texts(at)

    at = app_as(owner_token, project=str(project.id), build=str(build.id))
    at.switch_page("views/build.py")
    at.run()
    no_exception(at)
    assert "Planner: **llm:openai:x**" in texts(at)
