"""Datasets: immutable versions of uploaded tables.

An upload is read and profiled by the engine (`core.loading`, `core.profile`, `core.checks`)
before anything is stored; a file the engine cannot read raises `core.errors.DataError` and
leaves nothing behind. The original bytes are kept as an artifact and are the source of truth:
`load_dataset_frame` reads them again, so every build sees exactly what was uploaded.
Uploading under a name that exists makes the next version of that name.

Deleting a dataset: the builds that used it and the model versions they made go with it, so
that no model is left pointing at data that no longer exists. This only happens after an
explicit confirmation (`confirm=True`); without it, ConfirmationRequired lists every build and
model version that would be deleted (see `dataset_deletion_impact`). A dataset used by a build
that is queued or running cannot be deleted until that build has finished or been cancelled.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from core import tableread
from core.checks import run_checks
from core.errors import DataError
from core.loading import LoadLimits, load_table, nul_findings, without_nul
from core.profile import profile_frame
from db.artifacts import put_artifact, read_artifact
from db.engine import session_scope
from db.models import Build, BuildStatus, Dataset, ModelVersion, User
from workspace import audit
from workspace.access import load_in_project, require_project
from workspace.permissions import Action, Actor
from workspace.projects import ConfirmationRequired, delete_unreferenced_artifacts
from workspace.settings import get_settings

ACTIVE_BUILD_STATUSES = (BuildStatus.QUEUED.value, BuildStatus.RUNNING.value)
_MEDIA_TYPES = {".csv": "text/csv", ".tsv": "text/tab-separated-values",
                ".parquet": "application/vnd.apache.parquet",
                ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class DatasetSummary:
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    version: int
    filename: str
    rows: int
    columns: int
    synthetic: bool
    findings: int  # how many check findings the profile raised
    created_at: datetime
    created_by_email: str | None


def load_limits() -> LoadLimits:
    """The upload limits from the settings, as the engine takes them."""
    return get_settings().load_limits()


def _read_bytes(source: bytes | str | Path | IO[bytes], filename: str) -> bytes:
    """The upload's bytes, refused past the size limit before more is read."""
    try:
        data, _ = tableread.read_source(source, filename, load_limits())
    except tableread.TableReadError as exc:
        raise DataError(str(exc)) from None
    return data


def _dataset_name(name: str | None, filename: str) -> str:
    name = without_nul(name or "").strip() or without_nul(Path(filename).stem).strip() or "dataset"
    if len(name) > 300:
        raise DataError("The dataset name is too long: use at most 300 characters.")
    return name


def _sheet_name(data: bytes, sheet: str | int | None) -> str | None:
    """The name of the sheet that was read, so the stored file is read the same way again
    (a position is kept as the name it pointed at: "2" may itself be a sheet's name)."""
    if not isinstance(sheet, int):
        return sheet
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return book.sheetnames[sheet]
    finally:
        book.close()


def _next_version(session: Session, project_id: uuid.UUID, name: str) -> int:
    # concurrent uploads of one name take turns, so each gets its own number
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                    {"k": f"dataset:{project_id}:{name}"})
    latest = session.exec(select(sa.func.max(Dataset.version)).where(
        Dataset.project_id == project_id, Dataset.name == name)).one()
    return (latest or 0) + 1


def _store(
    session: Session, actor: Actor, project_id: uuid.UUID, data: bytes, *, filename: str,
    name: str, sheet: str | None, df: pd.DataFrame, synthetic: bool = False, **audit_detail,
) -> Dataset:
    profile = profile_frame(df)
    findings = nul_findings(df) + run_checks(df, profile)
    sha = put_artifact(session, data,
                       media_type=_MEDIA_TYPES.get(Path(filename).suffix.lower(),
                                                   "application/octet-stream"))
    dataset = Dataset(
        project_id=project_id, name=name, version=_next_version(session, project_id, name),
        filename=filename[:500], sheet=sheet, content_sha256=sha, rows=len(df), columns=df.shape[1],
        synthetic=synthetic, profile=profile.model_dump(mode="json"),
        findings=[f.model_dump(mode="json") for f in findings], created_by=actor.user_id,
    )
    session.add(dataset)
    session.flush()
    audit.record(session, actor, "upload", project_id=project_id, object_type="dataset",
                 object_id=dataset.id, name=name, version=dataset.version, filename=filename,
                 rows=dataset.rows, columns=dataset.columns, **audit_detail)
    return dataset


