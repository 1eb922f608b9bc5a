import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score

from core import metrics
from core.errors import PlanError


def test_losses_are_negated_so_higher_is_better():
    y = np.array([1.0, 2.0, 3.0])
    good, bad = np.array([1.1, 2.0, 2.9]), np.array([3.0, 1.0, 0.0])
    assert metrics.value("rmse", y, good) == pytest.approx(np.sqrt(mean_squared_error(y, good)))
    assert metrics.score("rmse", y, good) == -metrics.value("rmse", y, good)
    assert metrics.score("rmse", y, good) > metrics.score("rmse", y, bad)
    assert metrics.to_value("rmse", metrics.score("rmse", y, good)) == metrics.value("rmse", y, good)


def test_binary_scores_use_the_positive_column():
    y = np.array([0, 0, 1, 1, 1, 0])
    proba1 = np.array([0.1, 0.4, 0.35, 0.8, 0.7, 0.2])
    output = np.column_stack([1 - proba1, proba1])
    assert metrics.value("roc_auc", y, output, 2) == pytest.approx(roc_auc_score(y, proba1))
    assert metrics.value("log_loss", y, output, 2) == pytest.approx(log_loss(y, proba1))
    assert metrics.value("accuracy", y, output, 2) == pytest.approx(np.mean((proba1 > 0.5) == y))


def test_multiclass_log_loss_counts_every_class():
    y = np.array([0, 1, 2, 2])
    output = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    assert metrics.value("log_loss", y, output, 3) == pytest.approx(log_loss(y, output, labels=[0, 1, 2]))
    assert metrics.score("log_loss", y, output, 3) < 0


def test_unknown_metric_and_wrong_task_say_what_to_use():
    with pytest.raises(PlanError, match="Unknown metric 'auc'.*roc_auc"):
        metrics.get_metric("auc")
    with pytest.raises(PlanError, match="does not apply to a regression task.*rmse"):
        metrics.get_metric("roc_auc", "regression")


def test_all_values_leaves_undefined_metrics_empty():
    y = np.array([1, 1, 1])
    output = np.array([[0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    values = metrics.all_values("binary", y, output, 2)
    assert values["roc_auc"] is None
    assert values["accuracy"] == 1.0
    assert set(values) == set(metrics.metrics_for("binary"))


def test_metric_names_the_planner_uses_exist():
    for name in ["roc_auc", "log_loss", "rmse", "mae", "accuracy", "balanced_accuracy", "f1",
                 "recall", "precision", "r2", "average_precision"]:
        assert metrics.get_metric(name).name == name
    assert not metrics.greater_is_better("log_loss") and metrics.greater_is_better("r2")


def test_every_metric_has_a_name_for_people():
    from core.metrics import DISPLAY_NAMES, METRICS, display_name

    assert set(METRICS) <= set(DISPLAY_NAMES), "a new metric needs its display name"
    assert display_name("roc_auc") == "ROC AUC"
    assert display_name("some_new_metric") == "some new metric"
