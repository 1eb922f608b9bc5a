"""Fixtures for the workspace tests: people, a project with every role, settings overrides."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from db.models import Role
from tests.workspace.build_helpers import start_worker, stop_worker
from workspace.accounts import ensure_oidc_user
from workspace.permissions import Actor
from workspace.projects import create_project, invite_member
from workspace.settings import get_settings


@pytest.fixture
def workers(database_url, tmp_path):
    """Start workers with workers.start(name); all are stopped (or killed) at the end."""
    started = []

    class Workers:
        log_dir = tmp_path

        def start(self, name, **kwargs):
            process = start_worker(database_url, tmp_path, name, **kwargs)
            started.append(process)
            return process

        def logs(self):
            return "\n".join(p.read_text(errors="replace")[-3000:] for p in tmp_path.glob("*.log"))

    yield Workers()
    for process in started:
        stop_worker(process)


@pytest.fixture
def set_env(monkeypatch):
    """Set BRIEFML_ settings for one test: set_env(open_signup="false")."""

    def apply(**values) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"BRIEFML_{key.upper()}", str(value))
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


def person(email: str) -> Actor:
    """A user without a password (the single-sign-on path): no argon2 cost in every test."""
    return ensure_oidc_user(email, email.split("@")[0].title())


@dataclass
class Team:
    project_id: object
    owner: Actor
    editor: Actor
    viewer: Actor
    outsider: Actor  # signed in, not a member

    def by_role(self, role: str) -> Actor | None:
        return {"owner": self.owner, "editor": self.editor, "viewer": self.viewer,
                "non-member": self.outsider, "anonymous": None}[role]


@pytest.fixture
def team(db) -> Team:
    owner, editor = person("olive@example.com"), person("eddie@example.com")
    viewer, outsider = person("vera@example.com"), person("nora@example.com")
    project = create_project(actor=owner, name="Churn", description="who leaves next month")
    invite_member(actor=owner, project_id=project.id, email=editor.email, role=Role.EDITOR)
    invite_member(actor=owner, project_id=project.id, email=viewer.email, role=Role.VIEWER)
    # the outsider has a project of their own, so "sees nothing" is not just "has nothing"
    create_project(actor=outsider, name="Elsewhere")
    return Team(project.id, owner, editor, viewer, outsider)


CSV = b"age,plan,monthly_fee,churned\n" + b"".join(
    f"{20 + i % 50},{'basic' if i % 3 else 'pro'},{10 + (i * 7) % 40},{'yes' if i % 4 == 0 else 'no'}\n".encode()
    for i in range(120)
)


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    """A real bundle written by the engine: a small CatBoost model of the breast-cancer table.

    Returns (bundle bytes, the table, the model's AUC on it)."""
    from sklearn.metrics import roc_auc_score

    from core.bundle import build_bundle
    from tests.core import model_factories as factories
    from workspace import bundle_keys

    df, schema = factories.breast_cancer()
    model = factories.model_of(schema, factories.catboost_member(df, schema, iterations=15))
    auc = roc_auc_score(df["diagnosis"] == "malignant", model.predict_proba(df)[:, 1])
    path = build_bundle(model, tmp_path_factory.mktemp("bundle") / "model.zip",
                        metrics={"roc_auc": auc}, input_example=df.head(),
                        signing_key=bundle_keys.signing_key())  # as the worker signs them
    return path.read_bytes(), df, auc
