"""Model versions, read side, with a real (tiny) bundle written by the engine."""

import io
import zipfile

import pandas as pd
import pytest

from core.bundle import load_bundle
from core.runtime import SchemaError
from db.artifacts import put_artifact
from db.engine import session_scope
from db.models import ModelVersion
from workspace import versions as versions_module
from workspace.permissions import NotFound
from workspace.projects import list_audit_events, rename_project
from workspace.versions import (
    bundle_zip,
    compare_versions,
    download_bundle,
    get_model_version,
    list_model_versions,
    predict_rows,
    record_download,
)


def _add_version(project_id, data: bytes, number: int, auc: float) -> ModelVersion:
    with session_scope() as session:
        sha = put_artifact(session, data, media_type="application/zip")
        version = ModelVersion(project_id=project_id, version=number, target="diagnosis",
                               task_type="binary", metric="roc_auc", bundle_sha256=sha,
                               metrics={"holdout": {"roc_auc": auc}, "baseline": {"roc_auc": 0.5}})
        session.add(version)
        return version


def test_versions_are_listed_newest_first_with_their_score(team, tiny_bundle):
    data, _, auc = tiny_bundle
    _add_version(team.project_id, data, 1, auc)
    _add_version(team.project_id, data, 2, auc - 0.1)
    listed = list_model_versions(actor=team.viewer, project_id=team.project_id)
    assert [(v.version, v.score) for v in listed] == [(2, pytest.approx(auc - 0.1)), (1, pytest.approx(auc))]
    compared = compare_versions(actor=team.viewer, version_ids=[listed[0].id, str(listed[1].id)])
    assert [(c["version"], c["baseline"]) for c in compared] == [(1, {"roc_auc": 0.5}), (2, {"roc_auc": 0.5})]
    assert get_model_version(actor=team.viewer, version_id=listed[1].id).metrics["holdout"]["roc_auc"] == auc


def test_download_gives_the_stored_bundle_named_after_the_project_and_is_audited(team, tiny_bundle):
    data, _, auc = tiny_bundle
    version = _add_version(team.project_id, data, 3, auc)
    rename_project(actor=team.owner, project_id=team.project_id, name="Churn / EU 2026")
    name, downloaded = download_bundle(actor=team.viewer, version_id=version.id)
    assert (name, downloaded) == ("churn-eu-2026-v3.zip", data)
    assert "predict.py" in zipfile.ZipFile(io.BytesIO(downloaded)).namelist()
    event = list_audit_events(actor=team.owner, project_id=team.project_id)[0]
    assert (event.action, event.user_email, event.detail) == ("download", team.viewer.email, {"version": 3})


def test_a_download_button_holds_the_bundle_unaudited_until_its_click_is_recorded(team, tiny_bundle):
    """The model page's button holds the bytes (no reply over the websocket to lose on the
    click); only the click goes into the audit log, and a viewer may do both."""
    data, _, auc = tiny_bundle
    version = _add_version(team.project_id, data, 2, auc)
    assert bundle_zip(actor=team.viewer, version_id=version.id)[1] == data
    assert [e.action for e in list_audit_events(actor=team.owner, project_id=team.project_id)
            if e.action == "download"] == []
    record_download(actor=team.viewer, version_id=version.id)
    event = list_audit_events(actor=team.owner, project_id=team.project_id)[0]
    assert (event.action, event.user_email, event.detail) == ("download", team.viewer.email, {"version": 2})


