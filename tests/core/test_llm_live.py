"""One run against a real provider. Skipped unless BRIEFML_LLM is set, with its API key and
its provider package (e.g. BRIEFML_LLM=openai:gpt-4.1-mini, OPENAI_API_KEY, briefml[openai]).
Set but unusable (no key, no package, unknown provider) is a failure, not a skip: whoever set
it asked for this test to run."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from core.llm.planner import LLMPlanner, make_planner
from core.profile import profile_frame

pytestmark = pytest.mark.llm_live


def test_a_real_model_proposes_a_valid_task_and_search():
    llm = os.environ.get("BRIEFML_LLM")
    if not llm:
        pytest.skip("BRIEFML_LLM is not set: set it (and its API key) to run the live LLM test")
    planner, warning = make_planner(
        llm,
        base_url=os.environ.get("BRIEFML_LLM_BASE_URL"),
        api_key=os.environ.get("BRIEFML_LLM_API_KEY"),
    )
    assert warning is None, f"BRIEFML_LLM={llm} is set but cannot be used: {warning}"
    assert isinstance(planner, LLMPlanner)
    rng = np.random.default_rng(0)
    n = 80
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "tenure_months": rng.integers(1, 60, n),
            "monthly_fee": rng.normal(30, 6, n).round(2),
            "churned": rng.choice(["yes", "no"], n),
        }
    )
    profile = profile_frame(df)
    proposal = planner.propose_task("Predict which customers churn.", profile, [])
    spec = proposal.spec
    assert spec is not None and spec.target == "churned"
    plan = planner.propose_search(spec, profile, budget_seconds=30)
    assert plan.candidates
    assert planner.usage.calls >= 2 and planner.usage.input_tokens > 0
    assert planner.fallbacks == [], planner.fallbacks
