"""The build worker: procrastinate on the workspace's Postgres (psycopg 3).

One task, `builds:run_build` (see `workspace.tasks`), runs one build attempt; jobs are
deferred by `workspace.jobs`. `briefml worker` runs `run_worker`: procrastinate's worker
(with its heartbeats in `procrastinate_workers`) plus a recovery loop that finds builds whose
worker stopped sending heartbeats (killed, crashed, machine gone) and retries them once or
marks them failed. Only the CLI imports this module.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import NamedTuple

import procrastinate
import sqlalchemy as sa
from sqlmodel import Session, select

from db.engine import session_scope
from db.models import Build, BuildStatus, utcnow
from workspace.build_runner import warm_up
from workspace.build_state import MAX_BUILD_ATTEMPTS, retry_or_fail
from workspace.jobs import BUILD_QUEUE, RUN_BUILD_TASK, run_queue_query
from workspace.runtime import connect
from workspace.settings import get_settings
from workspace.tasks import register

logger = logging.getLogger("briefml.worker")


def _attach_tasks(app: procrastinate.App) -> procrastinate.App:
    register(app, name=RUN_BUILD_TASK, queue=BUILD_QUEUE)
    return app


def make_app(libpq_url: str | None = None) -> procrastinate.App:
    """A procrastinate App bound to the workspace database (resolved lazily)."""
    conninfo = libpq_url or connect().libpq_url
    return _attach_tasks(procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo),
    ))


# --------------------------------------------------------------------------- recovery


def _lock_doing_job(session: Session, job_id: int) -> bool:
    """Lock a job that is still 'doing'; False if another worker is handling it."""
    row = session.execute(sa.text(
        "SELECT id FROM procrastinate_jobs WHERE id = :id AND status = 'doing' "
        "FOR UPDATE SKIP LOCKED"), {"id": job_id}).first()
    return row is not None


def _build_for_job(session: Session, job: dict) -> Build | None:
    build_id = (job.get("args") or {}).get("build_id")
    if not build_id:
        return None
    return session.exec(select(Build).where(Build.id == build_id).with_for_update()).first()


class Recovered(NamedTuple):
    """What recovery did about one lost job: the build, its status now, and the log line."""

    build_id: str
    status: str
    note: str


def recover_stalled_jobs(stalled_after_seconds: float) -> list[Recovered]:
    """Find build jobs whose worker stopped heartbeating; retry or fail each build.

    Safe to run from every worker at once: each job is locked (SKIP LOCKED) and re-checked.
    Returns what was done, one `Recovered` per build whose job was lost.
    """
    outcomes = []
    with session_scope() as session:
        stalled = run_queue_query(
            session, "select_stalled_jobs_by_heartbeat", queue=BUILD_QUEUE,
            task_name=RUN_BUILD_TASK, seconds_since_heartbeat=stalled_after_seconds)
    for job in stalled:
        with session_scope() as session:
            if not _lock_doing_job(session, job["id"]):
                continue
            build = _build_for_job(session, job)
            if build is not None and _still_beating(build, stalled_after_seconds):
                # A worker shutting down gracefully has already left procrastinate's worker
                # table (so its job looks stalled) but is still watching the build: leave it.
                continue
            owned = (build is not None and build.status == BuildStatus.RUNNING
                     and build.job_id == job["id"])
            if owned:
                status = retry_or_fail(session, build, "The worker running this build stopped "
                                                       "sending heartbeats.")
            if owned and status == BuildStatus.QUEUED:
                run_queue_query(session, "retry_job", job_id=job["id"], retry_at=utcnow(),
                                 new_priority=None, new_queue_name=None, new_lock=None)
            else:  # nothing to run any more: the build ended, moved on to a newer job or is gone
                run_queue_query(session, "finish_job", job_id=job["id"], status="failed",
                                 delete_job=False)
            if build is not None:
                outcomes.append(Recovered(str(build.id), str(build.status),
                                          _recovery_note(build, owned)))
    outcomes += _fail_orphaned_builds(stalled_after_seconds)
    return outcomes


def _recovery_note(build: Build, changed: bool, cause: str = "its worker died") -> str:
    """The worker's log line: what really happened to the build whose job was lost."""
    status = BuildStatus(build.status)
    if not changed:
        now = "still running under a newer job" if status == BuildStatus.RUNNING else f"already {status}"
        return f"Closed a lost job of build {build.id}: {cause}; the build was {now}."
    what = {BuildStatus.QUEUED: f"queued again (attempt {build.attempts + 1} of {MAX_BUILD_ATTEMPTS})",
            BuildStatus.CANCELLED: "marked cancelled (a cancel was pending)"}.get(
        status, f"marked failed after {build.attempts} attempt(s)")
    return f"Recovered build {build.id}: {cause}; {what}."


