"""The pre-training review: what a careful analyst checks before a model is trained.

Leakage is graded, never decided on power alone:

- *certain leak*: a copy, rescaling, monotone transform or relabelling of the target, or
  near-perfect power together with a second sign, or a pair of columns whose difference (or
  sum) is the target, the outcome written twice (arrival time minus scheduled arrival time is
  the arrival delay); always left out, and of the pair only the one not known beforehand;
- *suspect*: high power and a second sign (its name shares meaning with the target or the
  brief's outcome, its name speaks of after the fact, or it is missing exactly when the target
  is one class); left out by default, and the user can put it back in the plan;
- *strong but plausible*: high power and no second sign; kept, and named in the plan so the
  user checks that it is known when predicting (house size for a price, tumour size for a
  diagnosis).

A pair that reproduces a column the review left out carries that column's information and
gets its grade.

The review also proposes how to validate (rows of one entity on one side of every split;
the latest rows held out when the brief speaks of the future) and what to do about a rare
positive class. After training, `too_good_to_be_true` looks at the explanation and the
held-out score. Every number here comes from the data, never from a planner.
"""

from __future__ import annotations

import itertools
import re
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from core.errors import PlanError
from core.metrics import display_name
from core.planning.brief import stem
from core.planning.column_names import SYNONYMS, name_tokens
from core.planning.task_type import choose_metric
from core.profile import is_id_like_name, whole_numbers
from core.spec import (
    ColumnRole,
    DataProfile,
    Finding,
    LeakGrade,
    Severity,
    TaskSpec,
    TaskType,
    ValidationKind,
    ValidationSpec,
)

# Power of one column alone, in a quick out-of-fold test on a sample; the sample's noise
# gets half a point of slack, so a column that agrees on 90% of all rows is not missed.
QUICK_TEST_SLACK = 0.005
HIGH_AUC, HIGH_AGREEMENT, HIGH_R2 = 0.9 - QUICK_TEST_SLACK, 0.9 - QUICK_TEST_SLACK, 0.8
NEAR_PERFECT_AUC, NEAR_PERFECT_AGREEMENT, NEAR_PERFECT_R2 = 0.99, 0.99, 0.98
# Agreement counts as power only when it beats always guessing the majority class clearly.
AGREEMENT_LIFT = 0.5  # share of the way from the majority share to 1
LEAKAGE_SAMPLE_ROWS = 5_000
LEAKAGE_FOLDS = 5
LEAKAGE_MAX_BINS = 256
LEAKAGE_ROWS_PER_BIN = 10
LEAKAGE_PSEUDO_ROWS = 0.1
# A monotone transform of the target (log, rescaling) has a rank correlation of ~1.
TRANSFORM_SPEARMAN = 0.999
TRANSFORM_SAMPLE_ROWS = 50_000
# "Missing exactly when the target is one class"
MISSING_IN_CLASS, MISSING_ELSEWHERE = 0.95, 0.02

# Words that say a value was recorded after the outcome (stems, see core.planning.brief.stem).
_AFTER_THE_FACT = {
    "fil": "filed", "clos": "closed", "closur": "closure", "resolv": "resolved",
    "resolution": "resolution", "final": "final", "outcom": "outcome", "refund": "refund",
    "result": "result", "discharg": "discharge", "settl": "settled", "terminat": "terminated",
    "termination": "termination", "paidoff": "paid off", "writeoff": "written off",
    "chargeback": "chargeback", "after": "after", "post": "post-", "actual": "actual",
    "confirm": "confirmed", "verdict": "verdict", "cancellation": "cancellation",
}
_AFTER_THE_FACT_PAIRS = {("paid", "off"): "paid off", ("written", "off"): "written off",
                         ("writ", "off"): "written off"}
# Name words too common to mean anything when two names share them.
_GENERIC_NAME_WORDS = {"date", "time", "day", "number", "count", "total", "amount", "valu",
                       "typ", "cod", "level", "rat", "scor", "flag", "status", "mean", "id"}

# Entities whose rows repeat: a customer, a patient, a store.
_ENTITY_NAME = re.compile(
    r"(?:^|[\W_])(customer|client|user|patient|subject|person|member|account|household|"
    r"store|shop|branch|device|machine|employee|student|player|team|driver|vehicle|session|"
    r"site|hospital|school|merchant|seller|buyer|company|firm)s?(?:$|[\W_])",
    re.IGNORECASE,
)
MIN_GROUPS = 5
MIN_ROWS_PER_GROUP = 1.5  # on average: below this, most entities appear once
MAX_GROUP_SHARE = 0.7  # distinct values / rows: above this it is (almost) an identifier
_FUTURE = re.compile(
    r"\b(will|won'?t|going to|next|upcoming|coming|future|forecast|ahead|tomorrow|"
    r"from now|before they|in advance)\b",
    re.IGNORECASE,
)
RARE_POSITIVE_SHARE = 0.1
# After training: one column carrying most of the SHAP importance, near the metric's ceiling.
DOMINANT_SHAP_SHARE = 0.5
# or a good share and several times the next column's: a 98% copy of churn, put back by the
# user, carried 48% of an ensemble's importance (a linear member spreads it over one-hot
# columns) at a held-out AUC of 0.999, with ten times the next column's
DOMINANT_LEAD_SHARE, DOMINANT_LEAD_RATIO = 0.3, 3.0
_NEAR_CEILING = {"roc_auc": 0.97, "accuracy": 0.97, "balanced_accuracy": 0.97, "f1": 0.95,
                 "average_precision": 0.95, "r2": 0.95}


