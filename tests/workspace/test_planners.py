"""The one planner factory: modes, settings, and a build's planner reports added up."""

from __future__ import annotations

import pytest

from core.llm import LLMPlanner
from core.planning.offline import OfflinePlanner
from workspace.planners import combine_reports, planner_for
from workspace.settings import Settings


def test_auto_is_offline_without_an_llm_setting_and_says_nothing():
    planner, warning = planner_for("auto", Settings(llm=None))
    assert isinstance(planner, OfflinePlanner) and warning is None


def test_llm_without_a_setting_is_a_warning_and_an_offline_plan():
    planner, warning = planner_for("llm", Settings(llm=None))
    assert isinstance(planner, OfflinePlanner)
    assert "BRIEFML_LLM is not set" in warning and planner.setup_warning == warning


def test_the_llm_setting_gives_an_llm_planner_with_the_timeout_and_retries():
    settings = Settings(llm="openai:x", llm_base_url="http://127.0.0.1:9/v1", llm_api_key="k",
                        llm_timeout_seconds=7, llm_max_retries=1)
    planner, warning = planner_for("auto", settings)
    assert isinstance(planner, LLMPlanner) and warning is None
    assert (planner.adapter.timeout_seconds, planner.adapter.max_retries) == (7, 1)
    assert isinstance(planner_for("offline", settings)[0], OfflinePlanner)


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="use one of auto, offline, llm"):
        planner_for("gpt", Settings())


def test_planning_and_training_reports_add_up():
    planning = {"name": "llm:x", "fell_back": True, "warning": None,
                "fallbacks": [{"step": "propose_task", "attempt": 1, "kind": "timeout", "reason": "r"}],
                "usage": {"calls": 1, "input_tokens": 10, "output_tokens": 2, "cost_usd": None}}
    training = {"name": "llm:x", "fell_back": False, "warning": None, "fallbacks": [],
                "usage": {"calls": 2, "input_tokens": 30, "output_tokens": 4, "cost_usd": None}}
    total = combine_reports(planning, training)
    assert total["fell_back"] is True and [f["step"] for f in total["fallbacks"]] == ["propose_task"]
    assert (total["usage"]["calls"], total["usage"]["input_tokens"]) == (3, 40)
    assert combine_reports(None, training) == training
