"""Health of the workspace: which database, which migration, how much is in it."""

from __future__ import annotations

import sqlalchemy as sa

from db import migrate
from db.engine import masked, session_scope
from db.models import Dataset, ModelVersion, Project, User
from workspace.runtime import connect


def workspace_status() -> dict:
    database = connect()
    with session_scope() as session:
        counts = {
            table.__tablename__: session.exec(sa.select(sa.func.count()).select_from(table)).one()[0]
            for table in (User, Project, Dataset, ModelVersion)
        }
    return {
        "database": "embedded Postgres" if database.embedded else masked(database.url),
        "revision": migrate.current_revision(database.url),
        "newest_revision": migrate.head_revision(),
        "counts": counts,
    }
