"""The per-project audit log: who uploaded, planned, approved, built, deleted, downloaded."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from db.models import AuditEvent
from workspace.permissions import Actor


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    project_id: uuid.UUID | None = None,
    object_type: str = "",
    object_id: uuid.UUID | str = "",
    **detail,
) -> None:
    """Add one audit event in the caller's transaction (it commits with the change itself)."""
    session.add(AuditEvent(
        project_id=project_id,
        user_id=actor.user_id if actor else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail={k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in detail.items()},
    ))
