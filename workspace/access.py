"""Loading one object of a project on behalf of an actor, the same way everywhere.

Every workspace function that takes an object id goes through `load_in_project`: a missing
object, a malformed id (a guessed or edited URL) and an object in a project the actor is not a
member of all raise the very same NotFound, so nothing about other projects leaks.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlmodel import Session, SQLModel

from workspace.permissions import Action, Actor, NotFound, NotSignedIn, require

T = TypeVar("T", bound=SQLModel)


def not_found(what: str) -> NotFound:
    """The one NotFound message (the same one `permissions.require` gives a non-member)."""
    return NotFound(f"No {what} with that id exists, or you are not a member of its project.")


def parse_id(value: uuid.UUID | str | None, what: str) -> uuid.UUID:
    """An id from a URL or query parameter; anything that is not a UUID is simply not found."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, AttributeError, TypeError):
        raise not_found(what) from None


def signed_in(actor: Actor | None) -> Actor:
    if actor is None:
        raise NotSignedIn("Sign in to continue.")
    return actor


def load_in_project(
    session: Session, actor: Actor | None, model: type[T], object_id: uuid.UUID | str | None,
    action: Action, *, what: str,
) -> T:
    """The row of `model` with this id, if the actor's role in its project allows `action`.

    The row must have a `project_id`. Raises NotSignedIn, NotFound or Forbidden.
    """
    signed_in(actor)
    row = session.get(model, parse_id(object_id, what))
    if row is None:
        raise not_found(what)
    require(session, actor, row.project_id, action, what=what)
    return row


def require_project(
    session: Session, actor: Actor | None, project_id: uuid.UUID | str | None, action: Action,
) -> uuid.UUID:
    """Check the actor may do `action` in the project; return the parsed project id."""
    signed_in(actor)
    parsed = parse_id(project_id, "project")
    require(session, actor, parsed, action)
    return parsed
