"""Deterministic data checks that run before any training.

Each check returns `core.spec.Finding`s with a severity and one sentence a non-expert
understands. Columns that would mislead a model (identifiers, constants, copies of the target,
leakage suspects graded by `core.review`) are marked `excluded_by_default`; a suspect can be
put back by the user (`TaskSpec.restored`).

Without a target only the table-level checks run; with a target the target checks and the
leakage checks run too.
"""

from __future__ import annotations

import pandas as pd

from core.errors import DataError
from core.planner import Planner
from core.planning.task_rules import spec_with_findings, task_type_from_profile
from core.profile import is_id_like_name
from core.review import leakage_findings, ordered_identifier_power
from core.spec import (
    ColumnProfile,
    ColumnRole,
    DataProfile,
    Finding,
    Severity,
    TaskProposal,
    TaskType,
)

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
    brief: str = "",
) -> list[Finding]:
    """Run every check that applies and return the findings, most severe first.

    target: the column to predict, when it is known; task_type: inferred from the target's
    values when not given; brief: its outcome words are one of the leakage review's signs.
    Raises DataError if `target` is not a column of `df`.
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
            target_findings += _leakage_checks(
                df, profile, target, task_type, findings, seed, brief
            )
        findings = [_ordered_identifier(f, df, profile, target, task_type, seed)
                    if f.check == "identifier" and f.columns[0] != target else f for f in findings]
        findings += [f.model_copy(update={"target": target}) for f in target_findings]
    return sorted(findings, key=lambda f: _SEVERITY_ORDER[f.severity])


def _ordered_identifier(finding: Finding, df: pd.DataFrame, profile: DataProfile, target: str,
                        task_type: TaskType, seed: int) -> Finding:
    """An identifier left out, unless its numbers alone predict the target: then they number
    the rows in an order that carries signal, and it is kept, with a word on when not to."""
    column = finding.columns[0]
    power = ordered_identifier_power(df, column, target, task_type, seed)  # None for names
    if power is None:
        return finding
    how = f"R² {power['r2']:.2f}" if "r2" in power else f"AUC {power['auc']:.2f}"
    return Finding(
        check="ordered_identifier", severity=Severity.WARNING, target=target, columns=[column],
        message=(f"Column '{column}' differs on every row, like an ID, but its numbers alone "
                 f"predict '{target}' ({how}): they follow an order that carries signal (when "
                 f"rows were recorded, say), so it is kept. Leave it out if new rows' "
                 f"'{column}' will not follow the same order."),
        excluded_by_default=False,
    )


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
    brief: str,
) -> list[Finding]:
    """Graded leakage review of every usable column (see `core.review`)."""
    skip = {c for f in earlier if f.excluded_by_default for c in f.columns} | {target}
    features = [
        c.name
        for c in profile.column_profiles
        if c.name not in skip and c.role not in (ColumnRole.TEXT, ColumnRole.IDENTIFIER)
    ]
    if not features:
        return []
    return leakage_findings(df, profile, target, task_type, features, brief=brief, seed=seed)


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
    findings = run_checks(df, profile, spec.target, spec.task_type, seed=seed, brief=brief)
    spec = spec_with_findings(spec, profile, findings)
    return proposal.model_copy(update={"spec": spec}), findings
