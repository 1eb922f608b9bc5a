import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import db.models  # noqa: F401
from db import migrate
from db.migrations.env_filters import include_object


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_downgrade_removes_them(scratch_database_url):
    migrate.upgrade(scratch_database_url)
    assert migrate.current_revision(scratch_database_url) == migrate.head_revision()
    tables = _tables(scratch_database_url)
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
    assert "procrastinate_jobs" in tables

    migrate.downgrade(scratch_database_url, "base")
    assert _tables(scratch_database_url) <= {"alembic_version"}
    assert migrate.current_revision(scratch_database_url) is None

    migrate.upgrade(scratch_database_url)  # and up again after a full round trip
    assert migrate.current_revision(scratch_database_url) == migrate.head_revision()


def test_migrations_match_the_models(database_url):
    """A model change without a migration fails here."""
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}
            )
            diff = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []
