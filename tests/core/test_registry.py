import math
import os
import time

import numpy as np
import pytest
import skops.io as sio
from palmerpenguins import load_penguins

from core.errors import PlanError
from core.registry import REGISTRY, FitContext, describe_registry, validate_candidate
from core.runtime import Member, ensemble_output, prepare_frame
from core.spec import Candidate

SCHEMA = {
    "target": "species", "task_type": "multiclass", "classes": ["Adelie", "Chinstrap", "Gentoo"],
    "columns": [{"name": "island", "kind": "categorical"}, {"name": "bill_length_mm", "kind": "numeric"},
                {"name": "flipper_length_mm", "kind": "numeric"}, {"name": "sex", "kind": "categorical"}],
}


@pytest.fixture(scope="module")
def penguins():
    df = load_penguins()
    x, _ = prepare_frame(df, SCHEMA)
    y = df["species"].map({c: i for i, c in enumerate(SCHEMA["classes"])}).to_numpy()
    return x, y


def test_registry_has_the_families_plans_name():
    assert {"catboost", "lightgbm", "hist_gradient_boosting", "random_forest", "extra_trees", "linear",
            "tfidf_linear"} <= set(REGISTRY)
    described = describe_registry("regression")
    linear = next(d for d in described if d["name"] == "linear")
    assert "alpha" in linear["params"] and "C" not in linear["params"]


@pytest.mark.parametrize("task_type", ["binary", "multiclass", "regression"])
def test_default_params_are_valid_for_their_own_space(task_type):
    for name, family in REGISTRY.items():
        assert family.supports(task_type)
        params = family.default_params(task_type, 5000)
        checked = validate_candidate(Candidate(estimator=name, params=params), task_type)
        assert checked.params == params, name


def test_unknown_estimator_is_rejected_with_the_known_names():
    with pytest.raises(PlanError, match="Unknown estimator 'xgboost'. Use one of: catboost"):
        validate_candidate(Candidate(estimator="xgboost"), "binary")


def test_unknown_parameter_is_rejected():
    with pytest.raises(PlanError, match="Unknown parameter.*'max_depth'.*'catboost'"):
        validate_candidate(Candidate(estimator="catboost", params={"max_depth": 3}), "binary")
    with pytest.raises(PlanError, match="Unknown parameter.*'C'.*regression"):
        validate_candidate(Candidate(estimator="linear", params={"C": 1.0}), "regression")


def test_out_of_bounds_numbers_are_clipped_and_noted():
    checked = validate_candidate(
        Candidate(estimator="catboost", params={"depth": 40, "learning_rate": 0.0001}), "binary")
    assert checked.params == {"depth": 10, "learning_rate": 0.005}
    assert "depth=40 clipped to 10" in checked.why
    assert isinstance(validate_candidate(
        Candidate(estimator="random_forest", params={"n_estimators": 99.6}), "binary").params["n_estimators"], int)


def test_bad_choices_and_non_numbers_are_rejected():
    with pytest.raises(PlanError, match="'max_features' of 'random_forest' must be one of"):
        validate_candidate(Candidate(estimator="random_forest", params={"max_features": "all"}), "binary")
    with pytest.raises(PlanError, match="must be a number between"):
        validate_candidate(Candidate(estimator="catboost", params={"depth": "deep"}), "binary")


@pytest.fixture(scope="module")
def fitted(penguins):
    x, y = penguins
    out = {}
    for name, family in REGISTRY.items():
        params = family.default_params("multiclass", len(x))
        if name == "catboost":
            params["iterations"] = 30
        out[name] = family.fit(params, x, y, FitContext("multiclass", SCHEMA, n_classes=3))
    return out


def test_every_family_fits_and_predicts_through_the_runtime(penguins, fitted):
    x, y = penguins
    for name, model in fitted.items():
        proba = ensemble_output([Member(model.kind, model.estimator)], x, SCHEMA)
        assert proba.shape == (len(x), 3), name
        assert np.allclose(proba.sum(axis=1), 1.0), name
        assert (proba.argmax(axis=1) == y).mean() > 0.8, name


def test_sklearn_members_hold_only_library_types_skops_can_trust(fitted):
    for name, model in fitted.items():
        if model.kind != "sklearn":
            continue
        untrusted = sio.get_untrusted_types(data=sio.dumps(model.estimator))
        assert all(t.startswith(("sklearn.", "numpy.")) for t in untrusted), (name, untrusted)


def test_catboost_stops_when_the_build_is_cancelled(penguins):
    x, y = penguins
    ctx = FitContext("multiclass", SCHEMA, should_stop=lambda: True, n_classes=3)
    fitted = REGISTRY["catboost"].fit({"iterations": 2000}, x, y, ctx)
    assert fitted.info["interrupted"]
    assert fitted.estimator.tree_count_ < 10


