"""One engine and one session context manager for the whole process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

_engine: sa.Engine | None = None


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message names the URL (password masked)."""


def sqlalchemy_url(url: str) -> str:
    """`postgres://` and `postgresql://` URLs use psycopg 3 here."""
    return re.sub(r"^(postgres|postgresql)(\+[a-z0-9]+)?://", "postgresql+psycopg://", url)


def libpq_url(url: str) -> str:
    """The same URL for libpq / psycopg directly (procrastinate, psql): no driver suffix."""
    return re.sub(r"^(postgres|postgresql)(\+[a-z0-9]+)?://", "postgresql://", url)


def masked(url: str) -> str:
    """The URL with its password hidden, safe to print."""
    try:
        return make_url(sqlalchemy_url(url)).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL: hide anything between ':' and '@'
        return re.sub(r":[^:@/]*@", ":***@", url)


def configure(url: str, *, pool_size: int = 5) -> sa.Engine:
    """Create the process's engine (replacing any earlier one) and return it."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = sa.create_engine(
        sqlalchemy_url(url), pool_size=pool_size, max_overflow=10, pool_pre_ping=True
    )
    return _engine


def get_engine() -> sa.Engine:
    if _engine is None:
        raise RuntimeError("The database is not configured: call db.engine.configure(url) first.")
    return _engine


def check_connection(url: str, timeout_seconds: int = 5) -> None:
    """Raise DatabaseUnavailable with one clear line if the database cannot be reached."""
    probe = sa.create_engine(
        sqlalchemy_url(url), connect_args={"connect_timeout": timeout_seconds}, poolclass=sa.NullPool
    )
    try:
        with probe.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # every driver error means the same thing to the user
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise DatabaseUnavailable(
            f"Cannot reach the database at {masked(url)}: {reason}. "
            "Check that the server is running, the host, port and database name are right, "
            "and the user and password are accepted (or unset DATABASE_URL to use the embedded one)."
        ) from None
    finally:
        probe.dispose()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
