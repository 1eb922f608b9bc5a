"""AppTest: Datasets, New model, Builds, Model versions and Predict, against a real trained
model version (trained once, in this process, the way a worker does it)."""

from __future__ import annotations

import pandas as pd

from db.models import Role
from tests.webapp.conftest import (
    actor_of,
    app_as,
    no_exception,
    sign_up_and_in,
    texts,
    train_model_version,
)
from webapp.sample import SAMPLE_CSV
from workspace import builds, datasets, projects


def on_page(token: str, page: str, **query: str):
    at = app_as(token, **query)
    at.switch_page(f"views/{page}.py")
    at.run()
    no_exception(at)
    return at


def buttons(at) -> list[str]:
    return [b.label for b in at.button]


def test_pages_without_a_project_or_content_show_empty_states(owner_token):
    owner = actor_of(owner_token)
    for page in ("datasets", "new_model", "build", "model", "predict"):
        assert "Open a project first" in texts(on_page(owner_token, page)), page

    project = projects.create_project(actor=owner, name="Empty")
    query = {"project": str(project.id)}
    assert "No datasets in this project yet" in texts(on_page(owner_token, "datasets", **query))
    assert "has no datasets yet" in texts(on_page(owner_token, "new_model", **query))
    assert "No builds yet" in texts(on_page(owner_token, "build", **query))
    assert "No model versions yet" in texts(on_page(owner_token, "model", **query))
    assert "No model versions yet" in texts(on_page(owner_token, "predict", **query))


def test_upload_validation_and_viewer_cannot_upload_or_build(owner_token):
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Churn")
    at = on_page(owner_token, "datasets", project=str(project.id))
    assert "up to 200 MB" in at.get("file_uploader")[0].proto.label
    [b for b in at.button if b.label == "Add dataset"][0].click().run()
    assert "Choose a file to upload first." in texts(at)

    at.file_uploader(key="upload-file").set_value(("empty.csv", b"", "text/csv"))
    [b for b in at.button if b.label == "Add dataset"][0].click().run()
    no_exception(at)
    assert at.error, "an empty file must be refused in words"
    assert "Traceback" not in texts(at)

    at.file_uploader(key="upload-file").set_value(
        ("penguins.csv", SAMPLE_CSV.read_bytes(), "text/csv")
    )
    [b for b in at.button if b.label == "Add dataset"][0].click().run()
    no_exception(at)
    [uploaded] = datasets.list_datasets(actor=owner, project_id=project.id)
    assert (uploaded.name, uploaded.rows, uploaded.columns) == ("penguins", 344, 8)
    assert "penguins v1" in at.selectbox(key="dataset-choice").format_func(
        at.selectbox(key="dataset-choice").value
    )

    viewer_token = sign_up_and_in("vera@example.com")
    projects.invite_member(
        actor=owner, project_id=project.id, email="vera@example.com", role=Role.VIEWER
    )
    at = on_page(viewer_token, "datasets", project=str(project.id))
    assert not at.get("file_uploader")
    assert "Viewers cannot upload tables" in texts(at)
    at = on_page(viewer_token, "new_model", project=str(project.id))
    assert "Viewers cannot start builds" in texts(at)
    assert not at.text_area


def test_brief_to_plan_to_approval(owner_token):
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Penguins")
    datasets.upload_dataset(
        actor=owner, project_id=project.id, source=SAMPLE_CSV.read_bytes(), filename="penguins.csv"
    )

    at = on_page(owner_token, "datasets", project=str(project.id))
    labels = [t.label for t in at.tabs]
    assert labels[:2] == ["Preview", "Profile"] and labels[2].startswith("Data checks (")
    assert at.dataframe[0].value.shape[0] > 0  # the preview
    assert at.get("vega_lite_chart")  # profile charts (st.altair_chart)
    at.selectbox(key="profile-target").select("species").run()
    no_exception(at)
    assert "against **species**" in texts(at)

    at = on_page(owner_token, "new_model", project=str(project.id))
    [b for b in at.button if b.label == "Propose a plan"][0].click().run()
    assert "Write a brief first" in texts(at)
    at.text_area(key="brief-text").input("Predict the species of a penguin.")
    at.number_input(key="brief-budget").set_value(10.0)
    [b for b in at.button if b.label == "Propose a plan"][0].click().run()
    no_exception(at)
    assert "Proposed plan" in texts(at)
    [build] = builds.list_builds(actor=owner, project_id=project.id)
    assert build.status == "planned"
    assert at.selectbox(key=f"plan-{build.id}-target").value == "species"
    at.multiselect(key=f"plan-{build.id}-families").set_value([]).run()
    assert "Choose at least one model family." in texts(at)
    assert at.button(key="approve").disabled
    at.multiselect(key=f"plan-{build.id}-families").set_value(["linear"]).run()
    at.button(key="approve").click().run()
    no_exception(at)
    build = builds.get_build(actor=owner, build_id=build.id)
    assert build.status == "queued"
    assert {c["estimator"] for c in build.plan["search"]["candidates"]} == {"linear"}
    assert "Builds" in [t.value for t in at.title]  # went to the live build page

    at = on_page(owner_token, "build", project=str(project.id), build=str(build.id))
    assert "Queued" in texts(at)
    at.button(key=f"cancel-{build.id}").click().run()
    no_exception(at)
    assert builds.get_build(actor=owner, build_id=build.id).status == "cancelled"


