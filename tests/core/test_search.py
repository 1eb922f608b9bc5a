import time

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from core.callbacks import RecordingCallbacks
from core.errors import PlanError
from core.planning.search_rules import choose_validation, first_search_plan, refine_candidates
from core.profile import profile_frame
from core.registry import REGISTRY, FitContext, validate_candidate
from core.runtime import Member, member_output, prepare_frame
from core.search import MAX_HOLDOUT_ROWS, BudgetClock, ModelSearch, clock_features, make_folds
from core.spec import Candidate, SearchPlan, TaskSpec, TrialResult

FEATURES = ["mean radius", "mean texture", "mean smoothness", "worst area"]


@pytest.fixture(scope="module")
def cancer():
    df = load_breast_cancer(as_frame=True).frame.sample(300, random_state=0).reset_index(drop=True)
    schema = {"target": "target", "task_type": "binary", "classes": [0, 1],
              "columns": [{"name": c, "kind": "numeric"} for c in FEATURES]}
    x, _ = prepare_frame(df, schema)
    spec = TaskSpec(target="target", task_type="binary", metric="roc_auc", feature_columns=FEATURES)
    return df, x, df["target"].to_numpy(), schema, spec


def _search(spec, candidates, planner=None, callbacks=None, **kw):
    plan = SearchPlan(candidates=candidates, validation="cv3", budget_seconds=30)
    return ModelSearch(spec=spec, plan=plan, planner=planner, seed=0, callbacks=callbacks, **kw)


def test_folds_are_stratified_and_cover_every_row():
    y = np.array([0] * 40 + [1] * 10)
    folds = make_folds(y, "binary", "cv5", seed=0)
    assert folds.scheme == "cv5" and len(folds.splits) == 5
    assert sorted(np.concatenate([v for _, v in folds.splits]).tolist()) == list(range(50))
    assert all(y[v].sum() == 2 for _, v in folds.splits)
    holdout = make_folds(y, "binary", "holdout", seed=0)
    assert len(holdout.valid_rows) == 10 and y[holdout.valid_rows].sum() == 2
    # a big table validates on at most MAX_HOLDOUT_ROWS; the rest train the model that ships
    big = np.arange(200_000) % 2
    assert len(make_folds(big, "binary", "holdout", seed=0).valid_rows) == MAX_HOLDOUT_ROWS
    forward = make_folds(big, "binary", "holdout", seed=0, order=np.arange(200_000.0))
    assert forward.valid_rows.min() == 200_000 - MAX_HOLDOUT_ROWS  # the latest rows


def test_folds_survive_a_class_seen_once():
    y = np.array([0] * 20 + [1] * 20 + [2])
    folds = make_folds(y, "multiclass", "cv5", seed=0)
    assert sorted(np.concatenate([v for _, v in folds.splits]).tolist()) == list(range(41))


def test_search_records_failures_and_keeps_going(cancer):
    _, x, y, schema, spec = cancer
    bad = Candidate(estimator="linear", params={"C": 1.0})
    # a column the table does not have makes this trial fail inside training
    broken_schema = {**schema, "columns": schema["columns"] + [{"name": "absent", "kind": "numeric"}]}
    search = _search(spec, [bad, Candidate(estimator="hist_gradient_boosting", params={"max_iter": 30})])
    clock = BudgetClock(30)
    search.fit(x, y, schema=broken_schema, clock=clock, search_deadline=lambda s: clock.end,
               n_classes=2)
    statuses = [t.status for t in search.leaderboard_]
    assert statuses == ["failed", "failed"]
    assert "absent" in search.leaderboard_[0].error
    search.fit(x, y, schema=schema, clock=clock, search_deadline=lambda s: clock.end, n_classes=2)
    assert [t.status for t in search.leaderboard_] == ["ok", "ok"]
    assert all(0.5 < t.score <= 1.0 for t in search.leaderboard_)  # ROC AUC, higher is better
    assert search.best_.result.score == max(t.score for t in search.leaderboard_)


class _Rules:
    name = "offline"

    def __init__(self):
        self.calls = 0

    def refine(self, spec, profile, leaderboard, max_new):
        self.calls += 1
        return refine_candidates(spec, profile, leaderboard, max_new)


def test_search_stops_proposing_once_the_budget_is_used(cancer):
    _, x, y, schema, spec = cancer
    planner = _Rules()
    clock = BudgetClock(30)
    # the deadline passes as soon as the first trial is recorded
    deadline = lambda s: clock.end if not s.records_ else time.monotonic() - 1
    search = _search(spec, [Candidate(estimator="linear", params={"C": 1.0}),
                            Candidate(estimator="linear", params={"C": 0.1})], planner=planner)
    search.fit(x, y, schema=schema, clock=clock, search_deadline=deadline, n_classes=2)
    assert len(search.leaderboard_) == 1
    assert planner.calls == 0


