"""The job queue: procrastinate on the workspace's Postgres (psycopg 3).

Tasks are registered here; `briefml worker` runs them. The build task itself lives with the
build use cases (the build-jobs work extends this module).
"""

from __future__ import annotations

import procrastinate

from workspace.runtime import connect

BUILD_QUEUE = "builds"


def make_app(libpq_url: str | None = None) -> procrastinate.App:
    """A procrastinate App bound to the workspace database (resolved lazily)."""
    conninfo = libpq_url or connect().libpq_url
    return procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo),
        import_paths=["workspace.tasks"],
    )


def run_worker(*, concurrency: int = 1, name: str | None = None) -> None:
    """Run a worker until interrupted."""
    app = make_app()
    app.run_worker(queues=[BUILD_QUEUE], concurrency=concurrency, name=name,
                   install_signal_handlers=True)
