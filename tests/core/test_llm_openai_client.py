"""The adapter with the real langchain-openai client against a hung local server."""

from __future__ import annotations

import threading

import langchain_openai  # noqa: F401 - in the dev extra: missing, these tests must fail, not skip
import pytest

from core.llm.adapter import LLMAdapter, LLMUnavailableError
from core.llm.answers import SearchAnswer
from tests.openai_server import ScriptedOpenAI


def test_a_hung_request_is_left_in_our_daemon_thread_so_it_cannot_hold_the_exit():
    with ScriptedOpenAI("hang") as server:
        adapter = LLMAdapter.from_model_string(
            "openai:x", base_url=server.base_url, api_key="test-key", timeout_seconds=10)
        adapter.timeout_seconds = 0.5  # the build's deadline is nearer than the client's
        before = set(threading.enumerate())
        with pytest.raises(LLMUnavailableError, match="did not answer within 0.5 s"):
            adapter.ask(SearchAnswer, system="plan", user="a table")
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        request_threads = [t for t in left if t.name == "briefml-llm-request"]
        # LangChain's executor threads are joined when Python exits; ours are daemons
        assert len(request_threads) == 1 and request_threads[0].daemon
        assert [t.name for t in left if t.name != "briefml-llm-request"
                and not t.name.startswith("Thread-")] == []
        assert len(server.requests) == 1