def test_search_asks_the_planner_for_refinements_of_the_leaderboard(cancer):
    df, x, y, schema, spec = cancer
    planner = _Rules()
    clock = BudgetClock(60)
    search = _search(spec, [Candidate(estimator="linear", params={"C": 1.0})], planner=planner,
                     max_trials=4)
    search.profile = profile_frame(df)
    search.fit(x, y, schema=schema, clock=clock, search_deadline=lambda s: clock.end, n_classes=2)
    assert len(search.leaderboard_) == 4 and planner.calls >= 1
    children = search.leaderboard_[1:]
    assert all(t.parent == "t001" for t in children)
    configs = [(t.estimator, tuple(sorted(t.params.items()))) for t in search.leaderboard_]
    assert len(set(configs)) == len(configs)


class _CancelAfterFirstTrial(RecordingCallbacks):
    def should_stop(self):
        return any(kind == "trial_end" for kind, _ in self.events)


def test_progress_moves_during_the_first_trial(cancer):
    _, x, y, schema, spec = cancer
    callbacks = RecordingCallbacks()
    clock = BudgetClock(60)
    search = _search(spec, [Candidate(estimator="lightgbm", params={"num_iterations": 30})],
                     callbacks=callbacks)
    search.fit(x, y, schema=schema, clock=clock, search_deadline=lambda s: clock.end, n_classes=2)
    kinds = [kind for kind, _ in callbacks.events]
    # one progress event per fold before the trial is done
    assert kinds.index("trial_end") >= len(search.folds_.splits)
    assert set(kinds[:kinds.index("trial_end")]) == {"phase"}


def test_a_late_first_trial_still_gets_time_to_train_a_real_model(cancer):
    """The clock ran out before the search began (a slow start on a busy machine): the first
    model is trained anyway, with a share of the budget, and then the search stops."""
    _, x, y, schema, spec = cancer
    clock = BudgetClock(100)
    search = _search(spec, [Candidate(estimator="lightgbm", params={"num_iterations": 1000,
                                                                     "early_stopping_rounds": 500}),
                            Candidate(estimator="linear", params={"C": 1.0})])
    search.fit(x, y, schema=schema, clock=clock, search_deadline=lambda s: time.monotonic() - 1,
               n_classes=2)
    assert [t.estimator for t in search.leaderboard_] == ["lightgbm"]
    assert not any(m.info["interrupted"] for m in search.best_.models)


def test_search_honours_a_cancel_between_trials(cancer):
    _, x, y, schema, spec = cancer
    callbacks = _CancelAfterFirstTrial()
    clock = BudgetClock(60)
    search = _search(spec, [Candidate(estimator="linear", params={"C": c}) for c in (1.0, 2.0, 3.0)],
                     callbacks=callbacks)
    search.fit(x, y, schema=schema, clock=clock, search_deadline=lambda s: clock.end, n_classes=2)
    assert len(search.leaderboard_) == 1


def test_first_plan_is_valid_and_refinements_are_new(cancer):
    df, *_ , spec = cancer
    profile = profile_frame(df)
    plan = first_search_plan(spec, profile, 60)
    assert plan.candidates[1].estimator == "catboost" and plan.validation == "cv5"
    for cand in plan.candidates:
        assert validate_candidate(cand, "binary").params == cand.params
    board = [TrialResult(trial_id="t001", estimator="catboost", params=plan.candidates[1].params,
                         score=0.9, metric="roc_auc", seconds=1.0, status="ok"),
             TrialResult(trial_id="t002", estimator="linear", params={"C": 1.0}, score=0.8,
                         metric="roc_auc", seconds=1.0, status="ok"),
             TrialResult(trial_id="t003", estimator="extra_trees", params={}, score=None,
                         metric="roc_auc", seconds=1.0, status="failed")]
    refined = refine_candidates(spec, profile, board, 3)
    assert refined == refine_candidates(spec, profile, board, 3)  # same leaderboard, same proposals
    assert [c.parent for c in refined] == ["t001", "t002", "t001"]
    tried = {(t.estimator, tuple(sorted(t.params.items()))) for t in board}
    assert all((c.estimator, tuple(sorted(c.params.items()))) not in tried for c in refined)


