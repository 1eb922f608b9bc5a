"""The team library: find a dataset for a brief across the projects a user belongs to, and
copy one into the current project with its provenance.

Ranking reads only stored profiles (no rows), with the planner's own target resolution
(`core.planning.dataset_fit`), so a user sees why a table fits ("has a two-valued 'churn'
column to predict; 7,043 rows; project Retention"). A user only ever sees datasets of projects
they are a member of: the query joins through their memberships, nothing else is read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import select

from core.planning.dataset_fit import MIN_FIT, dataset_fit
from core.spec import DataProfile, Finding
from db.engine import session_scope
from db.models import Dataset, Membership, Project, User
from workspace import audit
from workspace.access import load_in_project, require_project, signed_in
from workspace.datasets import _next_version
from workspace.permissions import Action, Actor

# Recency and size only break near-ties: the brief's fit carries the weight.
RECENCY_DAYS = 365
SYNTHETIC_FACTOR = 0.85  # a real table beats an equally fitting generated one


@dataclass(frozen=True)
class LibraryMatch:
    dataset_id: uuid.UUID
    project_id: uuid.UUID
    project_name: str
    name: str
    version: int
    rows: int
    columns: int
    synthetic: bool
    created_at: datetime
    score: float
    target: str | None
    reasons: list[str] = field(default_factory=list)
    in_this_project: bool = False

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


def _newest_versions(session, user_id: uuid.UUID) -> list[tuple[Dataset, str]]:
    """The newest version of every dataset name in the user's projects, with the project name."""
    newest = (
        select(Dataset.project_id, Dataset.name, sa.func.max(Dataset.version).label("version"))
        .join(Membership, Membership.project_id == Dataset.project_id)
        .where(Membership.user_id == user_id)
        .group_by(Dataset.project_id, Dataset.name)
        .subquery()
    )
    query = (
        select(Dataset, Project.name)
        .join(newest, sa.and_(Dataset.project_id == newest.c.project_id,
                              Dataset.name == newest.c.name, Dataset.version == newest.c.version))
        .join(Project, Project.id == Dataset.project_id)
    )
    return list(session.exec(query).all())


def _tie_breakers(dataset: Dataset, now: datetime) -> float:
    """A little for size (more rows to learn from) and recency; at most 0.05 in all."""
    size = min(1.0, (dataset.rows or 0) / 10_000)
    age_days = max(0.0, (now - dataset.created_at).total_seconds() / 86_400)
    recent = max(0.0, 1 - age_days / RECENCY_DAYS)
    return 0.03 * size + 0.02 * recent


def _describe(dataset: Dataset, project_name: str, reasons: list[str], here: bool) -> list[str]:
    where = "this project" if here else f"project {project_name}"
    extra = [f"{dataset.rows:,} rows", where]
    if dataset.synthetic:
        extra.append("synthetic")
    return [*reasons, "; ".join(extra)]


def find_datasets_for_brief(
    *, actor: Actor | None, brief: str, project_id: uuid.UUID | str | None = None, limit: int = 5
) -> list[LibraryMatch]:
    """The datasets the actor may read that best fit `brief`, best first (at most `limit`).

    Only datasets whose fit reaches `MIN_FIT` are returned: an empty list means nothing in the
    library answers the brief (offer an upload or a generated table instead)."""
    actor = signed_in(actor)
    if not str(brief or "").strip():
        return []
    here = uuid.UUID(str(project_id)) if project_id else None
    now = datetime.now(UTC)
    with session_scope() as session:
        rows = _newest_versions(session, actor.user_id)
        matches = []
        for dataset, project_name in rows:
            if not dataset.profile:
                continue
            profile = DataProfile.model_validate(dataset.profile)
            findings = [Finding.model_validate(f) for f in dataset.findings or []]
            fit = dataset_fit(brief, profile, findings)
            if fit.score < MIN_FIT:
                continue
            score = fit.score * (SYNTHETIC_FACTOR if dataset.synthetic else 1.0)
            score += _tie_breakers(dataset, now)
            in_here = dataset.project_id == here
            matches.append(LibraryMatch(
                dataset_id=dataset.id, project_id=dataset.project_id, project_name=project_name,
                name=dataset.name, version=dataset.version, rows=dataset.rows,
                columns=dataset.columns, synthetic=dataset.synthetic,
                created_at=dataset.created_at, score=round(score, 3), target=fit.target,
                reasons=_describe(dataset, project_name, fit.reasons, in_here),
                in_this_project=in_here,
            ))
    matches.sort(key=lambda m: (-m.score, not m.in_this_project, m.name.lower()))
    return matches[: max(0, int(limit))]


def copy_dataset_to_project(
    *, actor: Actor | None, dataset_id: uuid.UUID | str, project_id: uuid.UUID | str
) -> Dataset:
    """Copy a dataset version the actor may download into a project they may upload to.

    The copy is a new version under the same name in the target project, sharing the stored
    file (artifacts are content-addressed) and keeping where it came from in `provenance`.
    A dataset already in the target project is returned as it is."""
    with session_scope() as session:
        source = load_in_project(session, actor, Dataset, dataset_id, Action.DOWNLOAD,
                                 what="dataset")
        target_project = require_project(session, actor, project_id, Action.UPLOAD)
        if source.project_id == target_project:
            return source
        source_project = session.get(Project, source.project_id)
        who = session.get(User, actor.user_id)
        provenance = {
            "source_project_id": str(source.project_id),
            "source_project_name": source_project.name if source_project else "",
            "source_dataset_id": str(source.id),
            "source_name": source.name,
            "source_version": source.version,
            "copied_by": who.email if who else "",
            "copied_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        copy = Dataset(
            project_id=target_project, name=source.name,
            version=_next_version(session, target_project, source.name),
            filename=source.filename, sheet=source.sheet, content_sha256=source.content_sha256,
            rows=source.rows, columns=source.columns, synthetic=source.synthetic,
            profile=source.profile, findings=source.findings, provenance=provenance,
            created_by=actor.user_id,
        )
        session.add(copy)
        session.flush()
        audit.record(session, actor, "copy dataset", project_id=target_project,
                     object_type="dataset", object_id=copy.id, name=copy.name,
                     version=copy.version, source_project=provenance["source_project_name"],
                     source_version=source.version)
        session.refresh(copy)
        return copy


def provenance_text(dataset: Dataset) -> str:
    """'Copied from project Retention (churn v2) by olive@example.com', or '' for an upload."""
    p = dataset.provenance or {}
    if "source_project_id" not in p:  # an upload, or a version labelled in this project
        return ""
    by = f" by {p['copied_by']}" if p.get("copied_by") else ""
    return (f"Copied from project {p.get('source_project_name') or '(deleted)'} "
            f"({p.get('source_name', dataset.name)} v{p.get('source_version', '?')}){by}")
