"""Task type, metric and positive class, once the target is known.

The task type comes from the target's values (two values: binary; categories: multiclass;
numbers: regression, except a few whole numbers that are class codes or the levels of a
grade, unless the brief asks "how many"); the metric from the brief's words when it asks for
one that fits the task, else the task's default; the positive class from the brief, a
yes-like value or the rarer one.
"""

from __future__ import annotations

import re

from core.planning.brief import WORD, AnswerType, Brief, answer_type, stem, words_of
from core.planning.column_names import mentioned_values, name_tokens
from core.planning.target_scoring import is_generic_name
from core.spec import ColumnProfile, ColumnRole, TaskType

MAX_CLASSES_FOR_INTEGER_CLASSES = 10

_REGRESSION_HINTS = re.compile(
    r"\b(how (much|many|long|far|late|early|big|large|high|old)|amount|number of|estimate|forecast|"
    r"price|worth|cost|value of|minutes|hours|days|dollars|euros|quantity|level of|score of)\b",
    re.IGNORECASE,
)
_METRIC_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "average_precision",
        re.compile(r"average precision|precision[- ]recall|\bpr[- ]auc\b", re.IGNORECASE),
    ),
    ("balanced_accuracy", re.compile(r"balanced accuracy|equally well (on|for)", re.IGNORECASE)),
    ("f1", re.compile(r"\bf1\b|\bf-?score\b|\bf-?measure\b", re.IGNORECASE)),
    (
        "recall",
        re.compile(
            r"catch (as many|all|every|most)|(miss|overlook) (as few|none|no|nothing|fewer)|"
            r"(do not|don'?t|never) miss|find (all|every|as many)|\brecall\b|sensitivity",
            re.IGNORECASE,
        ),
    ),
    (
        "precision",
        re.compile(
            r"\bprecision\b|false alarms?|false positives?|only flag|when (we are|it is) sure",
            re.IGNORECASE,
        ),
    ),
    (
        "accuracy",
        re.compile(
            r"most accurate|\baccuracy\b|right most often|fewest mistakes|most often right",
            re.IGNORECASE,
        ),
    ),
    ("roc_auc", re.compile(r"\b(roc|auc)\b|\brank(ing)?\b", re.IGNORECASE)),
    (
        "log_loss",
        re.compile(r"log ?loss|cross[- ]entropy|calibrated|well[- ]calibrated", re.IGNORECASE),
    ),
    (
        "mae",
        re.compile(
            r"typical error|average error|mean absolute|\bmae\b|absolute error|off by|"
            r"error in (dollars|euros|minutes|hours|days|units)",
            re.IGNORECASE,
        ),
    ),
    (
        "rmse",
        re.compile(
            r"\brmse\b|root mean squared?|squared error|big errors|large errors", re.IGNORECASE
        ),
    ),
    (
        "r2",
        re.compile(
            r"\br2\b|r²|r-squared|r squared|variance explained|explain(s)? the variance",
            re.IGNORECASE,
        ),
    ),
]
_DEFAULT_METRIC = {
    TaskType.BINARY: "roc_auc",
    TaskType.MULTICLASS: "log_loss",
    TaskType.REGRESSION: "rmse",
}
_CLASSIFICATION_METRICS = {
    "roc_auc",
    "log_loss",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "recall",
    "precision",
    "average_precision",
}
_REGRESSION_METRICS = {"rmse", "mae", "r2"}
METRIC_WORDS = {
    "roc_auc": "ROC AUC (how well the model ranks the two outcomes)",
    "log_loss": "log loss (how good the predicted probabilities are)",
    "rmse": "RMSE (typical size of an error, punishing big misses)",
    "mae": "MAE (average size of an error, in the target's units)",
    "accuracy": "accuracy (share of rows predicted right)",
    "balanced_accuracy": "balanced accuracy (accuracy averaged over the classes)",
    "f1": "F1 (balance of precision and recall)",
    "recall": "recall (share of the positive cases the model catches)",
    "precision": "precision (share of the model's alarms that are right)",
    "r2": "R² (share of the target's variation explained)",
    "average_precision": "average precision (precision over all recall levels)",
}
_POSITIVE_WORDS = words_of(
    """
    yes y true t 1 positive bad fraud fraudulent churn churned default defaulted malignant
    spam fail failed failure died dead left quit attrition sick disease diseased defect
    defective late delayed readmitted cancelled canceled abnormal high risk
    """
)


