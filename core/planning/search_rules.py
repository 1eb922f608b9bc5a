"""Search planning by rules: the first SearchPlan and refinements from the leaderboard.

The offline planner delegates here; the LLM planner may use it as its fallback. Every
candidate named here is valid for `core.registry` by construction (tests check that).
"""

from __future__ import annotations

from core.registry import REGISTRY, validate_candidate
from core.spec import Candidate, DataProfile, SearchPlan, TaskSpec, TrialResult


def choose_validation(n_rows: int, n_columns: int = 10) -> str:
    """Cross-validation while it is affordable, a single holdout on big tables.

    Cost grows with cells (rows x columns), so a wide table of a few thousand rows gets
    3 folds, leaving time for the slow strong models to finish. A small table keeps 5 folds
    up to 100,000 cells: each fold model then sees 80% of the rows, not 67%, nearer the
    model that ships. On digits (1,347 rows x 64 pixels, 60 s) the 3 folds' blend leaned
    on the linear model, stable on few rows but worst once refitted; 5 folds scored log loss
    0.0681 against 0.0717 over 6 seeds (CatBoost's defaults 0.0697).

    Repeated 5-fold (3 partitions, the ensemble chosen on all three, one repeat's models
    kept) was tried on the tables up to 2,500 rows and not kept: against plain 5 folds at
    60 s over seeds 0-2 it won on penguins (log loss 0.0323 -> 0.0307), cps1985 (+0.65%),
    concrete (+0.35%) and titanic (+0.06%) but lost on acs12 (-2.2%), diabetes (-0.66%)
    and wage (-0.37%): three times the fitting per trial left too few refinements. Its
    out-of-fold mean over the repeats, as first tried, also flattered a refitted model with
    the smoothness of a bag of 15 and once shipped a lone linear model at log loss 0.21."""
    cells = n_rows * max(1, n_columns)
    if n_rows <= 5000 and cells <= 100_000:
        return "cv5"
    if n_rows <= 30000 and cells <= 1500000:
        return "cv3"
    return "holdout"


def _families_for(spec: TaskSpec, n_rows: int, budget_seconds: float) -> list[str]:
    """Families to try first, best expected first (the budget may stop the list early)."""
    has_text = bool(spec.text_columns)
    only_text = has_text and set(spec.feature_columns) <= set(spec.text_columns)
    # LightGBM rather than HistGradientBoosting: the same kind of model, faster, with native
    # categories; the budget is better spent on refinements than on both. It goes first: it
    # finishes in a fraction of CatBoost's time, so a complete strong model (the floor) is on
    # the leaderboard within seconds, and CatBoost still gets most of the time left. CatBoost
    # first risked a floor of a few trees when it was stopped early (a busy machine, a big
    # table), with its learning rate sized for a thousand.
    if has_text:
        order = ["catboost", "tfidf_linear"]
    else:
        order = ["lightgbm", "catboost"]
    if not only_text:
        if has_text:
            order.append("lightgbm")
        order.append("linear")
        # forests help small tables; on big ones their deep trees cost memory, bundle size
        # and SHAP time for little gain over boosting
        if n_rows <= 20000 and budget_seconds >= 20:
            order.append("extra_trees")
        if n_rows <= 10000 and budget_seconds >= 40:
            order.append("random_forest")
    return order


def first_search_plan(spec: TaskSpec, profile: DataProfile, budget_seconds: float) -> SearchPlan:
    """Strong defaults for each family that suits the task and the data size."""
    n_rows = profile.rows
    candidates = []
    for name in _families_for(spec, n_rows, budget_seconds):
        family = REGISTRY[name]
        if not family.supports(spec.task_type):
            continue
        candidates.append(Candidate(
            estimator=name, params=family.default_params(str(spec.task_type), n_rows),
            why=f"{family.description}: default settings",
        ))
    validation = choose_validation(n_rows, len(spec.feature_columns))
    return SearchPlan(
        candidates=candidates, validation=validation, budget_seconds=float(budget_seconds),
        ensemble=True,
        rationale=(
            f"Start from the strong defaults of {len(candidates)} model families, validated by "
            f"{'a single holdout' if validation == 'holdout' else validation[2:] + '-fold cross-validation'} "
            f"on {n_rows} rows; then refine the best ones and ensemble them if that helps."
        ),
    )


# --------------------------------------------------------------------------- refinements