# --------------------------------------------------------------------------- leakage


def leakage_findings(
    df: pd.DataFrame,
    profile: DataProfile,
    target: str,
    task_type: TaskType,
    features: list[str],
    *,
    brief: str = "",
    seed: int = 0,
) -> list[Finding]:
    """Graded leakage findings for `features` against `target` (see the module docstring)."""
    known = df[df[target].notna()]
    transforms = _target_transforms(known, target, features, task_type, seed)
    out = [_transform_finding(column, target) for column in transforms]
    sample = known.sample(min(len(known), LEAKAGE_SAMPLE_ROWS), random_state=seed)
    y = _leakage_target(sample[target], task_type)
    folds = np.random.default_rng(seed).permutation(len(sample)) % LEAKAGE_FOLDS
    outcome = outcome_stems(target, brief)
    for column in features:
        if column in transforms:
            continue
        power = column_power(sample[column], y, folds, task_type)
        if not power or not _high(power):
            continue
        signs = _second_signs(column, outcome, known[column], known[target], task_type)
        out.append(_graded_finding(column, target, power, signs))
    return out + pair_findings(sample, target, task_type, features, out)


# A whole-number identifier whose numbers alone predict the target this well (and not so well
# that it would be a leak) numbers the rows in an order that carries signal: Tate's artwork ids
# follow acquisition, and predict the year a work was made (R² 0.60 out of fold; CatBoost's
# defaults score 2.78 RMSE with them, 3.92 without)
ORDERED_ID_R2, ORDERED_ID_AUC = 0.1, 0.65


def ordered_identifier_power(df: pd.DataFrame, column: str, target: str, task_type: TaskType,
                             seed: int = 0) -> dict[str, float] | None:
    """How well a numeric identifier alone predicts `target` (`column_power`), when that
    is more than chance and less than a leak; else None."""
    known = df[df[target].notna() & df[column].notna()]
    numbers = whole_numbers(known[column])
    if numbers is None or len(known) < 2 * LEAKAGE_FOLDS:
        return None
    sample = numbers.sample(min(len(known), LEAKAGE_SAMPLE_ROWS), random_state=seed)
    y = _leakage_target(known.loc[sample.index, target], task_type)
    folds = np.random.default_rng(seed).permutation(len(sample)) % LEAKAGE_FOLDS
    power = column_power(sample, y, folds, task_type)
    if not power or _high(power):
        return None
    telling = power["r2"] >= ORDERED_ID_R2 if "r2" in power else power["auc"] >= ORDERED_ID_AUC
    return power if telling else None


def column_power(values: pd.Series, y: np.ndarray, folds: np.ndarray,
                 task_type: TaskType) -> dict[str, float]:
    """How well one column alone predicts y, out of fold: {'auc', 'agreement', 'majority'}
    for classes, {'r2'} for numbers; empty when it cannot be measured."""
    prediction = _binned_prediction(values, y, folds)
    try:
        if task_type is TaskType.REGRESSION:
            total = ((y - y.mean()) ** 2).sum()
            if total <= 0:
                return {}
            binned = float(1.0 - ((y - prediction) ** 2).sum() / total)
            return {"r2": max(binned, _linear_r2(values, y[:, 0]))}
        if y.shape[1] == 2:
            auc = float(roc_auc_score(y[:, 1], prediction[:, 1]))
            auc = max(auc, _rank_auc(values, y[:, 1]))
        else:
            present = y.sum(axis=0) > 0
            auc = float(roc_auc_score(y[:, present], prediction[:, present], average="macro"))
    except ValueError:
        return {}
    agreement = float((prediction.argmax(axis=1) == y.argmax(axis=1)).mean())
    return {"auc": auc, "agreement": agreement, "majority": float(y.mean(axis=0).max())}


def _rank_auc(values: pd.Series, positive: np.ndarray) -> float:
    """AUC of the raw values as a score (either direction): bins on rare classes are noisy,
    and a column that separates the classes by its order alone needs no fitting."""
    numbers = _as_number(values)
    if numbers is None or numbers.isna().any() or numbers.nunique() < 3:
        return 0.0
    auc = float(roc_auc_score(positive, numbers.to_numpy()))
    return max(auc, 1.0 - auc)


def _linear_r2(values: pd.Series, y: np.ndarray) -> float:
    """R² of a straight line through the raw values: quantile bins smear heavy tails (a few
    delays of 1,000 minutes), and a line needs no fitting beyond two numbers."""
    numbers = _as_number(values)
    if numbers is None or numbers.isna().any() or numbers.nunique() < 3:
        return 0.0
    r = np.corrcoef(numbers.to_numpy(), y)[0, 1]
    return float(r * r) if np.isfinite(r) else 0.0


def _high(power: dict[str, float]) -> bool:
    return _beyond(power, HIGH_AUC, HIGH_AGREEMENT, HIGH_R2)


def _near_perfect(power: dict[str, float]) -> bool:
    return _beyond(power, NEAR_PERFECT_AUC, NEAR_PERFECT_AGREEMENT, NEAR_PERFECT_R2)


def _beyond(power: dict[str, float], auc: float, agreement: float, r2: float) -> bool:
    if "r2" in power:
        return power["r2"] >= r2
    majority = power["majority"]
    lifted = power["agreement"] >= majority + AGREEMENT_LIFT * (1.0 - majority)
    return power["auc"] >= auc or (power["agreement"] >= agreement and lifted)


