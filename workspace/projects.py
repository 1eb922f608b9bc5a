"""Projects, their members and their audit log.

Roles: an owner may do everything, including managing members, renaming and deleting; an
editor may upload, build, approve and predict; a viewer may see, download and predict (see
`workspace.permissions`). A project always keeps at least one owner.

Convention of the workspace layer: `get_*` returns the table row (a detached SQLModel
object); `list_*` returns small frozen dataclasses carrying what a page shows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from core.loading import without_nul
from db.engine import session_scope
from db.models import (
    Artifact,
    AuditEvent,
    Build,
    BuildStatus,
    Dataset,
    Invitation,
    Membership,
    ModelVersion,
    Project,
    Role,
    User,
)
from workspace import audit
from workspace.access import require_project, signed_in
from workspace.accounts import check_email, normalise_email
from workspace.permissions import Action, Actor, role_of


class ConfirmationRequired(ValueError):
    """A destructive action was not confirmed; the message says what would be lost."""


class ProjectNameError(ValueError):
    """The project name cannot be used; the message says why."""


class MembershipError(ValueError):
    """A member change that cannot be made as asked; the message says what to do instead."""


@dataclass(frozen=True)
class ProjectSummary:
    id: uuid.UUID
    name: str
    description: str
    created_at: datetime
    role: Role
    datasets: int  # distinct dataset names (each may have several versions)
    model_versions: int


@dataclass(frozen=True)
class MemberInfo:
    user_id: uuid.UUID | None  # None for an invitation still waiting for its account
    email: str
    display_name: str
    role: Role
    joined_at: datetime


@dataclass(frozen=True)
class Invited:
    """What inviting someone answers: the same whether or not the e-mail has an account."""

    email: str
    role: Role


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    user_email: str | None  # None once the user is gone
    object_type: str
    object_id: str
    detail: dict


def _clean_name(name: str) -> str:
    name = without_nul(name or "").strip()
    if not name:
        raise ProjectNameError("Give the project a name.")
    if len(name) > 200:
        raise ProjectNameError("The project name is too long: use at most 200 characters.")
    return name


# --------------------------------------------------------------------------- projects


def create_project(*, actor: Actor | None, name: str, description: str = "") -> Project:
    """Create a project; the actor becomes its owner."""
    actor = signed_in(actor)
    with session_scope() as session:
        project = Project(name=_clean_name(name), description=without_nul(description or "").strip()[:5000],
                          created_by=actor.user_id)
        session.add(project)
        session.flush()
        session.add(Membership(project_id=project.id, user_id=actor.user_id, role=Role.OWNER))
        audit.record(session, actor, "create project", project_id=project.id,
                     object_type="project", object_id=project.id, name=project.name)
        return project


def list_projects(*, actor: Actor | None) -> list[ProjectSummary]:
    """The projects the actor is a member of, with their role and counts, by name (one query)."""
    actor = signed_in(actor)
    datasets = (select(sa.func.count(sa.distinct(Dataset.name)))
                .where(Dataset.project_id == Project.id).scalar_subquery())
    versions = (select(sa.func.count()).select_from(ModelVersion)
                .where(ModelVersion.project_id == Project.id).scalar_subquery())
    query = (
        select(Project.id, Project.name, Project.description, Project.created_at,
               Membership.role, datasets, versions)
        .join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == actor.user_id)
        .order_by(sa.func.lower(Project.name), Project.created_at)
    )
    with session_scope() as session:
        return [
            ProjectSummary(id=r[0], name=r[1], description=r[2], created_at=r[3], role=Role(r[4]),
                           datasets=r[5], model_versions=r[6])
            for r in session.exec(query).all()
        ]


def get_project(*, actor: Actor | None, project_id: uuid.UUID | str) -> Project:
    """The project, if the actor is a member (else NotFound, as if it did not exist)."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.VIEW)
        return session.get(Project, project_id)


