"""The procrastinate task that runs a build, and the watch over its training process.

The task runs on the worker's event loop but never trains there: it starts one child process
per build attempt (`workspace.build_runner`), then polls the database about once a second to
record the build's heartbeat (only the worker writes it) and to see whether someone asked to
cancel. A cancel kills the child at once; a crashed child is recorded as a failed build; the
worker itself carries on. The child also watches for itself (`build_runner._supervise`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

import procrastinate
import sqlalchemy as sa

from db.engine import session_scope
from db.models import Build, BuildStatus, Trial, utcnow
from workspace.build_runner import CANCELLED_MESSAGE, end_supervision, start_training_process
from workspace.build_state import (
    add_log,
    finish_attempt,
    lock_project,
    locked_running_build,
    retry_or_fail,
    running_in_project,
)
from workspace.jobs import defer_build_job
from workspace.settings import get_settings

logger = logging.getLogger("briefml.tasks")

WATCH_INTERVAL_SECONDS = 0.5
WAIT_FOR_SLOT_SECONDS = 2.0  # a build over the project's limit looks again this much later
KILL_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Start:
    """What `begin_attempt` decided: run (with this attempt number), wait, or skip."""

    action: str  # "run" | "wait" | "skip"
    attempt: int = 0


def begin_attempt(build_id: str, job_id: int) -> Start:
    """Mark the build running if it is queued for this job and its project has a free slot.

    Over the limit, the job hands itself back: a new job is deferred a little later and this
    one ends, so the worker is free for builds of other projects meanwhile.
    """
    with session_scope() as session:
        build = session.get(Build, uuid.UUID(build_id))
        if build is None:
            return Start("skip")
        lock_project(session, build.project_id)
        session.refresh(build, with_for_update=True)
        if build.status != BuildStatus.QUEUED or (build.job_id not in (None, job_id)):
            return Start("skip")  # cancelled meanwhile, or a newer job owns this build
        limit = get_settings().max_concurrent_builds_per_project
        if running_in_project(session, build.project_id) >= limit:
            # priority 1: once a slot frees, waiting builds go before newly approved ones
            build.job_id = defer_build_job(session, build.id, delay_seconds=WAIT_FOR_SLOT_SECONDS,
                                           priority=1)
            build.phase = f"waiting: {limit} build(s) of this project already running"
            session.add(build)
            return Start("wait")
        if build.attempts > 0:  # a retry starts a fresh leaderboard
            session.execute(sa.delete(Trial).where(Trial.build_id == build.id))
        now = utcnow()
        build.status, build.job_id, build.phase, build.progress = BuildStatus.RUNNING, job_id, "starting", 0.0
        build.attempts += 1
        build.started_at = build.started_at or now
        build.heartbeat_at = now
        session.add(build)
        add_log(session, build.id, f"Attempt {build.attempts} started on a worker.")
        return Start("run", build.attempts)


def beat(build_id: str) -> tuple[str, bool]:
    """Record that a running build is alive; return (its status, whether a cancel was asked)."""
    with session_scope() as session:
        row = session.execute(
            sa.update(Build).where(Build.id == uuid.UUID(build_id))
            .values(heartbeat_at=sa.case((Build.status == BuildStatus.RUNNING, utcnow()),
                                         else_=Build.heartbeat_at))
            .returning(Build.status, Build.cancel_requested)
        ).first()
    return (row[0], bool(row[1])) if row else ("missing", False)


def hand_back(build_id: str, attempt: int) -> None:
    """The worker is shutting down mid-build: requeue (or fail) the build with a new job."""
    with session_scope() as session:
        build = locked_running_build(session, build_id, attempt)
        if build is None:
            return
        if retry_or_fail(session, build, "The worker was stopped during this build.") == BuildStatus.QUEUED:
            build.job_id = defer_build_job(session, build.id)


async def _stop(process) -> None:
    """SIGKILL the training process and reap it (never blocks the event loop for long)."""
    if process.is_alive():
        process.kill()
    await asyncio.to_thread(process.join, KILL_GRACE_SECONDS)


async def watch(process, build_id: str, attempt: int) -> str:
    """Wait for the training process; kill it on cancel. Returns the build's final status."""
    while True:
        await asyncio.to_thread(process.join, WATCH_INTERVAL_SECONDS)
        status, cancel_asked = await asyncio.to_thread(beat, build_id)
        if process.exitcode is not None:
            break
        if cancel_asked or status != BuildStatus.RUNNING:
            await _stop(process)
            if cancel_asked:
                await asyncio.to_thread(finish_attempt, build_id, attempt, BuildStatus.CANCELLED,
                                        CANCELLED_MESSAGE)
            break
    status, _ = await asyncio.to_thread(beat, build_id)
    if status == BuildStatus.RUNNING:  # the process ended without recording how
        await asyncio.to_thread(finish_attempt, build_id, attempt, BuildStatus.FAILED,
                                _stopped_message(process.exitcode))
        status, _ = await asyncio.to_thread(beat, build_id)
    return str(status)


def _stopped_message(exitcode: int | None) -> str:
    return (f"The training process stopped unexpectedly (exit code {exitcode}), for example "
            "because it ran out of memory. Try a smaller budget or dataset, or retry the build.")


async def run_build(context: procrastinate.JobContext, build_id: str) -> str:
    """Run one attempt of a queued build in a child process; return its final status."""
    start = await asyncio.to_thread(begin_attempt, build_id, context.job.id)
    if start.action != "run":
        return start.action
    process = await asyncio.to_thread(start_training_process, build_id, start.attempt)
    try:
        return await watch(process, build_id, start.attempt)
    except asyncio.CancelledError:  # the worker is shutting down: don't leave it running
        await _stop(process)
        await asyncio.to_thread(hand_back, build_id, start.attempt)
        raise
    finally:
        end_supervision(process)


def register(app: procrastinate.App, *, name: str, queue: str) -> None:
    """Add the build task to an App (each App gets its own task object)."""
    app.task(name=name, queue=queue, pass_context=True)(run_build)