def _power_words(power: dict[str, float]) -> str:
    if "r2" in power:
        return f"R² {power['r2']:.3f}"
    return f"AUC {power['auc']:.3f}, agreement {power['agreement']:.1%}"


def _graded_finding(column: str, target: str, power: dict, signs: list[str]) -> Finding:
    evidence = {**{k: round(v, 4) for k, v in power.items()}, "signs": signs}
    numbers = _power_words(power)
    if not signs:
        return Finding(
            check="strong_feature", severity=Severity.INFO, columns=[column],
            grade=LeakGrade.PLAUSIBLE, evidence=evidence,
            message=(
                f"Column '{column}' on its own predicts '{target}' very well ({numbers} in a "
                "quick test) but nothing else points to a leak, so it is kept: check that it "
                "is known when you predict."
            ),
        )
    why = "; ".join(signs)
    if _near_perfect(power):
        return Finding(
            check="single_feature_leakage", severity=Severity.WARNING, columns=[column],
            excluded_by_default=True, grade=LeakGrade.CERTAIN, evidence=evidence,
            message=(
                f"Column '{column}' on its own predicts '{target}' almost perfectly ({numbers}) "
                f"and {why}, so it is almost surely recorded after the outcome and is left out."
            ),
        )
    return Finding(
        check="leakage_suspect", severity=Severity.WARNING, columns=[column],
        excluded_by_default=True, grade=LeakGrade.SUSPECT, evidence=evidence,
        message=(
            f"Column '{column}' on its own predicts '{target}' very well ({numbers}) and {why}, "
            "so it is probably recorded after the outcome and is left out; put it back in the "
            "plan if it is known when you predict."
        ),
    )


def _transform_finding(column: str, target: str) -> Finding:
    return Finding(
        check="target_transform", severity=Severity.WARNING, columns=[column],
        excluded_by_default=True, grade=LeakGrade.CERTAIN,
        evidence={"signs": ["a copy or simple transformation of the target"]},
        message=(
            f"Column '{column}' is a copy or a simple transformation of '{target}' (they move "
            "in lockstep), so it would not be known when predicting and is left out."
        ),
    )


# --------------------------------------------------------------------------- pairs

# Two columns whose difference or sum is the target: the outcome written twice. The exact test
# needs R² of a near-perfect column, and the pair must explain what neither column does alone
# (a strong plausible input plus a small correction is not a leak).
PAIR_R2 = NEAR_PERFECT_R2
PAIR_UNEXPLAINED_SHARE = 0.25  # of what the better column alone leaves unexplained
# Every pair of numeric columns is screened at once from their covariances (no loop over
# pairs), then the strongest few are checked exactly on the rows where both are present.
PAIR_SCREEN_R2 = 0.9
PAIR_MAX_CHECKS = 40
PAIR_MAX_COLUMNS = 400  # screening cost grows with the square of the column count
PAIR_MIN_ROWS = 30
# Clock times written hhmm (1030 is 10:30): their difference is taken in minutes, around
# midnight, and must equal the reproduced column exactly (to the minute) on most rows.
CLOCK_EQUAL_SHARE = 0.95
CLOCK_MIN_VALUES, CLOCK_MIN_HOURS, CLOCK_MAX_COLUMNS = 20, 4, 16
MINUTES_PER_DAY = 1440
_CLOCK_TEXT = r"^\s*([01]?\d|2[0-4]):([0-5]\d)(?::[0-5]\d)?\s*$"
# Name words of a value known beforehand (a schedule, a plan, an estimate): of a leaking pair,
# this one stays and the other goes.
_PLANNED = {stem(w) for w in ("scheduled", "schedule", "sched", "planned", "plan", "expected",
                              "estimated", "estimate", "est", "budget", "budgeted", "quoted",
                              "forecast", "booked", "promised", "due", "eta", "nominal",
                              "projected", "listed")}
_OPERATION_WORDS = {"clock": "minus", "difference": "minus", "sum": "plus"}