def test_forests_grow_only_until_the_deadline(penguins):
    x, y = penguins
    ctx = FitContext("multiclass", SCHEMA, deadline=time.monotonic() - 1, n_classes=3)
    fitted = REGISTRY["extra_trees"].fit({"n_estimators": 800}, x, y, ctx)
    assert fitted.info["interrupted"]
    assert len(fitted.estimator[-1].estimators_) < 800
    assert fitted.info["completed_share"] < 1  # a refit stopped this early is not shipped


def test_catboost_early_stopping_keeps_the_learning_rate_of_catboost_defaults(penguins):
    x, y = penguins
    ctx = FitContext("multiclass", SCHEMA, n_classes=3)
    train, valid = np.arange(len(y)) % 4 != 0, np.arange(len(y)) % 4 == 0
    params = {"iterations": 300, "early_stopping_rounds": 20}
    with_eval = REGISTRY["catboost"].fit(params, x[train], y[train], ctx, x[valid], y[valid])
    without = REGISTRY["catboost"].fit(params, x[train], y[train], ctx)
    # an eval set must not switch CatBoost to its larger best-model learning rate
    assert with_eval.info["learning_rate"] == pytest.approx(without.info["learning_rate"])
    # the model is cut back to the best iteration on the eval set
    assert with_eval.estimator.tree_count_ == with_eval.info["iterations"]


def test_linear_flags_missing_numbers_without_scaling_them_and_with_sparse_categories():
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"city": [f"c{i % 40}" for i in range(n)], "size": rng.normal(size=n)})
    df.loc[:2, "size"] = np.nan  # missing in a handful of rows only
    schema = {"target": "y", "task_type": "regression",
              "columns": [{"name": "city", "kind": "categorical"}, {"name": "size", "kind": "numeric"}]}
    x, _ = prepare_frame(df, schema)
    y = rng.normal(size=n)
    fitted = REGISTRY["linear"].fit({"alpha": 1.0}, x, y, FitContext("regression", schema))
    prepared = fitted.estimator[0].transform(x)
    flags = np.asarray(prepared[:, -1].todense() if hasattr(prepared, "todense") else prepared[:, -1]).ravel()
    assert set(np.unique(flags)) == {0.0, 1.0}  # the flag stays 0/1, not scaled up
    untrusted = sio.get_untrusted_types(data=sio.dumps(fitted.estimator))
    assert all(t.startswith(("sklearn.", "numpy.")) for t in untrusted), untrusted


@pytest.mark.parametrize("name, size", [("catboost", "iterations"), ("lightgbm", "num_iterations")])
def test_early_stopped_boosting_keeps_the_best_trees_and_its_refit_trains_only_those(penguins, name, size):
    x, y = penguins
    ctx = FitContext("multiclass", SCHEMA, n_classes=3)
    train, valid = np.arange(len(y)) % 4 != 0, np.arange(len(y)) % 4 == 0
    fitted = REGISTRY[name].fit({size: 3000, "learning_rate": 0.3, "early_stopping_rounds": 30},
                                x[train], y[train], ctx, x[valid], y[valid])
    info = fitted.info
    assert info["trained_iterations"] == info["iterations"] + 30 < 3000  # stopped 30 past the best
    assert not info["interrupted"]
    # the model is cut back to the best iteration (LightGBM: one tree per class and round)
    trees = fitted.estimator.tree_count_ if name == "catboost" else fitted.estimator.num_trees() // 3
    assert trees == info["iterations"]
    # the refit trains only the best iterations (times the growth), a fraction of the fold's work
    work = REGISTRY[name].refit_work([info], growth=1.0)
    assert work == pytest.approx(info["iterations"] / info["trained_iterations"], rel=0.01)
    assert REGISTRY[name].refit_work([info], growth=1.3) == pytest.approx(1.3 * work, rel=0.02)
    refit = REGISTRY[name].refit_params({size: 3000, "early_stopping_rounds": 30}, [info], 1.0)
    # no learning rate in the config: CatBoost's own rule sizes it to the refit's rows
    assert refit == {size: info["iterations"]}


def test_threads_default_to_the_cores_this_process_may_use(penguins):
    assert FitContext("multiclass", SCHEMA).threads == len(os.sched_getaffinity(0))
    x, y = penguins
    ctx = FitContext("multiclass", SCHEMA, n_classes=3, threads=1)
    fitted = REGISTRY["random_forest"].fit({"n_estimators": 20}, x, y, ctx)
    assert fitted.estimator[-1].n_jobs == 1
    fitted = REGISTRY["catboost"].fit({"iterations": 20}, x, y, ctx)
    assert fitted.estimator.get_params()["thread_count"] == 1