def _still_beating(build: Build, stalled_after_seconds: float) -> bool:
    """Is the build's own heartbeat (written by the worker watching it) recent?"""
    return (
        build.status == BuildStatus.RUNNING
        and build.heartbeat_at is not None
        and build.heartbeat_at > utcnow() - timedelta(seconds=stalled_after_seconds)
    )


def _fail_orphaned_builds(stalled_after_seconds: float) -> list[Recovered]:
    """Running builds with no live job behind them (the job row vanished) and no heartbeat."""
    cutoff = utcnow() - timedelta(seconds=3 * stalled_after_seconds)
    outcomes = []
    with session_scope() as session:
        orphan_ids = session.execute(sa.text(
            "SELECT b.id FROM builds b WHERE b.status = 'running' AND b.heartbeat_at < :cutoff "
            "AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j "
            "                WHERE j.id = b.job_id AND j.status = 'doing') "
            "FOR UPDATE OF b SKIP LOCKED"), {"cutoff": cutoff}).scalars().all()
        for build_id in orphan_ids:
            build = session.get(Build, build_id)
            build.attempts = max(build.attempts, MAX_BUILD_ATTEMPTS)  # no job left to retry with
            retry_or_fail(session, build, "")
            outcomes.append(Recovered(str(build.id), str(build.status),
                                      _recovery_note(build, True, cause="its job vanished")))
    return outcomes


async def _recover_forever(stalled_after_seconds: float) -> None:
    interval = max(1.0, stalled_after_seconds / 3)
    while True:
        try:
            for recovered in await asyncio.to_thread(recover_stalled_jobs, stalled_after_seconds):
                logger.warning("%s", recovered.note)
        except Exception:  # a database hiccup must not stop the worker; try again later
            logger.exception("Stalled-build recovery failed; trying again in %.0f s", interval)
        await asyncio.sleep(interval)


# --------------------------------------------------------------------------- the worker


def heartbeat_timings() -> tuple[float, float]:
    """(seconds between worker heartbeats, seconds without one before a worker is stalled)."""
    settings = get_settings()
    heartbeat = settings.worker_heartbeat_seconds
    return heartbeat, max(settings.worker_stalled_seconds, 2 * heartbeat)


async def _serve(app: procrastinate.App, *, concurrency: int, name: str | None) -> None:
    heartbeat, stalled_after = heartbeat_timings()
    async with app.open_async():
        recovery = asyncio.create_task(_recover_forever(stalled_after), name="stalled-build recovery")
        try:
            await app.run_worker_async(
                queues=[BUILD_QUEUE], concurrency=concurrency, name=name,
                install_signal_handlers=True, update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=stalled_after, shutdown_graceful_timeout=5.0,
                delete_jobs="successful",  # finished jobs: the build row keeps the story
            )
        finally:
            recovery.cancel()


def run_worker(*, concurrency: int = 1, name: str | None = None) -> None:
    """Run a worker until interrupted (Ctrl-C or SIGTERM stop it after the builds it runs are
    handed back to the queue)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    warm_up()
    app = make_app()
    asyncio.run(_serve(app, concurrency=concurrency, name=name))
