"""builds.planner_report: every planner fallback (step, attempt, kind, reason) and LLM usage

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Written by hand. `planner_fallback` keeps its one-line text for older readers; the report is
the structured record the build and model pages show.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("builds", sa.Column("planner_report", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("builds", "planner_report")