def test_predictions_match_the_downloaded_bundle_and_one_row_is_explained(team, tiny_bundle, tmp_path):
    data, df, auc = tiny_bundle
    version = _add_version(team.project_id, data, 1, auc)
    rows = df.drop(columns=["diagnosis"]).head(20)
    result = predict_rows(actor=team.viewer, version_id=version.id, df=rows)
    (tmp_path / "b.zip").write_bytes(data)
    expected, _ = load_bundle(tmp_path / "b.zip").model.predict_table(rows)
    pd.testing.assert_frame_equal(result["table"], expected)
    assert result["explanation"] is None and result["warnings"] == []
    assert version.bundle_sha256 in versions_module._bundles  # loaded once, kept for next time

    one = rows.head(1).assign(size_band="enormous", extra="x")
    single = predict_rows(actor=team.viewer, version_id=version.id, df=one, explain=True)
    explanation = single["explanation"]
    assert explanation["prediction"] == single["table"]["diagnosis"].iloc[0]
    assert {c["column"] for c in explanation["contributions"]} >= {"mean radius", "size_band"}
    assert any("not seen in training" in w for w in single["warnings"])
    assert any("Ignored 1 column" in w for w in single["warnings"])
    assert predict_rows(actor=team.viewer, version_id=version.id, df=rows.head(2), explain=True)["explanation"] is None


def test_rows_that_do_not_fit_say_which_columns_are_missing(team, tiny_bundle):
    data, df, auc = tiny_bundle
    version = _add_version(team.project_id, data, 1, auc)
    with pytest.raises(SchemaError, match="missing 1 column\\(s\\) the model needs: 'size_band'"):
        predict_rows(actor=team.editor, version_id=version.id, df=df.drop(columns=["size_band"]).head(3))


def test_outsiders_cannot_see_list_download_or_predict(team, tiny_bundle):
    data, df, auc = tiny_bundle
    version = _add_version(team.project_id, data, 1, auc)
    for call in (get_model_version, download_bundle):
        with pytest.raises(NotFound, match="No model version with that id exists"):
            call(actor=team.outsider, version_id=version.id)
    with pytest.raises(NotFound):
        predict_rows(actor=team.outsider, version_id=version.id, df=df.head(1))
    with pytest.raises(NotFound):
        compare_versions(actor=team.outsider, version_ids=[version.id])
    with pytest.raises(NotFound):
        list_model_versions(actor=team.outsider, project_id=team.project_id)


def test_a_version_without_a_held_out_number_lists_no_score(team, tiny_bundle):
    data, _, _ = tiny_bundle
    with session_scope() as session:
        sha = put_artifact(session, data)
        for number, metrics in ((1, None), (2, {"holdout": {"roc_auc": "n/a"}}), (3, {"roc_auc": 0.7})):
            session.add(ModelVersion(project_id=team.project_id, version=number, target="diagnosis",
                                     task_type="binary", metric="roc_auc", bundle_sha256=sha,
                                     metrics=metrics))
    listed = list_model_versions(actor=team.viewer, project_id=team.project_id)
    assert [(v.version, v.score) for v in listed] == [(3, None), (2, None), (1, None)]


def test_the_predict_page_calls_a_row_positive_when_its_shown_probability_reaches_the_threshold(
        team, tmp_path):
    # what the web app's predict page shows comes from these two calls (one row, a file)
    from core.bundle import build_bundle
    from tests.core import model_factories as factories
    from workspace import bundle_keys

    model, rows = factories.calibrated_naive_bayes()
    path = build_bundle(model, tmp_path / "calibrated.zip", signing_key=bundle_keys.signing_key())
    version = _add_version(team.project_id, path.read_bytes(), 1, 0.9)
    threshold, positive = model.schema["decision_threshold"], model.classes_[1]
    rows = rows.drop(columns=["diagnosis"])
    one_by_one = pd.concat([predict_rows(actor=team.viewer, version_id=version.id, df=rows.iloc[[i]])["table"]
                            for i in range(len(rows))])
    batch = versions_module.predict_file(actor=team.viewer, version_id=version.id,
                                         data=rows.to_csv(index=False).encode(), filename="rows.csv")
    for table in (one_by_one, batch["table"]):
        called = table["diagnosis"] == positive
        assert (called == (table[f"proba_{positive}"] >= threshold)).all()
        assert called.to_numpy().tolist() == list(model.predict(rows) == positive)
