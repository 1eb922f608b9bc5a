"""Every table of the briefml workspace, in one module.

Plans, metrics, profiles and explanations are stored as JSON (JSONB): the database keeps
them; the engine defines their shape. Keys are UUIDs; times are timezone-aware UTC.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False)


def _json(default: Any = None, nullable: bool = True) -> Any:
    factory = (lambda: default.copy()) if isinstance(default, (dict, list)) else None
    kwargs: dict[str, Any] = {"sa_type": JSONB, "nullable": nullable}
    if factory is not None:
        kwargs["default_factory"] = factory
    else:
        kwargs["default"] = default
    return Field(**kwargs)


def _timestamp() -> Any:
    return Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True)


class Role(StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


class BuildStatus(StrEnum):
    DRAFT = "draft"
    PLANNED = "planned"  # awaiting approval
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (BuildStatus.SUCCEEDED, BuildStatus.FAILED, BuildStatus.CANCELLED)


# --------------------------------------------------------------------------- accounts


class UserBase(SQLModel):
    email: str = Field(max_length=320, sa_column_kwargs={"unique": True}, index=True)
    display_name: str = Field(default="", max_length=200)


class User(UserBase, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    password_hash: str | None = Field(default=None, max_length=500)
    is_admin: bool = False
    is_active: bool = True
    created_at: datetime = _created_at()


class UserPublic(UserBase):
    id: uuid.UUID
    is_admin: bool
    created_at: datetime


class LoginAttempt(SQLModel, table=True):
    """Every sign-in attempt, kept to rate-limit guessing (by email, whether it exists or not)."""

    __tablename__ = "login_attempts"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, index=True)
    succeeded: bool = False
    created_at: datetime = _created_at()


class AuthSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the token is stored."""

    __tablename__ = "auth_sessions"

    token_sha256: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    created_at: datetime = _created_at()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)


# --------------------------------------------------------------------------- projects


class ProjectBase(SQLModel):
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)


class Project(ProjectBase, table=True):
    __tablename__ = "projects"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = _created_at()


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("project_id", "user_id", name="uq_membership"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id", ondelete="CASCADE", index=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    role: Role = Field(sa_type=sa.String(20))
    created_at: datetime = _created_at()


class Invitation(SQLModel, table=True):
    """A project invitation for an e-mail that has no account yet; the account's creation
    turns it into a membership (so inviting never tells whether an account exists)."""

    __tablename__ = "invitations"
    __table_args__ = (sa.UniqueConstraint("project_id", "email", name="uq_invitation"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id", ondelete="CASCADE", index=True)
    email: str = Field(max_length=320, index=True)  # normalised, as users.email
    role: Role = Field(sa_type=sa.String(20))
    invited_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = _created_at()


# --------------------------------------------------------------------------- artifacts


class Artifact(SQLModel, table=True):
    """A file stored in Postgres, addressed by the SHA-256 of its content."""

    __tablename__ = "artifacts"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=sa.BigInteger)
    media_type: str = Field(default="application/octet-stream", max_length=200)
    chunk_count: int = 0
    created_at: datetime = _created_at()


class ArtifactChunk(SQLModel, table=True):
    __tablename__ = "artifact_chunks"

    sha256: str = Field(
        foreign_key="artifacts.sha256", ondelete="CASCADE", primary_key=True, max_length=64
    )
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=sa.LargeBinary)


# --------------------------------------------------------------------------- datasets


class Dataset(SQLModel, table=True):
    """One immutable version of an uploaded table."""

    __tablename__ = "datasets"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "name", "version", name="uq_dataset_version"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=300)
    version: int = 1
    filename: str = Field(max_length=500)
    sheet: str | None = Field(default=None, max_length=300)  # the Excel sheet that was read
    content_sha256: str = Field(foreign_key="artifacts.sha256", max_length=64)
    rows: int = 0
    columns: int = 0
    synthetic: bool = False
    profile: dict | None = _json()
    findings: list | None = _json()
    # set when the version was copied from another project's library: where from, and who
    provenance: dict | None = _json()
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = _created_at()


