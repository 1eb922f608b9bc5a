"""Test fixtures shared by every package's tests.

Tests that touch the database use a real Postgres: the embedded server from the pip package,
started once per test session in a temporary directory, or the server at DATABASE_URL (a
fresh database is created there and dropped afterwards). Migrations are applied with Alembic,
exactly as `briefml db upgrade` does. Between tests every table is emptied.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from db import engine as db_engine
from db import migrate
from db.server import start_embedded, stop_embedded

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"


def _server_database_url(base_url: str) -> tuple[str, callable]:
    """Create a throwaway database on an existing server; return its URL and a dropper."""
    admin = sa.create_engine(db_engine.sqlalchemy_url(base_url), isolation_level="AUTOCOMMIT",
                             poolclass=sa.NullPool)
    name = f"briefml_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(db_engine.sqlalchemy_url(base_url)).set(database=name)

    def drop() -> None:
        db_engine.get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def _heaviness(items) -> dict:
    """Per test file: 0 if it drives a browser, 1 if it has a slow test, 2 otherwise."""
    rank: dict = {}
    for item in items:
        own = 0 if item.get_closest_marker("e2e") else 1 if item.get_closest_marker("slow") else 2
        rank[item.path] = min(rank.get(item.path, 2), own)
    return rank


def pytest_collection_modifyitems(items) -> None:
    """The files with the longest tests go first, each file's tests together and in order.
    `make test TEST_PROCESSES=2` hands whole files to two processes in this order, so the
    browser journeys overlap with everything else instead of running last, alone (on 2 cores
    the suite took 612 s with them last)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # in one process the order changes nothing; the files keep their own
    rank = _heaviness(items)
    items.sort(key=lambda item: rank[item.path])  # stable: the order within a rank stays


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A migrated, empty workspace database for this test session (SQLAlchemy URL)."""
    base = os.environ.get("DATABASE_URL")
    if base:
        url, cleanup = _server_database_url(base)
    else:
        # a short path: the server's Unix socket lives in the data directory
        data_dir = Path(tempfile.mkdtemp(prefix="bml-")) / "pg"
        server, libpq = start_embedded(data_dir, delete_on_exit=True)
        url = db_engine.sqlalchemy_url(libpq)

        def cleanup() -> None:
            db_engine.get_engine().dispose()
            stop_embedded(server)

    migrate.upgrade(url)
    db_engine.configure(url)
    # Child processes the tests start (workers, `briefml up`) find the same database.
    os.environ["BRIEFML_TEST_DATABASE_URL"] = url
    yield url
    cleanup()


def _truncate_all() -> None:
    from sqlmodel import SQLModel

    import db.models  # noqa: F401

    tables = [t.name for t in SQLModel.metadata.sorted_tables]
    tables += ["procrastinate_jobs", "procrastinate_workers", "procrastinate_periodic_defers",
               "procrastinate_events"]
    with db_engine.get_engine().begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(database_url) -> str:
    """An empty workspace database for one test; yields its URL."""
    db_engine.configure(database_url)
    _truncate_all()
    yield database_url
    _truncate_all()


@pytest.fixture
def artifacts_dir(request) -> Path:
    """A folder under test-artifacts/ for screenshots and outputs a person should look at."""
    path = ARTIFACTS_DIR / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def scratch_database_url(database_url) -> str:
    """An empty, unmigrated database on the same server, dropped afterwards."""
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"scratch_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
