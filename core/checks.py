"""Deterministic data checks that run before any training.

Each check returns `core.spec.Finding`s with a severity and one sentence a non-expert
understands. Columns that would mislead a model (identifiers, constants, copies of the target,
columns that alone predict the target almost perfectly) are marked `excluded_by_default`; the
user can put them back.

Without a target only the table-level checks run; with a target the target checks and the
leakage checks run too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from core.errors import DataError
from core.planner import Planner
from core.planning.task_rules import spec_with_findings, task_type_from_profile
from core.profile import is_id_like_name
from core.spec import (
    ColumnProfile,
    ColumnRole,
    DataProfile,
    Finding,
    Severity,
    TaskProposal,
    TaskType,
)

# Single-feature leakage: "almost perfectly" from one column, in a quick out-of-fold test.
LEAKAGE_AUC = 0.99
LEAKAGE_R2 = 0.98
LEAKAGE_SAMPLE_ROWS = 5_000
LEAKAGE_FOLDS = 5
LEAKAGE_MAX_BINS = 256
LEAKAGE_ROWS_PER_BIN = 10
LEAKAGE_PSEUDO_ROWS = 0.1
# A monotone transform of the target (log, rescaling) has a rank correlation of ~1.
TRANSFORM_SPEARMAN = 0.999
TRANSFORM_SAMPLE_ROWS = 50_000
# Classes
MIN_ROWS_PER_CLASS = 10
IMBALANCE_RATIO = 0.1  # minority / majority
MIN_ROWS = 20
DUPLICATE_WARNING_SHARE = 0.05

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def run_checks(
    df: pd.DataFrame,
    profile: DataProfile,
    target: str | None = None,
    task_type: TaskType | None = None,
    seed: int = 0,
) -> list[Finding]:
    """Run every check that applies and return the findings, most severe first.

    target: the column to predict, when it is known; task_type: inferred from the target's
    values when not given. Raises DataError if `target` is not a column of `df`.
    """
    if target is not None and target not in df.columns:
        raise DataError(
            f"There is no column named '{target}' in the table. "
            f"Pick one of: {', '.join(map(str, list(df.columns)[:20]))}."
        )
    findings = [*_table_checks(profile), *_column_checks(profile, target)]
    if target is not None:
        target_profile = profile.column(target)
        task_type = task_type or task_type_from_profile(target_profile)
        target_findings = _target_checks(df[target], target_profile, task_type)
        if not any(f.severity is Severity.ERROR for f in target_findings):
            target_findings += _leakage_checks(df, profile, target, task_type, findings, seed)
        findings += [f.model_copy(update={"target": target}) for f in target_findings]
    return sorted(findings, key=lambda f: _SEVERITY_ORDER[f.severity])


def raise_for_errors(findings: list[Finding]) -> None:
    """Raise DataError with the messages of all error-level findings, if there are any."""
    errors = [f.message for f in findings if f.severity is Severity.ERROR]
    if errors:
        raise DataError(" ".join(errors))


# --------------------------------------------------------------------------- table and columns


def _table_checks(profile: DataProfile) -> list[Finding]:
    out = []
    if profile.rows < MIN_ROWS:
        out.append(
            Finding(
                check="too_few_rows",
                severity=Severity.ERROR,
                message=(
                    f"The table has only {profile.rows} rows; a model needs at least {MIN_ROWS} "
                    "examples to learn from and to be tested on."
                ),
            )
        )
    if profile.duplicate_rows:
        share = profile.duplicate_rows / max(profile.rows, 1)
        out.append(
            Finding(
                check="duplicate_rows",
                severity=Severity.WARNING if share >= DUPLICATE_WARNING_SHARE else Severity.INFO,
                message=(
                    f"{profile.duplicate_rows:,} rows ({share:.1%}) are exact repeats of other "
                    "rows; if they are not real repeat events, remove them, because they make "
                    "test scores look better than they are."
                ),
            )
        )
    return out


def _column_checks(profile: DataProfile, target: str | None) -> list[Finding]:
    out = []
    for col in profile.column_profiles:
        if col.name == target:
            continue
        if col.missing_share >= 1.0:
            out.append(
                Finding(
                    check="empty_column",
                    severity=Severity.INFO,
                    message=f"Column '{col.name}' is empty (every value is missing), so it is left out.",
                    columns=[col.name],
                    excluded_by_default=True,
                )
            )
        elif col.role is ColumnRole.CONSTANT:
            value = col.top_values[0][0] if col.top_values else "?"
            out.append(
                Finding(
                    check="constant",
                    severity=Severity.INFO,
                    message=(
                        f"Column '{col.name}' has the same value ('{value}') on every row, so it "
                        "cannot help tell rows apart and is left out."
                    ),
                    columns=[col.name],
                    excluded_by_default=True,
                )
            )
        elif _is_identifier(col, profile.rows):
            out.append(
                Finding(
                    check="identifier",
                    severity=Severity.WARNING,
                    message=(
                        f"Column '{col.name}' looks like an identifier (a different value on "
                        "almost every row, like a name or an ID), so it cannot help predict new "
                        "rows and is left out."
                    ),
                    columns=[col.name],
                    excluded_by_default=True,
                )
            )
    return out


def _is_identifier(col: ColumnProfile, rows: int) -> bool:
    if col.role is ColumnRole.IDENTIFIER:
        return True
    present = rows * (1.0 - col.missing_share)
    return (
        col.role in (ColumnRole.CATEGORICAL, ColumnRole.NUMERIC)
        and is_id_like_name(col.name)
        and present >= 20
        and col.unique_count >= 0.95 * present
        and (col.role is ColumnRole.CATEGORICAL or _whole_number_range(col))
    )


def _whole_number_range(col: ColumnProfile) -> bool:
    return (
        isinstance(col.min, float) and float(col.min).is_integer() and float(col.max).is_integer()
    )


# --------------------------------------------------------------------------- target


def _target_checks(values: pd.Series, col: ColumnProfile, task_type: TaskType) -> list[Finding]:
    name = col.name
    missing = int(values.isna().sum())
    if missing == len(values):
        return [
            Finding(
                check="missing_target",
                severity=Severity.ERROR,
                message=(
                    f"Column '{name}' is empty (every value is missing), so there is nothing to "
                    "learn from; pick another column to predict or fill it in."
                ),
                columns=[name],
            )
        ]
    out = []
    if missing:
        out.append(
            Finding(
                check="missing_target",
                severity=Severity.WARNING,
                message=(
                    f"{missing:,} rows ({missing / len(values):.1%}) have no value for '{name}'; "
                    "they cannot be learned from and are left out of training."
                ),
                columns=[name],
            )
        )
    if task_type.is_classification:
        out += _class_checks(values.dropna(), name)
    elif not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        out.append(
            Finding(
                check="target_not_numeric",
                severity=Severity.ERROR,
                message=(
                    f"Column '{name}' does not hold numbers, so its value cannot be estimated as "
                    "a quantity; predict it as a category instead."
                ),
                columns=[name],
            )
        )
    elif values.nunique() < 2:
        out.append(_single_value(name, values.dropna().iloc[0], "a model"))
    return out


def _single_value(name: str, value, needs: str) -> Finding:
    return Finding(
        check="single_class",
        severity=Severity.ERROR,
        message=(
            f"Column '{name}' has only one value ('{value}') in the uploaded file; {needs} "
            "needs at least two different values to learn from."
        ),
        columns=[name],
    )


def _class_checks(present: pd.Series, name: str) -> list[Finding]:
    counts = present.value_counts()
    if len(counts) < 2:
        return [_single_value(name, counts.index[0], "a classifier")]
    out = []
    rare = counts[counts < MIN_ROWS_PER_CLASS]
    if len(rare):
        shown = ", ".join(f"'{k}' ({v})" for k, v in rare.head(5).items())
        out.append(
            Finding(
                check="rare_class",
                severity=Severity.WARNING,
                message=(
                    f"Some values of '{name}' occur on fewer than {MIN_ROWS_PER_CLASS} rows "
                    f"({shown}); the model will hardly learn them and their scores will be "
                    "unreliable."
                ),
                columns=[name],
            )
        )
    ratio = counts.iloc[-1] / counts.iloc[0]
    if ratio < IMBALANCE_RATIO:
        minority = counts.index[-1]
        out.append(
            Finding(
                check="class_imbalance",
                severity=Severity.WARNING,
                message=(
                    f"'{name}' is imbalanced: '{minority}' is only {counts.iloc[-1] / counts.sum():.1%} "
                    "of the rows, so plain accuracy is misleading; judge the model by a ranking "
                    "or probability metric instead."
                ),
                columns=[name],
            )
        )
    return out


# --------------------------------------------------------------------------- leakage


def _leakage_checks(
    df: pd.DataFrame,
    profile: DataProfile,
    target: str,
    task_type: TaskType,
    earlier: list[Finding],
    seed: int,
) -> list[Finding]:
    skip = {c for f in earlier if f.excluded_by_default for c in f.columns} | {target}
    features = [
        c.name
        for c in profile.column_profiles
        if c.name not in skip and c.role not in (ColumnRole.TEXT, ColumnRole.IDENTIFIER)
    ]
    if not features:
        return []
    known = df[df[target].notna()]
    out = []
    transforms = _target_transforms(known, target, features, task_type, seed)
    for column in transforms:
        out.append(
            Finding(
                check="target_transform",
                severity=Severity.WARNING,
                message=(
                    f"Column '{column}' is a copy or a simple transformation of '{target}' "
                    "(they move in lockstep), so it would not be known when predicting and is "
                    "left out."
                ),
                columns=[column],
                excluded_by_default=True,
            )
        )
    sample = known.sample(min(len(known), LEAKAGE_SAMPLE_ROWS), random_state=seed)
    y, score_name = _leakage_target(sample[target], task_type)
    folds = np.random.default_rng(seed).permutation(len(sample)) % LEAKAGE_FOLDS
    for column in features:
        if column in transforms:
            continue
        score = _single_feature_score(sample[column], y, folds, task_type)
        limit = LEAKAGE_R2 if task_type is TaskType.REGRESSION else LEAKAGE_AUC
        if score is not None and score > limit:
            out.append(
                Finding(
                    check="single_feature_leakage",
                    severity=Severity.WARNING,
                    message=(
                        f"Column '{column}' on its own predicts '{target}' almost perfectly "
                        f"({score_name} {score:.3f} in a quick test), which usually means it is "
                        "recorded after the outcome; it is left out unless you put it back."
                    ),
                    columns=[column],
                    excluded_by_default=True,
                )
            )
    return out


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


def _leakage_target(values: pd.Series, task_type: TaskType) -> tuple[np.ndarray, str]:
    if task_type is TaskType.REGRESSION:
        return values.astype("float64").to_numpy()[:, None], "R²"
    codes, _ = pd.factorize(values.astype("str"))
    return np.eye(codes.max() + 1)[codes], "AUC"


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


def _single_feature_score(
    values: pd.Series, y: np.ndarray, folds: np.ndarray, task_type: TaskType
) -> float | None:
    """Out-of-fold score of predicting y by the mean of y within the feature's bins."""
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
    return _score(y, prediction, task_type)


