"""Fake chat models for the LLM tests: scripted tool calls, no network.

langchain_core's fake chat models do not implement `bind_tools`, which
`with_structured_output` needs; `ToolCallingFakeModel` binds nothing and replays scripted
`AIMessage`s (tool calls, plain text, usage metadata), and keeps every prompt it received.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, Field


class ToolCallingFakeModel(FakeMessagesListChatModel):
    received: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Any, **kwargs: Any):
        return self.bind(**kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.received.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def prompt_text(self, call: int) -> str:
        """Every message of the `call`-th request, joined (for assertions)."""
        return "\n".join(str(m.content) for m in self.received[call])


def tool_call(schema: type[BaseModel] | str, args: dict, *, tokens: tuple[int, int] = (100, 20)):
    """An AIMessage calling the structured-output tool `schema` with `args`."""
    name = schema if isinstance(schema, str) else schema.__name__
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": f"call_{name}"}],
        usage_metadata={
            "input_tokens": tokens[0],
            "output_tokens": tokens[1],
            "total_tokens": sum(tokens),
        },
    )


def fake_model(*responses: AIMessage) -> ToolCallingFakeModel:
    return ToolCallingFakeModel(responses=list(responses))
