"""Fixtures for the web app tests: real accounts in the test database and an AppTest of
webapp/app.py signed in as one of them (the session token is put where webapp.session keeps it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "webapp" / "app.py"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _error_details():
    """Show the real exception in AppTest failures (the served app hides it from users)."""
    from streamlit import config

    before = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")
    yield
    config.set_option("client.showErrorDetails", before)


def sign_up_and_in(email: str) -> str:
    from workspace import accounts

    accounts.sign_up(email=email, password=PASSWORD, display_name=email.split("@")[0])
    _user, token = accounts.sign_in(email=email, password=PASSWORD)
    return token


@pytest.fixture
def owner_token(db) -> str:
    return sign_up_and_in("olive@example.com")


@pytest.fixture
def stranger_token(db) -> str:
    return sign_up_and_in("sam@example.com")


def actor_of(token: str):
    from workspace import accounts

    return accounts.actor_for_token(token)


def app_as(token: str | None, **query: str) -> AppTest:
    """The whole app (sign-in gate and navigation), optionally signed in, not yet run."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if token:
        at.session_state["auth_token"] = token
    for key, value in query.items():
        at.query_params[key] = value
    return at


def texts(at: AppTest) -> str:
    """Everything the page says (markdown, captions, alerts, titles), for `in` checks."""
    parts = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "error",
        "warning",
        "info",
        "success",
        "text",
    ):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    return as_read("\n".join(parts))


def as_read(markdown: str) -> str:
    """Markdown source as a person reads it: without the escapes and invisible word joiners
    that webapp.components.plain adds to names and messages."""
    return re.sub(r"\\([\\`*_{}\[\]()<>#+\-.!|~$&])", r"\1", markdown).replace("\u2060", "")


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def train_model_version(actor, project_id, *, rows: int = 150, budget_seconds: float = 5.0):
    """A real model version made the way a worker makes it (in this process, to save a
    worker start-up): upload the sample table, plan, approve, run the attempt."""
    import uuid

    import pandas as pd

    from webapp.sample import SAMPLE_BRIEF, SAMPLE_CSV
    from workspace import build_runner, builds, datasets, tasks, versions

    frame = pd.read_csv(SAMPLE_CSV).sample(n=rows, random_state=0)
    dataset = datasets.upload_dataset(
        actor=actor,
        project_id=project_id,
        source=frame.to_csv(index=False).encode(),
        filename="penguins.csv",
    )
    build = builds.create_and_approve(
        actor=actor,
        project_id=project_id,
        dataset_id=dataset.id,
        brief=SAMPLE_BRIEF,
        budget_seconds=budget_seconds,
    )
    start = tasks.begin_attempt(str(build.id), build.job_id)
    assert start.action == "run", start
    build_runner.run_attempt(uuid.UUID(str(build.id)), start.attempt)
    [version] = [
        v
        for v in versions.list_model_versions(actor=actor, project_id=project_id)
        if v.build_id == build.id
    ]
    return dataset, build, version