def test_the_offline_plan_starts_with_the_fast_floor_lightgbm_then_catboost(cancer):
    df, *_, spec = cancer
    small = first_search_plan(spec, profile_frame(df), 60)
    assert [c.estimator for c in small.candidates[:3]] == ["lightgbm", "catboost", "linear"]
    large = first_search_plan(spec, profile_frame(df).model_copy(update={"rows": 200_000}), 60)
    assert [c.estimator for c in large.candidates[:2]] == ["lightgbm", "catboost"]
    assert large.candidates[0].params["learning_rate"] == 0.1  # fewer, faster trees on big data
    board = [TrialResult(trial_id="t001", estimator="lightgbm", params=small.candidates[0].params,
                         score=0.9, metric="roc_auc", seconds=1.0, status="ok")]
    refined = refine_candidates(spec, profile_frame(df), board, 3)
    assert [c.estimator for c in refined] == ["lightgbm"] * 3
    for cand in refined:
        assert validate_candidate(cand, "binary").params == cand.params
    assert refined[0].params["num_leaves"] < 31  # a small table tries smaller trees first
    big = refine_candidates(spec, profile_frame(df).model_copy(update={"rows": 200_000}), board, 3)
    assert big[0].params["num_leaves"] == 127  # a big table has the rows for bigger ones
    assert any(c.params["num_leaves"] < 31 for c in big)


def test_rule_refinements_keep_logistic_regression_regularised(cancer):
    """Chained 'weaker regularisation' steps stop at C=100: past it, small separable tables
    reward near-0/1 probabilities in cross-validation that held-out rows then punish."""
    df, *_, spec = cancer
    profile = profile_frame(df)
    board, c = [], 1.0
    for i in range(12):
        board.append(TrialResult(trial_id=f"t{i:03d}", estimator="linear",
                                 params={"C": c, "max_categories": 50}, score=0.9 + i / 1000,
                                 metric="roc_auc", seconds=0.1, status="ok"))
        c *= 3
    proposed = refine_candidates(spec, profile, board, 10)
    assert proposed, "smaller C and other moves are still open"
    assert all(0.01 <= cand.params["C"] <= 100 for cand in proposed)


def test_a_trial_that_cannot_stop_inside_a_fit_is_given_up_once_out_of_time(cancer, monkeypatch):
    """A linear model on a wide text matrix cannot be stopped inside a fit (one took 46 s of a
    20 s build): once a model exists, a trial whose folds left will not end by the time the
    steps after the search need fails, with the reason, instead of running the build over."""
    from types import SimpleNamespace

    from core import registry, search
    from core.callbacks import BuildCallbacks
    from core.search import train_one

    _, x, y, schema, _ = cancer
    clock = SimpleNamespace(now=1000.0)
    clock.monotonic = lambda: clock.now

    class SlowLinear(registry.LinearFamily):
        def fit(self, *args, **kwargs):
            clock.now += 10.0  # each fit takes 10 s, whatever its deadline says
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(search, "time", clock)
    monkeypatch.setitem(registry.REGISTRY, "linear", SlowLinear())
    folds = make_folds(y, "binary", "cv5", seed=0)
    record = train_one(Candidate(estimator="linear", params={"C": 1.0}), "t002", x, y,
                       schema=schema, folds=folds, metric="roc_auc", n_classes=2, seed=0,
                       deadline=1015.0, callbacks=BuildCallbacks(), give_up_at=1015.0)
    # after one 10 s fold, the four left would end 25 s past its time: given up at once
    assert record.result.status == "failed" and "out of time after 1 of 5 folds" in record.result.error
    assert clock.now == 1010.0  # one fold, not five


