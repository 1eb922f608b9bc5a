from core.planning.report import metrics_table, suggestions, template_report
from core.spec import Exclusion, ExclusionReason, Finding, Severity, TaskSpec, TaskType


def _context(**overrides):
    context = {
        "brief": "Predict which customers will cancel next month.",
        "spec": TaskSpec(
            target="churn", task_type=TaskType.BINARY, metric="roc_auc", positive_class="yes",
            feature_columns=["tenure", "plan", "monthly_fee"],
            excluded=[Exclusion(column="customer_id", reason=ExclusionReason.IDENTIFIER)],
        ),
        "holdout_metrics": {"roc_auc": 0.84, "accuracy": 0.8},
        "baseline_metrics": {"roc_auc": 0.5, "accuracy": 0.73},
        "confidence_intervals": {"roc_auc": [0.80, 0.88], "accuracy": None},
        "findings": [Finding(check="identifier", severity=Severity.WARNING,
                             message="Column 'customer_id' looks like an identifier.", columns=["customer_id"])],
        "leaderboard": [
            {"trial_id": "t1", "estimator": "catboost", "params": {}, "score": 0.83, "metric": "roc_auc",
             "seconds": 2.0, "status": "ok"},
            {"trial_id": "t2", "estimator": "logistic", "params": {}, "score": None, "metric": "roc_auc",
             "seconds": 0.1, "status": "failed", "error": "boom"},
        ],
        "explanation": {"space": "probability", "sample_size": 500,
                        "importance": [{"column": "tenure", "mean_abs_shap": 0.2},
                                       {"column": "plan", "mean_abs_shap": 0.05}]},
        "profile": {"rows": 700, "columns": 5},
    }
    return {**context, **overrides}


def test_report_says_what_was_built_how_good_it_is_what_checks_found_and_what_next():
    report = template_report(_context())
    assert report.startswith("# Model for `churn`")
    assert "> Predict which customers will cancel next month." in report
    assert "the best single candidate was `catboost`, out of 2 trial(s)" in report
    assert "roc_auc = 0.84 (95% interval 0.8 – 0.88), better than the naive baseline's 0.5" in report
    assert "| roc_auc | 0.84 | 0.8 – 0.88 | 0.5 |" in report
    assert "Column 'customer_id' looks like an identifier." in report
    assert "Left out `customer_id` (identifier)" in report
    assert "1. `tenure`" in report
    assert "Only 700 rows were available" in report
    assert "1 trial(s) failed" in report
    assert "Review the 1 data-check warning(s)" in report
    assert "`tenure` carries more than half" in report


def test_a_model_that_loses_to_the_baseline_is_called_out():
    context = _context(holdout_metrics={"rmse": 12.0}, baseline_metrics={"rmse": 10.0}, confidence_intervals={},
                       spec={"target": "price", "task_type": "regression", "metric": "rmse"})
    report = template_report(context)
    assert "NOT better than the naive baseline's 10" in report
    assert any("does not beat the naive baseline" in s for s in suggestions(context))


def test_lower_is_better_metrics_count_as_better_when_lower():
    context = _context(holdout_metrics={"log_loss": 0.3}, baseline_metrics={"log_loss": 0.69},
                       spec={"target": "y", "task_type": "binary", "metric": "log_loss"})
    assert "better than the naive baseline's 0.69" in template_report(context)
    assert "NOT better" not in template_report(context)


def test_report_survives_an_empty_context():
    report = template_report({})
    assert "# Model for `the target`" in report
    assert "No held-out score was recorded" in report
    assert "No data check raised a concern." in report
    assert "_No explanation was computed._" in report


def test_metrics_table_puts_the_main_metric_first_and_marks_missing_values():
    table = metrics_table({"accuracy": 0.9, "roc_auc": 0.95}, {"accuracy": 0.6}, {}, first="roc_auc")
    lines = table.splitlines()
    assert lines[2].startswith("| roc_auc | 0.95 | n/a | n/a |")
    assert lines[3] == "| accuracy | 0.9 | n/a | 0.6 |"


def test_the_report_says_why_the_defaults_shipped_over_a_lucky_refinement():
    kept = {"floor": {"kept": True, "confidence": 0.62, "refined_score": -35197.0,
                      "floor_score": -35488.0}}
    assert "on only 62% of bootstrap samples" in template_report(_context(ensemble=kept))
    beaten = {"floor": {**kept["floor"], "kept": False, "confidence": 0.97}}
    assert "bootstrap" not in template_report(_context(ensemble=beaten))
    assert "bootstrap" not in template_report(_context(ensemble={"floor": None}))
    worse = {"floor": {**kept["floor"], "refined_score": -36000.0}}
    assert "validated better than the one with refinements" in template_report(_context(ensemble=worse))
