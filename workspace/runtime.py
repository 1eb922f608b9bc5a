"""Connect a process (web, worker, CLI) to the workspace database.

With DATABASE_URL set, that server is used and checked; without it, the embedded Postgres
under BRIEFML_HOME is started or joined.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass

from db import engine as db_engine
from db import migrate
from db.engine import DatabaseUnavailable  # noqa: F401  (re-exported for the web app)
from db.server import start_embedded, stop_embedded
from workspace.settings import Settings, get_settings


@dataclass
class Database:
    url: str  # SQLAlchemy URL (postgresql+psycopg://...)
    embedded: bool
    server: object | None = None

    @property
    def libpq_url(self) -> str:
        return db_engine.libpq_url(self.url)

    def release(self) -> None:
        if self.server is not None:
            stop_embedded(self.server)
            self.server = None


def resolve_database(settings: Settings | None = None) -> Database:
    """Find the database: DATABASE_URL if set (checked), else the embedded server."""
    settings = settings or get_settings()
    if settings.database_url:
        db_engine.check_connection(settings.database_url)
        return Database(url=settings.database_url, embedded=False)
    server, url = start_embedded(settings.embedded_data_dir)
    return Database(url=db_engine.sqlalchemy_url(url), embedded=True, server=server)


_connected: Database | None = None


def connect(settings: Settings | None = None, *, upgrade: bool = False) -> Database:
    """Configure this process's engine once; optionally apply migrations."""
    global _connected
    if _connected is None:
        database = resolve_database(settings)
        if upgrade:
            migrate.upgrade(database.url)
        db_engine.configure(database.url)
        atexit.register(database.release)
        _connected = database
    return _connected
