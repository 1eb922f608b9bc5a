"""datasets.provenance: where a dataset version copied from another project came from

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Written by hand. NULL for uploads and generated tables; a copy keeps the source project,
dataset, version and who copied it, so the copy's page can say where it came from even after
the source is deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("datasets", sa.Column("provenance", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("datasets", "provenance")
