"""AppTest: Datasets, New model, Builds, Model versions and Predict, against a real trained
model version (trained once, in this process, the way a worker does it)."""

from __future__ import annotations

import uuid

import pandas as pd

from core.metrics import display_name
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
from workspace import builds, datasets, projects, versions


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
    # a second upload is the one shown next, though the picker remembers the first
    at.file_uploader(key="upload-file").set_value(
        ("penguins.csv", SAMPLE_CSV.read_bytes()[:5000], "text/csv")
    )
    next(b for b in at.button if b.label == "Add dataset").click().run()
    no_exception(at)
    assert "penguins v2" in at.selectbox(key="dataset-choice").format_func(
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
    assert "Stop this build? It makes no model version." in texts(at)
    at.button(key=f"cancel-no-{build.id}").click().run()
    assert builds.get_build(actor=owner, build_id=build.id).status == "queued"
    at.button(key=f"cancel-{build.id}").click().run()
    at.button(key=f"cancel-yes-{build.id}").click().run()
    no_exception(at)
    assert builds.get_build(actor=owner, build_id=build.id).status == "cancelled"

    # the builds list shows it; a link to a build of no project here says so
    at = on_page(owner_token, "build", project=str(project.id), build=str(uuid.uuid4()))
    no_exception(at)
    assert "names a build that is not in this project" in texts(at)
    table = at.dataframe[0].value
    assert list(table["status"]) == ["cancelled"]
    assert list(table["started by"]) == [owner.email]
    assert list(table["version"]) == ["—"]
    assert at.selectbox(key="build-choice").value == build.id


def test_model_and_predict_pages_with_a_trained_version(owner_token, stranger_token):
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Penguins")
    dataset, build, version = train_model_version(owner, project.id)
    query = {"project": str(project.id), "version": str(version.id)}

    at = on_page(owner_token, "build", project=str(project.id), build=str(build.id))
    assert "Succeeded" in texts(at)
    assert f"Model version v{version.version} is ready." in texts(at)
    builds_list = at.dataframe[0].value
    assert list(builds_list["status"]) == ["succeeded"]
    assert list(builds_list["version"]) == [f"v{version.version}"]
    assert builds_list["duration"][0].endswith(" s")
    assert builds_list["budget used"][0] == "100% of 5 s"
    assert "planned model families tried" in texts(at)
    assert "Shipped: " in texts(at)  # the finished build's leaderboard says what shipped
    assert "100% of the 5 s budget" in [p.proto.text for p in at.get("progress")]

    at = on_page(owner_token, "model", **query)
    assert [t.label for t in at.tabs] == ["Metrics", "Explain", "Trust", "Checks", "Report",
                                          "Trials", "Compare"]
    assert "90% prediction sets covered" in texts(at)  # the Trust tab (reliability), beside its promise
    assert "Where it fails" in texts(at) and "Robustness to messy input" in texts(at)
    assert "of the build's time budget" in texts(at)  # the share the analysis took
    metrics = at.dataframe[0].value
    assert {"model", "baseline"} <= set(metrics.columns) and len(metrics) > 2
    assert at.get("download_button")  # the bundle
    assert "This is the only version" in texts(at)
    assert "Shipped: " in texts(at)  # the leaderboard says what the version is made of

    at = on_page(owner_token, "predict", **query)
    assert at.number_input(key=f"in-{version.id}-bill_length_mm")
    island = at.selectbox(key=f"in-{version.id}-island")
    assert island.options and island.value == island.options[0]  # the most frequent first
    full = versions.get_model_version(actor=owner, version_id=version.id)
    [bill] = [c for c in full.input_schema["columns"] if c["name"] == "bill_length_mm"]
    assert at.number_input(key=f"in-{version.id}-bill_length_mm").value == bill["median"]
    [b for b in at.button if b.label == "Predict"][0].click().run()
    no_exception(at)
    said = texts(at)
    assert "Prediction for **species**" in said and "% probability)" in said
    assert "Class probabilities" in said and "Why this prediction" in said
    assert "On average over its training rows the model predicts" in said  # the base, in words
    assert "likely one of: **" in said  # the 90% prediction set of this row

    rows = pd.read_csv(SAMPLE_CSV).head(7)
    at.file_uploader(key=f"batch-{version.id}").set_value(
        ("few.csv", rows.drop(columns=["species"]).to_csv(index=False).encode(), "text/csv")
    )
    at.run()
    no_exception(at)
    assert "Predicted 7 rows." in texts(at)
    assert "This batch of 7 row(s) looks like the training data" in texts(at)
    result = at.dataframe[-1].value
    assert result.columns[0] == "species" and result.columns[1].startswith("proba_")
    assert list(result.columns)[-len(rows.columns) + 1:] == list(rows.drop(columns=["species"]))
    assert "set" in result.columns
    assert at.get("download_button")

    at.file_uploader(key=f"batch-{version.id}").set_value(
        ("wrong.csv", b"colour,size\nred,3\n", "text/csv")
    )
    at.run()
    no_exception(at)
    assert "missing" in texts(at) and "bill_length_mm" in texts(at)  # which columns, in words

    # A mistyped or foreign version id says so, then shows the project's own version.
    at = on_page(owner_token, "model", project=str(project.id), version=str(uuid.uuid4()))
    no_exception(at)
    assert "The link names a model version that is not in this project" in texts(at)
    assert at.selectbox(key="model-version").value == version.id

    # A version id of a project the visitor is not in shows nothing of it.
    at = on_page(stranger_token, "model", **query)
    assert "No project with that id exists" in texts(at)
    assert not at.get("download_button")


def frame_with(at, column: str) -> pd.DataFrame:
    """The first table on the page that has this column."""
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert frames, f"no table with a column {column!r}"
    return frames[0]


def test_compare_shows_what_changed_between_two_versions(owner_token):
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Penguins")
    _, _, first = train_model_version(owner, project.id, budget_seconds=5.0)
    _, _, second = train_model_version(owner, project.id, budget_seconds=6.0)

    at = on_page(owner_token, "model", project=str(project.id), version=str(second.id))
    no_exception(at)
    assert f"What changed from v{first.version} to v{second.version}" in texts(at)
    settings = frame_with(at, "")
    changed = dict(zip(settings[""], zip(settings["v1"], settings["v2"], strict=True),
                       strict=True))
    assert changed["budget (s)"] == ("5", "6")
    assert "brief" not in changed and "target" not in changed
    assert "The same columns were used and left out." in texts(at)
    metrics = frame_with(at, "v2 interval")
    main = display_name(second.metric)  # friendly names: "Log loss", not "log_loss"
    assert main in set(metrics["metric"])
    assert all(" – " in text for text in metrics["v2 interval"][metrics["metric"] == main])


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


def test_the_leaderboard_marks_what_shipped():
    from webapp.components import leaderboard_frame, shipped_sentence, shipped_share

    trials = [
        {"trial_key": "t001", "estimator": "catboost", "metric": "roc_auc", "score": 0.99},
        {"trial_key": "t002", "estimator": "linear", "metric": "roc_auc", "score": 0.98},
        {"trial_key": "t003", "estimator": "random_forest", "metric": "roc_auc", "score": 0.97},
    ]
    frame = leaderboard_frame(trials)
    assert set(frame["metric"]) == {"ROC AUC"}
    ensemble = {"used": True, "weights": {"t001": 3, "t002": 1, "t003": 0},
                "best_single": {"trial_id": "t001"}}
    share = shipped_share(ensemble)
    assert share == {"t001": 0.75, "t002": 0.25}
    assert shipped_sentence(frame, share) == (
        "Shipped: a weighted average of 2 models (catboost t001 75%, linear t002 25%)."
    )
    single = shipped_share({"used": False, "weights": {"t001": 1}, "best_single": {"trial_id": "t002"}})
    assert single == {"t002": 1.0}
    assert shipped_sentence(frame, single) == "Shipped: the single best model, trial t002 (linear)."
    assert shipped_share(None) == {}


def test_the_profile_does_not_chart_an_id_column_unless_asked(owner_token):
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Customers")
    frame = pd.read_csv(SAMPLE_CSV)
    frame.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(frame))])
    datasets.upload_dataset(actor=owner, project_id=project.id,
                            source=frame.to_csv(index=False).encode(), filename="customers.csv")
    at = on_page(owner_token, "datasets", project=str(project.id))
    no_exception(at)
    drawn = at.multiselect(key="profile-columns").value
    assert "customer_id" not in drawn
    assert drawn[0] == "species" and len(drawn) == 6
    assert "customer_id" in at.multiselect(key="profile-columns").options
