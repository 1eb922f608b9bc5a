"""Rebuild a model version from its reproducibility record. The attempts run in this
process the way a worker runs them (the queue itself is tested in test_queue.py).

Same dataset version and seed, the recorded linear trials replayed: the held-out metrics must
agree to `EXACT_TOLERANCE` (see tests/cli/test_rebuild.py for why that is the right tolerance).
Both builds get budgets far beyond what their few linear trials need: with 3 s, a trial on a
busy machine now and then missed its deadline in one build and not the other, and the two
versions then differed for a reason that has nothing to do with reproducibility. The search
ends when the planner has nothing new, so a larger budget changes no trial.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.reproducibility import EXACT_TOLERANCE
from db.engine import session_scope
from db.models import BuildStatus, ModelVersion
from tests.workspace.build_helpers import add_dataset, iris_csv
from workspace import build_runner, builds, tasks
from workspace.builds import BuildStateError
from workspace.permissions import Forbidden, NotFound, NotSignedIn
from workspace.version_diff import diff_versions


def _version_of(build_id) -> ModelVersion:
    with session_scope() as session:
        return session.execute(sa.select(ModelVersion).where(ModelVersion.build_id == build_id)).scalar_one()


def _run(build) -> ModelVersion:
    assert build.status == BuildStatus.QUEUED
    start = tasks.begin_attempt(str(build.id), build.job_id)
    build_runner.run_attempt(build.id, start.attempt)
    return _version_of(build.id)


def test_a_rebuild_on_the_same_dataset_version_gets_the_same_metrics(team):
    dataset = add_dataset(team.editor, team.project_id, iris_csv(), "iris.csv")
    build = builds.create_build(actor=team.editor, project_id=team.project_id, dataset_id=dataset,
                                brief="predict the species", budget_seconds=20, seed=5)
    builds.update_plan(actor=team.editor, build_id=build.id, search={
        "candidates": [{"estimator": "linear", "params": {"C": 1.0}}], "ensemble": False})
    v1 = _run(builds.approve_build(actor=team.editor, build_id=build.id))
    record = v1.metrics["reproducibility"]
    assert record["seed"] == 5 and record["budget_seconds"] == 20
    assert record["data"]["dataset_id"] == str(dataset) and record["data"]["dataset_version"] == 1
    assert record["data"]["sha256"] and record["search_plan"]["candidates"][0]["estimator"] == "linear"

    # who may rebuild (the permission matrix's world has no recorded version to rebuild)
    with pytest.raises(Forbidden):
        builds.rebuild_version(actor=team.viewer, version_id=v1.id)
    with pytest.raises(NotFound):
        builds.rebuild_version(actor=team.outsider, version_id=v1.id)
    with pytest.raises(NotSignedIn):
        builds.rebuild_version(actor=None, version_id=v1.id)
    again = builds.rebuild_version(actor=team.editor, version_id=v1.id, budget_seconds=30)
    assert again.status == BuildStatus.QUEUED and again.dataset_id == dataset
    v2 = _run(again)
    assert v2.metrics["reproducibility"]["rebuild_of"]["version"] == 1
    assert [t["params"] for t in v2.leaderboard] == [t["params"] for t in v1.leaderboard], (
        [(t["params"], t["seconds"], t["status"]) for t in v1.leaderboard], v2.leaderboard)
    for name, value in v1.metrics["holdout"].items():
        if isinstance(value, float):
            assert abs(v2.metrics["holdout"][name] - value) <= EXACT_TOLERANCE, name
    # the Compare tab's diff: same settings and columns, the same metrics
    diff = diff_versions(actor=team.viewer, before_id=v1.id, after_id=v2.id)
    assert [row["what"] for row in diff.settings] == ["budget (s)"] and diff.columns == []

    newer = add_dataset(team.editor, team.project_id, iris_csv()[: 3000], "iris.csv")
    retrain = builds.rebuild_version(actor=team.editor, version_id=v1.id, dataset="newest")
    assert retrain.dataset_id == newer and retrain.plan["rebuild_of"]["version"] == 1


def test_a_version_without_a_record_cannot_be_rebuilt(team):
    with session_scope() as session:
        from db.artifacts import put_artifact

        sha = put_artifact(session, b"not a bundle", media_type="application/zip")
        version = ModelVersion(project_id=team.project_id, version=1, target="y", task_type="binary",
                               metric="roc_auc", bundle_sha256=sha, metrics={"holdout": {}})
        session.add(version)
    with pytest.raises(BuildStateError, match="before briefml kept reproducibility records"):
        builds.rebuild_version(actor=team.editor, version_id=version.id)
