"""The build-state steps every part of a build's life shares, each written once.

The web's use cases (`workspace.builds`), the worker's task (`workspace.tasks`), its
recovery loop (`workspace.worker`) and the training process (`workspace.build_runner`) all
change builds with these: the project lock, "the running build this attempt still owns",
a log line, the running-build count, retry-or-fail and finishing a build.

Lock order, everywhere: the project row first, then the build row (no deadlocks).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Session, select

from db.engine import session_scope
from db.models import Build, BuildLog, BuildStatus, Project, utcnow

MAX_BUILD_ATTEMPTS = 2  # a build whose worker dies is retried once, then marked failed
LOG_MESSAGE_CHARS = 5000  # one log line; longer messages are cut
ERROR_CHARS = 20000  # the build's own error text
WORKER_STOPPED_REASON = (
    "The worker running this build stopped unexpectedly (killed or crashed). "
    "It was tried {attempts} time(s); start it again with Retry, or check the worker's logs."
)


def lock_project(session: Session, project_id: uuid.UUID) -> None:
    """Lock the project row: every decision about a project's running builds and version
    numbers is taken under it, always before any build row is locked."""
    session.exec(select(Project.id).where(Project.id == project_id).with_for_update()).first()


def running_in_project(session: Session, project_id: uuid.UUID) -> int:
    """How many of the project's builds are running now."""
    return session.execute(
        sa.select(sa.func.count()).select_from(Build).where(
            Build.project_id == project_id, Build.status == BuildStatus.RUNNING)
    ).scalar_one()


def locked_running_build(session: Session, build_id, attempt: int) -> Build | None:
    """The build, locked, if this attempt still owns it (not cancelled, not recovered)."""
    build = session.exec(
        select(Build).where(Build.id == uuid.UUID(str(build_id))).with_for_update()).first()
    if build is None or build.status != BuildStatus.RUNNING or build.attempts != attempt:
        return None
    return build


def add_log(session: Session, build_id, message: str, level: str = "info") -> None:
    """One line of the build's log (cut to LOG_MESSAGE_CHARS)."""
    session.add(BuildLog(build_id=build_id, message=message[:LOG_MESSAGE_CHARS], level=level))


def finish(session: Session, build: Build, status: BuildStatus, message: str,
           level: str | None = None) -> None:
    """End a build with a final status and one log line saying how; a failure's message is
    also the build's error. The log line is an error for a failure, else info."""
    build.status, build.finished_at, build.phase = status, utcnow(), str(status)
    if status == BuildStatus.FAILED:
        build.error = message[:ERROR_CHARS]
    session.add(build)
    add_log(session, build.id, message,
            level=level or ("error" if status == BuildStatus.FAILED else "info"))


def finish_attempt(build_id, attempt: int, status: BuildStatus, message: str,
                   level: str | None = None, details: str | None = None) -> bool:
    """End a build that this attempt still owns (killed, crashed, cancelled, failed in
    training); False, and nothing changes, when it no longer owns it. `details` (a
    traceback) goes to the log as a debug line."""
    with session_scope() as session:
        build = locked_running_build(session, build_id, attempt)
        if build is None:
            return False
        finish(session, build, status, message, level)
        if details:
            add_log(session, build.id, details[-LOG_MESSAGE_CHARS:], level="debug")
        return True


def retry_or_fail(session: Session, build: Build, reason: str) -> str:
    """A build whose run was lost: back to the queue if attempts remain, else failed.

    Returns the build's new status. The caller requeues or finishes the job itself.
    """
    if build.cancel_requested:
        finish(session, build, BuildStatus.CANCELLED,
               "Cancelled (the worker stopped while the cancel was pending).")
    elif build.attempts < MAX_BUILD_ATTEMPTS:
        build.status, build.phase = BuildStatus.QUEUED, "waiting for a worker (retry)"
        session.add(build)
        add_log(session, build.id, f"{reason} Retrying (attempt {build.attempts + 1} of "
                                   f"{MAX_BUILD_ATTEMPTS}).", level="warning")
    else:
        finish(session, build, BuildStatus.FAILED,
               WORKER_STOPPED_REASON.format(attempts=build.attempts))
    return build.status
