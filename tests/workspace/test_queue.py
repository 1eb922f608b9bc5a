"""Builds through the real queue: real Postgres, real `briefml worker` processes.

Every wait has a generous liveness bound; nothing here asserts a timing.
"""

from __future__ import annotations

import os
import signal

import pytest
import sqlalchemy as sa

from db.artifacts import read_artifact
from db.engine import session_scope
from db.models import BuildStatus, ModelVersion
from tests.workspace.build_helpers import (
    add_dataset,
    cancer_csv,
    iris_csv,
    kill_group,
    training_processes,
    wait_for,
)
from workspace import builds

FINAL = {BuildStatus.SUCCEEDED, BuildStatus.FAILED, BuildStatus.CANCELLED}


def _status(actor, build_id):
    return builds.get_build(actor=actor, build_id=build_id)


def _finished(actor, build_id):
    build = _status(actor, build_id)
    return build if build.status in FINAL else None


def _versions(project_id) -> list[ModelVersion]:
    with session_scope() as session:
        return list(session.execute(sa.select(ModelVersion).where(ModelVersion.project_id == project_id)
                                    .order_by(ModelVersion.version)).scalars())


def _approve(team, dataset_id, brief, budget=3, **kwargs):
    build = builds.create_and_approve(actor=team.editor, project_id=team.project_id,
                                      dataset_id=dataset_id, brief=brief, budget_seconds=budget, **kwargs)
    assert build.status == BuildStatus.QUEUED, build.plan
    return build


def test_a_build_runs_end_to_end_through_the_queue(team, workers):
    dataset = add_dataset(team.editor, team.project_id, iris_csv(), "iris.csv")
    workers.start("w1")
    build = _approve(team, dataset, "predict the species")
    done = wait_for(lambda: _finished(team.viewer, build.id), timeout=120, what="the build to finish")
    assert done.status == BuildStatus.SUCCEEDED, (done.error, workers.logs())
    assert done.progress == 1.0 and done.started_at and done.finished_at and done.heartbeat_at
    assert done.attempts == 1
    trials = builds.list_trials(actor=team.viewer, build_id=build.id)
    assert trials and all(t.metric == done.plan["spec"]["metric"] for t in trials)
    assert any(t.status == "ok" and t.score is not None for t in trials)
    logs = [line.message for line in builds.list_build_logs(actor=team.viewer, build_id=build.id)]
    assert logs[0].startswith("Attempt 1 started") and logs[-1] == "Saved model version 1."
    # each phase once, and a line per trial with its score
    phases = [m.split(" (")[0] for m in logs if "of the budget used)" in m]
    assert phases[:3] == ["Loading data", "Prepare", "Search"] and len(phases) == len(set(phases))
    assert len([m for m in logs if m.startswith("Trial ")]) == len(trials)
    later = builds.list_build_logs(actor=team.viewer, build_id=build.id, after_id=1)
    assert len(later) == len(logs) - 1
    [version] = _versions(team.project_id)
    assert version.version == 1 and version.build_id == build.id and version.target == "species"
    assert version.created_by == team.editor.user_id
    assert version.metrics["holdout"].get(version.metric) is not None
    assert version.metrics["baseline"] and version.leaderboard and version.report
    with session_scope() as session:
        bundle = read_artifact(session, version.bundle_sha256)
    assert bundle[:2] == b"PK", "the bundle is a zip"


def _first_trial(actor, build_id):
    return builds.list_trials(actor=actor, build_id=build_id)


def test_cancel_stops_a_running_build_and_keeps_its_trials(team, workers):
    dataset = add_dataset(team.editor, team.project_id, cancer_csv(), "cancer.csv")
    worker = workers.start("w1")
    build = _approve(team, dataset, "predict the diagnosis", budget=90)
    wait_for(lambda: _first_trial(team.viewer, build.id), timeout=90, what="the first trial")
    requested = builds.cancel_build(actor=team.editor, build_id=build.id)
    assert requested.status == BuildStatus.RUNNING and requested.cancel_requested
    done = wait_for(lambda: _finished(team.viewer, build.id), timeout=60, what="the cancel")
    assert done.status == BuildStatus.CANCELLED, (done.error, workers.logs())
    assert builds.list_trials(actor=team.viewer, build_id=build.id), "trials done so far are kept"
    assert _versions(team.project_id) == []
    assert worker.poll() is None, "the worker keeps running"


