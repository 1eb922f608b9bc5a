"""A training process cannot outlive, or act without, the worker that supervises it.

A real `briefml worker` process on the real database: the worker is frozen (SIGSTOP: alive
but unable to act), then killed alone (not its process group), and the test checks what the
training process does then. The whole-tree kill and the worker-side cancel are in
test_queue.py. Every wait has a generous liveness bound; nothing here asserts a timing.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.engine import session_scope
from db.models import BuildStatus, ModelVersion
from tests.workspace.build_helpers import add_dataset, cancer_csv, training_processes, wait_for
from workspace import builds
from workspace.worker import recover_stalled_jobs

STALLED_AFTER = 2.0  # seconds without a heartbeat (the test workers beat every second)


def _gone(pid: int) -> bool:
    """Has the process exited (a zombie nobody reaps counts as gone)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _versions(project_id) -> int:
    with session_scope() as session:
        return session.execute(sa.select(sa.func.count()).select_from(ModelVersion)
                               .where(ModelVersion.project_id == project_id)).scalar_one()


def _training_build(team, worker, dataset):
    """A build with a long budget that `worker` is training, past its first trial:
    (build, pid of its training process)."""
    build = builds.create_and_approve(actor=team.editor, project_id=team.project_id,
                                      dataset_id=dataset, brief="predict the diagnosis",
                                      budget_seconds=90)
    wait_for(lambda: builds.list_trials(actor=team.viewer, build_id=build.id), timeout=90,
             what="the first trial")
    [child] = training_processes(worker)
    return build, child


def _status(team, build) -> BuildStatus:
    return builds.get_build(actor=team.viewer, build_id=build.id).status


@pytest.mark.slow
def test_a_training_process_acts_only_under_its_worker_and_dies_with_it(team, workers):
    """One worker's life (one start-up for both halves): frozen, then killed alone."""
    dataset = add_dataset(team.editor, team.project_id, cancer_csv(), "cancer.csv")
    worker = workers.start("supervisor")

    # 1. The worker is frozen (SIGSTOP: alive, holding its pipe, but neither beating nor
    # killing): the child trains on, yet cannot keep the build alive, and a cancel still wins.
    build, child = _training_build(team, worker, dataset)
    os.kill(worker.pid, signal.SIGSTOP)
    try:
        frozen_beat = builds.get_build(actor=team.viewer, build_id=build.id).heartbeat_at
        trials = len(builds.list_trials(actor=team.viewer, build_id=build.id))
        wait_for(lambda: len(builds.list_trials(actor=team.viewer, build_id=build.id)) > trials,
                 timeout=60, what="the unsupervised child to record another trial")
        assert builds.get_build(actor=team.viewer, build_id=build.id).heartbeat_at == frozen_beat
        assert builds.cancel_build(actor=team.editor, build_id=build.id).cancel_requested
        wait_for(lambda: _status(team, build) == BuildStatus.CANCELLED, timeout=20,
                 what="the child to honour the cancel itself")
        wait_for(lambda: _gone(child), timeout=20, what="the cancelled child to stop")
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    logs = [line.message for line in builds.list_build_logs(actor=team.viewer, build_id=build.id)]
    assert logs[-1] == "Cancelled; the trials finished so far are kept."
    assert _versions(team.project_id) == 0

    # 2. The thawed worker carries on with the next build, and is then killed alone (not its
    # process group): its fork server and training process must not outlive it.
    build, child = _training_build(team, worker, dataset)
    server = _parent(child)  # the fork server
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    wait_for(lambda: _gone(child) and _gone(server), timeout=20,
             what="the training process and the fork server to die with their worker")
    # nobody beats for the build any more: it is seen as stalled and goes back to the queue
    recovered = wait_for(lambda: recover_stalled_jobs(STALLED_AFTER), timeout=30,
                         what="the build to be seen as stalled")
    assert [(r.build_id, r.status) for r in recovered] == [(str(build.id), "queued")]
    assert recovered[0].note == (f"Recovered build {build.id}: its worker died; "
                                 "queued again (attempt 2 of 2).")
    assert builds.get_build(actor=team.viewer, build_id=build.id).attempts == 1
    assert _versions(team.project_id) == 0
    assert _status(team, build) == BuildStatus.QUEUED  # for a rescuer (see test_queue.py)
