"""The web app's pure parts, without running a page: the chart builders (data in, alt.Chart
out) and the plan editor's step from the form's values to a validated plan."""

from __future__ import annotations

import altair as alt
import pandas as pd

from webapp.components import charts
from webapp.components.leaderboard import leaderboard_frame
from webapp.components.plan_editor import plan_from_edits

PLAN = {
    "spec": {
        "target": "churned", "task_type": "binary", "metric": "roc_auc",
        "feature_columns": ["age", "plan"],
        "excluded": [
            {"column": "customer_id", "reason": "identifier", "detail": "unique per row"},
            {"column": "refund", "reason": "leakage suspect", "detail": "known after", "grade": "suspect"},
        ],
        "validation": {"kind": "random", "why": "no time column"},
    },
    "search": {"candidates": [{"estimator": "catboost", "why": "strong default"},
                              {"estimator": "linear", "why": "a baseline"}],
               "budget_seconds": 30},
}


def rows(**used: bool) -> list[dict]:
    reasons = {"customer_id": "identifier", "refund": "leakage suspect"}
    return [{"column": c, "use": u, "reason if left out": None if u else reasons.get(c),
             "detail": None if u else float("nan")} for c, u in used.items()]


def edits(**changes) -> dict:
    values = {"target": "churned", "task": "binary", "metric": "roc_auc",
              "positive_class": None, "budget_seconds": 30.0,
              "column_rows": rows(age=True, plan=True, customer_id=False, refund=False),
              "families": ["catboost", "linear"], "validation": {"kind": "random"}}
    return {**values, **changes}


def test_the_unchanged_form_gives_back_the_plan():
    result = plan_from_edits(PLAN, **edits())
    spec, search = result["spec"], result["search"]
    assert (spec.target, spec.task_type.value, spec.metric) == ("churned", "binary", "roc_auc")
    assert spec.feature_columns == ["age", "plan"]
    assert {e.column: e.reason.value for e in spec.excluded} == {
        "customer_id": "identifier", "refund": "leakage suspect"}
    assert [c.why for c in search.candidates] == ["strong default", "a baseline"]
    assert result["budget_seconds"] == 30.0


def test_edits_of_target_task_metric_and_budget_reach_the_plan():
    result = plan_from_edits(PLAN, **edits(target="plan", task="multiclass", metric="log_loss",
                                           budget_seconds=12.0,
                                           column_rows=rows(age=True, churned=True)))
    spec = result["spec"]
    assert (spec.target, spec.task_type.value, spec.metric) == ("plan", "multiclass", "log_loss")
    assert spec.feature_columns == ["age", "churned"]
    assert result["search"].budget_seconds == 12.0


def test_a_column_put_back_is_used_and_a_suspect_put_back_is_marked_restored():
    result = plan_from_edits(PLAN, **edits(
        column_rows=rows(age=False, plan=True, customer_id=False, refund=True)))
    spec = result["spec"]
    assert spec.feature_columns == ["plan", "refund"]
    assert spec.restored == ["refund"]
    left_out = {e.column: e.reason.value for e in spec.excluded}
    assert left_out == {"age": "left out by the user", "customer_id": "identifier"}


def test_families_dropped_and_added():
    result = plan_from_edits(PLAN, **edits(families=["linear", "random_forest"]))
    assert [(c.estimator, c.why) for c in result["search"].candidates] == [
        ("linear", "a baseline"), ("random_forest", "added by the user")]


def test_impossible_edits_are_one_sentence_each():
    assert plan_from_edits(PLAN, **edits(families=[])) == "Choose at least one model family."
    assert plan_from_edits(PLAN, **edits(column_rows=rows(age=False, plan=False))) == (
        "Keep at least one column as an input to the model.")
    sentence = plan_from_edits(PLAN, **edits(task="clustering"))
    assert isinstance(sentence, str) and "task_type" in sentence and "\n" not in sentence


