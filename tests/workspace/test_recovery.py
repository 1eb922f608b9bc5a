"""Lost builds, without real workers: a build made to look like its worker died (its job
'doing' with no live worker behind it, no heartbeat), then the recovery and the training
process's last steps run in this process against the real database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from db.engine import session_scope
from db.models import Build, BuildStatus, ModelVersion, utcnow
from tests.workspace.build_helpers import add_dataset, iris_csv
from workspace import builds, tasks
from workspace.build_runner import record_failure, save_model_version
from workspace.build_state import MAX_BUILD_ATTEMPTS
from workspace.worker import recover_stalled_jobs

STALLED_AFTER = 5.0  # seconds; every heartbeat below is an hour old or brand new


@pytest.fixture
def running(team):
    """Approve a build and start its first attempt as a worker would: (build id, attempt)."""
    dataset = add_dataset(team.editor, team.project_id, iris_csv(), "iris.csv")

    def start(**changes):
        build = builds.create_and_approve(actor=team.editor, project_id=team.project_id,
                                          dataset_id=dataset, brief="predict the species",
                                          budget_seconds=3)
        begun = tasks.begin_attempt(str(build.id), build.job_id)
        assert begun.action == "run"
        _job_is_doing(build.job_id)
        _change(build.id, heartbeat_at=utcnow() - timedelta(hours=1), **changes)
        return build.id, begun.attempt

    return start


def _job_is_doing(job_id: int) -> None:
    # as procrastinate leaves it when the worker that fetched it is gone (no worker row)
    with session_scope() as session:
        session.execute(sa.text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL "
                                "WHERE id = :id"), {"id": job_id})


def _change(build_id, **values) -> None:
    with session_scope() as session:
        session.execute(sa.update(Build).where(Build.id == build_id).values(**values))


def _build(build_id) -> Build:
    with session_scope() as session:
        return session.get(Build, build_id)


def _job_status(job_id: int) -> str | None:
    with session_scope() as session:
        return session.execute(sa.text("SELECT status FROM procrastinate_jobs WHERE id = :id"),
                               {"id": job_id}).scalar()


def _recover() -> list[tuple[str, str]]:
    return [(r.build_id, r.status) for r in recover_stalled_jobs(STALLED_AFTER)]


def _logs(team, build_id) -> str:
    return " ".join(line.message for line in builds.list_build_logs(actor=team.viewer, build_id=build_id))


def test_a_stalled_first_attempt_goes_back_to_the_queue_with_its_job(team, running):
    build_id, _ = running()
    job_id = _build(build_id).job_id
    assert _recover() == [(str(build_id), "queued")]
    build = _build(build_id)
    assert build.status == BuildStatus.QUEUED and build.phase == "waiting for a worker (retry)"
    assert build.job_id == job_id and _job_status(job_id) == "todo"  # the same job, retried
    assert f"stopped sending heartbeats. Retrying (attempt 2 of {MAX_BUILD_ATTEMPTS})" in _logs(team, build_id)
    assert _recover() == []  # nothing left to recover


def test_a_stalled_last_attempt_fails_the_build_and_its_job(team, running):
    build_id, _ = running(attempts=MAX_BUILD_ATTEMPTS)
    assert _recover() == [(str(build_id), "failed")]
    build = _build(build_id)
    assert build.status == BuildStatus.FAILED and build.finished_at is not None
    assert build.error.startswith("The worker running this build stopped unexpectedly")
    assert f"tried {MAX_BUILD_ATTEMPTS} time(s)" in build.error
    assert _job_status(build.job_id) == "failed"


def test_a_stalled_build_with_a_pending_cancel_is_cancelled(team, running):
    build_id, _ = running(cancel_requested=True)
    assert _recover() == [(str(build_id), "cancelled")]
    assert _build(build_id).status == BuildStatus.CANCELLED
    assert "Cancelled (the worker stopped while the cancel was pending)." in _logs(team, build_id)


def test_a_build_whose_own_heartbeat_is_fresh_is_left_alone(team, running):
    # a worker shutting down gracefully has left procrastinate's table but still watches it
    build_id, _ = running()
    _change(build_id, heartbeat_at=utcnow())
    assert _recover() == []
    assert _build(build_id).status == BuildStatus.RUNNING


def test_an_orphaned_running_build_without_a_job_is_failed(team, running):
    build_id, _ = running()
    with session_scope() as session:  # the job row vanished (e.g. deleted by hand)
        session.execute(sa.text("DELETE FROM procrastinate_jobs"))
    assert _recover() == [(str(build_id), "failed")]
    build = _build(build_id)
    assert build.status == BuildStatus.FAILED
    assert build.error.startswith("The worker running this build stopped unexpectedly")


def test_an_orphan_with_a_recent_heartbeat_is_given_time(team, running):
    build_id, _ = running()
    _change(build_id, heartbeat_at=utcnow() - timedelta(seconds=2 * STALLED_AFTER))
    with session_scope() as session:
        session.execute(sa.text("DELETE FROM procrastinate_jobs"))
    assert _recover() == []  # orphans wait three stall periods
    assert _build(build_id).status == BuildStatus.RUNNING


def test_an_attempt_that_no_longer_owns_its_build_saves_nothing(team, running):
    build_id, attempt = running()
    assert _recover() == [(str(build_id), "queued")]
    # the first attempt's training process did not notice and finishes late: it must not
    # save a version (result is never looked at) nor overwrite the build's state
    assert save_model_version(uuid.UUID(str(build_id)), attempt, None, team.editor) is None
    record_failure(uuid.UUID(str(build_id)), attempt, "late failure", None)
    build = _build(build_id)
    assert build.status == BuildStatus.QUEUED and build.error is None
    with session_scope() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(ModelVersion)).scalar_one() == 0
    assert "late failure" not in _logs(team, build_id)


def test_a_failure_of_the_attempt_that_owns_the_build_is_recorded_with_its_details(team, running):
    build_id, attempt = running()
    record_failure(uuid.UUID(str(build_id)), attempt, "Column 'x' is empty.", "Traceback: ...")
    build = _build(build_id)
    assert build.status == BuildStatus.FAILED and build.error == "Column 'x' is empty."
    levels = {(line.level, line.message) for line in
              builds.list_build_logs(actor=team.viewer, build_id=build_id)}
    assert {("error", "Column 'x' is empty."), ("debug", "Traceback: ...")} <= levels


def test_a_long_log_line_is_cut_to_the_log_limit(team, running):
    build_id, attempt = running()
    record_failure(uuid.UUID(str(build_id)), attempt, "x" * 30000, "y" * 9000 + "END")
    build = _build(build_id)
    assert build.error == "x" * 20000  # the build keeps more of its own error than a log line
    lines = builds.list_build_logs(actor=team.viewer, build_id=build_id)
    [error] = [line.message for line in lines if line.level == "error"]
    [details] = [line.message for line in lines if line.level == "debug"]
    assert error == "x" * 5000
    assert len(details) == 5000 and details.endswith("END")  # a traceback keeps its end


def test_recovery_notes_say_what_happened_to_each_build(team, running, set_env):
    set_env(max_concurrent_builds_per_project=3)
    retried, _ = running()
    failed, _ = running(attempts=MAX_BUILD_ATTEMPTS)
    cancelled, _ = running(cancel_requested=True)
    notes = {r.build_id: r.note for r in recover_stalled_jobs(STALLED_AFTER)}
    assert notes == {
        str(retried): f"Recovered build {retried}: its worker died; queued again (attempt 2 of 2).",
        str(failed): f"Recovered build {failed}: its worker died; marked failed after 2 attempt(s).",
        str(cancelled): f"Recovered build {cancelled}: its worker died; marked cancelled "
                        "(a cancel was pending).",
    }


def test_a_lost_job_of_a_build_that_already_succeeded_is_not_reported_as_failed(team, running):
    # the worker died after the build had ended (its job still 'doing'): the log must not say
    # the build failed, and the build keeps its status
    build_id, _ = running()
    _change(build_id, status=BuildStatus.SUCCEEDED)
    [recovered] = recover_stalled_jobs(STALLED_AFTER)
    assert recovered.status == "succeeded"
    assert recovered.note == (f"Closed a lost job of build {build_id}: its worker died; "
                              "the build was already succeeded.")
    assert _build(build_id).status == BuildStatus.SUCCEEDED


def test_a_cancel_asked_before_the_save_wins_over_a_finished_training(team, running):
    build_id, attempt = running()
    builds.cancel_build(actor=team.editor, build_id=build_id)
    # the training finished after the cancel was asked (its worker gone, say): no version
    assert save_model_version(uuid.UUID(str(build_id)), attempt, None, team.editor) is None
    build = _build(build_id)
    assert build.status == BuildStatus.CANCELLED
    with session_scope() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(ModelVersion)).scalar_one() == 0
