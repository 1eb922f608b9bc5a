"""The builds list of a project: one row per build with who started it, how long it took,
how much of its budget it used and the model version it made (one query)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from db.engine import session_scope
from db.models import Build, BuildStatus, ModelVersion, User
from workspace.access import require_project
from workspace.permissions import Action, Actor


@dataclass(frozen=True)
class BuildSummary:
    id: uuid.UUID
    status: BuildStatus
    brief: str
    started_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    budget_seconds: float
    budget_used: float  # share of the budget, 0..1
    planner: str
    version: int | None
    version_id: uuid.UUID | None

    @property
    def duration_seconds(self) -> float | None:
        """Wall time from the start of training to its end (None before it started)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return max((self.finished_at - self.started_at).total_seconds(), 0.0)


def list_build_history(*, actor: Actor | None, project_id: uuid.UUID | str) -> list[BuildSummary]:
    """Every build of the project, newest first, for its members."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.VIEW)
        rows = session.exec(
            select(Build.id, Build.status, Build.brief, User.email, Build.created_at,
                   Build.started_at, Build.finished_at, Build.budget_seconds, Build.progress,
                   Build.planner, ModelVersion.version, ModelVersion.id)
            .join(User, User.id == Build.created_by, isouter=True)
            .join(ModelVersion, ModelVersion.build_id == Build.id, isouter=True)
            .where(Build.project_id == project_id)
            .order_by(Build.created_at.desc())
        ).all()
    return [
        BuildSummary(
            id=r[0], status=BuildStatus(r[1]), brief=r[2], started_by=r[3], created_at=r[4],
            started_at=r[5], finished_at=r[6], budget_seconds=float(r[7]),
            budget_used=1.0 if BuildStatus(r[1]) == BuildStatus.SUCCEEDED else float(r[8] or 0),
            planner=r[9], version=r[10], version_id=r[11],
        )
        for r in rows
    ]


def build_to_open(history: list[BuildSummary], wanted: uuid.UUID | None) -> BuildSummary | None:
    """The build a visitor lands on: the one asked for, else a running one, else the newest
    that made a model, else the newest. None when the project has no builds."""
    by_id = {b.id: b for b in history}
    if wanted in by_id:
        return by_id[wanted]
    for wanted_status in (BuildStatus.RUNNING, BuildStatus.QUEUED, BuildStatus.SUCCEEDED):
        for build in history:
            if build.status == wanted_status:
                return build
    return history[0] if history else None
