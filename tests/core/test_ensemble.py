import numpy as np
import pytest

from core import metrics
from core.ensemble import GreedyEnsemble


def _regression_case():
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    # two models with independent errors: their average is better than either
    a = y + rng.normal(scale=0.5, size=400)
    b = y + rng.normal(scale=0.55, size=400)
    bad = rng.normal(size=400)
    return y, {"a": a, "b": b, "bad": bad}


def test_ensemble_mixes_models_with_independent_errors():
    y, preds = _regression_case()
    scores = {k: metrics.score("rmse", y, p) for k, p in preds.items()}
    ens = GreedyEnsemble("rmse").fit(preds, scores, y)
    assert ens.improves_
    assert set(ens.weights_) >= {"a", "b"} and ens.weights_.get("bad", 0) < 0.2
    assert sum(ens.weights_.values()) == pytest.approx(1.0)
    assert ens.score_ > scores["a"]
    assert ens.score_ == pytest.approx(metrics.score("rmse", y, ens.blend(preds)))


def test_ensemble_is_not_used_when_it_does_not_beat_the_best_model():
    y, preds = _regression_case()
    same = {"a": preds["a"], "copy": preds["a"].copy()}
    scores = {k: metrics.score("rmse", y, p) for k, p in same.items()}
    ens = GreedyEnsemble("rmse").fit(same, scores, y)
    assert not ens.improves_
    assert ens.weights_ == {ens.best_single_id_: 1.0}


def test_ensemble_blends_class_probabilities():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    truth = np.eye(3)[y]
    p1 = 0.6 * truth + 0.4 * rng.dirichlet([1, 1, 1], 300)
    p2 = 0.6 * truth + 0.4 * rng.dirichlet([1, 1, 1], 300)
    preds = {"p1": p1, "p2": p2}
    scores = {k: metrics.score("log_loss", y, p, 3) for k, p in preds.items()}
    ens = GreedyEnsemble("log_loss", 3).fit(preds, scores, y)
    blended = ens.blend(preds)
    assert np.allclose(blended.sum(axis=1), 1.0)
    assert ens.improves_ and ens.score_ > max(scores.values())


def test_bagged_selection_hedges_a_model_that_is_best_only_by_luck():
    rng = np.random.default_rng(2)
    y = rng.normal(size=120)
    a = y + rng.normal(scale=0.5, size=120)
    b = y + rng.normal(scale=0.52, size=120)
    preds = {"a": a, "b": b}
    scores = {k: metrics.score("rmse", y, p) for k, p in preds.items()}
    ens = GreedyEnsemble("rmse", bags=10, max_seconds=10).fit(preds, scores, y)
    assert ens.bags_used_ == 10
    assert ens.improves_ and set(ens.weights_) == {"a", "b"}
    assert sum(ens.weights_.values()) == pytest.approx(1.0)


def test_bagging_stops_at_its_time_limit():
    y, preds = _regression_case()
    scores = {k: metrics.score("rmse", y, p) for k, p in preds.items()}
    ens = GreedyEnsemble("rmse", bags=50, max_seconds=0.0).fit(preds, scores, y)
    assert ens.bags_used_ == 1


def test_members_with_a_tiny_bagged_weight_are_dropped():
    y, preds = _regression_case()
    scores = {k: metrics.score("rmse", y, p) for k, p in preds.items()}
    ens = GreedyEnsemble("rmse", bags=10, max_seconds=10, min_weight=0.3).fit(preds, scores, y)
    assert all(w >= 0.3 for w in ens.weights_.values())
    assert sum(ens.weights_.values()) == pytest.approx(1.0)


# ---- the floor: the plan's first trials, which a refinement must beat beyond chance


def _search_of(y: np.ndarray, oofs: dict[str, np.ndarray], refinements: set[str], metric="rmse"):
    """A finished search as `core.build._choose_ensemble` reads it, and its data."""
    from types import SimpleNamespace

    records = {tid: SimpleNamespace(
        result=SimpleNamespace(status="ok", score=metrics.score(metric, y, oof)),
        candidate=SimpleNamespace(parent="t001" if tid in refinements else None), oof=oof)
        for tid, oof in oofs.items()}
    search = SimpleNamespace(records_=records, spec=SimpleNamespace(metric=metric), seed=0,
                             folds_=SimpleNamespace(valid_rows=np.arange(len(y))),
                             rows_exchangeable_=True)
    data = SimpleNamespace(y=y, train=np.arange(len(y)), n_classes=0)
    return search, data


