"""Validation every plan goes through, whichever planner wrote it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import PlanError
from core.planning.validate import (
    apply_check_exclusions,
    validate_refinements,
    validate_search_plan,
    validate_task_proposal,
    validate_task_spec,
)
from core.profile import profile_frame
from core.spec import (
    Candidate,
    Exclusion,
    ExclusionReason,
    Finding,
    SearchPlan,
    Severity,
    TaskProposal,
    TaskSpec,
    TrialResult,
)


@pytest.fixture(scope="module")
def profile():
    rng = np.random.default_rng(0)
    n = 40
    return profile_frame(
        pd.DataFrame(
            {
                "row_id": [f"R{i}" for i in range(n)],
                "size": rng.normal(100, 10, n),
                "colour": rng.choice(["red", "green", "blue"], n),
                "sold": rng.choice(["yes", "no"], n),
                "price": rng.normal(20, 3, n),
            }
        )
    )


def spec(**changes) -> TaskSpec:
    base = {
        "target": "sold",
        "task_type": "binary",
        "metric": "roc_auc",
        "positive_class": "yes",
        "feature_columns": ["size", "colour", "price"],
        "excluded": [Exclusion(column="row_id", reason=ExclusionReason.IDENTIFIER)],
    }
    return TaskSpec(**{**base, **changes})


LEAK = Finding(
    check="single_feature_leakage",
    severity=Severity.WARNING,
    columns=["price"],
    message="'price' alone predicts 'sold' almost perfectly.",
    excluded_by_default=True,
)


def test_a_sound_spec_passes(profile):
    assert validate_task_spec(spec(), profile) == spec()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {
                "target": "colour",
                "task_type": "regression",
                "metric": "rmse",
                "positive_class": None,
            },
            "'colour' holds categorical values, not numbers, so it cannot be a regression target",
        ),
        (
            {"target": "colour", "feature_columns": ["size", "price"]},
            "'colour' has 3 distinct values; a binary task needs exactly two \\(use multiclass\\)",
        ),
        ({"metric": "rmse"}, "The metric 'rmse' does not apply to a binary task"),
        ({"positive_class": "maybe"}, "The positive class 'maybe' is not a value of 'sold'"),
        ({"feature_columns": ["size", "sold"]}, "The target 'sold' cannot also be a feature"),
        (
            {"feature_columns": ["size", "weight"]},
            "The feature column\\(s\\) 'weight' do not exist",
        ),
        ({"feature_columns": ["size", "row_id"]}, "'row_id' are also left out; choose one"),
    ],
)
def test_an_unsound_spec_is_refused_in_plain_words(profile, changes, message):
    with pytest.raises(PlanError, match=message):
        validate_task_spec(spec(**changes), profile)


def test_every_problem_is_reported_at_once(profile):
    with pytest.raises(PlanError, match="'weight' do not exist.*metric 'mae' does not apply"):
        validate_task_spec(spec(feature_columns=["weight"], metric="mae"), profile)


def test_a_column_the_checks_left_out_stays_out_with_the_planners_argument(profile):
    kept, notes = apply_check_exclusions(
        spec(), profile, [LEAK], arguments={"price": "price is set before"}
    )
    assert "price" not in kept.feature_columns
    exclusion = next(e for e in kept.excluded if e.column == "price")
    assert exclusion.reason is ExclusionReason.LEAKAGE_SUSPECT
    assert "The planner argues to keep it: price is set before" in exclusion.detail
    assert len(notes) == 1 and "It stays out unless you remove that exclusion" in notes[0]


def test_a_check_exclusion_of_the_target_itself_is_not_applied(profile):
    finding = LEAK.model_copy(update={"columns": ["sold"]})
    kept, notes = apply_check_exclusions(spec(), profile, [finding])
    assert kept.target == "sold" and "sold" not in kept.excluded_columns and notes == []


def test_a_proposal_gets_the_notes_in_its_message(profile):
    proposal = validate_task_proposal(TaskProposal(spec=spec()), profile, [LEAK])
    assert "price" in proposal.spec.excluded_columns
    assert "The data checks leave out 'price'" in proposal.message


def test_a_search_plan_is_checked_against_the_registry():
    plan = SearchPlan(
        candidates=[
            Candidate(estimator="catboost", params={"depth": 40}),
            Candidate(estimator="catboost", params={"depth": 10}),
        ]
    )
    checked = validate_search_plan(plan, spec())
    assert len(checked.candidates) == 1  # 40 is clipped to 10, which makes the two equal
    assert "clipped" in checked.candidates[0].why
    with pytest.raises(PlanError, match="Validation 'cv10' is unknown.*Unknown estimator 'magic'"):
        validate_search_plan(
            SearchPlan(candidates=[Candidate(estimator="magic")], validation="cv10"), spec()
        )


def test_refinements_need_a_real_parent_and_something_new():
    board = [
        TrialResult(
            trial_id="t1",
            estimator="linear",
            params={"C": 1.0},
            score=0.7,
            metric="roc_auc",
            seconds=1,
            status="ok",
        )
    ]
    fresh = validate_refinements(
        [
            Candidate(estimator="linear", params={"C": 1.0}, parent="t1"),
            Candidate(estimator="linear", params={"C": 0.1}, parent="t1"),
        ],
        spec(),
        board,
        max_new=5,
    )
    assert [c.params for c in fresh] == [{"C": 0.1}]
    with pytest.raises(PlanError, match="'t7' are not on the leaderboard"):
        validate_refinements([Candidate(estimator="linear", parent="t7")], spec(), board, 5)
