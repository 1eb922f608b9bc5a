"""The one LLM adapter: every call to a chat model in briefml goes through `LLMAdapter`.

It builds the model from a LangChain `init_chat_model` string ("openai:gpt-4.1-mini",
"anthropic:claude-sonnet-4-5", "ollama:qwen2.5"), asks for typed (pydantic) answers only,
feeds validation errors back to the model for another try, and counts tokens and cost from
the usage metadata the provider returns.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from core.errors import BriefmlError, PlanError
from core.llm.prompts import render_prompt
from core.llm.summary import delimited, to_prompt_json

AnswerT = TypeVar("AnswerT", bound=BaseModel)

# Providers whose LangChain integration reads an API key from the environment; checked before
# the model is built so a missing key is reported at start-up, not at the first build.
API_KEY_VARIABLES: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google_genai": "GOOGLE_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistralai": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
    "together": "TOGETHER_API_KEY",
    "fireworks": "FIREWORKS_API_KEY",
    "cohere": "COHERE_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
}

# pip extras declared in pyproject.toml, so the install hint names the briefml extra.
PROVIDER_EXTRAS: dict[str, str] = {"openai": "openai", "anthropic": "anthropic", "ollama": "ollama"}

# USD per million tokens (input, output), list prices; a model missing here has cost None.
PRICES_PER_MILLION_TOKENS: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4-0": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-opus-4-1": (15.00, 75.00),
}
FREE_PROVIDERS = {"ollama"}  # runs locally: tokens cost nothing
DEFAULT_TIMEOUT_SECONDS = 30.0


class LLMSetupError(BriefmlError):
    """The configured LLM cannot be used (unknown provider, missing package or API key)."""


class LLMAnswerError(BriefmlError):
    """The model gave no valid answer within the allowed number of tries.

    `tries` is how many requests were made; `kind` names the last problem ("parse error",
    "invalid answer", "request failed", "timeout", "unreachable", "no time left").
    """

    def __init__(self, message: str, *, tries: int = 0, kind: str = "invalid answer"):
        super().__init__(message)
        self.tries = tries
        self.kind = kind


class LLMUnavailableError(LLMAnswerError):
    """The model timed out or could not be reached: the adapter asks it nothing more."""


class LLMUsage(BaseModel):
    """Tokens and estimated cost of every call made through one adapter."""

    model: str = ""
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    parse_errors: int = 0  # answers that were not valid JSON for the asked schema


def split_model_string(llm: str) -> tuple[str | None, str]:
    """'openai:gpt-4.1-mini' → ('openai', 'gpt-4.1-mini'); no prefix → (None, name)."""
    provider, sep, name = llm.partition(":")
    if not sep:
        return None, llm.strip()
    return provider.strip().lower().replace("-", "_"), name.strip()


def price_per_million(llm: str) -> tuple[float, float] | None:
    """List price of a model string, or None when it is not in the small price table."""
    provider, name = split_model_string(llm)
    if provider in FREE_PROVIDERS:
        return (0.0, 0.0)
    return PRICES_PER_MILLION_TOKENS.get(name)


def create_chat_model(
    llm: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout_seconds: float | None = None,
) -> BaseChatModel:
    """Build a LangChain chat model from a `BRIEFML_LLM` string.

    `timeout_seconds` goes to the provider's HTTP client, whose own retries are turned off
    (the adapter retries, and counts every try). Raises `LLMSetupError` with a message that
    says how to fix the setting.
    """
    from langchain.chat_models import init_chat_model

    provider, name = split_model_string(llm)
    if not name:
        raise LLMSetupError(
            f"BRIEFML_LLM={llm!r} names no model. Write it as 'provider:model', "
            "for example 'openai:gpt-4.1-mini', or unset it to use the offline planner."
        )
    _require_known_provider(llm, provider)
    _require_api_key(llm, provider, api_key)
    # No temperature or other sampling settings: some models (reasoning ones) refuse them.
    kwargs: dict[str, Any] = {}
    if base_url:
        kwargs["base_url"] = base_url
    if api_key:
        kwargs["api_key"] = api_key
    kwargs.update(_client_limits(provider, timeout_seconds))
    try:
        return init_chat_model(llm, **kwargs)
    except ImportError as exc:
        extra = PROVIDER_EXTRAS.get(provider or "")
        hint = (
            f"pip install 'briefml[{extra}]'" if extra else f"install the package named here: {exc}"
        )
        raise LLMSetupError(
            f"The LangChain package for provider {provider!r} (BRIEFML_LLM={llm!r}) is not "
            f"installed. To use this model, {hint}; until then the offline planner is used."
        ) from exc
    except ValueError as exc:
        if provider is None:  # LangChain could not infer the provider from the model name
            raise LLMSetupError(
                f"BRIEFML_LLM={llm!r} does not say which provider serves the model. Write it as "
                "'provider:model', for example 'openai:gpt-4.1-mini', 'anthropic:"
                "claude-sonnet-4-5' or 'ollama:qwen2.5'; until then the offline planner is used."
            ) from exc
        raise LLMSetupError(
            f"BRIEFML_LLM={llm!r} cannot be used: {_first_line(exc)}. Check the model name and "
            "the base URL; until then the offline planner is used."
        ) from exc
    except Exception as exc:  # providers raise their own types; each means "unusable"
        raise LLMSetupError(
            f"BRIEFML_LLM={llm!r} cannot be used: {_first_line(exc)}. Write it as "
            "'provider:model' with a provider LangChain knows (openai, anthropic, ollama, ...), "
            "for example 'openai:gpt-4.1-mini'; until then the offline planner is used."
        ) from exc


def _client_limits(provider: str | None, timeout_seconds: float | None) -> dict[str, Any]:
    # Each integration names these differently; unknown ones are bounded by the adapter alone.
    if timeout_seconds is None:
        return {}
    if provider == "ollama":
        return {"client_kwargs": {"timeout": timeout_seconds}}
    if provider in API_KEY_VARIABLES:
        return {"timeout": timeout_seconds, "max_retries": 0}
    return {}


def _require_known_provider(llm: str, provider: str | None) -> None:
    known = _known_providers()
    if provider is None or known is None or provider in known:
        return
    raise LLMSetupError(
        f"Unknown LLM provider {provider!r} in BRIEFML_LLM={llm!r}. Use one LangChain knows, "
        f"such as {', '.join(sorted(PROVIDER_EXTRAS))} (all: {', '.join(sorted(known))}); "
        "for example 'openai:gpt-4.1-mini'. Until then the offline planner is used."
    )


def _known_providers() -> set[str] | None:
    # LangChain keeps its provider table private; without it, init_chat_model's own error serves
    try:
        from langchain.chat_models.base import _BUILTIN_PROVIDERS
    except ImportError:
        return None
    return set(_BUILTIN_PROVIDERS)


def _require_api_key(llm: str, provider: str | None, api_key: str | None) -> None:
    variable = API_KEY_VARIABLES.get(provider or "")
    if variable and not api_key and not os.environ.get(variable):
        raise LLMSetupError(
            f"BRIEFML_LLM={llm!r} needs an API key, and none is set. Set {variable} (or "
            "BRIEFML_LLM_API_KEY); until then the offline planner is used."
        )


def _json_problem(error: str) -> str:
    # LangChain's message repeats the whole broken text; the decoder's verdict is its end.
    verdict = error.rpartition("Received ")[2] if "Received " in error else error
    return " ".join(verdict.split())[:300] or "unreadable"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class LLMAdapter:
    """Typed questions to one chat model, with retries, time limits and usage accounting.

    `ask(schema, ...)` returns an instance of `schema` that also passed `check`, or raises
    `LLMAnswerError` after `1 + max_retries` tries. Each failed try is answered with the
    problem (parse error or validation error), so the model can correct itself.

    Every request waits at most `timeout_seconds`, and never past `deadline` (a
    `time.monotonic()` value the build sets from its budget). After a timeout or a failed
    connection the adapter stops asking: every later `ask` raises `LLMUnavailableError` at
    once, so a hung or dead endpoint costs a build one wait, not one per step.
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        model_name: str = "",
        max_retries: int = 2,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ):
        self.chat_model = chat_model
        self.model_name = model_name
        self.max_retries = max_retries
        self.timeout_seconds = float(timeout_seconds)
        self.deadline: float | None = None
        self.unavailable: str | None = None  # why the adapter stopped asking, once it did
        self._last_request_error = ""
        self.usage = LLMUsage(
            model=model_name, cost_usd=0.0 if price_per_million(model_name) else None
        )

    @classmethod
    def from_model_string(
        cls,
        llm: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_retries: int = 2,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> LLMAdapter:
        """Adapter for a `BRIEFML_LLM` string; raises `LLMSetupError` when it is unusable."""
        model = create_chat_model(
            llm, base_url=base_url, api_key=api_key, timeout_seconds=timeout_seconds
        )
        return cls(model, model_name=llm, max_retries=max_retries, timeout_seconds=timeout_seconds)

    def ask(
        self,
        schema: type[AnswerT],
        *,
        system: str,
        user: str,
        check: Callable[[AnswerT], Any] | None = None,
    ) -> Any:
        """Ask for a `schema` answer; return `check(answer)` (or the answer without a check).

        `check` turns the answer into what the caller needs and raises `PlanError` or a
        pydantic `ValidationError` when it is unusable; that message is sent back to the model.
        """
        if self.unavailable:
            raise LLMUnavailableError(
                f"Not asked: {self.unavailable}", tries=0, kind="unreachable"
            )
        structured = _structured(self.chat_model, schema)
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(user)]
        problems: list[tuple[str, str]] = []  # (kind, problem) per failed try
        for tries in range(1, 2 + self.max_retries):
            reply = self._request(structured, messages, tries)
            if reply is None:
                problems.append(("request failed", self._last_request_error))
                continue
            self._count_usage(reply.get("raw"))
            kind, problem, result = self._judge(reply, schema, check)
            if problem is None:
                return result
            if kind == "parse error":
                self.usage.parse_errors += 1
            problems.append((kind, problem))
            messages += _feedback(reply.get("raw"), problem)
        kind, last = problems[-1]
        raise LLMAnswerError(
            f"The model gave no valid {schema.__name__} after {len(problems)} tries; "
            f"last problem: {' '.join(last.split())}",
            tries=len(problems),
            kind=kind,
        )

    def _request(self, structured, messages: list[BaseMessage], tries: int) -> dict | None:
        """One request, bounded in time; None when it failed in a way worth retrying."""
        wait = self.timeout_seconds
        if self.deadline is not None:
            wait = min(wait, self.deadline - time.monotonic())
        if wait <= 0.05:
            raise LLMUnavailableError(
                "No time left in the build's budget to ask the model.", tries=tries - 1,
                kind="no time left",
            )
        try:
            return _invoke_within(structured, messages, wait)
        except Exception as exc:  # noqa: BLE001 - network, rate limit, provider: a failed try
            failure = _unavailable_kind(exc)
            if failure is not None:
                # a timeout is our own bound, or the client's read timeout (the same bound)
                # when it fires first: either way the server was reached and did not answer
                self.unavailable = (f"the model did not answer within {wait:.1f} s"
                                    if failure == "timeout"
                                    else f"the model could not be reached ({_first_line(exc)})")
                raise LLMUnavailableError(
                    f"{failure.capitalize()}: {self.unavailable}; the rest of the build is "
                    "planned offline.", tries=tries, kind=failure,
                ) from None
            self._last_request_error = f"the request failed: {_first_line(exc)}"
            return None

    @staticmethod
    def _judge(
        reply: dict, schema: type[AnswerT], check: Callable[[AnswerT], Any] | None
    ) -> tuple[str, str | None, Any]:
        parsed = reply.get("parsed")
        if reply.get("parsing_error") is not None:
            return (
                "parse error",
                f"Parse error: the answer is not a valid {schema.__name__}: "
                + _describe_error(reply["parsing_error"]),
                None,
            )
        if parsed is None:
            broken = getattr(reply.get("raw"), "invalid_tool_calls", None) or []
            if broken:
                problem = (
                    f"Parse error: the arguments of the {schema.__name__} tool call are not "
                    f"valid JSON ({_json_problem(broken[0].get('error') or '')})."
                )
                return "parse error", problem, None
            return "parse error", f"Parse error: the answer did not call the {schema.__name__} tool.", None
        if check is None:
            return "", None, parsed
        try:
            return "", None, check(parsed)
        except (PlanError, ValidationError) as exc:
            return "invalid answer", _describe_error(exc), None

    def _count_usage(self, raw: Any) -> None:
        self.usage.calls += 1
        metadata = getattr(raw, "usage_metadata", None) or {}
        added_in = int(metadata.get("input_tokens", 0) or 0)
        added_out = int(metadata.get("output_tokens", 0) or 0)
        self.usage.input_tokens += added_in
        self.usage.output_tokens += added_out
        price = price_per_million(self.model_name)
        if price is not None:
            self.usage.cost_usd = (self.usage.cost_usd or 0.0) + (
                added_in * price[0] + added_out * price[1]
            ) / 1_000_000

def _describe_error(exc: BaseException) -> str:
    # pydantic messages end in documentation links that only cost tokens.
    lines = [ln for ln in str(exc).splitlines() if "errors.pydantic.dev" not in ln]
    return "\n".join(lines)[:2000]


def _feedback(raw: Any, problem: str) -> list[BaseMessage]:
    """Messages that tell the model what was wrong with its last answer.

    The previous answer is quoted as plain text rather than replayed as a tool call, because
    some providers refuse a tool call that is not followed by a tool result.
    """
    previous = ""
    if isinstance(raw, AIMessage):
        calls = raw.tool_calls or []
        broken = raw.invalid_tool_calls or []
        if calls:
            previous = str(calls[0].get("args"))
        elif broken:
            previous = str(broken[0].get("args"))
        else:
            previous = str(raw.content)
    # Both quote names and values from the data: they travel escaped, inside the markers.
    return [
        AIMessage(to_prompt_json(previous[:4000] or "(no answer)")),
        HumanMessage(render_prompt("retry.md", problem=delimited(problem))),
    ]


def _structured(chat_model: BaseChatModel, schema: type[BaseModel]):
    # Tool calling everywhere: the answer comes back as a message even when its JSON is
    # broken, so a parse error is named as one and its tokens are counted. Models built on
    # the base class (the fakes in tests) take no `method`.
    try:
        return chat_model.with_structured_output(
            schema, include_raw=True, method="function_calling"
        )
    except (TypeError, ValueError, NotImplementedError):
        return chat_model.with_structured_output(schema, include_raw=True)