@pytest.mark.slow
def test_a_killed_worker_is_noticed_and_its_build_retried(team, workers):
    dataset = add_dataset(team.editor, team.project_id, iris_csv(), "iris.csv")
    first = workers.start("doomed")
    build = _approve(team, dataset, "predict the species", budget=10)
    wait_for(lambda: _first_trial(team.viewer, build.id), timeout=90, what="the first trial")
    kill_group(first)  # the worker and its training process, like a machine going away
    assert _status(team.viewer, build.id).status == BuildStatus.RUNNING
    workers.start("rescuer")
    done = wait_for(lambda: _finished(team.viewer, build.id), timeout=240, what="the recovery")
    logs = " ".join(line.message for line in builds.list_build_logs(actor=team.viewer, build_id=build.id))
    # its first attempt was lost, one attempt is left: the rescuer runs it to the end
    assert done.status == BuildStatus.SUCCEEDED, (done.status, done.error, workers.logs())
    assert done.attempts == 2 and "stopped sending heartbeats" in logs
    assert "Retrying (attempt 2 of 2)" in logs
    assert [v.build_id for v in _versions(team.project_id)] == [build.id]


@pytest.mark.slow
def test_eight_concurrent_builds_get_distinct_versions_within_the_project_limit(team, workers, set_env):
    dataset = add_dataset(team.editor, team.project_id, iris_csv(), "iris.csv")
    limit = {"BRIEFML_MAX_CONCURRENT_BUILDS_PER_PROJECT": "3"}
    workers.start("a", concurrency=3, env=limit)
    workers.start("b", concurrency=3, env=limit)
    ids = [_approve(team, dataset, "predict the species", budget=2, seed=i).id for i in range(8)]
    most_running = 0

    def all_finished():
        nonlocal most_running
        most_running = max(most_running, builds.running_builds(actor=team.viewer, project_id=team.project_id))
        return all(_finished(team.viewer, i) for i in ids)

    try:
        wait_for(all_finished, timeout=100, what="eight builds", every=0.2)
    except AssertionError:
        states = [(b.status, b.phase, b.attempts, b.job_id) for b in (_status(team.viewer, i) for i in ids)]
        raise AssertionError(f"{states}\n{workers.logs()}") from None
    assert {_status(team.viewer, i).status for i in ids} == {BuildStatus.SUCCEEDED}, workers.logs()
    versions = _versions(team.project_id)
    assert sorted(v.version for v in versions) == list(range(1, 9))
    assert sorted(str(v.build_id) for v in versions) == sorted(str(i) for i in ids)
    assert 1 <= most_running <= 3


def test_a_build_whose_training_raises_records_the_error_and_the_worker_carries_on(team, workers):
    tiny = b"size,colour,label\n" + b"".join(
        f"{i},{'red' if i % 2 else 'blue'},{'yes' if i % 2 else 'no'}\n".encode() for i in range(8))
    bad = add_dataset(team.editor, team.project_id, tiny, "tiny.csv")
    good = add_dataset(team.editor, team.project_id, iris_csv(), "iris.csv")
    worker = workers.start("w1")
    failing = _approve(team, bad, "predict the label")
    done = wait_for(lambda: _finished(team.viewer, failing.id), timeout=120, what="the failing build")
    assert done.status == BuildStatus.FAILED
    assert "only 8 rows" in done.error
    logs = builds.list_build_logs(actor=team.viewer, build_id=failing.id)
    assert any(line.level == "error" and "only 8 rows" in line.message for line in logs)
    assert worker.poll() is None

    # the training process dies hard (as under the kernel's out-of-memory killer)
    doomed = _approve(team, good, "predict the species", budget=60)
    wait_for(lambda: _first_trial(team.viewer, doomed.id), timeout=90, what="the first trial")
    [child] = training_processes(worker)
    os.kill(child, signal.SIGKILL)
    crashed = wait_for(lambda: _finished(team.viewer, doomed.id), timeout=60, what="the crash record")
    assert crashed.status == BuildStatus.FAILED and "exit code -9" in crashed.error
    assert worker.poll() is None

    healthy = _approve(team, good, "predict the species")
    after = wait_for(lambda: _finished(team.viewer, healthy.id), timeout=120, what="the next build")
    assert after.status == BuildStatus.SUCCEEDED, (after.error, workers.logs())


@pytest.mark.slow
def test_a_worker_stopped_mid_build_hands_the_build_back_to_the_queue(team, workers):
    dataset = add_dataset(team.editor, team.project_id, iris_csv(), "iris.csv")
    first = workers.start("leaving")
    # long enough that the build cannot finish in the worker's 5 s shutdown grace
    build = _approve(team, dataset, "predict the species", budget=20)
    wait_for(lambda: _first_trial(team.viewer, build.id), timeout=90, what="the first trial")
    first.send_signal(signal.SIGTERM)  # what `briefml up` and docker do on shutdown
    first.wait(timeout=60)
    handed_back = _status(team.viewer, build.id)
    assert handed_back.status == BuildStatus.QUEUED and handed_back.attempts == 1
    workers.start("next")
    done = wait_for(lambda: _finished(team.viewer, build.id), timeout=150, what="the second attempt")
    assert done.status == BuildStatus.SUCCEEDED and done.attempts == 2, (done.error, workers.logs())
    logs = " ".join(line.message for line in builds.list_build_logs(actor=team.viewer, build_id=build.id))
    assert "The worker was stopped during this build." in logs
