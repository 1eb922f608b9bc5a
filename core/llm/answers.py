"""The typed answers the LLM gives, one pydantic model per planning step.

They are shaped for tool calling rather than reused from core.spec: parameters travel as
name/value pairs (free-form dicts are refused by some providers' strict schemas), and the
fields carry descriptions the model reads. core.llm.planner turns them into spec objects and
validates those.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.spec import ExclusionReason, TaskType


class ExcludedColumn(BaseModel):
    column: str = Field(description="a column name exactly as in the data summary")
    reason: ExclusionReason
    detail: str = Field(default="", description="one short sentence: why it is left out")


class KeepArgument(BaseModel):
    column: str = Field(description="a column the data checks leave out by default")
    argument: str = Field(description="why you think it should be used; the user decides")


class TaskAnswer(BaseModel):
    """The machine-learning task for the brief."""

    ambiguous: bool = Field(default=False, description="true if the target is unclear")
    question: str = Field(default="", description="if ambiguous: one question for the user")
    candidate_targets: list[str] = Field(default_factory=list, description="if ambiguous")
    target: str = Field(default="", description="the column to predict")
    task_type: TaskType | None = None
    metric: str = Field(default="", description="a metric name from the list given")
    positive_class: str | None = Field(default=None, description="binary tasks: a target value")
    excluded: list[ExcludedColumn] = Field(default_factory=list)
    text_columns: list[str] = Field(default_factory=list)
    datetime_columns: list[str] = Field(default_factory=list)
    keep_despite_checks: list[KeepArgument] = Field(default_factory=list)
    rationale: str = ""


class Parameter(BaseModel):
    name: str
    value: bool | int | float | str


class CandidateAnswer(BaseModel):
    estimator: str = Field(description="a name from the estimator registry")
    params: list[Parameter] = Field(default_factory=list, description="empty: family defaults")
    parent: str | None = Field(default=None, description="trial id this refines, if any")
    why: str = ""


class SearchAnswer(BaseModel):
    """The first round of the model search."""

    candidates: list[CandidateAnswer]
    validation: Literal["auto", "cv5", "cv3", "holdout"] = "auto"
    ensemble: bool = True
    rationale: str = ""


class RefineAnswer(BaseModel):
    """Refinements after a round of the search."""

    candidates: list[CandidateAnswer]
    rationale: str = ""


class ReportAnswer(BaseModel):
    """The written report on a finished build."""

    headline: str
    what_was_built: str
    how_good: str
    data_checks: str
    suggestions: list[str] = Field(min_length=1, max_length=8)
