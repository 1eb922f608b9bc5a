"""Synthetic data: the LLM describes columns, numpy samples rows, the frame is marked synthetic."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import PlanError
from core.llm.synthetic import (
    SYNTHETIC_NOTE,
    SyntheticDatasetSpec,
    generate_synthetic_dataset,
    sample_synthetic_dataset,
)
from tests.core.fake_llm import fake_model, tool_call

BRIEF = "Predict whether a customer cancels their subscription."
SPEC = {
    "title": "Subscriptions",
    "target": "cancelled",
    "noise": 0.3,
    "columns": [
        {
            "name": "tenure_months",
            "kind": "integer",
            "mean": 24,
            "std": 12,
            "minimum": 1,
            "maximum": 72,
            "effect_on_target": -2.0,
        },
        {
            "name": "monthly_fee",
            "kind": "numeric",
            "mean": 30,
            "std": 8,
            "minimum": 5,
            "missing_share": 0.1,
        },
        {
            "name": "plan",
            "kind": "categorical",
            "categories": ["basic", "plus", "pro"],
            "category_weights": [0.5, 0.3, 0.2],
        },
        {"name": "has_support_tickets", "kind": "boolean", "mean": 0.3, "effect_on_target": 1.0},
        {
            "name": "cancelled",
            "kind": "categorical",
            "categories": ["no", "yes"],
            "category_weights": [0.7, 0.3],
        },
    ],
}


def test_rows_are_sampled_from_the_llm_spec_and_marked_synthetic():
    model = fake_model(tool_call(SyntheticDatasetSpec, SPEC))
    df = generate_synthetic_dataset(BRIEF, "tenure, fee, plan, tickets", 500, chat_model=model)
    assert list(df.columns) == [c["name"] for c in SPEC["columns"]]
    assert len(df) == 500
    assert df.attrs["synthetic"] is True and df.attrs["synthetic_note"] == SYNTHETIC_NOTE
    assert df.attrs["synthetic_spec"]["target"] == "cancelled"
    assert df["tenure_months"].between(1, 72).all()
    assert set(df["plan"]) == {"basic", "plus", "pro"}
    assert set(df["cancelled"]) == {"no", "yes"}
    assert 0.03 < df["monthly_fee"].isna().mean() < 0.2
    assert 0.2 < (df["cancelled"] == "yes").mean() < 0.4


def test_the_target_follows_the_effects_the_llm_described():
    df = sample_synthetic_dataset(SyntheticDatasetSpec.model_validate(SPEC), 2000, seed=1)
    cancelled = (df["cancelled"] == "yes").astype(float)
    assert np.corrcoef(df["tenure_months"], cancelled)[0, 1] < -0.3
    assert np.corrcoef(df["has_support_tickets"].astype(float), cancelled)[0, 1] > 0.1


def test_sampling_is_deterministic_for_a_seed():
    spec = SyntheticDatasetSpec.model_validate(SPEC)
    first = sample_synthetic_dataset(spec, 50, seed=3)
    assert first.equals(sample_synthetic_dataset(spec, 50, seed=3))
    assert not first.equals(sample_synthetic_dataset(spec, 50, seed=4))


def test_an_invalid_spec_is_sent_back_and_corrected():
    wrong_target = {**SPEC, "target": "churn"}
    model = fake_model(
        tool_call(SyntheticDatasetSpec, wrong_target), tool_call(SyntheticDatasetSpec, SPEC)
    )
    df = generate_synthetic_dataset(BRIEF, "", 100, chat_model=model)
    assert "cancelled" in df.columns
    assert "target 'churn' must be one of the columns" in model.prompt_text(1)


def test_hostile_column_names_are_refused():
    hostile = {
        **SPEC,
        "columns": [
            *SPEC["columns"],
            {"name": "x'; import os; os.system('rm')", "kind": "numeric"},
        ],
    }
    model = fake_model(tool_call(SyntheticDatasetSpec, hostile))
    with pytest.raises(
        PlanError, match="could not describe a synthetic dataset.*must start with a letter"
    ):
        generate_synthetic_dataset(BRIEF, "", 100, chat_model=model)


def test_a_row_count_out_of_range_is_refused_before_any_call():
    model = fake_model(tool_call(SyntheticDatasetSpec, SPEC))
    with pytest.raises(PlanError, match="between 10 and 100000 synthetic rows"):
        generate_synthetic_dataset(BRIEF, "", 5, chat_model=model)
    assert model.received == []


def test_a_person_fills_the_column_table_and_the_engine_samples_it():
    from core.llm.synthetic import STARTER_ROWS, sample_synthetic_dataset, spec_from_rows, spec_rows

    spec = spec_from_rows(STARTER_ROWS, target="outcome", noise=0.3, title="trial")
    assert [c.name for c in spec.columns] == ["outcome", "age", "plan"]
    assert spec.columns[2].categories == ["basic", "plus", "pro"]
    df = sample_synthetic_dataset(spec, 400, seed=1)
    assert df["age"].between(18, 90).all() and set(df["plan"]) == {"basic", "plus", "pro"}
    # age pushes the outcome up (effect +1): older rows are positive more often
    assert df.loc[df["age"] > 40, "outcome"].mean() > df.loc[df["age"] <= 40, "outcome"].mean()
    # the table round-trips, blank cells (NaN from a data editor) read as "not set"
    rows = spec_rows(spec)
    rows[1]["std"] = float("nan")
    again = spec_from_rows(rows, target="outcome", noise=0.3)
    assert again.columns[1].std is None and again.columns[2].categories == spec.columns[2].categories


@pytest.mark.parametrize("rows, target, says", [
    ([{"name": "y", "kind": "numeric"}, {"name": "x", "kind": "categorical", "categories": "a"}],
     "y", "row 2: categorical column 'x' needs at least two categories"),
    ([{"name": "y", "kind": "numeric"}, {"name": "x", "kind": "numeric"}], "z",
     "target 'z' must be one of the columns"),
    ([{"name": "y", "kind": "numeric", "minimum": 5, "maximum": 1}, {"name": "x", "kind": "numeric"}],
     "y", "row 1: minimum of 'y' must be below its maximum"),
    ([{"name": "y", "kind": "colour"}, {"name": "x", "kind": "numeric"}], "y", "row 1: kind:"),
])
def test_a_wrong_column_table_says_what_to_fix(rows, target, says):
    from core.llm.synthetic import spec_from_rows

    with pytest.raises(PlanError) as caught:
        spec_from_rows(rows, target=target)
    message = str(caught.value)
    assert says in message and "\n" not in message and message.endswith("generate again.")
