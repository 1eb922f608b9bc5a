"""Development aid until the first release: rewrite migration 0001 from db/models.py.

Run after changing db/models.py:  .venv/bin/python scripts/regen_initial_migration.py
It starts a throwaway embedded Postgres, autogenerates 0001 against an empty database and
leaves 0002 (hand-written) alone. Once a release has shipped, add new revisions instead.
"""

import tempfile
from pathlib import Path

from alembic import command

from db.migrate import MIGRATIONS_DIR, alembic_config
from db.server import start_embedded, stop_embedded

target = MIGRATIONS_DIR / "versions" / "0001_initial_workspace_schema.py"
target.unlink(missing_ok=True)
# later revisions name 0001 as their parent: hide them while 0001 does not exist
later = sorted(p for p in (MIGRATIONS_DIR / "versions").glob("0*.py") if p != target)
hidden = [p.rename(p.with_suffix(".hidden")) for p in later]
server, url = start_embedded(Path(tempfile.mkdtemp()) / "pg", delete_on_exit=True)
try:
    config = alembic_config(url)
    command.revision(config, message="initial workspace schema", autogenerate=True,
                     rev_id="0001", head="base")
finally:
    stop_embedded(server)
    for path in hidden:
        path.rename(path.with_suffix(".py"))
