"""The offline planner's task rules: from a brief and a data profile to a `TaskProposal`.

The brief is only ever read as words: it is split into tokens and matched against column
names (with synonyms and abbreviations) and against a column's values. Whatever it says, it
can only fail to match or match a column. When no column matches, or two match about
equally, the proposal says so and lists the candidates instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from core.spec import (
    ColumnProfile,
    ColumnRole,
    DataProfile,
    Exclusion,
    ExclusionReason,
    Finding,
    TargetCandidate,
    TaskProposal,
    TaskSpec,
    TaskType,
)

MAX_BRIEF_CHARS = 2_000
MIN_TARGET_SCORE = 0.45
# The best column must beat the runner-up clearly; otherwise the brief is ambiguous.
AMBIGUITY_RATIO = 0.8
MAX_CLASSES_FOR_INTEGER_CLASSES = 10
MAX_CANDIDATES = 5

# Weights of one brief word matching one word of a column name.
EXACT, SYNONYM, PART = 1.0, 0.7, 0.5
VERBATIM = 1.0  # the brief spells the whole column name
VALUE_MATCH, MAX_VALUE_BONUS = 0.5, 0.8
# Words after "from their ...", "given ...", "using ..." describe inputs, not the target.
INPUT_PART_WEIGHT = 0.35
GENERIC_TARGET_SCORE = 0.55
QUESTION_FIT_BONUS = 0.1
MISSING_TARGET_WEIGHT = 0.5
IDENTIFIER_PENALTY = 0.3
ENTITY_WEIGHT = 0.3


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SYNONYM_GROUPS = [
    (
        "quit leave left leaving attrition churn churned turnover resign resignation cancel "
        "cancelled canceled cancellation retention retain stay exit attrite"
    ),
    "debt balance owe owed outstanding",
    "survive survived survival die died death dead alive live lived perish perished",
    "price worth value cost valuation expensive",
    "late lateness delay delayed tardy",
    "arrive arrival arrived",
    "depart departure departed",
    "buy bought purchase purchased choose chose choice pick order",
    "fraud fraudulent scam",
    "default defaulted delinquent delinquency",
    "sales sold demand units revenue",
    "salary wage wages pay paid earn earnings compensation",
    "income earn earnings",
    "spam junk",
    "click clicked clicks",
    "convert converted conversion signup subscribe subscribed",
    "approve approved approval accept accepted",
    "readmit readmitted readmission",
    "diagnosis disease sick illness malignant benign",
    "satisfied satisfaction happy",
    "temperature temp",
    "fail failure failed broken breakdown defect defective",
    "win won winner victory",
    "pass passed success succeed",
    "sex gender",
    "rating rate stars score grade",
    "quality grade",
    "count number quantity",
    "strength strong",
    "duration length time",
    "age old",
]
_ABBREVIATIONS = {
    "arr": "arrival",
    "dep": "departure",
    "amt": "amount",
    "qty": "quantity",
    "num": "number",
    "nr": "number",
    "temp": "temperature",
    "pct": "percent",
    "avg": "average",
    "cnt": "count",
    "prob": "probability",
    "yr": "year",
    "mo": "month",
    "dt": "date",
    "dob": "birth",
    "sal": "salary",
    "rev": "revenue",
    "qual": "quality",
    "cond": "condition",
}
_STOPWORDS = _words(
    """
    a an the and or of to in on at for by with from into about over under is are was were
    be been being will would shall should can could may might must do does did has have had
    having it its this that these those their his her our your my me we you they them he
    she i who whom which what when where why how whether if then than so as not no yes very
    much many more most less least some any all each every per one two predict prediction
    predictions forecast estimate estimation identify tell guess model classify
    classification regression find show want need like please help make build learn data
    dataset table column columns row rows value values going get give gets use using based
    next going kind type sort lot lots just also
    """
)
# Who or what a brief is about ("which customers will ..."): rarely the column to predict.
_ENTITY_WORDS = _words(
    """
    customer customers client clients user users employee employees worker workers person
    people patient patients shopper shoppers passenger passengers applicant applicants
    member members household households individual individuals record records case cases
    item items someone somebody
    """
)
_GENERIC_TARGET_NAMES = {
    "target",
    "label",
    "labels",
    "class",
    "outcome",
    "y",
    "response",
    "result",
    "dependent",
    "goal",
    "ground_truth",
    "truth",
}
_INPUT_MARKER = re.compile(
    r"\b(?:given|using|based on|by looking at|according to|with the help of|"
    r"from (?:their|its|his|her|the|these|those|our|a|an|each|all|his|available))\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+")  # words in any alphabet
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

_REGRESSION_HINTS = re.compile(
    r"\b(how (much|many|long|far|late|early|big|large|high|old)|amount|number of|estimate|forecast|"
    r"price|worth|cost|value of|minutes|hours|days|dollars|euros|quantity|level of|score of)\b",
    re.IGNORECASE,
)
_CLASSIFICATION_HINTS = re.compile(
    r"\b(whether|which|who|classify|categor(y|ise|ize)|kind of|type of|yes or no|is it|"
    r"will (?:the |a |an |this |they |he |she |it )?\w+\s*\?|identify|tell .* from|detect|flag)\b",
    re.IGNORECASE,
)

_TIME_HORIZON = re.compile(
    r"\b(?:in |within |over |during )?(?:the )?(?:next|this|coming|following|last|past)\s+"
    r"(?:\d+\s+|few\s+|two\s+|three\s+|six\s+|twelve\s+)?"
    r"(?:hours?|days?|weeks?|months?|quarters?|years?)\b",
    re.IGNORECASE,
)
_YES_NO_QUESTION = re.compile(r"\b(which|who|whether|will|yes or no)\b", re.IGNORECASE)

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
_METRIC_WORDS = {
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
_POSITIVE_WORDS = _words(
    """
    yes y true t 1 positive bad fraud fraudulent churn churned default defaulted malignant
    spam fail failed failure died dead left quit attrition sick disease diseased defect
    defective late delayed readmitted cancelled canceled abnormal high risk
    """
)
_EXCLUSION_BY_CHECK = {
    "identifier": ExclusionReason.IDENTIFIER,
    "constant": ExclusionReason.CONSTANT,
    "empty_column": ExclusionReason.EMPTY,
    "target_transform": ExclusionReason.LEAKAGE_SUSPECT,
    "single_feature_leakage": ExclusionReason.LEAKAGE_SUSPECT,
    "leakage_suspect": ExclusionReason.LEAKAGE_SUSPECT,
}


# --------------------------------------------------------------------------- words


def stem(word: str) -> str:
    """A light stemmer: enough to match 'survived' with 'Survived' and 'sales' with 'sale'."""
    word = word.lower().strip("'")
    word = word.removesuffix("'s")
    for suffix, keep in (
        ("ies", "y"),
        ("ied", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
        ("e", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def _build_synonyms() -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for line in _SYNONYM_GROUPS:
        stems = {stem(w) for w in line.split()}
        for s in stems:
            groups.setdefault(s, set()).update(stems - {s})
    return groups


_SYNONYMS = _build_synonyms()


def name_tokens(name: str) -> list[str]:
    """Stemmed words of a column name: 'WeekofPurchase' → ['weekof', 'purchas'], 'arr_delay' →
    ['arr', 'delay'] (abbreviations are expanded when matching)."""
    spaced = _CAMEL.sub(" ", str(name))
    words = [w for w in re.split(r"[\W_]+", spaced) if w]
    return [
        stem(w)
        for w in words
        if not w.isdigit() and w.lower() not in {"is", "has", "of", "the", "flag"}
    ]


@dataclass
class BriefWords:
    """The brief as weighted stems: words about the target weigh 1, words about inputs less."""

    weights: dict[str, float] = field(default_factory=dict)
    originals: dict[str, str] = field(default_factory=dict)  # stem -> the word as written
    acronyms: set[str] = field(default_factory=set)
    text: str = ""
    target_part: str = ""
    input_part: str = ""

    @classmethod
    def read(cls, brief: str) -> BriefWords:
        text = " ".join(str(brief or "")[:MAX_BRIEF_CHARS].split())
        # "next month" says when, not what: it must not point at a 'months' column
        target_part, input_part = _split_inputs(_TIME_HORIZON.sub(" ", text))
        words = cls(text=text, target_part=target_part.lower(), input_part=input_part.lower())
        for part, weight in ((input_part, INPUT_PART_WEIGHT), (target_part, 1.0)):
            for raw in _WORD.findall(part):
                lowered = raw.lower().strip("'")
                if lowered in _STOPWORDS or len(lowered) < 2:
                    continue
                w = weight * (ENTITY_WEIGHT if lowered in _ENTITY_WORDS else 1.0)
                key = stem(lowered)
                words.weights[key] = max(words.weights.get(key, 0.0), w)
                words.originals.setdefault(key, lowered)
        words.acronyms = _acronyms(text)
        return words

    def __bool__(self) -> bool:
        return bool(self.weights)


def _split_inputs(text: str) -> tuple[str, str]:
    match = _INPUT_MARKER.search(text)
    if match and any(w.lower() not in _STOPWORDS for w in _WORD.findall(text[: match.start()])):
        return text[: match.start()], text[match.start() :]
    return text, ""


def _acronyms(text: str) -> set[str]:
    """Initials of runs of capitalised words: 'Citrus Hill' → 'ch', 'Minute Maid' → 'mm'."""
    capitals = re.findall(r"[A-Za-z]+|[^A-Za-z\s]+", text)
    out = set()
    for size in (2, 3):
        for i in range(len(capitals) - size + 1):
            window = capitals[i : i + size]
            if all(w[:1].isupper() and w.isalpha() for w in window):
                out.add("".join(w[0] for w in window).lower())
    return out


# --------------------------------------------------------------------------- target


@dataclass
class _Match:
    column: ColumnProfile
    score: float
    reasons: list[str]
    unpenalised: float = 0.0
    spelled_out: bool = False  # the brief spells the column's exact name


def _token_match(col_token: str, words: BriefWords) -> tuple[float, str]:
    """Best weight of one column-name word against the brief, and why."""
    best, why = 0.0, ""
    options = [(col_token, EXACT)]
    if col_token in _ABBREVIATIONS:
        options.append((stem(_ABBREVIATIONS[col_token]), EXACT * 0.9))
    for token, base in options:
        if token in words.weights:
            score = base * words.weights[token]
            if score > best:
                best, why = score, f"the brief says '{words.originals[token]}'"
        for synonym in _SYNONYMS.get(token, ()):
            if synonym in words.weights:
                score = SYNONYM * words.weights[synonym]
                if score > best:
                    best, why = (
                        score,
                        f"'{words.originals[synonym]}' in the brief means much the same",
                    )
    if best == 0.0 and len(col_token) >= 5:
        for word, weight in words.weights.items():
            if len(word) >= 4 and word in col_token and PART * weight > best:
                best, why = PART * weight, f"the name contains '{words.originals[word]}'"
    return best, why


def _verbatim_weight(name: str, words: BriefWords) -> float:
    """1 when the brief's target part spells the column's name exactly ('predict Sale_Price')."""
    lowered = str(name).strip().lower()
    if not lowered or (len(lowered) == 1 and lowered in _STOPWORDS):
        return 0.0
    pattern = re.compile(rf"(?<![\w]){re.escape(lowered)}(?![\w])")
    if pattern.search(words.target_part):
        return 1.0
    return INPUT_PART_WEIGHT if pattern.search(words.input_part) else 0.0


def _spelled_like_a_column(name: str, score: float) -> bool:
    text = str(name)
    return score < MIN_TARGET_SCORE or not text.isalpha() or (text[1:] != text[1:].lower())


def _value_bonus(col: ColumnProfile, words: BriefWords) -> tuple[float, list[str]]:
    if col.role not in (ColumnRole.CATEGORICAL, ColumnRole.BOOLEAN) or col.unique_count > 20:
        return 0.0, []
    hits = _values_named(col, words)
    return min(MAX_VALUE_BONUS, VALUE_MATCH * len(hits)), hits


def _values_named(col: ColumnProfile, words: BriefWords) -> list[str]:
    hits = []
    for value, _ in col.top_values:
        lowered = str(value).strip().lower()
        if lowered in {"yes", "no", "true", "false", "0", "1", "other", "others", "none", "nan"}:
            continue
        value_words = [stem(w) for w in _WORD.findall(lowered) if w not in _STOPWORDS]
        named = value_words and all(words.weights.get(w, 0) >= 1.0 for w in value_words)
        if named or (2 <= len(lowered) <= 4 and lowered.isalpha() and lowered in words.acronyms):
            hits.append(str(value))
    return hits


def _question_fit(col: ColumnProfile, words: BriefWords) -> float:
    wants_classes = bool(_CLASSIFICATION_HINTS.search(words.text))
    wants_amount = bool(_REGRESSION_HINTS.search(words.text))
    is_classes = col.role in (ColumnRole.BOOLEAN, ColumnRole.CATEGORICAL)
    if wants_classes and not wants_amount and is_classes:
        # "Which customers will cancel?" asks yes or no of each customer
        yes_no = col.unique_count == 2 and _YES_NO_QUESTION.search(words.text)
        return QUESTION_FIT_BONUS * (2 if yes_no else 1)
    if wants_amount and not wants_classes and col.role is ColumnRole.NUMERIC:
        return QUESTION_FIT_BONUS
    return 0.0


def score_columns(words: BriefWords, profile: DataProfile) -> list[_Match]:
    """Every column that could be the target, with its score against the brief, best first."""
    matches = []
    for col in profile.column_profiles:
        tokens = name_tokens(col.name) or [stem(col.name)]
        score, reasons, matched = 0.0, [], 0
        for token in dict.fromkeys(tokens):
            weight, why = _token_match(token, words)
            if weight:
                score += weight
                matched += 1
                reasons.append(why)
        if score:
            score *= 0.5 + 0.5 * matched / len(set(tokens))
        # A name spelled out exactly counts when it is clearly a column's name ('Sale_Price',
        # 'arr_delay') or its words did not match ('x'); plain words ('flight') already did.
        verbatim = (
            _verbatim_weight(col.name, words) if _spelled_like_a_column(col.name, score) else 0
        )
        if verbatim:
            score += VERBATIM * verbatim
            reasons.append(f"the brief names the column '{col.name}'")
        bonus, hits = _value_bonus(col, words)
        if bonus:
            score += bonus
            reasons.append(
                "its values " + ", ".join(f"'{h}'" for h in hits) + " appear in the brief"
            )
        if score == 0.0 and str(col.name).strip().lower() in _GENERIC_TARGET_NAMES:
            score = GENERIC_TARGET_SCORE if words else 0.0
            reasons.append(
                f"no column matches the brief's words, and '{col.name}' is named like a target"
            )
        if score:
            score += _question_fit(col, words)
            if verbatim < 1.0:
                # unless named outright, a column empty in most rows is rarely what a brief
                # asks for (e.g. a reason filled in only after the event the brief is about)
                score *= 1.0 - MISSING_TARGET_WEIGHT * col.missing_share
            unpenalised = score
            if _unusable_target(col):
                score *= IDENTIFIER_PENALTY
                reasons.append(
                    f"but it is {'empty' if col.missing_share >= 1 else 'a ' + col.role.value + ' column'}"
                )
            matches.append(
                _Match(col, round(score, 4), reasons, round(unpenalised, 4), verbatim == 1.0)
            )
    named = [m for m in matches if not _generic_only(m)]
    # A column named 'target' or 'y' is the answer only when the brief names no column.
    return sorted(named or matches, key=lambda m: -m.score)


def _generic_only(match: _Match) -> bool:
    return any("named like a target" in r for r in match.reasons)


def _plausible_targets(profile: DataProfile) -> list[TargetCandidate]:
    """Columns a user would likely want to predict, when the brief names none."""
    ranked = []
    last = profile.column_profiles[-1].name if profile.column_profiles else None
    for col in profile.column_profiles:
        if _unusable_target(col):
            continue
        score, why = 0.1, f"a {col.role.value} column"
        if str(col.name).lower() in _GENERIC_TARGET_NAMES:
            score, why = 0.5, "named like a target"
        elif col.role in (ColumnRole.BOOLEAN,):
            score, why = 0.3, "a yes/no column"
        elif col.name == last:
            score, why = 0.25, "the last column, where targets often are"
        ranked.append(TargetCandidate(column=col.name, score=score, why=why))
    return sorted(ranked, key=lambda c: -c.score)[:MAX_CANDIDATES]


# --------------------------------------------------------------------------- task type, metric


def task_type_from_profile(col: ColumnProfile, brief: str = "") -> TaskType:
    """Binary, multiclass or regression from the target's values (and the brief's wording).

    Two values → binary. Text categories → multiclass. Numbers → regression, except a few
    whole numbers (≤ 10 distinct), which are classes unless the brief asks "how many/much".
    """
    if col.role is ColumnRole.BOOLEAN or col.unique_count == 2:
        return TaskType.BINARY
    if col.role is ColumnRole.NUMERIC or (
        col.role in (ColumnRole.IDENTIFIER, ColumnRole.CONSTANT) and col.mean is not None
    ):
        few_whole = col.unique_count <= MAX_CLASSES_FOR_INTEGER_CLASSES and _whole_values(col)
        if few_whole and not _REGRESSION_HINTS.search(brief or ""):
            return TaskType.MULTICLASS
        return TaskType.REGRESSION
    return TaskType.MULTICLASS if col.unique_count > 2 else TaskType.BINARY


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


def choose_positive_class(col: ColumnProfile, words: BriefWords) -> tuple[str | None, str]:
    """The class a binary task is about: named in the brief, a yes-like value, or the rarer."""
    values = [v for v, _ in col.top_values]
    if len(values) != 2:
        return None, ""
    named = _values_named(col, words)
    if len(named) == 1:
        return named[0], "the brief names it"
    yes_like = [v for v in values if str(v).strip().lower() in _POSITIVE_WORDS]
    if len(yes_like) == 1:
        return yes_like[0], "it is the outcome such a question is usually about"
    rarer = min(col.top_values, key=lambda vc: (vc[1], str(vc[0])))[0]
    return rarer, "it is the rarer value, usually the one to find"


# --------------------------------------------------------------------------- exclusions


def exclusions_for(
    profile: DataProfile, findings: list[Finding], target: str, restored: list[str] = ()
) -> list[Exclusion]:
    """Columns left out by default, each with a reason: check findings first, then roles.

    `restored`: leakage suspects the user put back; only a suspect can be put back (a
    certain leak, an identifier or a constant stays out)."""
    excluded: dict[str, Exclusion] = {}
    for finding in findings:
        if not finding.excluded_by_default or finding.target not in (None, target):
            continue
        reason = _EXCLUSION_BY_CHECK.get(finding.check, ExclusionReason.PLANNER_CHOICE)
        for column in finding.columns:
            if finding.restorable and column in restored:
                continue
            if column != target and column not in excluded:
                excluded[column] = Exclusion(
                    column=column, reason=reason, detail=finding.message, grade=finding.grade
                )
    for col in profile.column_profiles:
        if col.name == target or col.name in excluded:
            continue
        if col.missing_share >= 1:
            excluded[col.name] = Exclusion(
                column=col.name, reason=ExclusionReason.EMPTY, detail="Every value is missing."
            )
        elif col.role is ColumnRole.CONSTANT:
            excluded[col.name] = Exclusion(
                column=col.name, reason=ExclusionReason.CONSTANT, detail="Same value on every row."
            )
        elif col.role is ColumnRole.IDENTIFIER:
            excluded[col.name] = Exclusion(
                column=col.name,
                reason=ExclusionReason.IDENTIFIER,
                detail="A different value on almost every row, like a name or an ID.",
            )
    for column, how in transforms_in_profile(profile, target):
        if column not in excluded:
            excluded[column] = Exclusion(
                column=column,
                reason=ExclusionReason.LEAKAGE_SUSPECT,
                detail=f"Its summary matches {how} of '{target}', so it is a copy of the target.",
            )
    return list(excluded.values())


_TRANSFORMS = {
    "the log": np.log,
    "the base-10 log": np.log10,
    "log(1 + x)": np.log1p,
    "the square root": np.sqrt,
}
_TRANSFORM_TOLERANCE = 1e-3


def transforms_in_profile(profile: DataProfile, target: str) -> list[tuple[str, str]]:
    """Numeric columns whose summary is a transform of the target's: (column, which transform).

    Works from the profile alone, so the planner catches copies of the target even when the
    target-dependent checks have not run yet. Monotone transforms keep the median at the
    median; a rescaling also keeps the mean at the mean. Both are checked with the extremes.
    """
    try:
        y = profile.column(target)
    except KeyError:
        return []
    if y.role is not ColumnRole.NUMERIC or None in (y.min, y.max, y.median, y.mean):
        return []
    y_stats = np.array([y.min, y.max, y.median], dtype="float64")
    found = []
    for col in profile.column_profiles:
        if col.name == target or col.role is not ColumnRole.NUMERIC or col.median is None:
            continue
        if abs(col.missing_share - y.missing_share) > 0.01 or col.unique_count != y.unique_count:
            continue  # a transform keeps one value per target value
        x_stats = np.array([col.min, col.max, col.median], dtype="float64")
        how = _matching_transform(y_stats, x_stats) or _matching_rescale(y, col)
        if how:
            found.append((col.name, how))
    return found


def _matching_transform(y_stats: np.ndarray, x_stats: np.ndarray) -> str:
    scale = max(1.0, float(np.abs(x_stats).max()))
    with np.errstate(all="ignore"):
        for how, fn in _TRANSFORMS.items():
            mapped = fn(y_stats)
            if np.all(np.isfinite(mapped)) and np.all(
                np.abs(mapped - x_stats) <= _TRANSFORM_TOLERANCE * scale
            ):
                return how
    return ""


def _matching_rescale(y: ColumnProfile, x: ColumnProfile) -> str:
    if y.max == y.min or x.mean is None:
        return ""
    slope = (x.max - x.min) / (y.max - y.min)
    if slope == 0:
        return ""
    offset = x.min - slope * y.min
    scale = max(1.0, abs(x.max), abs(x.min))
    close = all(
        abs(slope * a + offset - b) <= _TRANSFORM_TOLERANCE * scale
        for a, b in ((y.median, x.median), (y.mean, x.mean))
    )
    return "a rescaled copy" if close else ""


def spec_with_findings(spec: TaskSpec, profile: DataProfile, findings: list[Finding]) -> TaskSpec:
    """The spec with the exclusions that `findings` (e.g. target-dependent checks run after the
    target was chosen) add; those columns leave feature, text and datetime columns."""
    known = {e.column: e for e in spec.excluded}
    added = []
    for exclusion in exclusions_for(profile, findings, spec.target, spec.restored):
        if exclusion.column not in known:
            known[exclusion.column] = exclusion
            added.append(exclusion)
    out = set(known)
    rationale = spec.rationale
    if added:
        shown = "; ".join(f"'{e.column}' ({e.reason.value})" for e in added)
        rationale = f"{rationale} The checks on the target also leave out: {shown}.".strip()
    return spec.model_copy(
        update={
            "rationale": rationale,
            "excluded": list(known.values()),
            "feature_columns": [c for c in spec.feature_columns if c not in out],
            "text_columns": [c for c in spec.text_columns if c not in out],
            "datetime_columns": [c for c in spec.datetime_columns if c not in out],
        }
    )


# --------------------------------------------------------------------------- the proposal


def propose_task(brief: str, profile: DataProfile, findings: list[Finding]) -> TaskProposal:
    """Target, task type, metric, positive class and exclusions for `brief`, or the reason
    the brief cannot be resolved with the candidates to choose from."""
    words = BriefWords.read(brief)
    if not words.text:
        return _unresolved(
            "The brief is empty. Say in a sentence what to predict, for example "
            "'Predict which customers will cancel'.",
            _plausible_targets(profile),
        )
    scored = score_columns(words, profile)
    matches = [m for m in scored if m.score >= MIN_TARGET_SCORE * 0.5]
    best = matches[0] if matches and matches[0].score >= MIN_TARGET_SCORE else None
    named = max(scored, key=lambda m: m.unpenalised, default=None)
    if (
        named is not None
        and _unusable_target(named.column)
        and named.unpenalised >= MIN_TARGET_SCORE
        and (
            best is None or (named.spelled_out and named.unpenalised * AMBIGUITY_RATIO > best.score)
        )
    ):
        # The brief names a column that cannot be a target: say why, not "no match".
        return TaskProposal(
            spec=None,
            message=_unusable_target(named.column),
            candidates=_plausible_targets(profile),
        )
    if best is None:
        return _unresolved(
            "No column matches what the brief asks to predict. Name the column to predict, "
            "or pick one of the candidates.",
            _candidates(matches) or _plausible_targets(profile),
        )
    rivals = [m for m in matches[1:] if m.score >= AMBIGUITY_RATIO * best.score]
    if rivals:
        shown = ", ".join(f"'{m.column.name}'" for m in [best, *rivals])
        return _unresolved(
            f"The brief matches more than one column about equally ({shown}). "
            "Say which one to predict.",
            _candidates([best, *rivals]),
        )
    return _proposal_for(best, words, profile, findings)


def _candidates(matches: list[_Match]) -> list[TargetCandidate]:
    return [
        TargetCandidate(column=m.column.name, score=m.score, why="; ".join(m.reasons))
        for m in matches[:MAX_CANDIDATES]
    ]


def _unresolved(message: str, candidates: list[TargetCandidate]) -> TaskProposal:
    return TaskProposal(spec=None, ambiguous=True, message=message, candidates=candidates)


def _unusable_target(col: ColumnProfile) -> str:
    if col.missing_share >= 1:
        return (
            f"Column '{col.name}' is empty (every value is missing), so there is nothing to "
            "learn from; pick another column to predict or fill it in."
        )
    if col.unique_count < 2:
        value = col.top_values[0][0] if col.top_values else "?"
        return (
            f"Column '{col.name}' has only one value ('{value}') in the uploaded file; a model "
            "needs at least two different values to learn from."
        )
    if col.role is ColumnRole.IDENTIFIER:
        return (
            f"Column '{col.name}' is different on almost every row, like an ID, so it cannot "
            "be predicted; pick another column."
        )
    if col.role is ColumnRole.TEXT:
        return (
            f"Column '{col.name}' holds free text, which cannot be predicted as a category or a "
            "number; pick another column, or add a column that labels each text."
        )
    if col.role is ColumnRole.DATETIME:
        return (
            f"Column '{col.name}' holds dates, which cannot be predicted directly; add a column "
            "such as the number of days until the date and predict that."
        )
    return ""


def _proposal_for(
    best: _Match, words: BriefWords, profile: DataProfile, findings: list[Finding]
) -> TaskProposal:
    target = best.column
    problem = _unusable_target(target)
    if problem:
        return TaskProposal(
            spec=None, ambiguous=False, message=problem, candidates=_candidates([best])
        )
    task_type = task_type_from_profile(target, words.text)
    metric, metric_why = choose_metric(words.text, task_type)
    positive, positive_why = (None, "")
    if task_type is TaskType.BINARY:
        positive, positive_why = choose_positive_class(target, words)
    excluded = exclusions_for(profile, findings, target.name)
    out = {e.column for e in excluded} | {target.name}
    features = [c for c in profile.column_profiles if c.name not in out]
    spec = TaskSpec(
        target=target.name,
        task_type=task_type,
        metric=metric,
        positive_class=positive,
        feature_columns=[c.name for c in features],
        excluded=excluded,
        text_columns=[c.name for c in features if c.role is ColumnRole.TEXT],
        datetime_columns=[c.name for c in features if c.role is ColumnRole.DATETIME],
    )
    spec.rationale = _rationale(spec, best, target, metric_why, positive_why)
    message = (
        ""
        if spec.feature_columns
        else (
            "Every other column is left out, so there is nothing to learn from; put a column back "
            "or upload more columns."
        )
    )
    return TaskProposal(spec=spec, message=message, candidates=_candidates([best]))


def _rationale(
    spec: TaskSpec, best: _Match, target: ColumnProfile, metric_why: str, positive_why: str
) -> str:
    parts = [f"Target '{spec.target}': {'; '.join(best.reasons)}."]
    if spec.task_type is TaskType.REGRESSION:
        parts.append(
            f"Task: regression, because '{spec.target}' holds numbers ({target.unique_count:,} distinct values)."
        )
    else:
        shown = ", ".join(f"'{v}'" for v, _ in target.top_values[:5])
        parts.append(
            f"Task: {spec.task_type.value} classification, because '{spec.target}' has "
            f"{target.unique_count} distinct values ({shown}{', ...' if target.unique_count > 5 else ''})."
        )
    parts.append(f"Metric: {_METRIC_WORDS.get(spec.metric, spec.metric)}, {metric_why}.")
    if spec.positive_class is not None:
        parts.append(f"Positive class: '{spec.positive_class}', because {positive_why}.")
    if spec.excluded:
        shown = "; ".join(f"'{e.column}' ({e.reason.value})" for e in spec.excluded[:10])
        more = f" and {len(spec.excluded) - 10} more" if len(spec.excluded) > 10 else ""
        parts.append(f"Left out: {shown}{more}.")
    return " ".join(parts)
