"""The foundation's commands, run as a user runs them: real processes, real Postgres."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from briefml.supervisor import wait_for_health

BRIEFML = [sys.executable, "-m", "briefml"]


def run(args, env_extra=None, timeout=120):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(env_extra or {})
    return subprocess.run(BRIEFML + args, capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_database_gives_one_clear_line_with_the_password_masked():
    result = run(["db", "upgrade"],
                 {"DATABASE_URL": "postgresql://alice:s3cret@127.0.0.1:1/nowhere"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Cannot reach the database at postgresql+psycopg://alice:***@127.0.0.1:1/nowhere" in lines[0]
    assert "s3cret" not in result.stderr


def test_db_upgrade_against_a_standalone_server_url(scratch_database_url):
    # postgres:// is accepted and rewritten, as users paste it from their hosting panel
    url = scratch_database_url.replace("postgresql+psycopg://", "postgres://")
    result = run(["db", "upgrade"], {"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "Database at revision 0002." in result.stdout
    again = run(["db", "current"], {"DATABASE_URL": url})
    assert "current: 0002" in again.stdout


@pytest.mark.slow
def test_up_serves_the_app_refuses_a_second_copy_and_stops_cleanly(tmp_path):
    home = tmp_path / "home"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["BRIEFML_HOME"] = str(home)
    up = subprocess.Popen(BRIEFML + ["up", "--port", str(port)], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL)
    try:
        if not wait_for_health(f"http://127.0.0.1:{port}", up, timeout=90):
            pytest.fail("briefml up did not serve the app within 90 s")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert page.status == 200
        assert (home / "pgdata" / "PG_VERSION").exists()  # the embedded server's data

        second = run(["up", "--port", str(free_port())], {"BRIEFML_HOME": str(home)})
        assert second.returncode == 2
        assert "already running" in second.stderr and "Traceback" not in second.stderr
    finally:
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    assert up.returncode == 0, output
    assert "Stopping" in output
    assert not (home / "pgdata" / "postmaster.pid").exists()  # Postgres stopped too


def _children(pid: int) -> dict[int, str]:
    """The direct child processes of `pid` and their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    return found


@pytest.mark.slow
def test_up_shuts_down_when_one_of_its_processes_dies(tmp_path, database_url):
    env = dict(os.environ, BRIEFML_HOME=str(tmp_path / "home"), DATABASE_URL=database_url)
    port = free_port()
    up = subprocess.Popen(BRIEFML + ["up", "--port", str(port)], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        if not wait_for_health(f"http://127.0.0.1:{port}", up, timeout=90):
            pytest.fail("briefml up did not serve the app within 90 s")
        children = _children(up.pid)
        [worker] = [pid for pid, command in children.items() if " worker " in command]
        [web] = [pid for pid, command in children.items() if " streamlit run " in command]
        os.kill(worker, signal.SIGKILL)  # as the out-of-memory killer would
        output, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
    assert up.returncode == 1, output
    assert "A briefml process stopped unexpectedly; shutting down." in output
    assert not Path(f"/proc/{web}").exists()  # the web server was stopped (and reaped) too
