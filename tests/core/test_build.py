import json

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from sklearn.datasets import load_diabetes

from core.build import BuildResult, build_model, plan_build, run_build
from core.callbacks import RecordingCallbacks
from core.errors import BriefmlError
from core.planning.offline import OfflinePlanner
from core.reproducibility import ReplayPlanner
from core.spec import Candidate, SearchPlan

BRIEF = "Identify the penguin species from its body measurements and island."
SUMMARY_KEYS = {"target", "task_type", "metric", "excluded_columns", "warnings", "leaderboard",
                "holdout_metrics", "baseline_metrics"}
# with `ReplayPlanner`, a build runs these trials and no refinements (work-bounded)
QUICK = SearchPlan(candidates=[Candidate(estimator="linear", params={}),
                               Candidate(estimator="hist_gradient_boosting", params={"max_iter": 50})],
                   validation="cv3", budget_seconds=8)


@pytest.fixture(scope="module")
def penguins():
    return load_penguins()


@pytest.fixture(scope="module")
def penguin_build(penguins):
    callbacks = RecordingCallbacks()
    plan = plan_build(penguins, BRIEF, OfflinePlanner(), budget_seconds=8, seed=0)
    result = run_build(penguins, plan, planner=OfflinePlanner(), budget_seconds=8, seed=0,
                       callbacks=callbacks)
    return plan, result, callbacks


def test_planning_is_separate_and_reproducible(penguins, penguin_build):
    plan, _, _ = penguin_build
    again = plan_build(penguins, BRIEF, OfflinePlanner(), budget_seconds=8, seed=0)
    assert plan.spec == again.spec and plan.search_plan == again.search_plan
    assert plan.spec.target == "species" and plan.spec.task_type == "multiclass"
    assert plan.search_plan.candidates and plan.planner_name == "offline"


