"""Labelling with an LLM, against scripted fake chat models: labels checked against the set,
an invalid answer asked again once and then counted, a cost cap that stops cleanly and keeps
what was labelled, the rows sent as delimited untrusted data."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import PlanError
from core.llm.adapter import LLMAdapter
from core.llm.labelling import (
    BATCH_ROWS,
    LabelAnswer,
    estimate_labelling,
    label_rows,
    rows_to_label,
)
from tests.core.fake_llm import fake_model, tool_call

REVIEWS = pd.DataFrame({
    "text": [f"review {i}: " + ("great, loved it" if i % 2 else "awful, broke in a day")
             for i in range(50)],
    "sentiment": ["positive", "negative"] + [None] * 48,
})


def _answer(labels: dict[int, str]):
    return tool_call(LabelAnswer, {"labels": [{"row": r, "label": l} for r, l in labels.items()]})


def test_labels_are_checked_and_an_invalid_answer_is_asked_again_then_counted():
    positions = rows_to_label(REVIEWS, "sentiment", max_rows=5)
    assert len(positions) == 5 and positions == rows_to_label(REVIEWS, "sentiment", max_rows=5)
    assert REVIEWS["sentiment"].iloc[positions].isna().all()  # only rows without a label
    model = fake_model(
        # row 1 answers "Positive" (a spelling of an allowed label), row 3 "meh", row 4 nothing
        _answer({0: "negative", 1: "Positive", 2: "negative", 3: "meh"}),
        # asked again for rows 3 and 4: row 3 still not a label, row 4 answered
        _answer({0: "so-so", 1: "positive"}),
    )
    adapter = LLMAdapter(model, model_name="openai:gpt-4o-mini", max_retries=0)
    run = label_rows(REVIEWS, brief="Is the review positive or negative?", label_column="sentiment",
                     allowed=["positive", "negative"], inputs=["text"], adapter=adapter,
                     positions=positions)
    p = positions
    assert run.labels == {p[0]: "negative", p[1]: "positive", p[2]: "negative", p[4]: "positive"}
    assert (run.invalid, run.unanswered, run.invalid_answers) == (1, 0, ["so-so"])
    assert run.asked_rows == 7 and not run.stopped_at_cap
    prompt = model.prompt_text(0)
    assert "<untrusted-data>" in prompt and f"review {p[0]}: " in prompt
    assert run.input_tokens > 0 and run.cost_usd is not None


def test_a_cost_cap_stops_cleanly_and_keeps_what_was_labelled():
    positions = rows_to_label(REVIEWS, "sentiment", max_rows=48)
    first = {i: "positive" for i in range(BATCH_ROWS)}
    model = fake_model(_answer(first), _answer(first), _answer(first))
    adapter = LLMAdapter(model, model_name="openai:gpt-4o-mini", max_retries=0)
    estimate = estimate_labelling(REVIEWS, positions, ["text"], "openai:gpt-4o-mini")
    assert estimate["rows"] == 48 and estimate["cost_usd"] > 0
    one_batch = estimate_labelling(REVIEWS, positions[:BATCH_ROWS], ["text"], "x")
    # room for one batch; the fake model reports 120 tokens a call, so a second does not fit
    cap = one_batch["input_tokens"] + one_batch["output_tokens"] + 50
    run = label_rows(REVIEWS, brief="sentiment", label_column="sentiment",
                     allowed=["positive", "negative"], inputs=["text"], adapter=adapter,
                     positions=positions, max_tokens=cap)
    assert run.stopped_at_cap and "cap of" in run.stopped_because
    assert len(run.labels) == BATCH_ROWS and run.unanswered == 48 - BATCH_ROWS


def test_one_label_is_not_a_label_set():
    adapter = LLMAdapter(fake_model(), max_retries=0)
    with pytest.raises(PlanError, match="at least two different labels"):
        label_rows(REVIEWS, brief="x", label_column="sentiment", allowed=["yes", "YES "],
                   inputs=["text"], adapter=adapter, positions=[2])