def test_lightgbm_stops_at_the_deadline_and_when_the_build_is_cancelled(penguins):
    x, y = penguins
    for ctx in (FitContext("multiclass", SCHEMA, should_stop=lambda: True, n_classes=3),
                FitContext("multiclass", SCHEMA, deadline=time.monotonic() - 1, n_classes=3)):
        fitted = REGISTRY["lightgbm"].fit({"num_iterations": 5000}, x, y, ctx)
        assert fitted.info["interrupted"]
        assert fitted.info["iterations"] == 1 and fitted.info["completed_share"] < 0.01


def test_lightgbm_has_its_own_bounds_that_grow_with_rows_and_budget():
    family = REGISTRY["lightgbm"]
    small, big = family.work_caps("binary", 1000, 20), family.work_caps("binary", 1_000_000, 600)
    assert small["num_iterations"] == family.default_params("binary", 1000)["num_iterations"]
    assert small["num_leaves"] == 50 and big["num_leaves"] == 1024
    assert big["num_iterations"] > small["num_iterations"]
    checked = validate_candidate(Candidate(estimator="lightgbm", params={"num_leaves": 4000, "extra_trees": True}),
                                 "binary", n_rows=1000, budget_seconds=20)
    assert checked.params == {"num_leaves": 50, "extra_trees": True}
    with pytest.raises(PlanError, match="'extra_trees' of 'lightgbm' must be one of"):
        validate_candidate(Candidate(estimator="lightgbm", params={"extra_trees": "yes"}), "binary")


def test_text_is_hashed_so_a_linear_member_saves_small_with_a_sparse_reference():
    import pandas as pd

    from core.runtime import sklearn_reference

    rng = np.random.default_rng(0)
    words = np.array([f"word{i}" for i in range(3000)])
    df = pd.DataFrame({"note": [" ".join(rng.choice(words, 12)) for _ in range(400)],
                       "size": rng.normal(size=400)})
    schema = {"target": "y", "task_type": "binary", "classes": ["no", "yes"],
              "columns": [{"name": "note", "kind": "text"}, {"name": "size", "kind": "numeric"}]}
    x, _ = prepare_frame(df, schema)
    y = (df["size"] > 0).astype(int).to_numpy()
    family = REGISTRY["tfidf_linear"]
    fitted = family.fit(family.default_params("binary", 400), x, y, FitContext("binary", schema, n_classes=2))
    # no vocabulary to store word by word: the file is the IDF weights and coefficients
    assert len(sio.dumps(fitted.estimator)) < 8 * 2 ** 18 * 3
    reference = sklearn_reference(Member("sklearn", fitted.estimator), x)
    assert reference["size"] == 2 ** 18 + 1 and len(reference["index"]) < 2 ** 18 / 4


def test_a_long_fit_reports_progress_while_it_trains(penguins, monkeypatch):
    from core import registry

    monkeypatch.setattr(registry, "PROGRESS_SECONDS", 0.0)  # every check of the clock reports
    x, y = penguins
    calls = []
    ctx = FitContext("multiclass", SCHEMA, n_classes=3, progress=lambda: calls.append(1))
    REGISTRY["lightgbm"].fit({"num_iterations": 40}, x, y, ctx)
    assert len(calls) == 40
    calls.clear()
    REGISTRY["catboost"].fit({"iterations": 30}, x, y, ctx)
    assert len(calls) >= 30


def test_a_catboost_refit_of_folds_cut_short_by_their_deadline_keeps_their_learning_rate(penguins):
    from core.runtime import catboost_frame

    x, y = penguins
    catboost = REGISTRY["catboost"]

    def fit(params, deadline=math.inf):
        ctx = FitContext("multiclass", SCHEMA, n_classes=3, threads=1, deadline=deadline)
        return catboost.fit(params, x, y, ctx)

    def spread(fitted):  # how far apart its probabilities of one class lie: how bold it is
        return np.ptp(fitted.estimator.predict_proba(catboost_frame(x, SCHEMA))[:, 0])

    cut = fit({"iterations": 100_000}, deadline=time.monotonic() + 0.3).info
    assert cut["interrupted"] and cut["iterations"] < 100_000
    refit = catboost.refit_params({"iterations": 100_000}, [cut], 1.25)
    assert refit["learning_rate"] == pytest.approx(cut["learning_rate"])
    # the refit is the validated model on more rows: about as bold as the cut fold, where
    # CatBoost's automatic rate for its few trees gives a far bolder one
    validated = spread(fit({"iterations": cut["iterations"], "learning_rate": cut["learning_rate"]}))
    kept = spread(fit(refit))
    automatic = spread(fit({k: v for k, v in refit.items() if k != "learning_rate"}))
    assert abs(kept - validated) < abs(automatic - validated)
    finished = catboost.refit_params({"iterations": 50}, [{**cut, "interrupted": False}], 1.0)
    assert "learning_rate" not in finished
