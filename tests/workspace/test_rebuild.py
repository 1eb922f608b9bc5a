"""Rebuild a model version from its reproducibility record, through the real queue.

Same dataset version and seed, the recorded linear trials replayed: the held-out metrics must
agree to `EXACT_TOLERANCE` (see tests/cli/test_rebuild.py for why that is the right tolerance).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.reproducibility import EXACT_TOLERANCE
from db.engine import session_scope
from db.models import BuildStatus, ModelVersion
from tests.workspace.build_helpers import add_dataset, iris_csv, wait_for
from tests.workspace.test_queue import FINAL, workers  # noqa: F401 - the fixture
from workspace import builds
from workspace.builds import BuildStateError
from workspace.permissions import Forbidden
from workspace.version_diff import diff_versions


def _finished(actor, build_id):
    build = builds.get_build(actor=actor, build_id=build_id)
    return build if build.status in FINAL else None


def _version_of(build_id) -> ModelVersion:
    with session_scope() as session:
        return session.execute(sa.select(ModelVersion).where(ModelVersion.build_id == build_id)).scalar_one()


def _run(team, workers, build):
    done = wait_for(lambda: _finished(team.editor, build.id), timeout=120, what="the build")
    assert done.status == BuildStatus.SUCCEEDED, (done.error, workers.logs())
    return _version_of(build.id)


def test_a_rebuild_on_the_same_dataset_version_gets_the_same_metrics(team, workers):  # noqa: F811
    dataset = add_dataset(team.editor, team.project_id, iris_csv(), "iris.csv")
    workers.start("w1")
    build = builds.create_build(actor=team.editor, project_id=team.project_id, dataset_id=dataset,
                                brief="predict the species", budget_seconds=3, seed=5)
    builds.update_plan(actor=team.editor, build_id=build.id, search={
        "candidates": [{"estimator": "linear", "params": {"C": 1.0}}], "ensemble": False})
    v1 = _run(team, workers, builds.approve_build(actor=team.editor, build_id=build.id))
    record = v1.metrics["reproducibility"]
    assert record["seed"] == 5 and record["budget_seconds"] == 3
    assert record["data"]["dataset_id"] == str(dataset) and record["data"]["dataset_version"] == 1
    assert record["data"]["sha256"] and record["search_plan"]["candidates"][0]["estimator"] == "linear"

    with pytest.raises(Forbidden):
        builds.rebuild_version(actor=team.viewer, version_id=v1.id)
    again = builds.rebuild_version(actor=team.editor, version_id=v1.id, budget_seconds=30)
    assert again.status == BuildStatus.QUEUED and again.dataset_id == dataset
    v2 = _run(team, workers, again)
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