def _score(y: np.ndarray, prediction: np.ndarray, task_type: TaskType) -> float | None:
    try:
        if task_type is TaskType.REGRESSION:
            total = ((y - y.mean()) ** 2).sum()
            return float(1.0 - ((y - prediction) ** 2).sum() / total) if total > 0 else None
        if y.shape[1] == 2:
            return float(roc_auc_score(y[:, 1], prediction[:, 1]))
        present = y.sum(axis=0) > 0
        return float(roc_auc_score(y[:, present], prediction[:, present], average="macro"))
    except ValueError:
        return None


# --------------------------------------------------------------------------- with a planner


def check_and_propose(
    brief: str, df: pd.DataFrame, profile: DataProfile, planner: Planner, seed: int = 0
) -> tuple[TaskProposal, list[Finding]]:
    """Checks, the planner's proposal, then the checks that need the target, in that order.

    The planner sees the table-level findings; once it has chosen a target, the target and
    leakage checks run and their exclusions are added to the spec. Returns the proposal and
    all findings (for the target, when there is one).
    """
    findings = run_checks(df, profile, seed=seed)
    proposal = planner.propose_task(brief, profile, findings)
    if proposal.spec is None:
        return proposal, findings
    spec = proposal.spec
    findings = run_checks(df, profile, spec.target, spec.task_type, seed=seed)
    spec = spec_with_findings(spec, profile, findings)
    return proposal.model_copy(update={"spec": spec}), findings