def upload_dataset(
    *, actor: Actor | None, project_id: uuid.UUID | str,
    source: bytes | str | Path | IO[bytes], filename: str, name: str | None = None,
    sheet: str | int | None = None,
) -> Dataset:
    """Read, profile, check and store an uploaded table as a new dataset version (editors+).

    source: the file's bytes, a path or a binary file object (a Streamlit upload works).
    name: defaults to the file name without its extension; an existing name gets its next
    version. sheet: the Excel sheet (name or position; the first by default).
    Raises DataError (nothing stored) when the file cannot be read or breaks the limits.
    """
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.UPLOAD)
    filename = without_nul(Path(filename or getattr(source, "name", "") or "upload.csv").name)
    data = _read_bytes(source, filename)
    df = load_table(data, filename=filename, sheet=sheet, limits=load_limits())
    name = _dataset_name(name, filename)
    with session_scope() as session:
        # checked again: the role may have changed while the file was being read
        require_project(session, actor, project_id, Action.UPLOAD)
        return _store(session, actor, project_id, data, filename=filename, name=name,
                      sheet=_sheet_name(data, sheet), df=df)


def _llm_adapter(chat_model: Any = None):
    from core.llm.adapter import LLMAdapter, LLMSetupError

    if chat_model is not None:
        return chat_model
    settings = get_settings()
    if not settings.llm:
        raise LLMSetupError("Describing a synthetic table needs an LLM: set BRIEFML_LLM (for "
                            "example 'openai:gpt-4o-mini'), or fill in the columns yourself.")
    return LLMAdapter.from_model_string(
        settings.llm, base_url=settings.llm_base_url,
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        max_retries=settings.llm_max_retries)


def propose_synthetic_spec(
    *, actor: Actor | None, project_id: uuid.UUID | str, brief: str, schema_description: str = "",
    chat_model: Any = None,
):
    """The LLM's description of a table for `brief` (a `SyntheticDatasetSpec`), for the person
    to review and edit before any row is made. Editors+; needs BRIEFML_LLM or `chat_model`."""
    from core.llm.synthetic import describe_synthetic_dataset

    with session_scope() as session:
        require_project(session, actor, project_id, Action.UPLOAD)
    return describe_synthetic_dataset(brief, schema_description, chat_model=_llm_adapter(chat_model))


def add_dataset_from_spec(
    *, actor: Actor | None, project_id: uuid.UUID | str, spec: Any, n_rows: int = 500,
    name: str | None = None, seed: int = 0, brief: str = "",
) -> Dataset:
    """Sample a table from a reviewed `SyntheticDatasetSpec` (numpy, deterministic for `seed`)
    and store it as a dataset marked synthetic. Editors+."""
    from core.llm.synthetic import MAX_ROWS, sample_synthetic_dataset

    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.UPLOAD)
    if not 10 <= int(n_rows) <= MAX_ROWS:
        raise DataError(f"Ask for between 10 and {MAX_ROWS:,} synthetic rows, not {n_rows}.")
    frame = sample_synthetic_dataset(spec, int(n_rows), seed=seed)
    data = frame.to_csv(index=False).encode("utf-8")
    name = _dataset_name(name or spec.title or None, "synthetic.csv")
    filename = f"{name}.csv"
    # stored like an upload and read back the same way: the CSV is the source of truth
    df = load_table(data, filename=filename, limits=load_limits())
    with session_scope() as session:
        require_project(session, actor, project_id, Action.UPLOAD)
        return _store(session, actor, project_id, data, filename=filename, name=name, sheet=None,
                      df=df, synthetic=True, brief=brief[:500], target=spec.target)


