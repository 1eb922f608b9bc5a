"""AppTest: the version page's reproducibility record, and Rebuild for editors only."""

from __future__ import annotations

import uuid

from db.models import BuildStatus, Role
from tests.webapp.conftest import actor_of, sign_up_and_in, texts, train_model_version
from tests.webapp.test_model_pages import on_page
from workspace import build_runner, builds, projects, tasks, versions


def _rebuild_button(at):
    return [b for b in at.button if b.label == "Queue the rebuild"]


def test_the_record_is_shown_and_an_editor_rebuilds_a_version_that_then_compares(owner_token):
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Penguins")
    _, _, v1 = train_model_version(owner, project.id, budget_seconds=3.0)
    query = {"project": str(project.id), "version": str(v1.id)}

    at = on_page(owner_token, "model", **query)
    said = texts(at)
    assert "##### Reproducibility" in said
    assert "The plan it ran (JSON)" in [e.label for e in at.expander]
    record = next(d.value for d in at.dataframe if list(d.value.columns) == ["what", "value"])
    rows = dict(zip(record["what"], record["value"], strict=True))
    assert rows["seed"] == "0" and rows["planner"] == "offline"
    assert rows["data"].startswith("penguins v1 · 150 rows · SHA-256 ")
    assert rows["budget"].startswith("3 s, ") and "cores" in rows["machine"]

    viewer = sign_up_and_in("vera@example.com")
    projects.invite_member(actor=owner, project_id=project.id, email="vera@example.com",
                           role=Role.VIEWER)
    assert not _rebuild_button(on_page(viewer, "model", **query))

    _rebuild_button(at)[0].click().run()
    assert "Queued. The new version will compare itself with this one." in texts(at)
    [queued] = [b for b in builds.list_builds(actor=owner, project_id=project.id)
                if b.status == BuildStatus.QUEUED]
    assert queued.plan["rebuild_of"]["version"] == v1.version
    start = tasks.begin_attempt(str(queued.id), queued.job_id)
    build_runner.run_attempt(uuid.UUID(str(queued.id)), start.attempt)
    [v2] = [v for v in versions.list_model_versions(actor=owner, project_id=project.id)
            if v.build_id == queued.id]

    at = on_page(owner_token, "model", project=str(project.id), version=str(v2.id))
    said = texts(at)
    assert f"Rebuilt from v{v1.version}." in said and "on the same data" in said
    assert at.multiselect(key="compare-with").value == [v1.id]
    assert f"What changed from v{v1.version} to v{v2.version}" in said