def clock_minutes(values: pd.Series) -> pd.Series | None:
    """Minutes of the day of clock times written as whole numbers hhmm (1030 is 10:30, 2400
    midnight) or as text ('10:30'); None when the column does not look like clock times."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        hhmm = values.astype("float64")
    elif pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
        text = values.astype("string")
        if not text.dropna().head(20).str.fullmatch(_CLOCK_TEXT).all():
            return None  # most text columns are turned away here, before reading every row
        parts = text.str.extract(_CLOCK_TEXT).astype("float64")
        if (parts[0].isna() & text.notna()).any():
            return None
        hhmm = parts[0] * 100 + parts[1]
    else:
        return None
    present = hhmm.dropna()
    if (present.empty or present.min() < 0 or present.max() > 2400
            or (present % 1 != 0).any() or (present % 100 >= 60).any()):
        return None
    if present.nunique() < CLOCK_MIN_VALUES or (present // 100).nunique() < CLOCK_MIN_HOURS:
        return None
    return (hhmm // 100) * 60 + hhmm % 100


class _PairFit(NamedTuple):
    first: str
    second: str
    operation: str  # 'clock' (a difference of clock times), 'difference' or 'sum'
    r2: float
    equal_share: float | None  # rows where the pair equals the column exactly (clocks)


def pair_findings(sample: pd.DataFrame, target: str, task_type: TaskType,
                  features: list[str], single: list[Finding]) -> list[Finding]:
    """Pairs of features whose difference or sum reproduces the target (a certain leak), or
    a column the single-column review left out (the pair gets that column's grade). Of each
    pair one column is left out: the one not known beforehand (see `_column_to_leave_out`)."""
    left_out = {f.columns[0]: f.grade for f in single
                if f.excluded_by_default and len(f.columns) == 1}
    references = [(target, LeakGrade.CERTAIN)] if task_type is TaskType.REGRESSION else []
    references += [(c, g) for c, g in left_out.items() if _finite_number(sample[c]) is not None]
    if not references:
        return []
    usable = [c for c in features if c not in left_out]
    numbers = {c: x for c in usable[:PAIR_MAX_COLUMNS]
               if (x := _finite_number(sample[c])) is not None and x.nunique() >= 3}
    clocks = {c: m for c in usable if (m := clock_minutes(sample[c])) is not None}
    clocks = dict(list(clocks.items())[:CLOCK_MAX_COLUMNS])
    out: list[Finding] = []
    dropped: set[str] = set()
    for reference, grade in references:
        z = _finite_number(sample[reference])
        fits = _clock_pairs(z, clocks) + _plain_pairs(z, numbers, set(clocks))
        for fit in fits:
            if {fit.first, fit.second} & dropped:
                continue  # one of them is out already, so the pair is broken
            drop, keep, why = _column_to_leave_out(fit, z, {**numbers, **clocks})
            dropped.add(drop)
            out.append(_pair_finding(fit, reference, target, grade, drop, keep, why))
    return out


def _finite_number(values: pd.Series) -> pd.Series | None:
    """The column as numbers with infinities read as missing, or None if it holds none."""
    numbers = _as_number(values)
    return None if numbers is None else numbers.where(np.isfinite(numbers))


def _clock_pairs(z: pd.Series, clocks: dict[str, pd.Series]) -> list[_PairFit]:
    """Ordered pairs of clock columns whose difference in minutes, wrapped around midnight,
    equals z to the minute on most rows."""
    fits = []
    for (first, first_at), (second, second_at) in itertools.permutations(clocks.items(), 2):
        difference = first_at - second_at
        both = difference.notna() & z.notna()
        if both.sum() < PAIR_MIN_ROWS or z[both].nunique() < 3:
            continue
        gap = difference[both] - z[both]
        off = (gap + MINUTES_PER_DAY / 2) % MINUTES_PER_DAY - MINUTES_PER_DAY / 2
        equal = float((off.abs() < 0.5).mean())
        if equal >= CLOCK_EQUAL_SHARE:
            spread = float(((z[both] - z[both].mean()) ** 2).sum())
            r2 = 1.0 - float((off ** 2).sum()) / spread if spread > 0 else 0.0
            fits.append(_PairFit(first, second, "clock", r2, equal))
    return sorted(fits, key=lambda f: -f.equal_share)


def _plain_pairs(z: pd.Series, numbers: dict[str, pd.Series],
                 clocks: set[str]) -> list[_PairFit]:
    """Pairs whose plain difference or sum reproduces z: every pair screened at once from the
    covariances (missing values at the mean), the strongest checked exactly."""
    names = list(numbers)
    rows = z.notna().to_numpy()
    if len(names) < 2 or rows.sum() < PAIR_MIN_ROWS:
        return []
    x = np.column_stack([numbers[c].to_numpy()[rows] for c in names])
    seen = (~np.isnan(x)).sum(axis=0) >= PAIR_MIN_ROWS
    names, x = [c for c, keep in zip(names, seen) if keep], x[:, seen]
    x = np.nan_to_num(x - np.nanmean(x, axis=0))
    y = z.to_numpy()[rows]
    y = y - y.mean()
    n, y_var = len(y), float(y @ y) / len(y)
    if y_var <= 0:
        return []
    cov = x.T @ x / n
    with_y = x.T @ y / n
    var = np.diag(cov)
    screened = []
    for operation, sign in (("difference", -1.0), ("sum", 1.0)):
        spread = (var[:, None] + var[None, :] + 2 * sign * cov) * y_var
        shared = (with_y[:, None] + sign * with_y[None, :]) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(spread > 1e-12 * y_var * var.max(), shared / spread, 0.0)
        for i, j in zip(*np.nonzero(np.triu(r2 >= PAIR_SCREEN_R2, k=1))):
            if not (names[i] in clocks and names[j] in clocks):
                screened.append((float(r2[i, j]), names[i], names[j], operation))
    fits = []
    for _, first, second, operation in sorted(screened, reverse=True)[:PAIR_MAX_CHECKS]:
        fit = _exact_pair(z, numbers[first], numbers[second], first, second, operation)
        if fit is not None:
            fits.append(fit)
    return sorted(fits, key=lambda f: -f.r2)


def _exact_pair(z: pd.Series, a: pd.Series, b: pd.Series, first: str, second: str,
                operation: str) -> _PairFit | None:
    both = z.notna() & a.notna() & b.notna()
    if both.sum() < PAIR_MIN_ROWS:
        return None
    combined = a[both] - b[both] if operation == "difference" else a[both] + b[both]
    r2 = _linear_r2(combined, z[both].to_numpy())
    alone = max(_linear_r2(a[both], z[both].to_numpy()), _linear_r2(b[both], z[both].to_numpy()))
    if r2 < PAIR_R2 or 1.0 - r2 > PAIR_UNEXPLAINED_SHARE * (1.0 - alone):
        return None
    if operation == "difference" and np.corrcoef(combined, z[both])[0, 1] < 0:
        first, second = second, first  # said the way it reads: discharge minus admission
    return _PairFit(first, second, operation, r2, None)


def _column_to_leave_out(fit: _PairFit, z: pd.Series,
                         values: dict[str, pd.Series]) -> tuple[str, str, str]:
    """(left out, kept, why): a schedule, plan or estimate stays, a value named as recorded
    after the fact goes; else the one closer to z alone goes, since it carries the outcome."""
    pair = (fit.first, fit.second)
    planned = [c for c in pair if set(name_tokens(c)) & _PLANNED]
    after = [c for c in pair if set(name_tokens(c)) & set(_AFTER_THE_FACT)]
    if len(planned) == 1:
        keep = planned[0]
        drop, why = _other(pair, keep), f"'{keep}' reads as a schedule or plan, known beforehand"
    elif len(after) == 1:
        drop = after[0]
        why = f"the name '{drop}' speaks of after the fact"
    else:
        drop = max(pair, key=lambda c: _r2_on_shared_rows(values[c], z))
        why = f"'{drop}' is the closer of the two to '{z.name}' on its own"
    return drop, _other(pair, drop), why


def _r2_on_shared_rows(x: pd.Series, z: pd.Series) -> float:
    both = x.notna() & z.notna()
    return _linear_r2(x[both], z[both].to_numpy())


def _other(pair: tuple[str, str], column: str) -> str:
    return pair[1] if column == pair[0] else pair[0]


def _pair_finding(fit: _PairFit, reference: str, target: str, grade: LeakGrade, drop: str,
                  keep: str, why: str) -> Finding:
    how = _OPERATION_WORDS[fit.operation]
    read = (" (read as clock times written hhmm, wrapped around midnight)"
            if fit.operation == "clock" else "")
    match = (f"equals '{reference}' on {fit.equal_share:.1%} of the rows" if fit.equal_share
             is not None else f"reproduces '{reference}' (R² {fit.r2:.3f})")
    pair = f"'{fit.first}' {how} '{fit.second}'{read} {match}"
    evidence = {"pair": [fit.first, fit.second], "operation": fit.operation,
                "reproduces": reference, "r2": round(fit.r2, 4), "kept": keep,
                "signs": [f"with '{keep}' it reproduces '{reference}'", why]}
    if fit.equal_share is not None:
        evidence["equal_share"] = round(fit.equal_share, 4)
    if reference == target:
        message = (f"{pair}: the pair records the outcome a second time, so '{drop}' is left "
                   f"out and '{keep}' is kept, because {why}.")
    else:
        message = (f"{pair}, which the review left out ({grade}), so '{drop}' carries the same "
                   f"information and is left out with it; '{keep}' is kept, because {why}.")
        if grade is LeakGrade.SUSPECT:
            message += (f" Put '{drop}' back in the plan, with '{reference}', if both are known "
                        "when you predict.")
    return Finding(check="pair_leakage", severity=Severity.WARNING, columns=[drop],
                   excluded_by_default=True, grade=grade, evidence=evidence, message=message)


# --------------------------------------------------------------------------- second signs


def outcome_stems(target: str, brief: str = "") -> dict[str, str]:
    """Stems that mean the outcome, each with the word it came from: the target's name and
    its synonyms, and the brief's verb after 'will' ('which customers will cancel')."""
    words: dict[str, str] = {}
    for token in name_tokens(target):
        words.setdefault(token, target)
        for synonym in SYNONYMS.get(token, ()):
            words.setdefault(synonym, target)
    for verb in re.findall(r"\b(?:will|would|won'?t|to)\s+(?:not\s+)?([^\W\d_]{3,})",
                           str(brief or "")[:2000], re.IGNORECASE):
        token = stem(verb)
        if token in {"be", "hav", "get", "mak", "do", "predict", "know", "tell", "us"}:
            continue
        words.setdefault(token, verb.lower())
        for synonym in SYNONYMS.get(token, ()):
            words.setdefault(synonym, verb.lower())
    return {k: v for k, v in words.items() if len(k) >= 3 and k not in _GENERIC_NAME_WORDS}


def _second_signs(column: str, outcome: dict[str, str], values: pd.Series, y: pd.Series,
                  task_type: TaskType) -> list[str]:
    tokens = name_tokens(column)
    signs = []
    shared = [t for t in tokens if t in outcome]
    if shared:
        signs.append(f"its name shares meaning with the outcome ('{shared[0]}' ~ "
                     f"'{outcome[shared[0]]}')")
    after = [_AFTER_THE_FACT[t] for t in tokens if t in _AFTER_THE_FACT]
    after += [w for pair, w in _AFTER_THE_FACT_PAIRS.items()
              if any(tuple(tokens[i:i + 2]) == pair for i in range(len(tokens) - 1))]
    if after:
        signs.append(f"its name speaks of after the fact ('{after[0]}')")
    if task_type.is_classification:
        missing_class = _missing_for_one_class(values, y)
        if missing_class is not None:
            signs.append(f"it is missing exactly when '{y.name}' is '{missing_class}'")
    return signs


def _missing_for_one_class(values: pd.Series, y: pd.Series) -> str | None:
    missing = values.isna().to_numpy()
    if not 0 < missing.mean() < 1:
        return None
    labels = y.astype("str").to_numpy()
    for label in pd.unique(labels):
        in_class = labels == label
        if (missing[in_class].mean() >= MISSING_IN_CLASS
                and missing[~in_class].mean() <= MISSING_ELSEWHERE):
            return str(label)
    return None


# --------------------------------------------------------------------------- power, by bins


def _target_transforms(
    known: pd.DataFrame, target: str, features: list[str], task_type: TaskType, seed: int
) -> list[str]:
    """Features that are a monotone transform (regression) or a relabelling (classes) of y."""
    sample = known.sample(min(len(known), TRANSFORM_SAMPLE_ROWS), random_state=seed)
    y = sample[target]
    found = []
    if task_type is TaskType.REGRESSION:
        y_rank = y.astype("float64").rank()
        for column in features:
            x = _as_number(sample[column])
            if x is None:
                continue
            both = x.notna()
            if both.sum() < 10 or x[both].nunique() < 3:
                continue
            rho = np.corrcoef(x[both].rank(), y_rank[both])[0, 1]
            if np.isfinite(rho) and abs(rho) >= TRANSFORM_SPEARMAN:
                found.append(column)
    else:
        classes = y.nunique()
        for column in features:
            x = sample[column]
            if x.nunique(dropna=False) != classes:
                continue
            pairs = pd.DataFrame({"x": x.astype("str"), "y": y.astype("str")}).drop_duplicates()
            if len(pairs) == classes:
                found.append(column)
    return found


def _as_number(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("int64").astype("float64").where(values.notna())
    return None


def _leakage_target(values: pd.Series, task_type: TaskType) -> np.ndarray:
    if task_type is TaskType.REGRESSION:
        return values.astype("float64").to_numpy()[:, None]
    codes, _ = pd.factorize(values.astype("str"))
    return np.eye(codes.max() + 1)[codes]


def _bins(values: pd.Series, n_rows: int) -> np.ndarray:
    """Integer bin per row: the value itself for few values, else quantile bins; NaN its own."""
    numbers = _as_number(values)
    max_bins = int(min(LEAKAGE_MAX_BINS, max(2, n_rows // LEAKAGE_ROWS_PER_BIN)))
    if numbers is not None and numbers.nunique() > max_bins:
        ranks = numbers.rank(pct=True, method="average")
        codes = np.floor(ranks.to_numpy() * (max_bins - 1e-9))
        return np.where(np.isnan(codes), max_bins, codes).astype("int64")
    codes, _ = pd.factorize(values.astype("str") if numbers is None else numbers)
    return np.where(codes < 0, codes.max() + 1, codes).astype("int64")


def _binned_prediction(values: pd.Series, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Out-of-fold prediction of y by the mean of y within the feature's bins."""
    codes = _bins(values, len(values))
    n_codes = int(codes.max()) + 1
    prediction = np.empty_like(y, dtype="float64")
    for fold in range(LEAKAGE_FOLDS):
        test = folds == fold
        train = ~test
        prior = y[train].mean(axis=0)
        counts = np.bincount(codes[train], minlength=n_codes)[:, None]
        sums = np.stack(
            [
                np.bincount(codes[train], weights=y[train, k], minlength=n_codes)
                for k in range(y.shape[1])
            ],
            axis=1,
        )
        # A fraction of a pseudo-row of the prior: empty bins predict the prior.
        means = (sums + LEAKAGE_PSEUDO_ROWS * prior) / (counts + LEAKAGE_PSEUDO_ROWS)
        prediction[test] = means[codes[test]]
    return prediction


# --------------------------------------------------------------------------- validation


def entity_column(profile: DataProfile, spec: TaskSpec) -> str | None:
    """A column that repeats an entity over many rows (a customer, a patient, a store)."""
    best, best_rows = None, 0.0
    for col in profile.column_profiles:
        if col.name == spec.target or col.role not in (
            ColumnRole.CATEGORICAL, ColumnRole.NUMERIC, ColumnRole.IDENTIFIER
        ):
            continue
        named = is_id_like_name(col.name) or bool(_ENTITY_NAME.search(str(col.name)))
        if col.role is ColumnRole.NUMERIC and not (
            is_id_like_name(col.name) or _ENTITY_NAME.fullmatch(str(col.name).strip())
        ):
            named = False  # a number named 'store_size' is a measurement, not an entity
        present = profile.rows * (1.0 - col.missing_share)
        if not named or col.missing_share > 0.05 or col.unique_count < MIN_GROUPS:
            continue
        rows_per_group = present / max(col.unique_count, 1)
        repeats = (rows_per_group >= MIN_ROWS_PER_GROUP
                   and col.unique_count <= MAX_GROUP_SHARE * present)
        if repeats and rows_per_group > best_rows:
            best, best_rows = col.name, rows_per_group
    return best


def time_column(profile: DataProfile, spec: TaskSpec, brief: str) -> str | None:
    """The date column that orders the rows, when the brief speaks of the future."""
    if not _FUTURE.search(str(brief or "")[:2000]):
        return None
    excluded = set(spec.excluded_columns)
    dates = [
        c for c in profile.column_profiles
        if c.role is ColumnRole.DATETIME and c.name != spec.target and c.name not in excluded
        and c.missing_share <= 0.05 and c.unique_count >= 10
    ]
    return max(dates, key=lambda c: c.unique_count).name if dates else None


def propose_validation(profile: DataProfile, spec: TaskSpec, brief: str) -> ValidationSpec:
    """Time order when the brief speaks of the future and a date orders the rows; else
    groups when an entity repeats; else a random split."""
    when = time_column(profile, spec, brief)
    if when is not None:
        return ValidationSpec(
            kind=ValidationKind.TIME, column=when,
            why=(f"The brief speaks of the future and '{when}' orders the rows, so the latest "
                 "rows are held out and cross-validation trains on the past and validates on "
                 "what follows."),
        )
    entity = entity_column(profile, spec)
    if entity is not None:
        col = profile.column(entity)
        per = profile.rows / max(col.unique_count, 1)
        return ValidationSpec(
            kind=ValidationKind.GROUP, column=entity,
            why=(f"'{entity}' repeats ({col.unique_count:,} values, {per:.1f} rows each on "
                 "average), so all rows of one value stay on the same side of every split; "
                 "otherwise the test would reward remembering them."),
        )
    return ValidationSpec(kind=ValidationKind.RANDOM, why="No repeated entity or time order "
                          "calls for anything else, so rows are split at random.")


# --------------------------------------------------------------------------- imbalance


def rare_positive_share(profile: DataProfile, spec: TaskSpec) -> float | None:
    """The positive class's share of the rows, when the task is binary and it is rare."""
    if spec.task_type is not TaskType.BINARY:
        return None
    counts = dict(profile.column(spec.target).top_values)
    total = sum(counts.values())
    positive = spec.positive_class if spec.positive_class in counts else None
    if positive is None and counts:
        positive = min(counts, key=counts.get)
    share = counts.get(positive, 0) / total if total else None
    return share if share is not None and share < RARE_POSITIVE_SHARE else None


# --------------------------------------------------------------------------- the spec


def review_spec(spec: TaskSpec, profile: DataProfile, findings: list[Finding],
                brief: str) -> TaskSpec:
    """The spec with what the review proposes: a validation scheme, a metric for a rare
    positive class, and notes naming strong-but-plausible inputs. A spec that was already
    reviewed (its validation is not 'auto') keeps the user's choices."""
    if spec.validation.kind is not ValidationKind.AUTO:
        _check_validation(spec.validation, profile)
        return spec.model_copy(update={"review_notes": _notes(spec, findings, None)})
    validation = propose_validation(profile, spec, brief)
    metric, imbalance_note = spec.metric, None
    share = rare_positive_share(profile, spec)
    if share is not None:
        asked = not choose_metric(brief, spec.task_type)[1].startswith("the default")
        if spec.metric == "roc_auc" and not asked:
            metric = "average_precision"
            imbalance_note = (
                f"The positive class is rare ({share:.1%} of the rows), so the metric is "
                "average precision (the area under the precision-recall curve), which ROC AUC "
                "can hide; the decision threshold is chosen on validation data to maximise F1.")
        else:
            imbalance_note = (
                f"The positive class is rare ({share:.1%} of the rows); the metric stays "
                f"{spec.metric} as asked, and the decision threshold is chosen on validation "
                "data to maximise F1.")
    reviewed = spec.model_copy(update={"validation": validation, "metric": metric})
    return reviewed.model_copy(update={"review_notes": _notes(reviewed, findings, imbalance_note)})


SPLIT_CHOICES = "random, group:COLUMN or time:COLUMN"
MIN_SPLIT_GROUPS = 4  # fewer, and the build splits at random (see `core.build`)


def split_from_text(text: str) -> ValidationSpec:
    """The user's choice of held-out split, as `briefml build --split` takes it: 'random',
    'group:COLUMN' (all rows of one value on the same side) or 'time:COLUMN' (the latest
    rows held out). Checked against the data later, by `review_spec`."""
    kind, _, column = str(text).strip().partition(":")
    try:
        chosen = ValidationKind(kind.strip().lower())
    except ValueError:
        chosen = None
    needs_column = chosen in (ValidationKind.GROUP, ValidationKind.TIME)
    if chosen in (None, ValidationKind.AUTO) or needs_column != bool(column.strip()):
        raise PlanError(f"--split takes {SPLIT_CHOICES}, not '{text}'.")
    return ValidationSpec(
        kind=chosen, column=column.strip() or None,
        why=f"Set by the user: --split {text.strip()}.")


def _check_validation(validation: ValidationSpec, profile: DataProfile) -> None:
    if validation.kind in (ValidationKind.GROUP, ValidationKind.TIME):
        if validation.column not in profile.names:
            shown = ", ".join(f"'{n}'" for n in profile.names[:30])
            more = f" and {len(profile.names) - 30} more" if len(profile.names) > 30 else ""
            raise PlanError(
                f"A {validation.kind.value} split needs a column of the data to split on, not "
                f"'{validation.column}'; the columns are {shown}{more}.")
        column = profile.column(validation.column)
        if validation.kind is ValidationKind.GROUP and column.unique_count < MIN_SPLIT_GROUPS:
            raise PlanError(
                f"Column '{column.name}' has only {column.unique_count} distinct value(s), too "
                f"few to keep whole groups apart (at least {MIN_SPLIT_GROUPS}); pick another "
                "column or a random split.")
        if (validation.kind is ValidationKind.TIME
                and column.role is not ColumnRole.DATETIME):
            raise PlanError(
                f"Column '{validation.column}' does not hold dates, so it cannot order the rows "
                "in time; pick a date column or another split.")


def _notes(spec: TaskSpec, findings: list[Finding], imbalance_note: str | None) -> list[str]:
    notes = [f"Validation: {spec.validation.why}"] if spec.validation.why else []
    if imbalance_note:
        notes.append(imbalance_note)
    elif spec.review_notes:
        notes += [n for n in spec.review_notes if n.startswith("The positive class is rare")]
    plausible = [c for f in findings if f.grade is LeakGrade.PLAUSIBLE for c in f.columns
                 if c in spec.feature_columns]
    if plausible:
        shown = ", ".join(f"'{c}'" for c in plausible[:10])
        notes.append(f"Strong inputs kept: {shown}; check that they are known when you predict.")
    for column in spec.restored:
        notes.append(f"'{column}' was a leakage suspect and is used because you put it back.")
    return notes


# --------------------------------------------------------------------------- after training


def _dominates(importance: list[dict], total: float) -> bool:
    """Whether the first column of `importance` (sorted, largest first) dominates the model."""
    shares = [float(i.get("mean_abs_shap") or 0.0) / total for i in importance[:2]]
    if shares[0] >= DOMINANT_SHAP_SHARE:
        return True
    runner_up = shares[1] if len(shares) > 1 else 0.0
    return shares[0] >= DOMINANT_LEAD_SHARE and shares[0] >= DOMINANT_LEAD_RATIO * runner_up


def too_good_to_be_true(explanation: dict | None, holdout: dict, metric: str,
                        findings: list[Finding] = ()) -> Finding | None:
    """One column carrying most of the SHAP importance while the held-out score is near the
    metric's ceiling: worth a warning at the top of the model page. A column the review
    found strong but plausible (no sign of a leak besides its power) gets a milder note."""
    importance = (explanation or {}).get("importance") or []
    total = sum(float(i.get("mean_abs_shap") or 0.0) for i in importance)
    if not importance or total <= 0:
        return None
    top = importance[0]
    share = float(top.get("mean_abs_shap") or 0.0) / total
    near = {m: holdout.get(m) for m, ceiling in _NEAR_CEILING.items()
            if isinstance(holdout.get(m), (int, float)) and holdout[m] >= ceiling}
    if not _dominates(importance, total) or not near:
        return None
    name, score = (metric, near[metric]) if metric in near else next(iter(near.items()))
    column = top["column"]
    evidence = {"shap_share": round(share, 4), "metric": name, "score": round(float(score), 4)}
    plausible = any(f.grade is LeakGrade.PLAUSIBLE and column in f.columns for f in findings)
    if plausible:
        return Finding(
            check="too_good_to_be_true", severity=Severity.INFO, columns=[column],
            evidence={**evidence, "review": str(LeakGrade.PLAUSIBLE)},
            message=(
                f"'{column}' carries {share:.0%} of the model's importance and the held-out "
                f"{name} is {score:.3f}, close to perfect. Before training the review found no "
                f"sign of a leak besides its strength, so this may simply be an easy problem; "
                f"check that '{column}' is known at the time you predict."
            ),
        )
    return Finding(
        check="too_good_to_be_true", severity=Severity.WARNING, columns=[column],
        evidence=evidence,
        message=(
            f"This looks too good to be true: '{column}' carries {share:.0%} of the model's "
            f"importance and the held-out {display_name(name)} is {score:.3f}, close to perfect. Check that "
            f"'{column}' is known at the time you predict and is not recorded after the outcome."
        ),
    )


def with_restored(spec: TaskSpec) -> TaskSpec:
    """The spec with the suspects in `restored` taken out of `excluded` and used as inputs
    (the checks will not exclude them again; see `task_rules.exclusions_for`)."""
    back = [e.column for e in spec.excluded
            if e.column in spec.restored and e.grade in (None, LeakGrade.SUSPECT)
            and e.reason.value == "leakage suspect"]
    if not back:
        return spec
    return spec.model_copy(update={
        "excluded": [e for e in spec.excluded if e.column not in back],
        "feature_columns": [*spec.feature_columns,
                            *(c for c in back if c not in spec.feature_columns)],
    })


def review_summary(spec: TaskSpec, findings: list[Finding]) -> dict:
    """The review as plain JSON (for `briefml build --json` and reports): graded findings
    with their severities and evidence, the validation scheme, and the notes."""
    graded = [f for f in findings if f.grade is not None or f.check == "too_good_to_be_true"]
    return {
        "findings": [
            {"check": f.check, "severity": str(f.severity),
             "grade": None if f.grade is None else str(f.grade), "columns": list(f.columns),
             "excluded": f.excluded_by_default and not any(c in spec.restored for c in f.columns),
             "evidence": dict(f.evidence), "message": f.message}
            for f in graded
        ],
        "validation": spec.validation.model_dump(mode="json"),
        "restored": list(spec.restored),
        "notes": list(spec.review_notes),
    }


def choose_threshold(y: np.ndarray, positive_probability: np.ndarray) -> float | None:
    """The probability from which to call a row positive that maximises F1 on validation
    rows (y: 1 for the positive class); None when there is no positive row."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(positive_probability, dtype="float64")
    keep = np.isfinite(p)
    y, p = y[keep], p[keep]
    if not y.any():
        return None
    order = np.argsort(-p, kind="stable")
    hits = np.cumsum(y[order])
    called = np.arange(1, len(p) + 1)
    f1 = 2 * hits / (called + y.sum())
    # only where the next probability differs can the cut fall between two rows
    last_of_tie = np.r_[p[order][1:] != p[order][:-1], True]
    best = int(np.argmax(np.where(last_of_tie, f1, -1.0)))
    return float(p[order][best])
