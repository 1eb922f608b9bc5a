"""AppTest: a model of a Yes/No target answers Yes/No on the predict page, for one row and for
a file, and a batch prediction gives the user's own columns back unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

from core.build import build_model
from core.bundle import bundle_from_result
from core.loading import load_table
from db.artifacts import put_artifact
from db.engine import session_scope
from db.models import ModelVersion
from tests.core import awkward_tables as awkward
from tests.webapp.conftest import actor_of, app_as, no_exception, texts
from workspace import projects

TARGET = awkward.TARGET


@pytest.fixture(scope="module")
def yes_no_model(tmp_path_factory):
    frame = load_table(awkward.latin1_semicolon(awkward.table()), filename="latin1.csv")
    result = build_model(frame, awkward.BRIEF, budget_seconds=5, seed=0)
    from workspace import bundle_keys

    path = bundle_from_result(result, tmp_path_factory.mktemp("labels") / "model.zip",
                              signing_key=bundle_keys.signing_key())  # as the worker signs them
    return result, path.read_bytes()


def _add_version(project_id, result, bundle: bytes) -> ModelVersion:
    with session_scope() as session:
        sha = put_artifact(session, bundle, media_type="application/zip")
        version = ModelVersion(project_id=project_id, version=1, target=TARGET, task_type="binary",
                               metric=result.spec.metric, input_schema=result.schema,
                               spec=result.spec.model_dump(mode="json"), bundle_sha256=sha,
                               metrics={"holdout": result.holdout_metrics})
        session.add(version)
        return version


def _form_row(schema: dict) -> pd.DataFrame:
    """The row the predict form sends untouched: numbers mid-range, the first category."""
    row = {}
    for column in schema["columns"]:
        if column["kind"] == "numeric":
            row[column["name"]] = float(round((column["min"] + column["max"]) / 2, 6))
        else:
            row[column["name"]] = column["categories"][0]
    return pd.DataFrame([row]).astype(object)


def test_the_predict_page_answers_in_the_files_labels(owner_token, yes_no_model):
    result, bundle = yes_no_model
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Wohnungen")
    version = _add_version(project.id, result, bundle)
    expected, _ = result.model.predict_table(_form_row(result.schema))
    assert expected[TARGET].iloc[0] in {"Yes", "No"}  # the file's labels, not True/False

    at = app_as(owner_token, project=str(project.id), version=str(version.id))
    at.switch_page("views/predict.py")
    at.run()
    no_exception(at)
    member = next(c for c in result.schema["columns"] if c["name"] == "mitglied")
    assert at.selectbox(key=f"in-{version.id}-mitglied").options == member["categories"]
    next(b for b in at.button if b.label == "Predict").click().run()
    no_exception(at)
    assert f"Prediction for **{TARGET}**: **{expected[TARGET].iloc[0]}**" in texts(at)

    data = awkward.latin1_semicolon(awkward.table().head(9))
    at.file_uploader(key=f"batch-{version.id}").set_value(("wohnungen.csv", data, "text/csv"))
    at.run()
    no_exception(at)
    assert "Predicted 9 rows." in texts(at)
    shown = at.dataframe[-1].value
    assert list(shown.columns[:4]) == [f"predicted_{TARGET}", "proba_No", "proba_Yes", "set"]
    assert set(shown[f"predicted_{TARGET}"]) <= {"Yes", "No"}
    assert shown["mitglied"].tolist() == awkward.table().head(9)["mitglied"].tolist()
    assert shown["größe"].iloc[0] == f"{awkward.table()['größe'].iloc[0]:g}".replace(".", ",")


def test_the_predict_page_says_the_threshold_its_probabilities_are_called_by(owner_token, tmp_path):
    from core.bundle import build_bundle
    from core.explain import explain_model
    from tests.core import model_factories as factories
    from workspace import bundle_keys

    model, rows = factories.calibrated_naive_bayes()
    # naive Bayes is explained against a reference, which the bundle keeps with the explanation
    bundle = build_bundle(model, tmp_path / "calibrated.zip", signing_key=bundle_keys.signing_key(),
                          explanation=explain_model(model, rows, max_rows=40))
    project = projects.create_project(actor=actor_of(owner_token), name="Diagnoses")
    with session_scope() as session:
        sha = put_artifact(session, bundle.read_bytes(), media_type="application/zip")
        version = ModelVersion(project_id=project.id, version=1, target="diagnosis", task_type="binary",
                               metric="roc_auc", input_schema=model.schema, bundle_sha256=sha)
        session.add(version)
    expected, _ = model.predict_table(_form_row(model.schema))
    positive, threshold = model.classes_[1], model.schema["decision_threshold"]
    assert (expected["diagnosis"].iloc[0] == positive) == (expected[f"proba_{positive}"].iloc[0] >= threshold)

    at = app_as(owner_token, project=str(project.id), version=str(version.id))
    at.switch_page("views/predict.py")
    at.run()
    next(b for b in at.button if b.label == "Predict").click().run()
    no_exception(at)
    shown = texts(at)
    assert f"Prediction for **diagnosis**: **{expected['diagnosis'].iloc[0]}**" in shown
    assert f"A row is called **{positive}** when its probability reaches **{threshold:.1%}**" in shown
