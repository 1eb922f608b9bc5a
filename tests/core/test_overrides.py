"""Overrides for scripts (`briefml build --target/--task/--metric/--positive-class`)."""

from __future__ import annotations

import pytest
from palmerpenguins import load_penguins

from core.build import plan_build
from core.errors import PlanError, TargetUnclearError
from core.planning.offline import OfflinePlanner
from core.planning.overrides import TaskOverrides, with_overrides


def test_the_plan_records_the_overrides_and_keeps_the_briefs_other_choices():
    df = load_penguins()
    overrides = TaskOverrides(target="sex", positive_class="female")
    plan = plan_build(
        df,
        "Which penguins are female? Most accurate model please",
        with_overrides(None, overrides),
        budget_seconds=5,
    )
    spec = plan.spec
    assert (spec.target, spec.task_type.value, spec.positive_class) == ("sex", "binary", "female")
    assert spec.metric == "accuracy"  # still read from the brief
    assert "Set by the user: --target sex, --positive-class female." in spec.rationale
    assert plan.planner_name == "offline"


def test_without_overrides_the_planner_is_unchanged():
    planner = OfflinePlanner()
    assert with_overrides(planner, TaskOverrides()) is planner


def test_an_unclear_brief_raises_with_the_candidates():
    with pytest.raises(TargetUnclearError) as caught:
        plan_build(load_penguins(), "Predict the bill of a penguin", budget_seconds=5)
    assert set(caught.value.candidates) == {"bill_length_mm", "bill_depth_mm"}
    assert "more than one column" in caught.value.question


def test_an_unusable_target_override_says_why():
    df = load_penguins().assign(tag=range(344))
    with pytest.raises(PlanError, match="'tag' is different on almost every row"):
        plan_build(df, "x", with_overrides(None, TaskOverrides(target="tag")), budget_seconds=5)