def add_synthetic_dataset(
    *, actor: Actor | None, project_id: uuid.UUID | str, brief: str, schema_description: str = "",
    n_rows: int = 500, name: str | None = None, seed: int = 0, chat_model: Any = None,
) -> Dataset:
    """Ask the configured LLM to describe a table for `brief`; sample it and store it, marked
    synthetic, without a review in between (scripts; the web app reviews the spec first).

    Needs BRIEFML_LLM (or `chat_model`, a LangChain chat model or `core.llm.LLMAdapter`).
    Raises PlanError / LLMSetupError with a message for the user.
    """
    spec = propose_synthetic_spec(actor=actor, project_id=project_id, brief=brief,
                                  schema_description=schema_description, chat_model=chat_model)
    return add_dataset_from_spec(actor=actor, project_id=project_id, spec=spec, n_rows=n_rows,
                                 name=name, seed=seed, brief=brief)


def list_datasets(*, actor: Actor | None, project_id: uuid.UUID | str) -> list[DatasetSummary]:
    """Every dataset version of the project: by name, newest version first."""
    # a row without findings may hold SQL NULL or JSON null: count only real arrays
    findings = sa.case((sa.func.jsonb_typeof(Dataset.findings) == "array",
                        sa.func.jsonb_array_length(Dataset.findings)), else_=0)
    with session_scope() as session:
        project_id = require_project(session, actor, project_id, Action.VIEW)
        rows = session.exec(
            select(Dataset.id, Dataset.project_id, Dataset.name, Dataset.version, Dataset.filename,
                   Dataset.rows, Dataset.columns, Dataset.synthetic, findings, Dataset.created_at,
                   User.email)
            .join(User, User.id == Dataset.created_by, isouter=True)
            .where(Dataset.project_id == project_id)
            .order_by(sa.func.lower(Dataset.name), Dataset.version.desc())
        ).all()
        return [DatasetSummary(*row) for row in rows]


def get_dataset(*, actor: Actor | None, dataset_id: uuid.UUID | str) -> Dataset:
    """One dataset version with its profile and findings (JSON, as the engine made them)."""
    with session_scope() as session:
        return load_in_project(session, actor, Dataset, dataset_id, Action.VIEW, what="dataset")


def _frame_of(session: Session, dataset: Dataset) -> pd.DataFrame:
    data = read_artifact(session, dataset.content_sha256)
    return load_table(data, filename=dataset.filename, sheet=dataset.sheet, limits=load_limits())


def load_dataset_frame(*, actor: Actor | None, dataset_id: uuid.UUID | str) -> pd.DataFrame:
    """The dataset as a frame, read again from the stored original file."""
    with session_scope() as session:
        dataset = load_in_project(session, actor, Dataset, dataset_id, Action.VIEW, what="dataset")
        return _frame_of(session, dataset)


def preview_dataset(
    *, actor: Actor | None, dataset_id: uuid.UUID | str, rows: int = 50
) -> pd.DataFrame:
    """The first `rows` rows of the dataset."""
    return load_dataset_frame(actor=actor, dataset_id=dataset_id).head(max(0, int(rows)))


def download_dataset(*, actor: Actor | None, dataset_id: uuid.UUID | str) -> tuple[str, bytes]:
    """The original uploaded file: (filename, bytes). Recorded in the audit log."""
    with session_scope() as session:
        dataset = load_in_project(session, actor, Dataset, dataset_id, Action.DOWNLOAD,
                                  what="dataset")
        data = read_artifact(session, dataset.content_sha256)
        audit.record(session, actor, "download", project_id=dataset.project_id,
                     object_type="dataset", object_id=dataset.id, name=dataset.name,
                     version=dataset.version)
        return dataset.filename, data


