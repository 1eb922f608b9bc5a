"""The builds list: one row per build, for members only, and where a visitor lands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from db.models import BuildStatus
from tests.workspace.build_helpers import add_dataset, iris_csv
from workspace import builds
from workspace.build_history import (
    BuildSummary,
    budget_share_used,
    build_to_open,
    families_tried,
    list_build_history,
)
from workspace.permissions import NotFound


def summary(status: BuildStatus, minutes_ago: int) -> BuildSummary:
    created = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return BuildSummary(id=uuid.uuid4(), status=status, brief="b", started_by=None,
                        created_at=created, started_at=None, finished_at=None,
                        budget_seconds=60, budget_used=0, planner="offline", version=None,
                        version_id=None)


def test_members_see_every_build_with_who_started_it(team):
    dataset_id = add_dataset(team.owner, team.project_id, iris_csv())
    first = builds.create_build(actor=team.editor, project_id=team.project_id,
                                dataset_id=dataset_id, brief="predict the species")
    second = builds.create_build(actor=team.owner, project_id=team.project_id,
                                 dataset_id=dataset_id, brief="predict species again")
    history = list_build_history(actor=team.viewer, project_id=team.project_id)
    assert [b.id for b in history] == [second.id, first.id]
    assert [b.started_by for b in history] == [team.owner.email, team.editor.email]
    assert all(b.version is None and b.duration_seconds is None for b in history)
    with pytest.raises(NotFound):
        list_build_history(actor=team.outsider, project_id=team.project_id)


def test_a_visitor_lands_on_the_asked_build_else_running_else_the_newest_success():
    cancelled = summary(BuildStatus.CANCELLED, 1)
    succeeded = summary(BuildStatus.SUCCEEDED, 5)
    running = summary(BuildStatus.RUNNING, 9)
    history = [cancelled, succeeded, running]
    assert build_to_open(history, cancelled.id) is cancelled
    assert build_to_open(history, uuid.uuid4()) is running
    assert build_to_open([cancelled, succeeded], None) is succeeded
    assert build_to_open([cancelled], None) is cancelled
    assert build_to_open([], None) is None


def test_the_progress_bar_follows_the_clock_between_engine_reports():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    at = start + timedelta(seconds=15)
    # the engine said 1% (its first trial is still running) but 15 s of 30 have passed
    assert budget_share_used(progress=0.01, started_at=start, budget_seconds=30,
                             finished=False, now=at) == 0.5
    assert budget_share_used(progress=0.7, started_at=start, budget_seconds=30,
                             finished=False, now=at) == 0.7
    # queued (no start yet), over time but not finished, and finished
    assert budget_share_used(progress=0, started_at=None, budget_seconds=30,
                             finished=False, now=at) == 0
    assert budget_share_used(progress=0.5, started_at=start, budget_seconds=10,
                             finished=False, now=at) == 0.99
    assert budget_share_used(progress=0.5, started_at=start, budget_seconds=30,
                             finished=True, now=at) == 1.0


def test_the_trial_counter_counts_planned_families_and_names_the_untried():
    plan = {"search": {"candidates": [{"estimator": e} for e in
                                      ("catboost", "linear", "random_forest", "catboost")]}}
    trials = [{"estimator": "catboost"}, {"estimator": "linear"}, {"estimator": "catboost"}]
    assert families_tried(plan, trials, finished=False) == (
        "2 of 3 planned model families tried (catboost, linear)."
    )
    assert families_tried(plan, trials, finished=True) == (
        "2 of 3 planned model families tried (catboost, linear). "
        "Not tried within the budget: random_forest."
    )
    assert families_tried(plan, [], finished=False) == "0 of 3 planned model families tried."
    assert families_tried(None, [], finished=False) == "No trials yet."