def project_role(*, actor: Actor | None, project_id: uuid.UUID | str) -> Role:
    """The actor's role in the project (for showing or hiding buttons; see `permissions.allows`)."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.VIEW)
        return role_of(session, actor, project_id)


def rename_project(
    *, actor: Actor | None, project_id: uuid.UUID | str, name: str, description: str | None = None
) -> Project:
    """Rename the project (owners), and change its description if one is given."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.RENAME)
        project = session.get(Project, project_id)
        old = project.name
        project.name = _clean_name(name)
        if description is not None:
            project.description = description.strip()[:5000]
        audit.record(session, actor, "rename project", project_id=project_id,
                     object_type="project", object_id=project_id, old_name=old, name=project.name)
        return project


def _count(session: Session, model, *where) -> int:
    return session.exec(select(sa.func.count()).select_from(model).where(*where)).one()


def _deletion_impact(session: Session, project_id: uuid.UUID) -> dict:
    return {
        "datasets": _count(session, Dataset, Dataset.project_id == project_id),
        "builds": _count(session, Build, Build.project_id == project_id),
        "model_versions": _count(session, ModelVersion, ModelVersion.project_id == project_id),
        "members": _count(session, Membership, Membership.project_id == project_id),
    }


def project_deletion_impact(*, actor: Actor | None, project_id: uuid.UUID | str) -> dict:
    """What goes with the project: counts of `datasets` (versions), `builds`,
    `model_versions` and `members`, plus its `name` for the confirmation prompt."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.DELETE)
        impact = _deletion_impact(session, project_id)
        return {"name": session.get(Project, project_id).name, **impact}


def describe_impact(impact: dict) -> str:
    """'3 dataset versions, 2 builds, 1 model version and 4 members' (zero counts left out)."""
    labels = [("datasets", "dataset version"), ("builds", "build"),
              ("model_versions", "model version"), ("members", "membership")]
    parts = [f"{impact[key]} {label}{'s' if impact[key] != 1 else ''}"
             for key, label in labels if impact.get(key)]
    if not parts:
        return "nothing else"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def delete_unreferenced_artifacts(session: Session, shas: set[str]) -> None:
    """Drop stored files that no dataset or model version uses any more (deleted data is gone)."""
    for sha in shas:
        used = (
            session.exec(select(Dataset.id).where(Dataset.content_sha256 == sha).limit(1)).first()
            or session.exec(
                select(ModelVersion.id).where(ModelVersion.bundle_sha256 == sha).limit(1)).first()
        )
        if not used:
            session.execute(sa.delete(Artifact).where(Artifact.sha256 == sha))


def delete_project(*, actor: Actor | None, project_id: uuid.UUID | str, confirm_name: str) -> dict:
    """Delete the project with all its datasets, builds, model versions and stored files.

    Owners only. `confirm_name` must be the project's name (as the person typed it), else
    ConfirmationRequired says what would be deleted. Returns what was deleted (the impact).
    """
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.DELETE)
        project = session.get(Project, project_id)
        impact = _deletion_impact(session, project_id)
        active = _count(session, Build, Build.project_id == project_id,
                        Build.status.in_([BuildStatus.QUEUED.value, BuildStatus.RUNNING.value]))
        if active:
            raise ConfirmationRequired(
                f"{active} build{'s are' if active != 1 else ' is'} queued or running in project "
                f"'{project.name}'. Wait for them to finish or cancel them, then delete the "
                "project."
            )
        if (confirm_name or "").strip() != project.name.strip():
            raise ConfirmationRequired(
                f"Deleting project '{project.name}' also deletes {describe_impact(impact)}; "
                f"this cannot be undone. Type the project name '{project.name}' exactly to confirm."
            )
        shas = set(session.exec(
            select(Dataset.content_sha256).where(Dataset.project_id == project_id)).all())
        shas |= set(session.exec(select(ModelVersion.bundle_sha256)
                                 .where(ModelVersion.project_id == project_id)).all())
        # model versions first: they are immutable, and a cascade that nulls their build or
        # dataset reference would be an update
        session.execute(sa.delete(ModelVersion).where(ModelVersion.project_id == project_id))
        session.execute(sa.delete(Project).where(Project.id == project_id))
        delete_unreferenced_artifacts(session, shas)
        # the project's own log goes with it; this event is kept at workspace level
        audit.record(session, actor, "delete project", object_type="project", object_id=project_id,
                     name=project.name, **impact)
        return {"name": project.name, **impact}


# --------------------------------------------------------------------------- members


def list_members(*, actor: Actor | None, project_id: uuid.UUID | str) -> list[MemberInfo]:
    """Every member with their role: owners first, then editors, then viewers."""
    order = sa.case({Role.OWNER.value: 0, Role.EDITOR.value: 1}, value=Membership.role, else_=2)
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.VIEW)
        rows = session.exec(
            select(User.id, User.email, User.display_name, Membership.role, Membership.created_at)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project_id)
            .order_by(order, User.email)
        ).all()
        return [MemberInfo(user_id=r[0], email=r[1], display_name=r[2], role=Role(r[3]),
                           joined_at=r[4]) for r in rows]


def _membership(session: Session, project_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
    return session.exec(select(Membership).where(
        Membership.project_id == project_id, Membership.user_id == user_id)).first()


def _member_by_email(
    session: Session, project_id: uuid.UUID, email: str
) -> tuple[User, Membership]:
    email = normalise_email(email)
    user = session.exec(select(User).where(User.email == email)).first()
    membership = _membership(session, project_id, user.id) if user else None
    if membership is None:
        raise MembershipError(f"{email} is not a member of this project.")
    return user, membership


def _owner_count(session: Session, project_id: uuid.UUID) -> int:
    return _count(session, Membership, Membership.project_id == project_id,
                  Membership.role == Role.OWNER.value)


def _lock_members(session: Session, project_id: uuid.UUID) -> None:
    """Member changes of one project take turns, so two owners cannot both step down at once."""
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                    {"k": f"members:{project_id}"})


def _keep_an_owner(
    session: Session, project_id: uuid.UUID, membership: Membership, doing: str
) -> None:
    if membership.role == Role.OWNER and _owner_count(session, project_id) <= 1:
        raise MembershipError(
            f"Cannot {doing}: the project needs at least one owner. "
            "Transfer ownership to another member first (or delete the project)."
        )


def invite_member(
    *, actor: Actor | None, project_id: uuid.UUID | str, email: str, role: Role | str = Role.VIEWER
) -> Invited:
    """Invite someone by e-mail with `role`. Owners only.

    An account with that e-mail becomes a member at once; an e-mail without an account gets an
    invitation that turns into a membership when the account is created. The answer (and the
    audit entry) is the same either way: inviting does not tell whether an e-mail has an account.
    """
    role = Role(role)
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.MANAGE_MEMBERS)
        _lock_members(session, project_id)
        email = check_email(email)
        user = session.exec(select(User).where(User.email == email)).first()
        existing = _membership(session, project_id, user.id) if user else None
        if existing is not None:
            raise MembershipError(
                f"{email} is already a member of this project (as {Role(existing.role).value}). "
                "Change their role instead."
            )
        if user is not None:
            session.add(Membership(project_id=project_id, user_id=user.id, role=role))
        else:
            _invite(session, project_id, email, role, actor)
        audit.record(session, actor, "invite member", project_id=project_id, object_type="member",
                     email=email, role=role.value)
        return Invited(email, role)


def _invite(session: Session, project_id: uuid.UUID, email: str, role: Role, actor: Actor) -> None:
    """Store (or update the role of) the invitation waiting for this e-mail's account."""
    invitation = _invitation(session, project_id, email) or Invitation(
        project_id=project_id, email=email, role=role, invited_by=actor.user_id)
    invitation.role = role
    session.add(invitation)