def test_build_evaluates_on_held_out_rows_beside_a_baseline(penguin_build):
    _, result, _ = penguin_build
    assert isinstance(result, BuildResult)
    metric = result.spec.metric
    assert result.holdout_metrics[metric] is not None
    assert result.holdout_metrics["accuracy"] > result.baseline_metrics["accuracy"]
    low, high = result.confidence_intervals["accuracy"]
    assert low <= high
    assert result.rows["train"] + result.rows["test"] == result.rows["all"]
    assert result.confusion["labels"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert sum(map(sum, result.confusion["matrix"])) == result.rows["test"]
    assert "island" in result.slices
    ok = [t for t in result.leaderboard if t.status == "ok"]
    assert ok and all(t.metric == metric for t in result.leaderboard)


def test_built_model_predicts_raw_rows(penguins, penguin_build):
    _, result, _ = penguin_build
    proba = result.model.predict_proba(penguins.head(20))
    assert proba.shape == (20, 3) and np.allclose(proba.sum(axis=1), 1)
    assert (result.model.predict(penguins) == penguins["species"].to_numpy()).mean() > 0.9
    table, report = result.model.predict_table(penguins.head(3).drop(columns=["species"]))
    assert list(table.columns) == ["species", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo", "set"]


def test_summary_is_the_json_the_cli_prints(penguin_build):
    _, result, _ = penguin_build
    summary = json.loads(json.dumps(result.to_json_summary(), allow_nan=False))
    assert SUMMARY_KEYS <= set(summary)
    assert summary["target"] == "species" and summary["task_type"] == "multiclass"
    assert summary["leaderboard"][0]["trial_id"] == "t001"
    assert set(summary["timings"]) >= {"search", "evaluate", "refit", "total"}
    assert isinstance(result.report, str) and result.report


def test_progress_callbacks_arrive_in_order(penguin_build):
    _, result, callbacks = penguin_build
    kinds = [kind for kind, _ in callbacks.events]
    assert kinds[0] == "build_start" and kinds[-1] == "build_end"
    phases = [e["phase"] for kind, e in callbacks.events if kind == "phase"]
    assert phases[:2] == ["prepare", "search"] and "evaluate" in phases and "refit" in phases
    trials = [e["trial"] for kind, e in callbacks.events if kind == "trial_end"]
    assert [t.trial_id for t in trials] == [t.trial_id for t in result.leaderboard]
    assert callbacks.events[-1][1]["status"] == "finished"


def test_regression_with_an_approved_plan():
    df = load_diabetes(as_frame=True).frame
    result = build_model(df, "Predict diabetes disease progression one year after baseline.",
                         budget_seconds=8, seed=1, spec_overrides=QUICK,
                         planner=ReplayPlanner())
    assert result.spec.task_type == "regression" and result.spec.metric in ("rmse", "mae", "r2")
    assert [t.estimator for t in result.leaderboard[:2]] == ["linear", "hist_gradient_boosting"]
    assert result.holdout_metrics["rmse"] < result.baseline_metrics["rmse"]
    assert result.residuals["sample"]["actual"]


def _awkward_table(n=160, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    label = np.where(x > 0, "high", "low").astype(object)
    label[0] = "rare"  # a class that appears once
    mixed = np.where(rng.random(n) < 0.5, rng.integers(0, 9, n).astype(str), "n/a")
    return pd.DataFrame({"x": x, "noise": rng.normal(size=n), "mixed": mixed,
                         "empty": [np.nan] * n, "label": label})


def test_awkward_data_trains_and_says_what_it_did():
    result = build_model(_awkward_table(), "predict label", budget_seconds=6, seed=0,
                         spec_overrides=QUICK, planner=ReplayPlanner())
    assert result.spec.target == "label"
    assert "empty" not in result.spec.feature_columns
    assert any("'rare'" in w and "once" in w for w in result.warnings)
    assert result.holdout_metrics["accuracy"] > 0.8


class _CancelAtOnce(RecordingCallbacks):
    def should_stop(self):
        return True


def test_a_cancel_stops_the_build_with_a_clear_error(penguins):
    callbacks = _CancelAtOnce()
    with pytest.raises(BriefmlError, match="cancelled"):
        build_model(penguins, BRIEF, budget_seconds=30, callbacks=callbacks, spec_overrides=QUICK)
    assert callbacks.events[-1][0] == "build_end" and callbacks.events[-1][1]["status"] == "cancelled"


def test_a_tiny_budget_still_returns_a_model_from_its_first_trial(penguins):
    # the first trial always gets its minimum time, and every family stops at its deadline
    # with the model it has so far, so even a budget used up by planning yields a model
    result = build_model(penguins, BRIEF, budget_seconds=0.3, seed=0)
    assert result.leaderboard[0].status == "ok"
    assert result.model.predict(penguins.head(2)).shape == (2,)
    # explained all the same, on a few rows (a model with no importance could not be checked
    # for a leak that carries it all)
    assert result.explanation is not None and result.explanation["importance"]


def test_an_importance_on_a_few_rows_says_so(penguins, monkeypatch):
    import core.explain

    monkeypatch.setattr(core.explain, "GROWTH", 0)  # no chunk after the first: PILOT_ROWS rows
    result = build_model(penguins, BRIEF, budget_seconds=8, seed=0, spec_overrides=QUICK,
                         planner=ReplayPlanner())
    assert result.explanation["sample_size"] == core.explain.PILOT_ROWS
    assert any(f"importance rests on {core.explain.PILOT_ROWS} rows" in w for w in result.warnings)


def _finished_trial(trial_id: str, estimator: str, score: float, fold_seconds: float):
    from core.registry import FittedModel
    from core.search import TrialRecord
    from core.spec import TrialResult

    result = TrialResult(trial_id=trial_id, estimator=estimator, params={}, score=score,
                         metric="rmse", seconds=3 * fold_seconds, status="ok")
    info = {"iterations": 1000, "trained_iterations": 1000}
    return TrialRecord(result=result, candidate=Candidate(estimator=estimator, params={}),
                       models=[FittedModel("catboost", None, info)] * 3,
                       fit_seconds=[fold_seconds] * 3)


def test_the_leaders_refit_is_reserved_even_past_the_refit_cap():
    """A slow leader (ames: CatBoost's folds took half the budget) must still be refitted on
    all rows: the search stops for it instead of shipping its fold models."""
    from types import SimpleNamespace

    from core.build import _search_deadline_fn, _Sizes
    from core.search import BudgetClock, make_folds

    # Fixed numbers, not the code's constants: a 100 s budget, at most 40 s of it for refits;
    # an early-stopped fold took 40 s on 200 rows, scoring its 100 validation rows at every
    # iteration, so the all-rows refit (300 rows, none to score) takes about 40 s, with a 15%
    # safety margin 46 s. What the other steps after the search keep comes from their own
    # estimates, the same in both cases.
    clock = BudgetClock(100)
    sizes = _Sizes(all=300, train=240, test=60, columns=5)
    folds = make_folds(np.zeros(300), "regression", "cv3", seed=0)  # 200 training rows a fold
    # a refit that can no longer finish in time is not waited for
    slow = _finished_trial("t001", "catboost", -1.0, fold_seconds=90.0)
    search = SimpleNamespace(records_={"t001": slow}, folds_=folds,
                             spec=SimpleNamespace(metric="rmse"))
    others = clock.end - _search_deadline_fn(clock, sizes)(search)
    assert 0 < others < 12  # far less than the refit: nothing was reserved for it

    leader = _finished_trial("t001", "catboost", -1.0, fold_seconds=40.0)
    search = SimpleNamespace(records_={"t001": leader}, folds_=folds,
                             spec=SimpleNamespace(metric="rmse"))
    deadline = _search_deadline_fn(clock, sizes)(search)
    assert clock.end - deadline == pytest.approx(others + 46.0, abs=0.5)  # past the 40 s cap


def test_validated_forward_in_time_the_ensemble_is_chosen_among_trials_that_can_be_refitted():
    """A trial that cannot be refitted ships as fold models that never saw the latest rows;
    validated forward in time, the ensemble leaves it out, unless no trial can be refitted."""
    from types import SimpleNamespace

    from core.build import PostSearchCosts, _refittable_trials
    from core.search import BudgetClock, make_folds

    # a 100 s budget with nothing kept for the other steps; each refit on its own (40 s folds
    # on 200 rows scoring 100 more: about 40 s on all 300, 46 s with the safety margin)
    clock = BudgetClock(100)
    folds = make_folds(np.zeros(300), "regression", "cv3", seed=0)
    data = SimpleNamespace(y=np.zeros(300))
    costs = PostSearchCosts({})

    def search(*fold_seconds):
        records = {f"t{i:03d}": _finished_trial(f"t{i:03d}", "catboost", -float(i), seconds)
                   for i, seconds in enumerate(fold_seconds, start=1)}
        return SimpleNamespace(records_=records, folds_=folds)

    # the best trial's 104 s refit cannot fit; 46 s and 80.5 s each can
    assert _refittable_trials(search(90.0, 40.0, 70.0), data, clock, costs) == {"t002", "t003"}
    assert _refittable_trials(search(90.0, 95.0), data, clock, costs) is None  # none can


def test_validated_forward_in_time_every_member_of_the_ensemble_gets_refitted():
    """Each refit fitting on its own is not enough: the members' refits, heaviest first,
    must all fit together, else the ensemble is chosen again without those left over."""
    from types import SimpleNamespace

    from core.build import PostSearchCosts, _ensemble_of_refitted, _left_unrefitted
    from core.search import BudgetClock, make_folds

    clock = BudgetClock(100)  # as above: a 40 s fold refits in about 46 s with the margin
    folds = make_folds(np.zeros(300), "regression", "cv3", seed=0)
    costs = PostSearchCosts({})
    records = {tid: _finished_trial(tid, "catboost", score, 40.0)
               for tid, score in (("t001", -1.0), ("t002", -1.1), ("t003", -1.2))}
    noise = np.random.default_rng(0).normal(size=(3, 300))
    for record, errors in zip(records.values(), noise):  # equally good, errors apart: a blend
        record.oof = np.arange(300, dtype=float) + errors
    search = SimpleNamespace(records_=records, folds_=folds, seed=0,
                             spec=SimpleNamespace(metric="rmse"), rows_exchangeable_=False)
    data = SimpleNamespace(y=np.arange(300, dtype=float), train=np.arange(300), n_classes=0)

    three = {"t001": 0.5, "t002": 0.3, "t003": 0.2}
    assert _left_unrefitted(three, search, data, clock, costs) == {"t003"}  # 46 + 46 + 46 > 100
    two = {"t001": 0.6, "t003": 0.4}
    assert _left_unrefitted(two, search, data, clock, costs) == set()

    every = _ensemble_of_refitted(search, data, clock, costs, True, None)[0]
    assert len(every.weights_) == 3  # not forward in time: all three blend
    ensemble, among = _ensemble_of_refitted(search, data, clock, costs, True, set(records))
    assert len(among) == 2 and set(ensemble.weights_) == among  # the lightest one left out
    assert _left_unrefitted(ensemble.weights_, search, data, clock, costs) == set()


def test_the_time_kept_after_the_search_follows_what_this_build_measured():
    """Reserves come from the likely members' own costs: slower predictions keep more time
    for evaluating, checking and explaining (up to a share of the budget), a forest keeps
    time for writing its trees, and a member that is not refitted writes every fold model."""
    from types import SimpleNamespace

    from core.build import _post_search_costs, _Sizes
    from core.registry import FittedModel
    from core.search import BudgetClock, make_folds

    clock = BudgetClock(60)
    sizes = _Sizes(all=3000, train=2400, test=600, columns=10)
    folds = make_folds(np.zeros(2400), "regression", "cv3", seed=0)

    def trial(predict_seconds: float, trees: int):
        record = _finished_trial("t001", "random_forest", -1.0, fold_seconds=1.0)
        record.models = [FittedModel("sklearn", SimpleNamespace(estimators_=[None] * trees))] * 3
        record.predict_seconds = [predict_seconds] * 3
        return record

    fast = _post_search_costs([trial(0.01, 10)], folds, sizes, clock).seconds
    slow = _post_search_costs([trial(0.5, 10)], folds, sizes, clock).seconds
    for step in ("evaluate", "failures", "explain"):
        assert slow[step] > 2 * fast[step]
    assert slow["explain"] <= 0.05 * 60  # a share of the budget at most
    forest = _post_search_costs([trial(0.01, 1000)], folds, sizes, clock).seconds["serialize"]
    assert forest > 50 * fast["serialize"]
    folds_written = _post_search_costs([trial(0.01, 1000)], folds, sizes, clock,
                                       refitted=set()).seconds["serialize"]
    assert folds_written == pytest.approx(3 * forest)


def test_build_analyses_failures_and_stress_within_its_share_of_the_budget(penguin_build):
    _, result, _ = penguin_build
    failures = result.failures
    assert failures["rows"] == result.rows["test"]
    wrong = sum(n for i, row in enumerate(result.confusion["matrix"]) for j, n in enumerate(row) if i != j)
    assert sum(p["rows"] for p in failures["confusion_pairs"]) == wrong
    assert 0 < failures["share_of_budget"] == pytest.approx(failures["seconds"] / 8)
    assert result.timings["failures"] >= failures["seconds"]
    stress = failures["stress"]
    assert stress["checks"] or stress["skipped"]  # what did not fit the budget is listed
    assert all(r["runs"] for r in stress["checks"])
    assert "## Where it fails" in result.report
    assert json.loads(json.dumps(failures)) == failures  # plain JSON, ready to store


def test_members_chosen_to_ship_as_fold_models_are_the_validated_fold_models(penguins):
    """LightGBM on a small table ships its k fold models sharing its ensemble weight (what
    the held-out rows and the calibrator judged is what ships); its SHAP values add up."""
    from core import runtime
    from core.build import FOLD_MODELS

    plan = SearchPlan(candidates=[Candidate(estimator="lightgbm", params={"num_iterations": 60})],
                      validation="cv3", budget_seconds=5, ensemble=False)
    result = build_model(penguins, BRIEF, budget_seconds=5, seed=0, spec_overrides=plan)
    (trial, how), = result.refit.items()  # ensembling is off: one member, the best trial
    assert how == FOLD_MODELS and result.ensemble["weights"] == {trial: 1.0}
    assert [m.name for m in result.model.members] == [f"{trial}/fold{i}" for i in range(3)]
    assert sum(m.weight for m in result.model.members) == pytest.approx(1.0)
    assert not any("refit" in w for w in result.warnings)
    rows = penguins.head(5)
    frame, _ = result.model.feature_frame(rows)
    contrib = runtime.explain_frame(result.model.members, frame, result.model.schema)
    assert np.allclose(contrib.base + contrib.values.sum(axis=1), result.model.raw_output(rows), atol=1e-6)
