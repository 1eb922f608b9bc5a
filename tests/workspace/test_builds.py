"""The build lifecycle in the workspace layer: plan, edit, approve, cancel, retry, permissions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.errors import PlanError
from db.engine import session_scope
from db.models import AuditEvent, BuildStatus
from tests.workspace.build_helpers import add_dataset, cancer_csv, iris_csv
from workspace import builds
from workspace.builds import BuildStateError
from workspace.permissions import Forbidden, NotFound


@pytest.fixture
def iris(team):
    return add_dataset(team.editor, team.project_id, iris_csv(), "iris.csv")


def _plan(team, dataset_id, brief="predict the species", **kwargs):
    return builds.create_build(actor=team.editor, project_id=team.project_id, dataset_id=dataset_id,
                               brief=brief, budget_seconds=kwargs.pop("budget_seconds", 3), **kwargs)


def _jobs() -> list[dict]:
    with session_scope() as session:
        return [dict(r._mapping) for r in session.execute(sa.text(
            "SELECT id, status, task_name, queue_name, args FROM procrastinate_jobs ORDER BY id"))]


def test_a_clear_brief_is_planned_with_a_validated_plan(team, iris):
    build = _plan(team, iris)
    assert build.status == BuildStatus.PLANNED
    assert build.plan["spec"]["target"] == "species"
    assert build.plan["spec"]["task_type"] == "multiclass"
    assert build.plan["search"]["candidates"], "the planner proposes at least one estimator"
    assert build.plan["search"]["budget_seconds"] == 3
    assert build.created_by == team.editor.user_id and build.planner == "offline"
    with session_scope() as session:
        actions = session.execute(sa.select(AuditEvent.action)).scalars().all()
    assert "plan" in actions


def test_an_ambiguous_brief_is_a_draft_with_candidates_then_a_target_makes_it_planned(team, iris):
    build = _plan(team, iris, brief="make a model of this")
    assert build.status == BuildStatus.DRAFT
    assert build.plan["spec"] is None and build.plan["question"]
    with pytest.raises(BuildStateError, match="no plan yet"):
        builds.approve_build(actor=team.editor, build_id=build.id)
    with pytest.raises(PlanError, match="no column 'colour'"):
        builds.update_plan(actor=team.editor, build_id=build.id, spec={"target": "colour"})
    planned = builds.update_plan(actor=team.editor, build_id=build.id, spec={"target": "species"})
    assert planned.status == BuildStatus.PLANNED and planned.plan["spec"]["target"] == "species"


def test_plan_edits_are_validated_by_the_engine(team, iris):
    build = _plan(team, iris)
    with pytest.raises(PlanError, match="Unknown estimator 'magic_forest'"):
        builds.update_plan(actor=team.editor, build_id=build.id,
                           search={"candidates": [{"estimator": "magic_forest"}]})
    with pytest.raises(PlanError, match="petal_colour"):
        builds.update_plan(actor=team.editor, build_id=build.id,
                           spec={"feature_columns": ["petal_colour"]})
    with pytest.raises(PlanError, match="time budget must be between"):
        builds.update_plan(actor=team.editor, build_id=build.id, budget_seconds=-5)
    with pytest.raises(PlanError, match=r"The plan is not valid: task_type: .*Fix these fields"):
        builds.update_plan(actor=team.editor, build_id=build.id, spec={"task_type": "astrology"})
    edited = builds.update_plan(
        actor=team.editor, build_id=build.id, budget_seconds=4,
        search={"candidates": [{"estimator": "random_forest", "params": {}}], "ensemble": False})
    assert [c["estimator"] for c in edited.plan["search"]["candidates"]] == ["random_forest"]
    assert edited.budget_seconds == 4 and edited.plan["search"]["budget_seconds"] == 4


def test_approving_queues_a_job_in_the_same_transaction_and_only_once(team, iris):
    build = _plan(team, iris)
    assert _jobs() == []
    queued = builds.approve_build(actor=team.editor, build_id=build.id)
    assert queued.status == BuildStatus.QUEUED and queued.approved_by == team.editor.user_id
    [job] = _jobs()
    assert job["id"] == queued.job_id and job["status"] == "todo"
    assert job["task_name"] == "builds:run_build" and job["queue_name"] == "builds"
    assert job["args"] == {"build_id": str(build.id)}
    with pytest.raises(BuildStateError, match="This build is queued; only a planned build"):
        builds.approve_build(actor=team.editor, build_id=build.id)


def test_cancelling_a_queued_build_withdraws_its_job(team, iris):
    build = builds.create_and_approve(actor=team.editor, project_id=team.project_id,
                                      dataset_id=iris, brief="predict species", budget_seconds=3)
    assert build.status == BuildStatus.QUEUED
    cancelled = builds.cancel_build(actor=team.editor, build_id=build.id)
    assert cancelled.status == BuildStatus.CANCELLED and cancelled.finished_at is not None
    assert [j["status"] for j in _jobs()] == ["cancelled"]
    with pytest.raises(BuildStateError, match="This build is cancelled; there is nothing to cancel"):
        builds.cancel_build(actor=team.editor, build_id=build.id)
    logs = builds.list_build_logs(actor=team.viewer, build_id=build.id)
    assert "Cancelled by eddie@example.com" in logs[-1].message


def test_retry_makes_a_new_queued_build_with_the_same_plan(team, iris):
    build = builds.create_and_approve(actor=team.editor, project_id=team.project_id,
                                      dataset_id=iris, brief="predict species", budget_seconds=3)
    with pytest.raises(BuildStateError, match="only a failed or cancelled build can be retried"):
        builds.retry_build(actor=team.editor, build_id=build.id)
    builds.cancel_build(actor=team.editor, build_id=build.id)
    again = builds.retry_build(actor=team.owner, build_id=build.id)
    assert again.id != build.id and again.status == BuildStatus.QUEUED
    assert again.plan == builds.get_build(actor=team.viewer, build_id=build.id).plan
    assert [b.id for b in builds.list_builds(actor=team.viewer, project_id=team.project_id)] == [again.id, build.id]


def test_roles_viewers_watch_editors_build_outsiders_see_nothing(team, iris):
    with pytest.raises(Forbidden, match="Only a project editor or above may build"):
        _plan(type(team)(team.project_id, team.owner, team.viewer, team.viewer, team.outsider), iris)
    build = _plan(team, iris)
    with pytest.raises(Forbidden, match="may approve"):
        builds.approve_build(actor=team.viewer, build_id=build.id)
    with pytest.raises(NotFound, match="No build with that id"):
        builds.get_build(actor=team.outsider, build_id=build.id)
    with pytest.raises(NotFound):
        builds.list_trials(actor=team.outsider, build_id=build.id)
    assert builds.get_build(actor=team.viewer, build_id=build.id).id == build.id


def test_a_dataset_of_another_project_cannot_be_used(team, iris):
    from workspace.projects import create_project

    other = create_project(actor=team.editor, name="Other")
    with pytest.raises(NotFound, match="No dataset with that id"):
        builds.create_build(actor=team.editor, project_id=other.id, dataset_id=iris,
                            brief="predict species", budget_seconds=3)


def test_an_empty_brief_or_a_silly_budget_is_refused(team):
    data = add_dataset(team.editor, team.project_id, cancer_csv(), "cancer.csv")
    with pytest.raises(PlanError, match="The brief is empty"):
        builds.create_build(actor=team.editor, project_id=team.project_id, dataset_id=data, brief="  ")
    with pytest.raises(PlanError, match="time budget must be between 1 and"):
        builds.create_build(actor=team.editor, project_id=team.project_id, dataset_id=data,
                            brief="predict diagnosis", budget_seconds=10**9)


def test_an_unusable_llm_setting_plans_offline_and_records_why(team, iris, set_env):
    set_env(llm="nosuchprovider:some-model")
    build = _plan(team, iris)
    assert build.status == BuildStatus.PLANNED and build.planner == "offline"
    assert "nosuchprovider" in (build.planner_fallback or "")
    assert build.llm_usage is None  # the offline planner spends no tokens


def test_llm_usage_of_planning_and_training_adds_up():
    planning = {"model": "m", "calls": 2, "input_tokens": 300, "output_tokens": 40, "cost_usd": 0.01}
    training = {"model": "m", "calls": 1, "input_tokens": 100, "output_tokens": 10, "cost_usd": 0.002}
    total = builds.combine_usage(planning, training)
    assert (total["calls"], total["input_tokens"], total["output_tokens"]) == (3, 400, 50)
    assert total["cost_usd"] == pytest.approx(0.012)
    assert builds.combine_usage(None, training) == training
    unpriced = builds.combine_usage(planning, {**training, "cost_usd": None})
    assert unpriced["cost_usd"] is None  # an unknown price is not silently zero


def test_the_budget_bounds_come_from_the_settings(team, iris, set_env):
    set_env(min_budget_seconds=10, default_budget_seconds=20, max_budget_seconds=30)
    with pytest.raises(PlanError, match="between 10 and 30 seconds, not 5"):
        _plan(team, iris, budget_seconds=5)
    with pytest.raises(PlanError, match="between 10 and 30 seconds, not 31"):
        _plan(team, iris, budget_seconds=31)
    assert _plan(team, iris, budget_seconds=None).budget_seconds == 20