def test_chart_builders_take_data_and_return_charts():
    histogram = charts.histogram_chart({"name": "age", "histogram": [[0, 10, 3], [10, 20, 5]]})
    assert isinstance(histogram, alt.Chart)
    assert histogram.to_dict()["encoding"]["x"]["title"] == "age"
    assert charts.histogram_chart({"name": "age"}) is None

    confusion = charts.confusion_chart({"labels": ["no", "yes"], "matrix": [[8, 2], [1, 9]]})
    cells = confusion.to_dict()["datasets"]
    [values] = cells.values()
    assert sorted(v["rows"] for v in values) == [1, 2, 8, 9]

    roc = charts.curve_chart({"yes": {"roc": {"fpr": [0, 0.5, 1], "tpr": [0, 0.8, 1]}}}, "roc")
    assert len(roc.to_dict()["layer"]) == 2  # the curve and the diagonal
    assert charts.curve_chart({}, "roc") is None

    contributions = charts.contribution_chart([
        {"column": "age", "value": 41.0, "contribution": 0.2},
        {"column": "plan", "value": "basic", "contribution": -0.1}])
    [data] = contributions.to_dict()["datasets"].values()
    assert [(d["label"], d["direction"]) for d in data] == [
        ("age = 41", "raises"), ("plan = basic", "lowers")]


def test_the_leaderboard_chart_marks_what_shipped():
    frame = leaderboard_frame([
        {"trial_key": "t1", "estimator": "catboost", "metric": "roc_auc", "score": 0.91},
        {"trial_key": "t2", "estimator": "linear", "metric": "roc_auc", "score": 0.85},
        {"trial_key": "t3", "estimator": "linear", "metric": "roc_auc", "score": None,
         "status": "failed"}])
    frame.insert(1, "shipped", ["100%", "", ""])
    chart = charts.leaderboard_chart(frame, "roc_auc", marked=True).to_dict()
    assert chart["encoding"]["x"]["title"] == "validation ROC AUC (higher is better)"
    assert "condition" in chart["encoding"]["opacity"]
    [data] = chart["datasets"].values()
    assert [d["trial"] for d in data] == ["t1", "t2"]  # a failed trial has no dot
    assert charts.leaderboard_chart(pd.DataFrame(columns=frame.columns), "roc_auc") is None


def test_an_explanations_base_and_rows_are_said_in_the_users_terms():
    from webapp.components import explanation_base_sentence, explanation_scope_sentence

    row = {"base_value": 0.2653, "output": 0.81, "explained_class": "Yes"}
    assert explanation_base_sentence(row, {"average_output": [0.7347, 0.2653]}) == (
        "On average over its training rows the model predicts 27% probability of 'Yes'. "
        "Each bar is how much that input moved this row from that average to its 81% "
        "probability of 'Yes'.")
    assert "built before the model's average" in explanation_base_sentence(row, {})
    regression = {"base_value": 152.1, "output": 201.5, "explained_class": None}
    assert "predicts 152.1." in explanation_base_sentence(regression, {"average_output": [152.1]})

    version = {"expected_value": {"No": 0.73, "Yes": 0.27}, "explained_class": "Yes",
               "sample_size": 344, "rows_available": 344}
    assert explanation_scope_sentence(version, {"average_output": [0.73, 0.27]}) == (
        "SHAP values computed on all 344 rows. On average the model predicts 27% probability "
        "of 'Yes'.")
    multiclass = {"expected_value": {"Adelie": 0.44, "Gentoo": 0.36, "Chinstrap": 0.2},
                  "explained_class": None, "sample_size": 1000, "rows_available": 7043,
                  "held_out_rows": 1000}
    assert explanation_scope_sentence(multiclass, {"average_output": [0.44, 0.36, 0.2]}) == (
        "On average the model predicts Adelie 44%, Gentoo 36%, Chinstrap 20%.")
