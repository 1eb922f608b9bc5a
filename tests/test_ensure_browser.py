"""`make test` installs the browser its journey needs, or says in one line what to run.

The script is run for real with a PATH that holds only the commands each case needs: no
Chromium, a non-root `id`, and no `sudo`, so nothing can be installed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "ensure_browser.sh"
BASH = "/bin/bash"


def _fake_bin(tmp_path: Path, commands: dict[str, str]) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in commands.items():
        path = bin_dir / name
        path.write_text(f"#!{BASH}\n{body}\n")
        path.chmod(0o755)
    return bin_dir


def _run(bin_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BASH, str(SCRIPT)], check=False, capture_output=True, text=True, timeout=30,
        env={"PATH": str(bin_dir), **env},
    )


def test_a_user_who_cannot_install_gets_one_line_with_the_command(tmp_path):
    bin_dir = _fake_bin(tmp_path, {"id": "echo 1000", "apt-get": "echo should-not-run; exit 9"})
    result = _run(bin_dir)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "sudo apt-get install -y chromium" in lines[0]
    assert "should-not-run" not in result.stdout


def test_an_installed_chromium_is_used_as_it_is(tmp_path):
    bin_dir = _fake_bin(tmp_path, {"id": "echo 1000", "chromium": "exit 0",
                                   "apt-get": "echo should-not-run; exit 9"})
    result = _run(bin_dir)
    assert result.returncode == 0, result.stderr
    assert "should-not-run" not in result.stdout


def test_root_installs_debians_chromium_with_apt(tmp_path):
    log = tmp_path / "apt.log"
    bin_dir = _fake_bin(tmp_path, {"id": "echo 0", "apt-get": f'echo "$@" >> {log}'})
    result = _run(bin_dir)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "update -qq"
    assert calls[1] == "install -y -qq chromium"


def test_briefml_chromium_points_at_a_browser_elsewhere(tmp_path):
    browser = tmp_path / "my-chromium"
    browser.write_text(f"#!{BASH}\nexit 0\n")
    browser.chmod(0o755)
    bin_dir = _fake_bin(tmp_path, {"id": "echo 1000"})
    result = _run(bin_dir, BRIEFML_CHROMIUM=str(browser))
    assert result.returncode == 0, result.stderr