@pytest.mark.parametrize("estimator, params, scheme, metric, rows, bagged", [
    ("lightgbm", {}, "cv5", "roc_auc", 1000, True),  # small table: the refit grows overconfident
    ("lightgbm", {}, "cv5", "roc_auc", 1001, False),
    ("lightgbm", {}, "cv5", "rmse", 300, False),  # its regressors refit
    ("lightgbm", {}, "grouped", "log_loss", 300, True),
    ("lightgbm", {}, "forward", "log_loss", 300, False),  # fold models never saw the latest rows
    ("lightgbm", {}, "holdout", "log_loss", 300, False),  # one model on a fraction of the rows
    ("hist_gradient_boosting", {}, "cv5", "log_loss", 300, True),
    ("catboost", {}, "cv5", "log_loss", 300, False),
    ("random_forest", {}, "cv5", "log_loss", 300, False),
    ("linear", {"C": 30.0}, "cv5", "log_loss", 5000, True),  # weak penalty: the refit is surer
    ("linear", {"C": 30.0}, "cv5", "roc_auc", 5000, False),
    ("linear", {"C": 1.0}, "cv5", "log_loss", 5000, False),
])
def test_which_trials_ship_their_fold_models(estimator, params, scheme, metric, rows, bagged):
    from core.search import TrialRecord, ships_fold_models

    y = np.arange(40) % 2
    folds = {"cv5": lambda: make_folds(y, "binary", "cv5", 0),
             "grouped": lambda: make_folds(y, "binary", "cv4", 0, groups=np.arange(40) // 4),
             "forward": lambda: make_folds(y, "binary", "cv3", 0, order=np.arange(40)),
             "holdout": lambda: make_folds(y, "binary", "holdout", 0)}[scheme]()
    record = TrialRecord(result=None, candidate=Candidate(estimator=estimator, params=params),
                         models=[object()] * len(folds.splits))
    assert ships_fold_models(record, folds, metric, rows) is bagged


# --------------------------------------------------------------------------- features that follow time


@pytest.fixture(scope="module")
def dated_sales():
    """A year of daily rows, in time order: sales follow the weekday and a noisy level that
    does not trend, and a 'month' column rises with time (a clock)."""
    rng = np.random.default_rng(0)
    n = 730
    days = np.arange(n)
    weekday = days % 7
    df = pd.DataFrame({
        "month": days * 12 // n + 1,
        "weekday": weekday,
        "noise": rng.normal(size=n),
    })
    y = 10 * (weekday >= 5) + rng.normal(size=n)
    schema = {"target": "sales", "task_type": "regression",
              "columns": [{"name": c, "kind": "numeric"} for c in df.columns]}
    x, _ = prepare_frame(df, schema)
    spec = TaskSpec(target="sales", task_type="regression", metric="rmse",
                    feature_columns=list(df.columns))
    return x, y, schema, spec, days.astype("float64")


def test_a_feature_that_rises_with_time_is_found_and_a_shuffled_one_is_not(dated_sales):
    x, _, schema, _, order = dated_sales
    assert clock_features(x, schema, order, seed=0) == ["month"]
    shuffled = np.random.default_rng(1).permutation(order)  # the same rows, no time order
    assert clock_features(x, schema, shuffled, seed=0) == []


def test_forward_folds_add_one_lightgbm_trial_kept_off_the_clock_features(dated_sales):
    x, y, schema, spec, order = dated_sales
    floor = Candidate(estimator="lightgbm", params={"num_iterations": 50, "learning_rate": 0.1})
    plan = SearchPlan(candidates=[floor], validation="cv3", budget_seconds=30)
    clock = BudgetClock(30)
    search = ModelSearch(spec=spec, plan=plan, seed=0).fit(
        x, y, schema=schema, clock=clock, search_deadline=lambda s: clock.end, n_classes=0,
        order=order)
    assert [t.params.get("ignore_features") for t in search.leaderboard_] == [None, ["month"]]
    assert search.leaderboard_[1].parent == search.leaderboard_[0].trial_id
    # rows in random order: no trial is added
    random_order = ModelSearch(spec=spec, plan=plan, seed=0).fit(
        x, y, schema=schema, clock=clock, search_deadline=lambda s: clock.end, n_classes=0)
    assert len(random_order.leaderboard_) == 1


def test_a_lightgbm_kept_off_a_feature_never_splits_on_it_and_ignores_its_values(dated_sales):
    x, y, schema, _, _ = dated_sales
    ctx = FitContext(task_type="regression", schema=schema, seed=0)
    fitted = REGISTRY["lightgbm"].fit({"num_iterations": 40, "ignore_features": ["weekday"]},
                                      x, y, ctx)
    used = fitted.estimator.feature_importance("split")
    assert used[list(x.columns).index("weekday")] == 0
    assert used.sum() > 0
    member = Member(kind="lightgbm", estimator=fitted.estimator)
    changed = x.assign(weekday=x["weekday"][::-1].to_numpy())
    np.testing.assert_array_equal(member_output(member, x, schema), member_output(member, changed, schema))


@pytest.mark.parametrize("value", ["month", [1, 2], ["x"] * 2001])
def test_ignore_features_must_be_a_list_of_names(value):
    with pytest.raises(PlanError, match="list of at most"):
        validate_candidate(Candidate(estimator="lightgbm", params={"ignore_features": value}),
                           "regression")


def test_a_small_wide_table_keeps_five_folds_and_a_bigger_one_three():
    # digits' size (1,347 rows x 64 pixels): fold models on 80% of the rows
    assert choose_validation(1347, 64) == "cv5"
    assert choose_validation(1347, 100) == "cv3"  # 134,700 cells: the slow models need time
    assert choose_validation(6000, 10) == "cv3"
    assert choose_validation(40_000, 10) == "holdout"
