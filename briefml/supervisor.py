"""`briefml up`: run the whole stack on one machine and stop it cleanly.

The parent process owns the embedded Postgres (when DATABASE_URL is unset), applies the
migrations, then starts the workers and the Streamlit server as child processes that get
the database URL in their environment. Ctrl-C (or SIGTERM) stops the children first and the
database last. A lock file under BRIEFML_HOME makes a second `briefml up` on the same home
refuse with a clear message instead of fighting over the data directory.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import typer

import webapp
from db import migrate
from db.engine import DatabaseUnavailable
from workspace.runtime import resolve_database
from workspace.settings import Settings, get_settings

APP_FILE = Path(webapp.__file__).with_name("app.py")


class AlreadyRunning(RuntimeError):
    pass


@contextmanager
def home_lock(settings: Settings):
    """Hold an exclusive lock on BRIEFML_HOME/up.lock for as long as the stack runs."""
    home = settings.home_dir
    home.mkdir(parents=True, exist_ok=True)
    lock_path = home / "up.lock"
    handle = open(lock_path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise AlreadyRunning(
            f"briefml is already running on {home} ({holder}). Open that one, or stop it "
            "with Ctrl-C first; to run a second copy, set a different BRIEFML_HOME."
        ) from None
    try:
        yield handle
    finally:
        handle.close()


def _child_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def streamlit_command(host: str, port: int, dev_mode: bool) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP_FILE),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "true" if dev_mode else "false",
        "--client.toolbarMode", "developer" if dev_mode else "minimal",
        "--server.maxUploadSize", str(get_settings().max_upload_mb),
        "--server.fileWatcherType", "none",
        "--runner.magicEnabled", "false",
        # the same look as .streamlit/config.toml, which is not read outside the repository
        "--theme.base", "light",
        "--theme.primaryColor", "#2563eb",
    ]


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 60.0) -> bool:
    """Poll Streamlit's health endpoint until it answers or the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _stop(children: list[subprocess.Popen], grace: float = 10.0) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run_stack(*, port: int | None, host: str | None, workers: int) -> int:
    settings = get_settings()
    port = port or settings.web_port
    host = host or settings.web_host
    with home_lock(settings) as lock:
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}, http://{host}:{port}")
        lock.flush()
        try:
            database = resolve_database(settings)
        except DatabaseUnavailable as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            return 2
        where = "embedded Postgres in " + str(settings.embedded_data_dir) if database.embedded \
            else "the Postgres at DATABASE_URL"
        typer.echo(f"Database: {where}")
        children: list[subprocess.Popen] = []
        stopping = False

        def on_signal(signum, frame):  # turn SIGTERM into the same path as Ctrl-C
            nonlocal stopping
            stopping = True

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            migrate.upgrade(database.url)
            env = _child_env(database.url)
            for i in range(workers):
                children.append(subprocess.Popen(
                    [sys.executable, "-m", "briefml", "worker", "--name", f"up-worker-{i + 1}"],
                    env=env,
                ))
            web = subprocess.Popen(streamlit_command(host, port, settings.dev_mode), env=env)
            children.append(web)
            url = f"http://{'localhost' if host in ('0.0.0.0', '127.0.0.1') else host}:{port}"
            if wait_for_health(url, web):
                typer.secho(f"briefml is running at {url}  (Ctrl-C to stop)", fg=typer.colors.GREEN)
            else:
                typer.secho("error: the web server did not start; see its output above.",
                            err=True, fg=typer.colors.RED)
                return 1
            while not stopping:
                if any(child.poll() is not None for child in children):
                    typer.secho("A briefml process stopped unexpectedly; shutting down.",
                                err=True, fg=typer.colors.RED)
                    return 1
                time.sleep(0.5)
            typer.echo("Stopping…")
            return 0
        finally:
            _stop(children)
            database.release()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