def task_type_from_profile(col: ColumnProfile, brief: str = "") -> TaskType:
    """Binary, multiclass or regression from the target's values (and the brief's wording).

    Two values → binary. Text categories → multiclass. Numbers → regression (counts, amounts
    and ordered scales alike), except a few whole numbers (≤ 10 distinct) that are class codes:
    in a column named like a target ('target', 'class'), when the brief asks what kind, or
    when the brief or the name calls them a grade, a stage or a level (`_ordered_grade`).
    """
    if col.role is ColumnRole.BOOLEAN or col.unique_count == 2:
        return TaskType.BINARY
    if col.role is ColumnRole.NUMERIC or (
        col.role in (ColumnRole.IDENTIFIER, ColumnRole.CONSTANT) and col.mean is not None
    ):
        few_whole = col.unique_count <= MAX_CLASSES_FOR_INTEGER_CLASSES and _whole_values(col)
        codes = is_generic_name(col.name) or is_generic_name(col.name, weak=True)
        asks_kind = answer_type(brief or "") is AnswerType.CLASSES
        graded = few_whole and _ordered_grade(col, brief or "")
        classes = codes or asks_kind or graded
        if few_whole and classes and not _REGRESSION_HINTS.search(brief or ""):
            return TaskType.MULTICLASS
        return TaskType.REGRESSION
    return TaskType.MULTICLASS if col.unique_count > 2 else TaskType.BINARY


# A grade, stage or level of a few values is read as one of its levels ("which grade will
# the tumour be", "the A-level chemistry grade"), a count as a number; a rating stays a
# number (its mean is meaningful). The brief's outcome words or the column's name say which.
MAX_GRADE_LEVELS, GRADE_RANGE = 7, (-5, 10)
_GRADE_WORDS = frozenset(map(stem, words_of("grade level stage severity rank tier")))


def _ordered_grade(col: ColumnProfile, brief: str) -> bool:
    """A few ordered whole-number levels (1-3, 0-10) that the brief or the name calls a grade,
    a stage or a level."""
    if col.unique_count > MAX_GRADE_LEVELS or col.min is None or col.max is None:
        return False
    if not (GRADE_RANGE[0] <= col.min and col.max <= GRADE_RANGE[1]):
        return False  # 12 to 18 years of schooling is an amount, not a grade
    said = {stem(w) for w in WORD.findall(Brief.read(brief).outcome)}  # as written, not implied
    return bool((said | set(name_tokens(col.name))) & _GRADE_WORDS)


def _whole_values(col: ColumnProfile) -> bool:
    try:
        return all(float(v).is_integer() for v, _ in col.top_values)
    except ValueError:
        return False


def choose_metric(brief: str, task_type: TaskType) -> tuple[str, str]:
    """The metric the brief asks for, if it fits the task; else the task's default. With why."""
    default = _DEFAULT_METRIC[task_type]
    allowed = _REGRESSION_METRICS if task_type is TaskType.REGRESSION else _CLASSIFICATION_METRICS
    for name, pattern in _METRIC_RULES:
        found = pattern.search(brief or "")
        if not found:
            continue
        if name in allowed:
            return name, f"the brief asks for it ('{found.group(0)}')"
        return default, (
            f"the brief's '{found.group(0)}' suggests {name}, which does not apply to a "
            f"{task_type.value} task, so the default is used"
        )
    return default, f"the default for a {task_type.value} task"


def choose_positive_class(col: ColumnProfile, brief: Brief) -> tuple[str | None, str]:
    """The class a binary task is about: named in the brief, a yes-like value, or the rarer."""
    values = [v for v, _ in col.top_values]
    if len(values) != 2:
        return None, ""
    named = mentioned_values(col, brief)
    if len(named) == 1:
        return named[0], "the brief names it"
    yes_like = [v for v in values if str(v).strip().lower() in _POSITIVE_WORDS]
    if len(yes_like) == 1:
        return yes_like[0], "it is the outcome such a question is usually about"
    rarer = min(col.top_values, key=lambda vc: (vc[1], str(vc[0])))[0]
    return rarer, "it is the rarer value, usually the one to find"
