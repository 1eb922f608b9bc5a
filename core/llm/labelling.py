"""Label rows with an LLM, within a cost cap, for a table whose target is mostly missing.

The rows go to the model as delimited, untrusted data (`core.llm.summary.delimited`), a batch
at a time; each answer is checked against the allowed label set. An answer outside the set is
asked again once for that row; still outside, the row stays unlabelled and is counted, never
guessed. Before each batch the estimated cost of that batch is checked against the cap: a run
that would pass it stops there and keeps what it labelled.

Nothing here trains: the labelled rows become a new dataset version (workspace layer) that a
person reviews before the normal search trains a small model on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pydantic import BaseModel, Field

from core.errors import PlanError
from core.llm.adapter import LLMAnswerError, LLMUnavailableError, price_per_million
from core.llm.prompts import render_prompt
from core.llm.summary import clip_text, delimited

BATCH_ROWS = 20
MAX_CELL_CHARS = 300  # a long text cell is clipped: the label rarely needs all of it
CHARS_PER_TOKEN = 4  # a rough, stated rule for the estimate; the run counts real tokens
OUTPUT_TOKENS_PER_ROW = 12
PROMPT_OVERHEAD_TOKENS = 400


class RowLabel(BaseModel):
    row: int = Field(description="the row number as given in the data")
    label: str = Field(description="one of the allowed labels, spelled exactly as listed")


class LabelAnswer(BaseModel):
    labels: list[RowLabel] = Field(default_factory=list)


@dataclass
class LabellingRun:
    """What a labelling run did: labels by row position in the frame, and what it did not."""

    labels: dict[int, str] = field(default_factory=dict)
    invalid: int = 0  # rows whose answer stayed outside the label set after one more try
    invalid_answers: list[str] = field(default_factory=list)  # a few of them, to show
    unanswered: int = 0  # rows the model skipped or that were never asked (cap, dead endpoint)
    stopped_at_cap: bool = False
    stopped_because: str = ""
    asked_rows: int = 0
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None

    def summary(self) -> dict:
        return {"labelled": len(self.labels), "invalid": self.invalid,
                "invalid_answers": self.invalid_answers[:5], "unanswered": self.unanswered,
                "stopped_at_cap": self.stopped_at_cap, "stopped_because": self.stopped_because,
                "asked_rows": self.asked_rows, "model": self.model,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cost_usd": self.cost_usd}


def rows_to_label(frame: pd.DataFrame, label_column: str, max_rows: int, seed: int = 0) -> list[int]:
    """Positions of rows whose label is missing: at most `max_rows`, a seeded sample."""
    missing = frame.index[frame[label_column].isna()]
    positions = [frame.index.get_loc(i) for i in missing]
    if len(positions) <= max_rows:
        return positions
    return sorted(pd.Series(positions).sample(n=max_rows, random_state=seed).tolist())


def _row_text(frame: pd.DataFrame, position: int, inputs: list[str]) -> dict:
    row = frame.iloc[position]
    return {c: clip_text("" if pd.isna(row[c]) else row[c], MAX_CELL_CHARS) for c in inputs}


def _batch_tokens(frame: pd.DataFrame, positions: list[int], inputs: list[str]) -> tuple[int, int]:
    chars = sum(len(str(_row_text(frame, p, inputs))) for p in positions)
    return PROMPT_OVERHEAD_TOKENS + chars // CHARS_PER_TOKEN, OUTPUT_TOKENS_PER_ROW * len(positions)


def estimate_labelling(frame: pd.DataFrame, positions: list[int], inputs: list[str],
                       model_name: str) -> dict:
    """Estimated tokens and cost of labelling `positions`, before anything is asked."""
    tokens_in = tokens_out = 0
    for start in range(0, len(positions), BATCH_ROWS):
        added_in, added_out = _batch_tokens(frame, positions[start:start + BATCH_ROWS], inputs)
        tokens_in, tokens_out = tokens_in + added_in, tokens_out + added_out
    price = price_per_million(model_name)
    cost = None if price is None else (tokens_in * price[0] + tokens_out * price[1]) / 1e6
    return {"rows": len(positions), "input_tokens": tokens_in, "output_tokens": tokens_out,
            "cost_usd": cost, "model": model_name}


def _allowed_spelling(allowed: list[str]) -> dict[str, str]:
    return {str(a).strip().casefold(): str(a) for a in allowed}


def _ask(adapter, brief: str, label_column: str, allowed: list[str], rows: list[dict]) -> LabelAnswer:
    user = render_prompt(
        "label.md", brief=clip_text(brief, 2000), column=clip_text(label_column, 100),
        labels=delimited(allowed), rows=delimited(rows))
    return adapter.ask(LabelAnswer, system=render_prompt("system.md"), user=user)


def _would_pass_cap(adapter, estimate_in: int, estimate_out: int, max_cost_usd: float | None,
                    max_tokens: int | None) -> str:
    usage = adapter.usage
    if max_tokens is not None and (usage.input_tokens + usage.output_tokens
                                   + estimate_in + estimate_out) > max_tokens:
        return f"the next batch would pass the cap of {max_tokens:,} tokens"
    price = price_per_million(getattr(adapter, "model_name", "") or "")
    if max_cost_usd is not None and price is not None:
        next_cost = (estimate_in * price[0] + estimate_out * price[1]) / 1e6
        if (usage.cost_usd or 0.0) + next_cost > max_cost_usd:
            return f"the next batch would pass the cap of ${max_cost_usd:.2f}"
    return ""


def label_rows(frame: pd.DataFrame, *, brief: str, label_column: str, allowed: list[str],
               inputs: list[str], adapter, positions: list[int], max_cost_usd: float | None = None,
               max_tokens: int | None = None) -> LabellingRun:
    """Ask `adapter` (a `core.llm.LLMAdapter`) for a label per row in `positions`."""
    if len(set(_allowed_spelling(allowed))) < 2:
        raise PlanError("Give at least two different labels the rows may take.")
    spelling = _allowed_spelling(allowed)
    run = LabellingRun(model=getattr(adapter, "model_name", "") or "")
    for start in range(0, len(positions), BATCH_ROWS):
        batch = positions[start:start + BATCH_ROWS]
        why = _would_pass_cap(adapter, *_batch_tokens(frame, batch, inputs), max_cost_usd, max_tokens)
        if why:
            run.stopped_at_cap, run.stopped_because = True, why
            run.unanswered += len(positions) - start
            break
        try:
            wrong = _label_batch(run, frame, batch, inputs, brief, label_column, allowed, spelling,
                                 adapter)
            if wrong:  # asked once more, alone, for the rows whose answer was not a label
                still = _label_batch(run, frame, wrong, inputs, brief, label_column, allowed,
                                     spelling, adapter, count_invalid=True)
                run.unanswered += len(still)
        except (LLMAnswerError, LLMUnavailableError) as exc:
            run.stopped_because = f"the LLM gave no usable answer ({exc})"
            run.unanswered += len(positions) - start - sum(1 for p in batch if p in run.labels)
            break
    run.input_tokens, run.output_tokens = adapter.usage.input_tokens, adapter.usage.output_tokens
    run.cost_usd = adapter.usage.cost_usd
    return run


def _label_batch(run: LabellingRun, frame, batch: list[int], inputs, brief, label_column, allowed,
                 spelling, adapter, count_invalid: bool = False) -> list[int]:
    """Label one batch; return the positions still without a label (counted as invalid on
    the second try when their answer was outside the set)."""
    rows = [{"row": i, **_row_text(frame, p, inputs)} for i, p in enumerate(batch)]
    run.asked_rows += len(batch)
    answer = _ask(adapter, brief, label_column, allowed, rows)
    given = {}
    for item in answer.labels:
        if 0 <= item.row < len(batch) and item.row not in given:
            given[item.row] = item.label
    left = []
    for i, position in enumerate(batch):
        label = spelling.get(str(given.get(i, "")).strip().casefold())
        if label is not None:
            run.labels[position] = label
            continue
        left.append(position)
        if count_invalid and i in given:
            run.invalid += 1
            if len(run.invalid_answers) < 5:
                run.invalid_answers.append(clip_text(given[i], 60))
    if count_invalid:
        # invalid answers are counted as invalid, not as unanswered
        return [p for i, p in enumerate(batch) if p in left and i not in given]
    return left
