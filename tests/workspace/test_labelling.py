"""Label and distil on a real Postgres: a table with 90% of its labels missing is labelled
by a fake LLM that reads the rows it is sent, a person's review is stored as human labels,
the normal build trains on the labelled rows, and the version's agreement with the reviewed
labels is reported apart from the LLM's."""

from __future__ import annotations

import re

import pytest
from langchain_core.outputs import ChatGeneration, ChatResult

from core.errors import PlanError
from core.llm.labelling import LabelAnswer
from tests.core.fake_llm import ToolCallingFakeModel, tool_call
from tests.workspace.build_helpers import build_in_process
from workspace import datasets, labelling

ROWS = 200
LABELS = ["positive", "negative"]


def _table() -> bytes:
    lines = ["review,stars,sentiment"]
    for i in range(ROWS):
        good = i % 3 != 0
        # no commas: a comma would need quoting in this hand-written CSV
        text = f"order {i}: " + ("great product that works well" if good else "broke after a day")
        label = ("positive" if good else "negative") if i % 10 == 0 else ""  # 90% missing
        lines.append(f"{text},{4 + good if i % 7 else 3},{label}")
    return ("\n".join(lines) + "\n").encode()


class ReadingFakeModel(ToolCallingFakeModel):
    """Answers each labelling request from the rows in its prompt: 'great' → positive. Row 0
    of every batch gets an answer outside the label set, to be asked again."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.received.append(list(messages))
        prompt = str(messages[-1].content)
        rows = re.findall(r'"row":\s*(\d+),\s*"review":\s*"([^"]*)"', prompt)
        again = len(self.received) % 2 == 0 and len(rows) == 1
        labels = [{"row": int(r), "label": ("meh" if int(r) == 0 and not again else
                                            "Positive" if "great" in text else "negative")}
                  for r, text in rows]
        return ChatResult(generations=[ChatGeneration(message=tool_call(LabelAnswer, {"labels": labels}))])


@pytest.fixture
def sparse_dataset(team):
    return datasets.upload_dataset(actor=team.editor, project_id=team.project_id, source=_table(),
                                   filename="reviews.csv")


def test_label_review_and_distil_a_table_with_90_percent_missing_labels(team, sparse_dataset):
    estimate = labelling.labelling_estimate(actor=team.editor, dataset_id=sparse_dataset.id,
                                            column="sentiment", max_rows=60)
    assert (estimate["missing"], estimate["rows"]) == (180, 60) and estimate["input_tokens"] > 0

    model = ReadingFakeModel(responses=[])
    labelled, run = labelling.label_dataset(
        actor=team.editor, dataset_id=sparse_dataset.id, column="sentiment", allowed=LABELS,
        brief="Is the review positive or negative?", max_rows=60, chat_model=model)
    # row 0 of each of the 3 batches answered "meh" first, then its label when asked again
    assert run["labelled"] == 60 and run["invalid"] == 0 and run["asked_rows"] == 63
    assert labelled.version == 2 and labelled.provenance["labels"]["column"] == "sentiment"
    frame = datasets.load_dataset_frame(actor=team.viewer, dataset_id=labelled.id)
    assert frame["sentiment"].notna().sum() == 20 + 60
    assert set(frame["sentiment"].dropna()) == {"positive", "negative"}  # "Positive" spelled as allowed

    sample = labelling.labels_to_review(actor=team.editor, dataset_id=labelled.id, sample=10)
    assert len(sample) == 10 and {"row", "review", "llm_label"} <= set(sample.columns)
    decisions = dict(zip(sample["row"], sample["llm_label"], strict=True))
    fixed = int(sample["row"].iloc[0])
    decisions[fixed] = "negative" if decisions[fixed] == "positive" else "positive"  # a person fixes one
    reviewed = labelling.review_labels(actor=team.editor, dataset_id=labelled.id, decisions=decisions)
    assert len(reviewed.provenance["labels"]["human"]) == 10
    with pytest.raises(PlanError, match="'great' is not one of the labels"):
        labelling.review_labels(actor=team.editor, dataset_id=reviewed.id, decisions={fixed: "great"})

    summary = build_in_process(team.editor, team.project_id, reviewed.id, "predict sentiment", 5)
    agreement = labelling.label_agreement(actor=team.viewer, version_id=summary.id)
    assert agreement["human"]["rows"] == 10 and agreement["llm"]["rows"] == 50
    # the text decides the label: the model learns the LLM's labels; the one "fixed" review
    # contradicts its own text, so the model disagrees with at least that one
    assert agreement["llm"]["agreement"] >= 0.9
    assert agreement["human"]["agreement"] <= 0.9


def test_a_run_stopped_by_its_cap_keeps_what_it_labelled(team, sparse_dataset):
    one_batch = labelling.labelling_estimate(actor=team.editor, dataset_id=sparse_dataset.id,
                                             column="sentiment", max_rows=20)
    # room for the first batch; the fake model reports 120 tokens a call, so no second batch
    cap = one_batch["input_tokens"] + one_batch["output_tokens"] + 50
    model = ReadingFakeModel(responses=[])
    labelled, run = labelling.label_dataset(
        actor=team.editor, dataset_id=sparse_dataset.id, column="sentiment", allowed=LABELS,
        brief="sentiment", max_rows=60, max_tokens=cap, chat_model=model)
    assert run["stopped_at_cap"] and 0 < run["labelled"] < 60
    assert run["unanswered"] == 60 - run["labelled"]
    frame = datasets.load_dataset_frame(actor=team.viewer, dataset_id=labelled.id)
    assert frame["sentiment"].notna().sum() == 20 + run["labelled"]


def test_labelling_needs_an_editor_and_a_real_column(team, sparse_dataset):
    from workspace.permissions import Forbidden

    with pytest.raises(Forbidden):
        labelling.labelling_estimate(actor=team.viewer, dataset_id=sparse_dataset.id,
                                     column="sentiment")
    from core.errors import DataError

    with pytest.raises(DataError, match="no column 'mood' to label. The columns are: review"):
        labelling.labelling_estimate(actor=team.editor, dataset_id=sparse_dataset.id, column="mood")
