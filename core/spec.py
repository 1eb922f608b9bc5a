"""The plan contract between planners (offline rules or an LLM) and the engine.

Everything a planner proposes is one of these pydantic models. The engine validates the
contents (column names exist, estimator names are in the registry, parameters are within
bounds) before anything runs; a planner never hands the engine code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class TaskType(StrEnum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not TaskType.REGRESSION


class ColumnRole(StrEnum):
    """What a column is, as the profiler sees it."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "text"
    IDENTIFIER = "identifier"
    CONSTANT = "constant"


class ExclusionReason(StrEnum):
    IDENTIFIER = "identifier"
    LEAKAGE_SUSPECT = "leakage suspect"
    CONSTANT = "constant"
    EMPTY = "all values missing"
    USER_CHOICE = "left out by the user"
    PLANNER_CHOICE = "left out by the planner"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"  # training cannot go ahead until this is fixed


# --------------------------------------------------------------------------- data profile


class ColumnProfile(BaseModel):
    name: str
    role: ColumnRole
    dtype: str = Field(description="pandas dtype after type inference")
    missing_share: float
    unique_count: int
    top_values: list[tuple[str, int]] = Field(default_factory=list)
    # numeric / datetime summary (None where it does not apply)
    mean: float | None = None
    std: float | None = None
    min: float | str | None = None
    max: float | str | None = None
    median: float | None = None
    histogram: list[tuple[float, float, int]] | None = Field(
        default=None, description="(left edge, right edge, count) per bin"
    )
    mean_text_length: float | None = None


class DataProfile(BaseModel):
    rows: int
    columns: int
    duplicate_rows: int
    memory_bytes: int
    column_profiles: list[ColumnProfile]

    def column(self, name: str) -> ColumnProfile:
        for col in self.column_profiles:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.column_profiles]


class LeakGrade(StrEnum):
    """How sure the pre-training review is that a column leaks the target."""

    CERTAIN = "certain leak"  # a copy or transform of the target: always left out
    SUSPECT = "suspect"  # strong power and a second sign: left out, one click restores it
    PLAUSIBLE = "strong but plausible"  # strong power alone: kept, named in the plan


class Finding(BaseModel):
    """One result of a deterministic data check."""

    check: str = Field(description="machine name, e.g. 'identifier', 'target_transform'")
    severity: Severity
    message: str = Field(description="one sentence a non-expert understands")
    columns: list[str] = Field(default_factory=list)
    excluded_by_default: bool = False
    target: str | None = Field(
        default=None, description="the target a target-dependent check assumed; None otherwise"
    )
    grade: LeakGrade | None = Field(
        default=None, description="for leakage findings: certain leak, suspect or plausible"
    )
    evidence: dict[str, Any] = Field(
        default_factory=dict,
        description="the numbers and signs behind the finding, e.g. {'auc': 0.97, 'signs': [...]}",
    )

    @property
    def restorable(self) -> bool:
        """A suspect is left out by default but the user may put it back in the plan."""
        return self.grade is LeakGrade.SUSPECT


# --------------------------------------------------------------------------- task


class Exclusion(BaseModel):
    column: str
    reason: ExclusionReason
    detail: str = ""
    grade: LeakGrade | None = Field(
        default=None, description="the leakage review's grade, when that is why it is out"
    )


class ValidationKind(StrEnum):
    AUTO = "auto"  # the pre-training review decides (random, grouped or by time)
    RANDOM = "random"
    GROUP = "group"  # each value of `column` on one side of every split
    TIME = "time"  # held-out = latest rows by `column`; cross-validation forward in time


class ValidationSpec(BaseModel):
    """How held-out rows and cross-validation folds are drawn."""

    kind: ValidationKind = ValidationKind.AUTO
    column: str | None = Field(default=None, description="the entity or date column, if any")
    why: str = ""


class TaskSpec(BaseModel):
    target: str
    task_type: TaskType
    metric: str = Field(description="name from core.metrics, e.g. 'roc_auc', 'log_loss', 'rmse'")
    positive_class: str | None = None
    feature_columns: list[str]
    excluded: list[Exclusion] = Field(default_factory=list)
    text_columns: list[str] = Field(default_factory=list)
    datetime_columns: list[str] = Field(default_factory=list)
    rationale: str = ""
    validation: ValidationSpec = Field(default_factory=ValidationSpec)
    restored: list[str] = Field(
        default_factory=list,
        description="leakage suspects the user put back despite the review (see LeakGrade)",
    )
    review_notes: list[str] = Field(
        default_factory=list, description="what the pre-training review proposes and why"
    )

    @property
    def excluded_columns(self) -> dict[str, str]:
        return {e.column: e.reason.value for e in self.excluded}


class TargetCandidate(BaseModel):
    column: str
    score: float
    why: str


class TaskProposal(BaseModel):
    """A planner's answer to a brief: a spec, or the reason it could not decide."""

    spec: TaskSpec | None = None
    ambiguous: bool = False
    message: str = ""
    candidates: list[TargetCandidate] = Field(default_factory=list)
    confidence: float = Field(
        default=1.0, ge=0.0, le=1.0, description="how sure the planner is of the target, 0..1"
    )
    runner_up: TargetCandidate | None = Field(
        default=None, description="the column that came closest after the chosen one"
    )


# --------------------------------------------------------------------------- search


class Candidate(BaseModel):
    estimator: str = Field(description="a name in core.registry.REGISTRY")
    params: dict[str, Any] = Field(default_factory=dict)
    parent: str | None = Field(default=None, description="trial id this refines, if any")
    why: str = ""


class SearchPlan(BaseModel):
    candidates: list[Candidate]
    validation: str = Field(default="auto", description="'auto', 'cv5', 'cv3' or 'holdout'")
    budget_seconds: float = 60.0
    ensemble: bool = True
    rationale: str = ""


class TrialResult(BaseModel):
    trial_id: str
    estimator: str
    params: dict[str, Any]
    score: float | None = Field(description="validation score, higher is better; None if failed")
    metric: str
    seconds: float
    status: str = Field(description="'ok', 'failed' or 'stopped'")
    error: str | None = None
    parent: str | None = None