def _invitation(session: Session, project_id: uuid.UUID, email: str) -> Invitation | None:
    return session.exec(select(Invitation).where(
        Invitation.project_id == project_id, Invitation.email == normalise_email(email))).first()


def list_invitations(*, actor: Actor | None, project_id: uuid.UUID | str) -> list[Invited]:
    """Invitations still waiting for their e-mail's account (owners only), by e-mail."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.MANAGE_MEMBERS)
        rows = session.exec(select(Invitation).where(Invitation.project_id == project_id)
                            .order_by(Invitation.email)).all()
        return [Invited(r.email, Role(r.role)) for r in rows]


def change_role(
    *, actor: Actor | None, project_id: uuid.UUID | str, email: str, role: Role | str
) -> MemberInfo:
    """Give a member (or a waiting invitation) another role. Owners only; the last owner
    cannot be demoted."""
    role = Role(role)
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.MANAGE_MEMBERS)
        _lock_members(session, project_id)
        invitation = _invitation(session, project_id, email)
        if invitation is not None:
            invitation.role = role
            session.add(invitation)
            audit.record(session, actor, "change role", project_id=project_id,
                         object_type="member", email=invitation.email, role=role.value)
            return MemberInfo(None, invitation.email, "", role, invitation.created_at)
        user, membership = _member_by_email(session, project_id, email)
        if role != Role.OWNER:
            _keep_an_owner(session, project_id, membership, f"make {user.email} {role.value}")
        old = Role(membership.role)
        membership.role = role
        audit.record(session, actor, "change role", project_id=project_id, object_type="user",
                     object_id=user.id, email=user.email, old_role=old.value, role=role.value)
        return MemberInfo(user.id, user.email, user.display_name, role, membership.created_at)


def remove_member(*, actor: Actor | None, project_id: uuid.UUID | str, email: str) -> None:
    """Remove a member, or withdraw an invitation still waiting for its account. Owners only;
    the last owner cannot be removed."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.MANAGE_MEMBERS)
        _lock_members(session, project_id)
        invitation = _invitation(session, project_id, email)
        if invitation is not None:
            session.delete(invitation)
            audit.record(session, actor, "withdraw invitation", project_id=project_id,
                         object_type="member", email=invitation.email)
            return
        user, membership = _member_by_email(session, project_id, email)
        _keep_an_owner(session, project_id, membership, f"remove {user.email}")
        session.delete(membership)
        audit.record(session, actor, "remove member", project_id=project_id, object_type="user",
                     object_id=user.id, email=user.email)


