"""Who may do what. Every workspace function takes the acting user and asks here first.

A user who is not a member of a project gets NotFound for every object in it, exactly as if
it did not exist, so guessed ids reveal nothing. A member whose role is too low gets
Forbidden, with a sentence saying which role is needed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, select

from db.models import Membership, Role


class Action(StrEnum):
    VIEW = "view"
    DOWNLOAD = "download"
    PREDICT = "predict"
    UPLOAD = "upload"
    BUILD = "build"
    APPROVE = "approve"
    CANCEL = "cancel"
    MANAGE_MEMBERS = "manage members"
    DELETE = "delete"
    RENAME = "rename"


_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}
MINIMUM_ROLE: dict[Action, Role] = {
    Action.VIEW: Role.VIEWER,
    Action.DOWNLOAD: Role.VIEWER,
    Action.PREDICT: Role.VIEWER,
    Action.UPLOAD: Role.EDITOR,
    Action.BUILD: Role.EDITOR,
    Action.APPROVE: Role.EDITOR,
    Action.CANCEL: Role.EDITOR,
    Action.MANAGE_MEMBERS: Role.OWNER,
    Action.DELETE: Role.OWNER,
    Action.RENAME: Role.OWNER,
}


class NotFound(LookupError):
    """The object does not exist, or the actor may not know that it does."""


class Forbidden(PermissionError):
    """The actor is a member but their role does not allow this action."""


class NotSignedIn(PermissionError):
    """No acting user: sign in first."""


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf a workspace function runs (UI, CLI or worker)."""

    user_id: uuid.UUID
    email: str = ""
    is_admin: bool = False


def role_of(session: Session, actor: Actor | None, project_id: uuid.UUID) -> Role | None:
    if actor is None:
        return None
    membership = session.exec(
        select(Membership).where(
            Membership.project_id == project_id, Membership.user_id == actor.user_id
        )
    ).first()
    return Role(membership.role) if membership else None


def require(
    session: Session, actor: Actor | None, project_id: uuid.UUID, action: Action,
    *, what: str = "project",
) -> Role:
    """The actor's role in the project, if it allows `action`; else NotFound / Forbidden."""
    if actor is None:
        raise NotSignedIn("Sign in to continue.")
    role = role_of(session, actor, project_id)
    if role is None:
        raise NotFound(f"No {what} with that id exists, or you are not a member of its project.")
    needed = MINIMUM_ROLE[action]
    if _RANK[role] < _RANK[needed]:
        raise Forbidden(
            f"Only a project {needed.value} or above may {action.value}; your role is {role.value}. "
            "Ask an owner of the project to change your role."
        )
    return role


def allows(role: Role | None, action: Action) -> bool:
    """For showing or hiding a button: does this role allow the action?"""
    return role is not None and _RANK[role] >= _RANK[MINIMUM_ROLE[action]]