# Each entry: a change to try on a good trial of that family, and why.
_MOVES: dict[str, list[tuple[dict, str]]] = {
    "catboost": [
        ({"depth": 8}, "deeper trees"),
        ({"depth": 4}, "shallower trees"),
        ({"l2_leaf_reg": 10.0}, "stronger regularisation"),
        ({"learning_rate": 0.03, "iterations": 3000}, "slower learning, more trees"),
        ({"depth": 7, "l2_leaf_reg": 5.0, "random_strength": 2.0}, "deeper, more randomised"),
        ({"one_hot_max_size": 10}, "one-hot encode small categories"),
    ],
    "lightgbm": [
        ({"num_leaves": 15, "min_data_in_leaf": 10}, "smaller trees"),
        ({"learning_rate": 0.02, "num_iterations": 5000}, "slower learning, more trees"),
        ({"feature_fraction": 0.7, "bagging_fraction": 0.8, "bagging_freq": 1}, "row and column subsampling"),
        ({"num_leaves": 63, "min_data_in_leaf": 10}, "bigger trees"),
        ({"lambda_l2": 10.0, "min_data_in_leaf": 40}, "smoother leaves"),
        ({"extra_trees": True}, "randomised split points"),
    ],
    "hist_gradient_boosting": [
        ({"learning_rate": 0.05, "max_iter": 2000}, "slower learning, more iterations"),
        ({"max_leaf_nodes": 63, "min_samples_leaf": 10}, "bigger trees"),
        ({"max_leaf_nodes": 15, "l2_regularization": 1.0}, "smaller, regularised trees"),
        ({"max_features": 0.6}, "feature subsampling"),
        ({"min_samples_leaf": 50, "l2_regularization": 10.0}, "smoother leaves"),
    ],
    "extra_trees": [
        ({"max_features": 0.7}, "more features per split"),
        ({"min_samples_leaf": 3}, "bigger leaves"),
        ({"max_features": 1.0, "n_estimators": 500}, "all features per split, more trees"),
    ],
    "random_forest": [
        ({"max_features": 0.3}, "more features per split"),
        ({"min_samples_leaf": 3}, "bigger leaves"),
    ],
    "linear": [
        ({"C": 0.1}, "stronger regularisation"),
        ({"C": 10.0}, "weaker regularisation"),
        ({"alpha": 10.0}, "stronger regularisation"),
        ({"alpha": 0.1}, "weaker regularisation"),
        ({"max_categories": 200}, "keep more categories"),
    ],
    "tfidf_linear": [
        ({"C": 16.0}, "weaker regularisation"),
        ({"C": 1.0}, "stronger regularisation"),
        ({"alpha": 0.3}, "weaker regularisation"),
        ({"alpha": 3.0}, "stronger regularisation"),
        ({"ngram_max": 1, "max_text_features": 2 ** 16}, "single words only"),
    ],
}


# On a big table a model has the rows to fill more leaves, and bigger trees come first: on
# nycflights13 (245k rows) LightGBM at 127 leaves scored a test RMSE of 12.69 against 13.20
# at 31, both with 300 trees (bench/big_table_bench.py). Smaller trees are still tried, later.
BIG_TABLE_ROWS = 100000
_BIG_TABLE_MOVES: dict[str, list[tuple[dict, str]]] = {
    "lightgbm": [({"num_leaves": 127, "min_data_in_leaf": 20}, "bigger trees for a big table")],
}  # CatBoost's first move is deeper trees on any table


def _moves(estimator: str, n_rows: int) -> list[tuple[dict, str]]:
    moves = _MOVES.get(estimator, [])
    if n_rows >= BIG_TABLE_ROWS:
        moves = [*_BIG_TABLE_MOVES.get(estimator, []), *moves]
    return moves


