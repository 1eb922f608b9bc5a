"""AppTest: the plan's review section shows a leakage suspect with its evidence, and its
switch puts it back in one click (recorded in the plan and in the audit log)."""

from __future__ import annotations

import numpy as np

from bench.tasks import load_task
from tests.webapp.conftest import actor_of, app_as, no_exception, texts
from workspace import builds, datasets, projects

BRIEF = "Predict churn: which customers will cancel next month"


def churn_csv(rows: int = 800, *, exit_survey: bool = False) -> bytes:
    """The real telecom churn table with `cancel_request_filed` agreeing with churn on 98%
    (and, with `exit_survey`, a score asked only of customers who left: a certain leak)."""
    df, _ = load_task("telco_churn")
    df = df.sample(rows, random_state=0).reset_index(drop=True)
    y = (df["churn"] == "Yes").to_numpy()
    rng = np.random.default_rng(1)
    flip = rng.permutation(rows) < round(0.02 * rows)
    df["cancel_request_filed"] = np.where(y ^ flip, "yes", "no")
    if exit_survey:
        df["survey_score"] = np.where(y, rng.integers(1, 6, rows), np.nan)
    return df.to_csv(index=False).encode()


def test_review_section_shows_the_suspect_and_its_switch_restores_it(owner_token):
    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Churn")
    dataset = datasets.upload_dataset(actor=owner, project_id=project.id, source=churn_csv(exit_survey=True),
                                      filename="churn.csv")
    build = builds.create_build(actor=owner, project_id=project.id, dataset_id=dataset.id,
                                brief=BRIEF, budget_seconds=10)
    spec = build.plan["spec"]
    assert "cancel_request_filed" not in spec["feature_columns"]

    at = app_as(owner_token, project=str(project.id), build=str(build.id))
    at.switch_page("views/new_model.py")
    at.run()
    no_exception(at)
    said = texts(at)
    assert "Review before training" in said
    assert "**cancel_request_filed** · suspect" in said
    assert "'filed'" in said and "agreement" in said and "2 sign(s) of a leak" in said
    switch = at.toggle(key=f"plan-{build.id}-review-cancel_request_filed")
    assert switch.value is False and not switch.disabled
    assert "**survey_score** · certain leak" in said
    certain = at.toggle(key=f"plan-{build.id}-review-survey_score")
    assert certain.value is False and certain.disabled  # a certain leak cannot be put back

    switch.set_value(True).run()
    no_exception(at)
    stored = builds.get_build(actor=owner, build_id=build.id).plan["spec"]
    assert stored["restored"] == ["cancel_request_filed"]
    assert "cancel_request_filed" in stored["feature_columns"]
    assert "cancel_request_filed" not in {e["column"] for e in stored["excluded"]}
    assert at.toggle(key=f"plan-{build.id}-review-cancel_request_filed").value is True
    assert "was a leakage suspect and is used because you put it back" in texts(at)

    at.button(key="approve").click().run()
    no_exception(at)
    events = projects.list_audit_events(actor=owner, project_id=project.id)
    approve = next(e for e in events if e.action == "approve")
    assert approve.detail["restored_suspects"] == ["cancel_request_filed"]
    edit = next(e for e in events if e.action == "edit plan")
    assert edit.detail["restored_suspects"] == ["cancel_request_filed"]
