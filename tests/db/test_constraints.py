import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import select

from db.artifacts import put_artifact
from db.engine import session_scope
from db.models import ModelVersion, Project, User


def _project_with_bundle() -> tuple[uuid.UUID, str]:
    with session_scope() as session:
        project = Project(name="churn")
        session.add(project)
        sha = put_artifact(session, b"bundle bytes")
        return project.id, sha


def _version(project_id, sha, number) -> ModelVersion:
    return ModelVersion(project_id=project_id, version=number, target="churn",
                        task_type="binary", metric="roc_auc", bundle_sha256=sha)


def test_a_duplicate_version_number_in_a_project_is_rejected(db):
    project_id, sha = _project_with_bundle()
    with session_scope() as session:
        session.add(_version(project_id, sha, 1))
    with pytest.raises(sa.exc.IntegrityError, match="uq_model_version"):
        with session_scope() as session:
            session.add(_version(project_id, sha, 1))
    with session_scope() as session:
        session.add(_version(project_id, sha, 2))  # the next number is fine
        versions = session.exec(select(ModelVersion.version)).all()
    assert sorted(versions) == [1, 2]


def test_a_model_version_cannot_be_changed_once_written(db):
    project_id, sha = _project_with_bundle()
    with session_scope() as session:
        session.add(_version(project_id, sha, 1))
    with pytest.raises(sa.exc.DBAPIError, match="immutable"):
        with session_scope() as session:
            version = session.exec(select(ModelVersion)).one()
            version.metric = "accuracy"
    with session_scope() as session:
        assert session.exec(select(ModelVersion)).one().metric == "roc_auc"


def test_email_is_unique(db):
    with session_scope() as session:
        session.add(User(email="ada@example.com"))
    with pytest.raises(sa.exc.IntegrityError):
        with session_scope() as session:
            session.add(User(email="ada@example.com"))


def test_deleting_the_user_who_made_a_version_keeps_the_version(db):
    project_id, sha = _project_with_bundle()
    with session_scope() as session:
        user = User(email="maker@example.com")
        session.add(user)
        session.flush()
        version = _version(project_id, sha, 1)
        version.created_by = user.id
        session.add(version)
    with session_scope() as session:
        session.delete(session.get(User, user.id))  # ON DELETE SET NULL clears the link
    with session_scope() as session:
        kept = session.exec(select(ModelVersion)).one()
    assert kept.created_by is None and kept.metric == "roc_auc"
