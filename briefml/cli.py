"""`briefml`: the command line and the composition root.

    briefml up                 start Postgres, migrations, a worker and the web app
    briefml worker             run a build worker
    briefml db upgrade|downgrade|current
    briefml build DATA --intent TEXT    train headless, no database
    briefml predict BUNDLE INPUT        predict with a bundle
    briefml export --mlflow DIR | --onnx FILE BUNDLE   the bundle for MLflow or ONNX runtimes
"""

from __future__ import annotations

import sys

import typer

from briefml import __version__, engine_cli, export_cli
from briefml.console import fail

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="briefml: a brief and a table in; a trained, evaluated, explained model out.",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
app.add_typer(db_app, name="db")


def _database():
    from db.engine import DatabaseUnavailable
    from workspace.runtime import resolve_database

    try:
        return resolve_database()
    except DatabaseUnavailable as exc:
        fail(str(exc))


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from db import migrate

    database = _database()
    try:
        migrate.upgrade(database.url, revision)
        typer.echo(f"Database at revision {migrate.current_revision(database.url)}.")
    finally:
        database.release()


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="e.g. -1, base or 0001")) -> None:
    """Revert migrations down to REVISION."""
    from db import migrate

    database = _database()
    try:
        migrate.downgrade(database.url, revision)
        typer.echo(f"Database at revision {migrate.current_revision(database.url) or 'base'}.")
    finally:
        database.release()


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and the newest one available."""
    from db import migrate

    database = _database()
    try:
        typer.echo(f"current: {migrate.current_revision(database.url) or 'none'}")
        typer.echo(f"newest:  {migrate.head_revision()}")
    finally:
        database.release()


@app.command()
def worker(
    concurrency: int = typer.Option(1, min=1, help="Builds this worker runs at once."),
    name: str = typer.Option(None, help="A name for this worker in logs."),
) -> None:
    """Run a build worker against the workspace database (until Ctrl-C)."""
    from workspace.worker import run_worker

    _connect_or_fail()
    run_worker(concurrency=concurrency, name=name)


def _connect_or_fail():
    from db.engine import DatabaseUnavailable
    from workspace.runtime import connect

    try:
        return connect()
    except DatabaseUnavailable as exc:
        fail(str(exc))


@app.command()
def up(
    port: int = typer.Option(None, help="Web port (default: BRIEFML_WEB_PORT or 8501)."),
    host: str = typer.Option(None, help="Web address (default: BRIEFML_WEB_HOST or 127.0.0.1)."),
    workers: int = typer.Option(1, min=0, help="Workers to start beside the web app."),
) -> None:
    """Start everything on this machine: Postgres, migrations, a worker and the web app."""
    from briefml.supervisor import AlreadyRunning, run_stack

    try:
        code = run_stack(port=port, host=host, workers=workers)
    except AlreadyRunning as exc:
        fail(str(exc))
    raise typer.Exit(code)


# Headless commands (no database): they live beside the engine's progress bar.
app.command()(engine_cli.build)
app.command()(engine_cli.predict)
app.command()(export_cli.export)


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