def test_a_refinement_better_only_by_chance_leaves_the_floor_to_ship():
    from core.build import _choose_ensemble

    rng = np.random.default_rng(3)
    y = rng.lognormal(sigma=1.0, size=900)  # heavy-tailed, like a yearly income
    floor = y + rng.normal(scale=1.5, size=900)
    for seed in range(50):  # the first model as good as the floor that is luckier on these rows
        lucky = y + np.random.default_rng(seed).normal(scale=1.5, size=900)
        if metrics.score("rmse", y, lucky) > metrics.score("rmse", y, floor):
            break
    search, data = _search_of(y, {"t001": floor, "t002": lucky}, refinements={"t002"})
    assert search.records_["t002"].result.score > search.records_["t001"].result.score
    ens = _choose_ensemble(search, data, use_ensemble=False, max_seconds=2.0)
    assert ens.weights_ == {"t001": 1.0}
    assert ens.floor_["kept"] and ens.floor_["confidence"] < 0.9
    # rows in time order or in groups are not independent draws: no bootstrap, no floor
    search.rows_exchangeable_ = False
    ens = _choose_ensemble(search, data, use_ensemble=False, max_seconds=2.0)
    assert ens.weights_ == {"t002": 1.0} and ens.floor_ is None


def test_a_refinement_that_is_really_better_ships():
    from core.build import _choose_ensemble

    rng = np.random.default_rng(4)
    y = rng.normal(size=900)
    floor, better = y + rng.normal(scale=1.0, size=900), y + rng.normal(scale=0.6, size=900)
    search, data = _search_of(y, {"t001": floor, "t002": better}, refinements={"t002"})
    ens = _choose_ensemble(search, data, use_ensemble=False, max_seconds=2.0)
    assert ens.weights_ == {"t002": 1.0}
    assert not ens.floor_["kept"] and ens.floor_["confidence"] > 0.99


def test_paired_win_share_tells_a_real_gain_from_a_lucky_one():
    from core.ensemble import paired_win_share

    rng = np.random.default_rng(5)
    y = rng.normal(size=500)
    a = y + rng.normal(scale=1.0, size=500)
    assert paired_win_share("rmse", 0, y, y + rng.normal(scale=0.5, size=500), a) > 0.99
    assert paired_win_share("rmse", 0, y, a, y + rng.normal(scale=0.5, size=500)) < 0.01
    assert paired_win_share("rmse", 0, y, a, a) == 0.5  # ties count half
    # a single class cannot be scored: no sample is drawn, and it says nothing either way
    assert paired_win_share("roc_auc", 2, np.zeros(50), np.zeros((50, 2)), np.zeros((50, 2))) == 0.5


def test_a_kept_floor_that_cannot_ship_in_time_is_cut_to_what_fits(monkeypatch):
    import time
    from types import SimpleNamespace

    from core import build
    from core.build import PostSearchCosts, _choose_ensemble, _floor_that_fits

    rng = np.random.default_rng(6)
    y = rng.normal(size=600)
    oofs = {"t001": y + rng.normal(scale=1.0, size=600), "t002": y + rng.normal(scale=1.0, size=600),
            "t003": y + rng.normal(scale=1.0, size=600)}
    oofs["t004"] = (oofs["t001"] + oofs["t002"] + oofs["t003"]) / 3 + rng.normal(scale=0.05, size=600)
    search, data = _search_of(y, oofs, refinements={"t004"})
    ens = _choose_ensemble(search, data, use_ensemble=True, max_seconds=2.0)
    assert ens.floor_["kept"] and len(ens.weights_) > 1  # the three defaults, blended
    clock = SimpleNamespace(end=time.monotonic() + 10, budget_seconds=60)
    monkeypatch.setattr(build, "_left_unrefitted", lambda weights, *a: set(weights))
    monkeypatch.setattr(build, "_margin", lambda clock: 0.0)
    data.sizes = lambda: None
    # each member's fold models take `seconds` to ship; the refined choice has fewer members
    assert len(ens.floor_["refined_weights"]) < len(ens.weights_)
    # 10 s left: 1 s a member fits; at 4 s a member two fit; at 20 s only one is left
    for seconds, most in ((1.0, 3), (4.0, 2), (20.0, 1)):
        monkeypatch.setattr(build, "_post_search_costs", lambda members, *a, s=seconds:
                            PostSearchCosts({"serialize": s * len(members)}))
        shipped = _floor_that_fits(ens, search, data, clock, costs=None, only=None)
        if most == 3:
            assert shipped is ens
        else:
            assert 1 <= len(shipped.weights_) <= most and shipped.floor_["cut_to_fit"]
            assert set(shipped.weights_) <= {"t001", "t002", "t003"}
