"""New model page: a brief the planner is unsure about gets the picker, not a guess."""

from __future__ import annotations

from tests.webapp.conftest import actor_of, app_as, as_read, no_exception, texts
from webapp.sample import SAMPLE_CSV
from workspace import builds, datasets, projects


def test_an_unsure_brief_shows_the_picker_with_the_close_candidates(owner_token):
    """Two columns match about equally: the planner is not sure, so the page asks."""
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Penguins")
    datasets.upload_dataset(
        actor=owner, project_id=project.id, source=SAMPLE_CSV.read_bytes(), filename="p.csv"
    )
    at = app_as(owner_token, project=str(project.id))
    at.switch_page("views/new_model.py")
    at.run()
    no_exception(at)
    at.text_area(key="brief-text").input("Predict the bill of a penguin; keep the mean absolute error small")
    next(b for b in at.button if b.label == "Propose a plan").click().run()
    no_exception(at)
    assert "more than one column about equally" in texts(at)
    # the options are shown as plain text (escaped Markdown); a person reads the names
    assert {as_read(o) for o in at.radio(key="draft-target").options} == {"bill_length_mm", "bill_depth_mm"}
    [build] = builds.list_builds(actor=owner, project_id=project.id)
    assert build.status == "draft"

    at.radio(key="draft-target").set_value("bill_depth_mm")
    next(b for b in at.button if b.label == "Use this target").click().run()
    no_exception(at)
    spec = builds.get_build(actor=owner, build_id=build.id).plan["spec"]
    # the re-plan keeps what else the brief asked for, not a bare "predict bill_depth_mm"
    assert (spec["target"], spec["metric"]) == ("bill_depth_mm", "mae")
