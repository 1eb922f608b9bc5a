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


def budget_share_used(*, progress: float, started_at: datetime | None, budget_seconds: float,
                      finished: bool, now: datetime) -> float:
    """How much of the time budget a build has used, for a progress bar that moves from the
    first second: the engine's own figure, or the clock since training started when that is
    further on (the engine reports at phase and trial ends, and a first trial can be long).
    Stays below 100% until the build has finished."""
    if finished:
        return 1.0
    share = float(progress or 0.0)
    if started_at is not None and budget_seconds > 0:
        share = max(share, (now - started_at).total_seconds() / budget_seconds)
    return min(max(share, 0.0), 0.99)


def families_tried(plan: dict | None, trials: list, *, finished: bool) -> str:
    """'3 of 5 planned model families tried (catboost, linear, lightgbm)' and, once the build
    has finished, which were not tried within the budget."""
    planned = list(dict.fromkeys(
        c.get("estimator") for c in ((plan or {}).get("search") or {}).get("candidates") or []
        if c.get("estimator")))
    tried = list(dict.fromkeys(getattr(t, "estimator", None) or t.get("estimator")
                               for t in trials))
    if not planned:
        return f"{len(tried)} model families tried." if tried else "No trials yet."
    done = [f for f in planned if f in tried]
    sentence = f"{len(done)} of {len(planned)} planned model families tried"
    sentence += f" ({', '.join(done)})." if done else "."
    missing = [f for f in planned if f not in tried]
    if finished and missing:
        sentence += f" Not tried within the budget: {', '.join(missing)}."
    return sentence
