"""The one LLM adapter: typed answers, retries with the error fed back, usage, setup errors."""

from __future__ import annotations

import sys

import pytest
from langchain_core.messages import AIMessage
from pydantic import BaseModel, Field

from core.errors import PlanError
from core.llm.adapter import (
    LLMAdapter,
    LLMAnswerError,
    LLMSetupError,
    LLMUnavailableError,
    create_chat_model,
    price_per_million,
)
from tests.core.fake_llm import fake_model, tool_call


class Forecast(BaseModel):
    city: str
    degrees: float = Field(ge=-90, le=60)


def ask_forecast(adapter: LLMAdapter, check=None):
    return adapter.ask(Forecast, system="You forecast.", user="Weather in Oslo?", check=check)


def test_a_good_answer_comes_back_typed():
    adapter = LLMAdapter(fake_model(tool_call(Forecast, {"city": "Oslo", "degrees": 4.5})))
    answer = ask_forecast(adapter)
    assert answer == Forecast(city="Oslo", degrees=4.5)
    assert adapter.usage.calls == 1


def test_a_malformed_answer_is_retried_with_the_validation_error_fed_back():
    model = fake_model(
        tool_call(Forecast, {"city": "Oslo", "degrees": 400}),
        tool_call(Forecast, {"city": "Oslo", "degrees": 4.0}),
    )
    answer = ask_forecast(LLMAdapter(model))
    assert answer.degrees == 4.0
    assert len(model.received) == 2
    retry_prompt = model.prompt_text(1)
    assert "degrees" in retry_prompt and "less than or equal to 60" in retry_prompt
    assert "400" in retry_prompt  # the rejected answer is quoted back to the model


def test_plain_text_instead_of_a_tool_call_is_retried():
    model = fake_model(
        AIMessage("It is cold."), tool_call(Forecast, {"city": "Oslo", "degrees": 1})
    )
    assert ask_forecast(LLMAdapter(model)).degrees == 1
    assert "did not call the Forecast tool" in model.prompt_text(1)


def test_a_failing_check_is_fed_back_like_a_validation_error():
    def only_bergen(answer: Forecast) -> Forecast:
        if answer.city != "Bergen":
            raise PlanError(f"City '{answer.city}' is not served; use Bergen.")
        return answer

    model = fake_model(
        tool_call(Forecast, {"city": "Oslo", "degrees": 3}),
        tool_call(Forecast, {"city": "Bergen", "degrees": 7}),
    )
    assert ask_forecast(LLMAdapter(model), check=only_bergen).city == "Bergen"
    assert "City 'Oslo' is not served" in model.prompt_text(1)


def test_a_model_that_never_answers_well_raises_after_the_retries():
    model = fake_model(tool_call(Forecast, {"city": "Oslo"}))
    adapter = LLMAdapter(model, max_retries=2)
    with pytest.raises(LLMAnswerError, match=r"no valid Forecast after 3 tries.*degrees"):
        ask_forecast(adapter)
    assert len(model.received) == 3
    assert adapter.usage.calls == 3


class Unreachable(type(fake_model())):
    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        raise ConnectionError("connection refused")


def test_an_unreachable_model_raises_a_clear_error_and_is_not_asked_again():
    model = Unreachable(responses=[AIMessage("x")])
    adapter = LLMAdapter(model, max_retries=2)
    with pytest.raises(LLMUnavailableError, match=r"could not be reached \(connection refused\)"):
        ask_forecast(adapter)
    with pytest.raises(LLMUnavailableError, match="Not asked"):
        ask_forecast(adapter)  # the second step does not wait for a dead endpoint again


def test_tokens_and_cost_are_counted_over_every_call():
    model = fake_model(
        tool_call(Forecast, {"city": "Oslo"}, tokens=(1000, 50)),
        tool_call(Forecast, {"city": "Oslo", "degrees": 2}, tokens=(1200, 40)),
    )
    adapter = LLMAdapter(model, model_name="openai:gpt-4.1-mini")
    ask_forecast(adapter)
    usage = adapter.usage
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (2, 2200, 90)
    price_in, price_out = price_per_million("openai:gpt-4.1-mini")
    assert usage.cost_usd == pytest.approx((2200 * price_in + 90 * price_out) / 1e6)
    assert usage.cost_usd > 0


def test_cost_is_unknown_for_an_unpriced_model_and_zero_for_a_local_one():
    unpriced = LLMAdapter(
        fake_model(tool_call(Forecast, {"city": "A", "degrees": 1})),
        model_name="openai:some-future-model",
    )
    ask_forecast(unpriced)
    assert unpriced.usage.input_tokens == 100 and unpriced.usage.cost_usd is None
    local = LLMAdapter(
        fake_model(tool_call(Forecast, {"city": "A", "degrees": 1})), model_name="ollama:qwen2.5"
    )
    ask_forecast(local)
    assert local.usage.cost_usd == 0.0


def test_an_unknown_provider_is_reported_in_plain_words():
    with pytest.raises(
        LLMSetupError, match=r"Unknown LLM provider 'nonsense'.*openai:gpt-4.1-mini"
    ):
        create_chat_model("nonsense:some-model")


def test_a_model_without_provider_asks_for_the_provider_prefix():
    with pytest.raises(LLMSetupError, match=r"does not say which provider.*'provider:model'"):
        create_chat_model("my-private-model")


def test_a_missing_api_key_names_the_variable_to_set(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(LLMSetupError, match=r"needs an API key.*Set ANTHROPIC_API_KEY"):
        create_chat_model("anthropic:claude-sonnet-4-5")


def test_a_missing_provider_package_names_the_extra_to_install(monkeypatch):
    # The provider packages are optional extras; hide it in case this machine has it.
    monkeypatch.setitem(sys.modules, "langchain_openai", None)  # `import` now raises ImportError
    # LangChain keeps each provider's class once imported: a test that made an OpenAI model
    # earlier in this process would otherwise hide the missing package (seen when the suite's
    # files ran in another order)
    from langchain.chat_models.base import _get_chat_model_creator

    _get_chat_model_creator.cache_clear()
    with pytest.raises(LLMSetupError, match=r"pip install 'briefml\[openai\]'"):
        create_chat_model("openai:gpt-4.1-mini", api_key="sk-test")


def _raised_from(error: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise error from inner
    except BaseException as outer:
        return outer


def test_a_read_timeout_is_a_timeout_and_a_failed_connection_is_unreachable():
    """The client's own read timeout (the same bound as ours) can fire before ours on a busy
    machine: it is a timeout all the same, though openai files it under connection errors."""
    import httpx
    import openai

    from core.llm.adapter import _unavailable_kind

    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    read_timeout = _raised_from(openai.APITimeoutError(request=request),
                                httpx.ReadTimeout("timed out", request=request))
    refused = _raised_from(openai.APIConnectionError(request=request),
                           httpx.ConnectError("[Errno 111] Connection refused", request=request))
    connect_timeout = _raised_from(openai.APITimeoutError(request=request),
                                   httpx.ConnectTimeout("timed out", request=request))
    assert _unavailable_kind(read_timeout) == "timeout"
    assert _unavailable_kind(TimeoutError("no answer within 2.0 s")) == "timeout"
    assert _unavailable_kind(refused) == "unreachable"
    assert _unavailable_kind(connect_timeout) == "unreachable"
    assert _unavailable_kind(ConnectionRefusedError()) == "unreachable"
    assert _unavailable_kind(ValueError("rate limited")) is None
