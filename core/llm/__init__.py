"""The LLM side of briefml: one adapter, the LLM planner, the data summary, synthetic data.

Without an LLM configured none of this is used: `make_planner(None)` returns the offline
planner.
"""

from core.llm.adapter import LLMAdapter, LLMAnswerError, LLMSetupError, LLMUsage, create_chat_model
from core.llm.planner import LLMPlanner, make_planner

__all__ = [
    "LLMAdapter",
    "LLMAnswerError",
    "LLMPlanner",
    "LLMSetupError",
    "LLMUsage",
    "create_chat_model",
    "make_planner",
]
