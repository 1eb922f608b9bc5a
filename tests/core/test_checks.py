"""run_checks: table checks, target checks, target copies and single-feature leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.tasks import load_task
from core.checks import raise_for_errors, run_checks
from core.errors import DataError
from core.loading import infer_types
from core.profile import profile_frame
from core.spec import Severity, TaskType


def _checks(df, target=None, task_type=None):
    return run_checks(df, profile_frame(df), target=target, task_type=task_type)


def _by_check(findings) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in findings:
        out.setdefault(f.check, []).append(f)
    return out


def _flagged(findings, check) -> set[str]:
    return {c for f in findings if f.check == check for c in f.columns}


@pytest.fixture
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 600
    tenure = rng.integers(1, 72, n)
    charges = rng.normal(70, 20, n)
    churn = (rng.random(n) < 1 / (1 + np.exp((tenure - 20) / 10))).astype(int)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "tenure": tenure,
            "charges": charges,
            "country": "NL",
            "notes": np.nan,
            "churn": churn,
        }
    )


def test_table_checks_without_a_target(customers):
    findings = _checks(customers)
    assert _flagged(findings, "identifier") == {"customer_id"}
    assert _flagged(findings, "constant") == {"country"}
    assert _flagged(findings, "empty_column") == {"notes"}
    assert all(f.excluded_by_default for f in findings)
    assert all(f.message.endswith(".") and f.target is None for f in findings)


def test_legitimate_predictors_are_not_leakage(customers):
    findings = _checks(customers, "churn")
    assert not _flagged(findings, "single_feature_leakage")
    assert not _flagged(findings, "target_transform")


def test_copy_and_relabelling_of_a_class_target(customers):
    customers["churn_label"] = customers["churn"].map({0: "stayed", 1: "left"})
    findings = _checks(customers, "churn")
    assert _flagged(findings, "target_transform") == {"churn_label"}
    assert all(f.target == "churn" for f in findings if f.check == "target_transform")


def test_near_perfect_single_feature_is_leakage(customers):
    rng = np.random.default_rng(1)
    # e.g. "days until cancellation", recorded after the outcome: separates the classes
    customers["days_to_cancel"] = np.where(customers["churn"] == 1, 5, 400) + rng.normal(
        0, 3, len(customers)
    )
    findings = _checks(customers, "churn")
    (leak,) = [f for f in findings if f.check == "single_feature_leakage"]
    assert leak.columns == ["days_to_cancel"] and leak.excluded_by_default
    assert "almost perfectly" in leak.message and "AUC" in leak.message


def test_log_and_rescaled_copies_of_a_numeric_target():
    rng = np.random.default_rng(2)
    n = 400
    x = rng.normal(size=n)
    price = np.exp(1 + x + rng.normal(0, 0.5, n)) * 1000
    df = pd.DataFrame(
        {
            "x": x,
            "log_price": np.log(price),
            "price_thousands": price / 1000,
            "noise": rng.normal(size=n),
            "price": price,
        }
    )
    findings = _checks(df, "price")
    assert _flagged(findings, "target_transform") == {"log_price", "price_thousands"}
    assert not _flagged(findings, "single_feature_leakage")


def test_non_monotone_leak_in_regression():
    rng = np.random.default_rng(3)
    n = 2000
    y = rng.normal(size=n)
    df = pd.DataFrame({"y": y, "x": rng.normal(size=n)})
    # determines y exactly, but not in order: only the quick model test can catch it
    df["folded"] = np.where(y < 0, -y, y + 10)
    df["y_squared"] = y**2  # loses the sign: strong, not a leak
    df["wiggle"] = np.sin(y * 40)  # many values of y per value: not a leak
    findings = _checks(df, "y", TaskType.REGRESSION)
    assert not _flagged(findings, "target_transform")
    # near-perfect power alone is shown, not a reason to leave the column out
    (strong,) = [f for f in findings if f.check == "strong_feature"]
    assert strong.columns == ["folded"] and "R²" in strong.message
    assert not strong.excluded_by_default and strong.evidence["r2"] > 0.98
    # with a second sign (a name that speaks of after the fact) it is a certain leak
    df = df.rename(columns={"folded": "final_y_folded"})
    findings = _checks(df, "y", TaskType.REGRESSION)
    (leak,) = [f for f in findings if f.check == "single_feature_leakage"]
    assert leak.columns == ["final_y_folded"] and leak.excluded_by_default
    assert str(leak.grade) == "certain leak" and "R²" in leak.message


def test_missing_target_values():
    df = pd.DataFrame({"x": range(40), "y": [np.nan] * 40})
    findings = _checks(df, "y", TaskType.REGRESSION)
    (error,) = [f for f in findings if f.severity is Severity.ERROR]
    assert error.check == "missing_target" and "every value is missing" in error.message
    with pytest.raises(DataError, match="'y' is empty"):
        raise_for_errors(findings)
    df.loc[:29, "y"] = np.arange(30.0)
    (warning,) = [f for f in _checks(df, "y") if f.check == "missing_target"]
    assert warning.severity is Severity.WARNING and "10 rows" in warning.message


def test_single_class_rare_class_and_imbalance():
    df = pd.DataFrame({"x": range(300), "y": ["no"] * 300})
    findings = _checks(df, "y", TaskType.BINARY)
    assert [f.check for f in findings if f.severity is Severity.ERROR] == ["single_class"]
    with pytest.raises(DataError, match=r"only one value \('no'\).*at least two"):
        raise_for_errors(findings)
    df = pd.DataFrame({"x": range(300), "y": ["no"] * 290 + ["yes"] * 6 + ["maybe"] * 4})
    checks = _by_check(_checks(df, "y"))
    assert "'yes' (6)" in checks["rare_class"][0].message
    assert checks["class_imbalance"][0].severity is Severity.WARNING


def test_duplicate_rows_and_too_few_rows():
    df = pd.DataFrame({"a": [1, 2] * 20, "b": ["x", "y"] * 20})
    (dup,) = [f for f in _checks(df) if f.check == "duplicate_rows"]
    assert dup.severity is Severity.WARNING and "38 rows" in dup.message
    tiny = pd.DataFrame({"a": [1, 2, 3], "b": [3.0, 1.0, 2.0]})
    assert [f.check for f in _checks(tiny) if f.severity is Severity.ERROR] == ["too_few_rows"]


def test_unknown_target_is_named():
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    with pytest.raises(DataError, match="no column named 'churn'"):
        _checks(df, "churn")


def test_real_data_wage_and_default():
    wage, _ = load_task("wage")
    findings = _checks(infer_types(wage), "wage", TaskType.REGRESSION)
    assert "logwage" in _flagged(findings, "target_transform") | _flagged(
        findings, "single_feature_leakage"
    )
    default, _ = load_task("default")
    findings = _checks(infer_types(default), "default", TaskType.BINARY)
    # balance is a strong, legitimate predictor (AUC ~0.95): it must stay in
    assert "balance" not in _flagged(findings, "single_feature_leakage")
    assert _flagged(findings, "class_imbalance") == {"default"}


def _artworks(id_order: str, n: int = 800) -> pd.DataFrame:
    """Works with an accession number: numbered as they came in ('acquired'), which follows
    the year made loosely, at random, or sorted by the year itself ('sorted')."""
    rng = np.random.default_rng(0)
    year = rng.integers(1990, 2013, n)
    medium = rng.choice(["oil", "print", "video"], n)
    came_in = year + rng.normal(0, 4, n)  # a work is acquired some years after it is made
    order = {"acquired": np.argsort(np.argsort(came_in)), "random": rng.permutation(n),
             "sorted": np.argsort(np.argsort(year + rng.random(n) * 0.01))}[id_order]
    return pd.DataFrame({"id": 20000 + order, "medium": medium, "year": year})


def test_an_identifier_whose_numbers_predict_the_target_is_kept_and_said_so():
    """Tate's accession numbers follow acquisition, and predict the year a work was made:
    such an identifier is kept (with a word on when not to), while a random one, or one
    sorted by the target itself (a leak, not an order), is left out as before."""
    from core.planning.offline import OfflinePlanner
    from core.checks import check_and_propose

    def plan(id_order: str):
        df = _artworks(id_order)
        profile = profile_frame(df)
        proposal, findings = check_and_propose("In which year was each work made?", df, profile,
                                               OfflinePlanner())
        return proposal.spec, _by_check(findings)

    spec, findings = plan("acquired")
    assert "id" in spec.feature_columns and "id" not in {e.column for e in spec.excluded}
    (kept,) = findings["ordered_identifier"]
    assert "predict 'year' (R²" in kept.message and "Leave it out if" in kept.message
    for order in ("random", "sorted"):
        spec, findings = plan(order)
        assert "id" not in spec.feature_columns and "identifier" in findings, order


def test_a_kept_identifier_read_as_text_is_a_number_to_the_model():
    """The table reader keeps identifiers as text ('21926'): kept for its order, it is a
    number in the model's schema, not 800 categories."""
    from core.build import plan_build
    from core.schema import build_schema

    df = _artworks("acquired").astype({"id": "string"})
    plan = plan_build(df, "In which year was each work made?")
    assert "id" in plan.spec.feature_columns
    schema = build_schema(df, plan.spec, plan.profile)
    assert {c["name"]: c["kind"] for c in schema["columns"]}["id"] == "numeric"