# Steps relative to a trial's own value (the family default when the trial did not set it):
# (param, operation, amount). They keep the search moving once the fixed moves are used up.
_STEPS: dict[str, list[tuple[str, str, float]]] = {
    "catboost": [("depth", "+", 1), ("depth", "-", 1), ("l2_leaf_reg", "*", 3.0),
                 ("l2_leaf_reg", "/", 3.0)],
    "lightgbm": [("num_leaves", "/", 2.0), ("num_leaves", "*", 2.0), ("min_data_in_leaf", "*", 2.0),
                 ("min_data_in_leaf", "/", 2.0), ("lambda_l2", "*", 10.0)],
    "hist_gradient_boosting": [("learning_rate", "/", 2.0), ("max_leaf_nodes", "*", 2.0),
                               ("max_leaf_nodes", "/", 2.0), ("min_samples_leaf", "*", 2.0),
                               ("min_samples_leaf", "/", 2.0), ("l2_regularization", "*", 10.0)],
    "linear": [("C", "*", 3.0), ("C", "/", 3.0), ("alpha", "*", 3.0), ("alpha", "/", 3.0)],
    "tfidf_linear": [("C", "*", 2.0), ("C", "/", 2.0), ("alpha", "*", 2.0), ("alpha", "/", 2.0)],
    "extra_trees": [("min_samples_leaf", "+", 1), ("min_samples_leaf", "*", 2.0)],
    "random_forest": [("min_samples_leaf", "+", 1), ("min_samples_leaf", "*", 2.0)],
}
_IMPLICIT = {  # the libraries' own defaults, for params a trial left unset
    "catboost": {"depth": 6, "l2_leaf_reg": 3.0},
    "lightgbm": {"num_leaves": 31, "min_data_in_leaf": 20, "lambda_l2": 0.0},
    "hist_gradient_boosting": {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20,
                               "l2_regularization": 0.0},
    "linear": {"C": 1.0, "alpha": 1.0},
    "tfidf_linear": {"C": 4.0, "alpha": 1.0},
    "extra_trees": {"min_samples_leaf": 1},
    "random_forest": {"min_samples_leaf": 1},
}
_WORDS = {"+": "more", "-": "less", "*": "more", "/": "less"}

# The rules explore narrower ranges than the registry allows (an LLM planner may go further).
# Past C=100 a logistic model is all but unregularised: on small, nearly separable tables
# cross-validated log loss keeps rewarding it while held-out rows meet near-0/1
# probabilities (penguins: held-out log loss 0.058 at C=100, 0.085 at C=10,000).
_RULE_RANGES = {"C": (0.01, 100.0)}


def _within_rule_ranges(params: dict) -> bool:
    return all(low <= params[name] <= high for name, (low, high) in _RULE_RANGES.items()
               if name in params)


def _stepped(trial: TrialResult) -> list[tuple[dict, str]]:
    out = []
    for param, op, amount in _STEPS.get(trial.estimator, []):
        current = trial.params.get(param, _IMPLICIT.get(trial.estimator, {}).get(param))
        if current is None:
            continue
        if op == "*" and current == 0:
            new = 0.1  # from no regularisation to a little
        else:
            new = {"+": current + amount, "-": current - amount, "*": current * amount,
                   "/": current / amount}[op]
        if param in ("iterations", "max_iter") or param.endswith(("depth", "_leaf", "_nodes")):
            new = int(round(new))
        change = {param: new}
        if trial.estimator == "hist_gradient_boosting" and param == "learning_rate":
            change["max_iter"] = int(trial.params.get("max_iter", 300)) * 2
        out.append((change, f"{_WORDS[op]} {param.replace('_', ' ')}"))
    return out


def _key(estimator: str, params: dict) -> tuple:
    return estimator, tuple(sorted((k, repr(v)) for k, v in params.items()))


def _family_proposals(trial: TrialResult, spec: TaskSpec, tried: set, n_rows: int) -> list[Candidate]:
    out, seen = [], set(tried)
    for change, why in [*_moves(trial.estimator, n_rows), *_stepped(trial)]:
        try:
            cand = validate_candidate(
                Candidate(estimator=trial.estimator, params={**trial.params, **change},
                          parent=trial.trial_id, why=f"{why} than {trial.trial_id}"),
                str(spec.task_type),
            )
        except Exception:  # a move that does not apply to this task (e.g. C on regression)
            continue
        if not _within_rule_ranges(cand.params):
            continue
        key = _key(cand.estimator, cand.params)
        if key not in seen:
            seen.add(key)
            out.append(cand)
    return out


def refine_candidates(
    spec: TaskSpec, profile: DataProfile, leaderboard: list[TrialResult], max_new: int
) -> list[Candidate]:
    """Neighbours of the best trials, best trial first, never a config already tried.

    Round-robin over the best trial of each family (ordered by score), two families at a
    time, so that one family cannot take every refinement while another is close behind;
    a family whose neighbourhood is used up makes room for the next one.
    """
    tried = {_key(t.estimator, t.params) for t in leaderboard}
    ok = sorted((t for t in leaderboard if t.status == "ok" and t.score is not None),
                key=lambda t: -t.score)
    best_per_family: list[TrialResult] = []
    for trial in ok:
        if all(b.estimator != trial.estimator for b in best_per_family):
            best_per_family.append(trial)
    proposals = [p for p in (_family_proposals(t, spec, tried, profile.rows) for t in best_per_family) if p]
    proposals = proposals[:2] or proposals
    out: list[Candidate] = []
    while len(out) < max_new and any(proposals):
        for mine in proposals:
            if mine and len(out) < max_new:
                out.append(mine.pop(0))
    return out