def test_model_and_predict_pages_with_a_trained_version(owner_token, stranger_token):
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Penguins")
    dataset, build, version = train_model_version(owner, project.id)
    query = {"project": str(project.id), "version": str(version.id)}

    at = on_page(owner_token, "build", project=str(project.id), build=str(build.id))
    assert "Succeeded" in texts(at)
    assert f"Model version v{version.version} is ready." in texts(at)
    assert at.dataframe  # the leaderboard and the log

    at = on_page(owner_token, "model", **query)
    assert [t.label for t in at.tabs] == [
        "Performance",
        "Explanation",
        "Data checks",
        "Report",
        "Leaderboard",
        "Compare",
    ]
    metrics = at.dataframe[0].value
    assert {"model", "baseline"} <= set(metrics.columns) and len(metrics) > 2
    assert at.get("download_button")  # the bundle
    assert "This is the only version" in texts(at)

    at = on_page(owner_token, "predict", **query)
    assert at.number_input(key=f"in-{version.id}-bill_length_mm")
    assert at.selectbox(key=f"in-{version.id}-island").options  # categories from the schema
    [b for b in at.button if b.label == "Predict"][0].click().run()
    no_exception(at)
    said = texts(at)
    assert "Prediction for **species**" in said
    assert "Class probabilities" in said and "Why this prediction" in said

    rows = pd.read_csv(SAMPLE_CSV).head(7)
    at.file_uploader(key=f"batch-{version.id}").set_value(
        ("few.csv", rows.drop(columns=["species"]).to_csv(index=False).encode(), "text/csv")
    )
    at.run()
    no_exception(at)
    assert "Predicted 7 rows." in texts(at)
    result = at.dataframe[-1].value
    assert "species" in result.columns and any(c.startswith("proba_") for c in result.columns)
    assert at.get("download_button")

    at.file_uploader(key=f"batch-{version.id}").set_value(
        ("wrong.csv", b"colour,size\nred,3\n", "text/csv")
    )
    at.run()
    no_exception(at)
    assert "missing" in texts(at) and "bill_length_mm" in texts(at)  # which columns, in words

    # A version id of a project the visitor is not in shows nothing of it.
    at = on_page(stranger_token, "model", **query)
    assert "No project with that id exists" in texts(at)
    assert not at.get("download_button")


def test_sample_project_starts_a_build_from_an_empty_workspace(owner_token):
    from webapp.sample import SAMPLE_BRIEF, SAMPLE_PROJECT_NAME

    owner = actor_of(owner_token)
    at = app_as(owner_token)
    at.run()
    at.button(key="sample-project").click().run()
    no_exception(at)
    [summary] = projects.list_projects(actor=owner)
    assert summary.name == SAMPLE_PROJECT_NAME and summary.datasets == 1
    [build] = builds.list_builds(actor=owner, project_id=summary.id)
    assert build.brief == SAMPLE_BRIEF and build.status == "queued"
    assert build.plan["spec"]["target"] == "species"
    assert "Builds" in [t.value for t in at.title]  # straight to the live build page


def test_a_vague_brief_asks_which_column_to_predict(owner_token):
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Penguins")
    datasets.upload_dataset(
        actor=owner, project_id=project.id, source=SAMPLE_CSV.read_bytes(), filename="p.csv"
    )
    at = on_page(owner_token, "new_model", project=str(project.id))
    at.text_area(key="brief-text").input("make a model")
    next(b for b in at.button if b.label == "Propose a plan").click().run()
    no_exception(at)
    assert "No column matches what the brief asks to predict" in texts(at)
    assert "species" in at.radio(key="draft-target").options
    at.radio(key="draft-target").set_value("species")
    next(b for b in at.button if b.label == "Use this target").click().run()
    no_exception(at)
    [build] = builds.list_builds(actor=owner, project_id=project.id)
    assert build.status == "planned" and build.plan["spec"]["target"] == "species"
    assert "Proposed plan" in texts(at)
