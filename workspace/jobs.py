"""Queue calls inside the caller's database transaction (procrastinate on psycopg 3).

A build's job is deferred (or withdrawn) in the same transaction that changes the build, so
a build is queued exactly when its job exists. Nothing here runs a job: that is
`workspace.worker` (the procrastinate app) and `workspace.tasks` (the build task).
"""

from __future__ import annotations

import procrastinate
from procrastinate import sql as procrastinate_sql
from psycopg.rows import dict_row
from sqlmodel import Session

BUILD_QUEUE = "builds"
RUN_BUILD_TASK = "builds:run_build"

_deferring_app: procrastinate.App | None = None


def _in_transaction_app() -> procrastinate.App:
    """An App that is never opened: it only runs queue queries on a connection we pass in.

    It registers no tasks (it never runs any), so jobs name
    their task and queue explicitly.
    """
    global _deferring_app
    if _deferring_app is None:
        _deferring_app = procrastinate.App(connector=procrastinate.PsycopgConnector())
    return _deferring_app


def driver_connection(session: Session):
    """The psycopg connection under a session, in the session's transaction."""
    return session.connection().connection.driver_connection


def defer_build_job(session: Session, build_id, *, delay_seconds: float = 0.0,
                    priority: int = 0) -> int:
    """Queue a job that runs the build; it becomes visible when the session commits."""
    options = {"connection": driver_connection(session), "queue": BUILD_QUEUE, "priority": priority}
    if delay_seconds > 0:
        options["schedule_in"] = {"seconds": delay_seconds}
    return _in_transaction_app().configure_task(RUN_BUILD_TASK, **options).defer(build_id=str(build_id))


def cancel_queued_job(session: Session, job_id: int | None) -> bool:
    """Withdraw a job that no worker has picked up yet (in the session's transaction)."""
    if job_id is None:
        return False
    return _in_transaction_app().job_manager.cancel_job_by_id(
        job_id, connection=driver_connection(session)
    )


def run_queue_query(session: Session, name: str, **params) -> list[dict]:
    """One of procrastinate's own queries, run in the session's transaction."""
    with driver_connection(session).cursor(row_factory=dict_row) as cursor:
        cursor.execute(procrastinate_sql.queries[name], params)
        return cursor.fetchall() if cursor.description else []