def transfer_ownership(
    *, actor: Actor | None, project_id: uuid.UUID | str, new_owner_email: str
) -> None:
    """Make another member the owner; the acting owner becomes an editor. Owners only."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.MANAGE_MEMBERS)
        _lock_members(session, project_id)
        try:
            user, membership = _member_by_email(session, project_id, new_owner_email)
        except MembershipError as exc:
            raise MembershipError(f"{exc} Invite them first, then transfer ownership.") from None
        if user.id == actor.user_id:
            raise MembershipError("You already own this project. Pick another member.")
        membership.role = Role.OWNER
        _membership(session, project_id, actor.user_id).role = Role.EDITOR
        audit.record(session, actor, "transfer ownership", project_id=project_id,
                     object_type="user", object_id=user.id, email=user.email)


def leave_project(*, actor: Actor | None, project_id: uuid.UUID | str) -> None:
    """Leave the project (any member). The last owner must transfer ownership first."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.VIEW)
        _lock_members(session, project_id)
        membership = _membership(session, project_id, actor.user_id)
        if membership.role == Role.OWNER and _owner_count(session, project_id) <= 1:
            raise MembershipError(
                "You are the last owner of this project, so you cannot leave it. Transfer "
                "ownership to another member first (or delete the project)."
            )
        session.delete(membership)
        audit.record(session, actor, "leave project", project_id=project_id, object_type="user",
                     object_id=actor.user_id, email=actor.email)


# --------------------------------------------------------------------------- audit log


def list_audit_events(
    *, actor: Actor | None, project_id: uuid.UUID | str, limit: int = 200
) -> list[AuditEntry]:
    """The project's audit log, newest first: who did what, to which object, and when."""
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.VIEW)
        rows = session.exec(
            select(AuditEvent, User.email)
            .join(User, User.id == AuditEvent.user_id, isouter=True)
            .where(AuditEvent.project_id == project_id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(max(1, min(int(limit), 10_000)))
        ).all()
        return [AuditEntry(at=e.created_at, action=e.action, user_email=email,
                           object_type=e.object_type, object_id=e.object_id, detail=e.detail)
                for e, email in rows]


__all__ = [
    "AuditEntry", "ConfirmationRequired", "Invited", "MemberInfo", "MembershipError",
    "ProjectSummary", "change_role", "create_project", "delete_project", "describe_impact",
    "get_project", "invite_member", "leave_project", "list_audit_events", "list_invitations",
    "list_members",
    "list_projects", "project_deletion_impact", "project_role", "remove_member",
    "rename_project", "transfer_ownership",
]