def _invoke_within(structured, messages: list[BaseMessage], seconds: float) -> dict:
    """`structured.invoke(messages)`, or TimeoutError after `seconds`.

    The provider's client has its own timeout; this bound holds even when a client ignores
    it or the build's deadline is nearer. The request runs in a daemon thread of ours: a
    request still hanging is left there and never delays the process's exit (LangChain would
    run it in an executor thread, which Python joins at exit). Parsing runs here afterwards.
    """
    model, parse = _model_and_parser(structured)
    if model is None:
        return _call_within(lambda: structured.invoke(messages), seconds)
    raw = _call_within(lambda: model.invoke(messages), seconds)
    return parse.invoke({"raw": raw})


def _model_and_parser(structured):
    # with_structured_output(include_raw=True) is RunnableMap(raw=model) | parser; when it
    # is shaped otherwise, the whole runnable is called as one.
    steps = getattr(getattr(structured, "first", None), "steps__", None)
    if isinstance(steps, dict) and set(steps) == {"raw"} and hasattr(structured, "last"):
        return steps["raw"], structured.last
    return None, None


def _call_within(call: Callable[[], Any], seconds: float) -> Any:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["reply"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, name="briefml-llm-request", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {seconds:.1f} s")
    if "error" in box:
        raise box["error"]
    return box["reply"]


def _causes(exc: BaseException | None, most: int = 10) -> list[BaseException]:
    """The exception and its causes, nearest first."""
    chain: list[BaseException] = []
    while exc is not None and len(chain) < most:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def _unavailable_kind(exc: BaseException) -> str | None:
    """'unreachable' when no connection was made (refused, failed, timed out connecting),
    'timeout' when the server was reached and did not answer in time, None for any other
    failure (worth another try). openai's APITimeoutError is an APIConnectionError, so
    timeouts are told apart before the generic connection errors."""
    chain = _causes(exc)
    names = [type(e).__name__ for e in chain]
    if any(n.endswith(("ConnectError", "ConnectTimeout")) for n in names) or any(
            isinstance(e, ConnectionError) for e in chain):
        return "unreachable"
    if any(isinstance(e, TimeoutError) for e in chain) or any(
            n.endswith(("Timeout", "TimeoutError")) for n in names):
        return "timeout"
    if any(n.endswith(("ConnectionError", "APIConnectionError")) for n in names):
        return "unreachable"
    return None