# --------------------------------------------------------------------------- builds


class Build(SQLModel, table=True):
    __tablename__ = "builds"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id", ondelete="CASCADE", index=True)
    dataset_id: uuid.UUID = Field(foreign_key="datasets.id", ondelete="RESTRICT", index=True)
    brief: str = Field(max_length=5000)
    status: BuildStatus = Field(default=BuildStatus.DRAFT, sa_type=sa.String(20), index=True)
    plan: dict | None = _json()  # {"spec": TaskSpec, "search": SearchPlan, "notes": [...]}
    budget_seconds: float = 60.0
    seed: int = 0
    planner: str = Field(default="offline", max_length=200)
    planner_fallback: str | None = Field(default=None, max_length=5000)
    llm_usage: dict | None = _json()
    planner_report: dict | None = _json()  # core.planner.planner_report, planning + training
    phase: str = Field(default="", max_length=100)
    progress: float = 0.0  # share of the budget used, 0..1
    error: str | None = Field(default=None, max_length=20000)
    cancel_requested: bool = False
    job_id: int | None = None
    attempts: int = 0
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    approved_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = _created_at()
    approved_at: datetime | None = _timestamp()
    started_at: datetime | None = _timestamp()
    finished_at: datetime | None = _timestamp()
    heartbeat_at: datetime | None = _timestamp()


class BuildLog(SQLModel, table=True):
    __tablename__ = "build_logs"

    id: int | None = Field(default=None, primary_key=True)
    build_id: uuid.UUID = Field(foreign_key="builds.id", ondelete="CASCADE", index=True)
    level: str = Field(default="info", max_length=20)
    message: str = Field(max_length=5000)
    created_at: datetime = _created_at()


class Trial(SQLModel, table=True):
    __tablename__ = "trials"
    __table_args__ = (sa.UniqueConstraint("build_id", "trial_key", name="uq_trial_key"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    build_id: uuid.UUID = Field(foreign_key="builds.id", ondelete="CASCADE", index=True)
    trial_key: str = Field(max_length=100)
    estimator: str = Field(max_length=100)
    params: dict = _json(default={}, nullable=False)
    score: float | None = None
    metric: str = Field(max_length=50)
    seconds: float = 0.0
    status: str = Field(max_length=20)
    error: str | None = Field(default=None, max_length=5000)
    parent: str | None = Field(default=None, max_length=100)
    created_at: datetime = _created_at()


# --------------------------------------------------------------------------- model versions


class ModelVersion(SQLModel, table=True):
    """A trained model. Immutable once written: a database trigger rejects updates."""

    __tablename__ = "model_versions"
    __table_args__ = (sa.UniqueConstraint("project_id", "version", name="uq_model_version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key="projects.id", ondelete="CASCADE", index=True)
    build_id: uuid.UUID | None = Field(default=None, foreign_key="builds.id", ondelete="SET NULL")
    dataset_id: uuid.UUID | None = Field(default=None, foreign_key="datasets.id", ondelete="SET NULL")
    version: int
    target: str = Field(max_length=300)
    task_type: str = Field(max_length=20)
    metric: str = Field(max_length=50)
    spec: dict | None = _json()
    input_schema: dict | None = _json()
    metrics: dict | None = _json()  # held-out, baseline, intervals, curves
    explanation: dict | None = _json()
    leaderboard: list | None = _json()
    findings: list | None = _json()
    report: str = ""
    bundle_sha256: str = Field(foreign_key="artifacts.sha256", max_length=64)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = _created_at()


# --------------------------------------------------------------------------- audit


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    project_id: uuid.UUID | None = Field(
        default=None, foreign_key="projects.id", ondelete="CASCADE", index=True
    )
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    action: str = Field(max_length=50)
    object_type: str = Field(default="", max_length=50)
    object_id: str = Field(default="", max_length=100)
    detail: dict = _json(default={}, nullable=False)
    created_at: datetime = _created_at()