def _dependants(session: Session, dataset: Dataset) -> tuple[list[Build], list[ModelVersion]]:
    builds = list(session.exec(select(Build).where(Build.dataset_id == dataset.id)
                               .order_by(Build.created_at)).all())
    build_ids = [b.id for b in builds]
    uses = ModelVersion.dataset_id == dataset.id
    if build_ids:
        uses = sa.or_(uses, ModelVersion.build_id.in_(build_ids))
    versions = list(session.exec(
        select(ModelVersion).where(uses).order_by(ModelVersion.version)).all())
    return builds, versions


def _impact(dataset: Dataset, builds: list[Build], versions: list[ModelVersion]) -> dict:
    return {
        "dataset": {"id": dataset.id, "name": dataset.name, "version": dataset.version},
        "builds": [{"id": b.id, "brief": b.brief, "status": str(b.status)} for b in builds],
        "model_versions": [{"id": v.id, "version": v.version, "target": v.target}
                           for v in versions],
        "active_builds": [b.id for b in builds if str(b.status) in ACTIVE_BUILD_STATUSES],
    }


def dataset_deletion_impact(*, actor: Actor | None, dataset_id: uuid.UUID | str) -> dict:
    """What deleting this dataset version deletes with it.

    Returns {"dataset": {id, name, version}, "builds": [{id, brief, status}],
    "model_versions": [{id, version, target}], "active_builds": [ids of queued/running builds]}.
    """
    with session_scope() as session:
        dataset = load_in_project(session, actor, Dataset, dataset_id, Action.DELETE,
                                  what="dataset")
        return _impact(dataset, *_dependants(session, dataset))


def _describe(impact: dict) -> str:
    versions = [f"v{v['version']}" for v in impact["model_versions"]]
    parts = []
    if impact["builds"]:
        parts.append(f"{len(impact['builds'])} build{'s' if len(impact['builds']) != 1 else ''}")
    if versions:
        parts.append(f"model version{'s' if len(versions) != 1 else ''} {', '.join(versions)}")
    return " and ".join(parts)


def _confirmation_message(label: str, impact: dict) -> str:
    also = _describe(impact)
    if not also:
        return f"Deleting {label} cannot be undone. Confirm to delete it."
    return (f"Deleting {label} also deletes {also}, made from it; this cannot be undone. "
            "Confirm to delete them all, or download the model bundles first.")


def delete_dataset(
    *, actor: Actor | None, dataset_id: uuid.UUID | str, confirm: bool = False
) -> dict:
    """Delete one dataset version, with the builds and model versions made from it (owners).

    Without `confirm=True`, raises ConfirmationRequired naming what would go with it. Refuses
    (ConfirmationRequired) while a build of it is queued or running. Returns the impact.
    """
    with session_scope() as session:
        dataset = load_in_project(session, actor, Dataset, dataset_id, Action.DELETE,
                                  what="dataset")
        builds, versions = _dependants(session, dataset)
        impact = _impact(dataset, builds, versions)
        label = f"dataset '{dataset.name}' v{dataset.version}"
        if impact["active_builds"]:
            raise ConfirmationRequired(
                f"A build of {label} is queued or running. Wait for it to finish or cancel it, "
                "then delete the dataset."
            )
        if not confirm:
            raise ConfirmationRequired(_confirmation_message(label, impact))
        shas = {dataset.content_sha256} | {v.bundle_sha256 for v in versions}
        # versions first (immutable rows: never nulled), then the builds, then the data
        if versions:
            session.execute(
                sa.delete(ModelVersion).where(ModelVersion.id.in_([v.id for v in versions])))
        if builds:
            session.execute(sa.delete(Build).where(Build.id.in_([b.id for b in builds])))
        session.execute(sa.delete(Dataset).where(Dataset.id == dataset.id))
        delete_unreferenced_artifacts(session, shas)
        audit.record(session, actor, "delete", project_id=dataset.project_id, object_type="dataset",
                     object_id=dataset.id, name=dataset.name, version=dataset.version,
                     builds=len(builds), model_versions=[v.version for v in versions])
        return impact
