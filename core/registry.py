"""Estimator families: what the search may train, each with its search space and bounds.

One small wrapper class per family (FLAML's model.py contract): it declares its parameters
and their bounds, gives strong defaults, and turns a config into a fitted model member.
Plans from any planner (rules or LLM) are validated here with `validate_candidate` before
anything is trained.

Every family trains on the prepared frame of `core.runtime.prepare_frame` (CatBoost on
`core.runtime.catboost_frame` of it, LightGBM on `core.runtime.lightgbm_frame`) and classifiers on label indices 0..K-1, so the member
it returns predicts through `core.runtime` exactly as a bundle will. scikit-learn members are
Pipelines of standard classes only (skops saves them with an explicit trusted-types list).

`search_space` maps a parameter to ``(low, high)`` (numbers; ints where the family says so)
or to a list of allowed choices, or to FEATURE_NAMES: a list of prepared feature names.
`validate_candidate` rejects unknown names and clips
numbers that fall outside their bounds (and says so in `Candidate.why`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from core.cpu import available_threads, openmp_threads
from core.errors import PlanError
from core.runtime import MISSING_CATEGORY, feature_kinds, lightgbm_features
from core.spec import Candidate

# HistGradientBoosting's native categorical support stores a functools.partial of
# check_array inside the model, which the bundle's skops trusted-types list does not allow;
# until it does, categories reach it as ordinal codes (still split well by the trees).
NATIVE_HGB_CATEGORIES = False


FEATURE_NAMES = "feature names"  # a search-space entry: a list of prepared feature names
MAX_NAMED_FEATURES = 2000
PROGRESS_SECONDS = 1.0  # how often a long fit says it is still going


@dataclass
class FitContext:
    """What a family needs besides the data to fit one model."""

    task_type: str
    schema: dict
    seed: int = 0
    deadline: float = math.inf  # time.monotonic() value after which training must stop
    should_stop: Callable[[], bool] = lambda: False
    n_classes: int = 0
    threads: int = field(default_factory=available_threads)  # for the libraries that use several
    progress: Callable[[], None] = lambda: None  # called about once a second while fitting
    last_progress: float = field(default_factory=time.monotonic, repr=False)

    def out_of_time(self) -> bool:
        """Whether to stop now; every family's training loop asks, so it is also where a
        long fit reports progress (a progress bar moves during the first trial)."""
        now = time.monotonic()
        if now - self.last_progress >= PROGRESS_SECONDS:
            self.last_progress = now
            self.progress()
        return now >= self.deadline or self.should_stop()


@dataclass
class FittedModel:
    """A fitted estimator, its member kind for core.runtime, and facts for a refit."""

    kind: str  # 'catboost', 'lightgbm' or 'sklearn'
    estimator: Any
    info: dict = field(default_factory=dict)  # e.g. {'iterations': 412, 'interrupted': False}


def _columns_by_kind(schema: dict) -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {"numeric": [], "categorical": [], "text": []}
    for name, kind in feature_kinds(schema).items():
        by_kind[kind].append(name)
    return by_kind


class EstimatorFamily:
    """Base class of a registry entry. Subclasses declare `name` and `search_space`."""

    name: str = ""
    description: str = ""
    tasks: tuple[str, ...] = ("binary", "multiclass", "regression")
    search_space: dict[str, tuple | list] = {}
    int_params: frozenset[str] = frozenset()
    classification_only: frozenset[str] = frozenset()
    regression_only: frozenset[str] = frozenset()
    uses_text: bool = True  # False: text columns are left out by this family

    def supports(self, task_type: str) -> bool:
        return str(task_type) in self.tasks

    def space(self, task_type: str) -> dict[str, tuple | list]:
        """The parameters that apply to this task type, with their bounds or choices."""
        skip = self.regression_only if str(task_type) != "regression" else self.classification_only
        return {k: v for k, v in self.search_space.items() if k not in skip}

    def default_params(self, task_type: str, n_rows: int) -> dict[str, Any]:
        raise NotImplementedError

    def fit(self, params: dict, x: pd.DataFrame, y: np.ndarray, ctx: FitContext,
            x_valid: pd.DataFrame | None = None, y_valid: np.ndarray | None = None) -> FittedModel:
        """Fit on prepared features; `x_valid` (if given) may be used for early stopping."""
        raise NotImplementedError

    def refit_params(self, params: dict, infos: list[dict], growth: float) -> dict:
        """Params for a refit on more data, from what the validation fits learned."""
        return dict(params)

    def work_caps(self, task_type: str, n_rows: int, budget_seconds: float) -> dict[str, float]:
        """Upper limits on the parameters that buy work (trees, iterations, depth) for this
        much data and time. A plan may ask for less, never for more: the caps keep any plan,
        a hostile one included, near the cost and bundle size of the family's defaults."""
        return {}

    def refit_work(self, infos: list[dict], growth: float) -> float:
        """Work of the refit (`refit_params` with this growth) relative to one validation
        fit on as many rows; scales the fold fit times into a refit time estimate."""
        return 1.0


# --------------------------------------------------------------------------- CatBoost


class _CatBoostTimeGuard:
    """CatBoost callback: stop training at the deadline or when the build is cancelled."""

    def __init__(self, ctx: FitContext):
        self.ctx = ctx
        self.interrupted = False

    def after_iteration(self, info) -> bool:
        if self.ctx.out_of_time():
            self.interrupted = True
            return False
        return True


class _EarlyStoppedBoosting(EstimatorFamily):
    """A boosting family whose validation fits stop early: the refit trains as many trees
    as the folds found best (times the growth), with no early stopping."""

    iterations_param = "iterations"

    def refit_params(self, params, infos, growth):
        out = dict(params)
        out[self.iterations_param] = self._refit_iterations(infos, growth)
        out.pop("early_stopping_rounds", None)
        return out

    def refit_work(self, infos, growth):
        trained = np.mean([i.get("trained_iterations", i["iterations"]) for i in infos])
        return self._refit_iterations(infos, growth) / max(1.0, float(trained))

    @staticmethod
    def _refit_iterations(infos: list[dict], growth: float) -> int:
        return max(10, int(round(np.mean([i["iterations"] for i in infos]) * growth)))


class CatBoostFamily(_EarlyStoppedBoosting):
    name = "catboost"
    description = "CatBoost gradient boosting; categorical and text features handled natively"
    search_space = {
        "iterations": (20, 5000),
        "learning_rate": (0.005, 0.5),
        "depth": (2, 10),
        "l2_leaf_reg": (0.1, 100.0),
        "random_strength": (0.0, 10.0),
        "bagging_temperature": (0.0, 10.0),
        "one_hot_max_size": (1, 255),
        "border_count": (16, 255),
        "early_stopping_rounds": (10, 500),
    }
    int_params = frozenset({"iterations", "depth", "one_hot_max_size", "border_count",
                            "early_stopping_rounds"})

    def default_params(self, task_type: str, n_rows: int) -> dict[str, Any]:
        # CatBoost's own defaults are strong; the learning rate is left to CatBoost's auto rule
        return {"iterations": 1000, "depth": 6, "early_stopping_rounds": 100}

    def work_caps(self, task_type, n_rows, budget_seconds):
        iterations = _scaled(self.default_params(task_type, n_rows)["iterations"], 50 * budget_seconds, 5000)
        # each level doubles a tree's leaves: depth 10 costs 16 times depth 6, in time and size
        depth = 6 if budget_seconds < 60 else (8 if budget_seconds < 600 else 10)
        return {"iterations": iterations, "depth": depth,
                "early_stopping_rounds": max(100, iterations // 10)}

    def _estimator(self, params: dict, ctx: FitContext, learning_rate: float | None = None):
        from catboost import CatBoostClassifier, CatBoostRegressor

        by_kind = _columns_by_kind(ctx.schema)
        kwargs = {k: v for k, v in params.items() if k != "early_stopping_rounds"}
        if learning_rate is not None:
            kwargs["learning_rate"] = learning_rate
        common = dict(
            random_seed=ctx.seed, thread_count=ctx.threads, verbose=0, allow_writing_files=False,
            cat_features=by_kind["categorical"] or None, text_features=by_kind["text"] or None,
        )
        if ctx.task_type == "regression":
            return CatBoostRegressor(loss_function="RMSE", **common, **kwargs)
        loss = "Logloss" if ctx.task_type == "binary" else "MultiClass"
        return CatBoostClassifier(loss_function=loss, **common, **kwargs)

    def fit(self, params, x, y, ctx, x_valid=None, y_valid=None, learning_rate=None):
        from core.runtime import catboost_frame

        model = self._estimator(params, ctx, learning_rate)
        guard = _CatBoostTimeGuard(ctx)
        fit_kwargs: dict[str, Any] = {"callbacks": [guard]}
        early_stopping = (x_valid is not None and len(x_valid)
                          and _valid_has_train_classes(y, y_valid, ctx))
        if early_stopping:
            fit_kwargs["eval_set"] = (catboost_frame(x_valid, ctx.schema), y_valid)
            fit_kwargs["early_stopping_rounds"] = int(params.get("early_stopping_rounds", 100))
            # CatBoost's automatic learning rate is several times larger when it keeps the
            # best model of an eval set; without an eval set (the refit, CatBoost's defaults)
            # it is smaller and generalises better. Keep the no-eval-set rate and cut the
            # trees back to the best iteration ourselves.
            model.set_params(use_best_model=False)
        model.fit(catboost_frame(x, ctx.schema), y, **fit_kwargs)
        trained = int(model.tree_count_)
        best = model.get_best_iteration()
        if early_stopping and best is not None and best + 1 < model.tree_count_:
            model.shrink(best + 1)
        info = {
            "iterations": int(best + 1 if best is not None else model.tree_count_),
            "trained_iterations": trained,  # the fit's cost: early stopping trains past the best
            "completed_share": trained / max(1, int(model.get_param("iterations") or 1000)),
            "learning_rate": float(model.get_all_params()["learning_rate"]),
            "interrupted": guard.interrupted,
        }
        return FittedModel("catboost", model, info)

    def refit_params(self, params, infos, growth):
        """A config without a learning rate leaves it to CatBoost's automatic rule, which sizes
        it to the refit's own rows and iterations, as CatBoost's defaults would (the folds'
        rates were sized to fewer rows). But folds stopped by their deadline learned at the
        small rate sized for all the trees they planned; the automatic rate for the refit's
        few trees is many times larger, so that refit would be another, far bolder model than
        the one validated, and in an ensemble its weight was earned by the timid one (on
        fine_food_reviews a 0.73 AUC member took 70% of the weight and the held-out AUC fell
        from 0.85 to 0.80). Such a refit keeps the folds' rate."""
        out = super().refit_params(params, infos, growth)
        if "learning_rate" not in params and any(i.get("interrupted") for i in infos):
            out["learning_rate"] = float(np.mean([i["learning_rate"] for i in infos]))
        return out


def _scaled(default: float, affordable: float, bound: float) -> int:
    """A work cap: what the data and budget afford, never below the default, never above the
    registry bound."""
    return int(min(bound, max(default, affordable)))


def _valid_has_train_classes(y, y_valid, ctx: FitContext) -> bool:
    """CatBoost refuses an eval set with a class it did not see in training."""
    if ctx.task_type == "regression" or y_valid is None:
        return True
    return set(np.unique(y_valid)) <= set(np.unique(y))


# --------------------------------------------------------------------------- LightGBM


class _LightGBMGuard:
    """LightGBM callback: early stopping on the validation fold, and a stop at the deadline
    or when the build is cancelled (the trees so far are kept)."""

    order = 30  # after LightGBM's own evaluation of the iteration

    def __init__(self, ctx: FitContext, rounds: int | None):
        self.ctx = ctx
        self.rounds = rounds
        self.best_score, self.best_iteration = math.inf, -1
        self.trained = 0  # LightGBM drops the trees past the best one when it stops early
        self.interrupted = False

    def __call__(self, env) -> None:
        from lightgbm.callback import EarlyStopException

        self.trained = env.iteration + 1
        if self.rounds is not None and env.evaluation_result_list:
            score = env.evaluation_result_list[0][2]  # the objective's own loss: lower is better
            if score < self.best_score:
                self.best_score, self.best_iteration = score, env.iteration
            elif env.iteration - self.best_iteration >= self.rounds:
                raise EarlyStopException(self.best_iteration, env.evaluation_result_list)
        if self.ctx.out_of_time():
            self.interrupted = True
            raise EarlyStopException(env.iteration, env.evaluation_result_list or [])


class LightGBMFamily(_EarlyStoppedBoosting):
    name = "lightgbm"
    iterations_param = "num_iterations"
    description = ("LightGBM gradient boosting (leaf-wise trees, categories handled natively, "
                   "no text): the fastest strong model on large tables")
    search_space = {
        "num_iterations": (20, 10000),
        "learning_rate": (0.005, 0.5),
        "num_leaves": (4, 1024),
        "min_data_in_leaf": (1, 1000),
        "feature_fraction": (0.1, 1.0),
        "bagging_fraction": (0.1, 1.0),
        "bagging_freq": (0, 10),
        "lambda_l1": (0.0, 100.0),
        "lambda_l2": (0.0, 100.0),
        "max_bin": (15, 1023),
        "cat_smooth": (1.0, 100.0),
        "max_cat_to_onehot": (1, 64),
        "extra_trees": [False, True],
        "early_stopping_rounds": (10, 500),
        # prepared features the trees may not split on (see `fit`); the search proposes it
        # for features that follow time itself in forward-in-time folds
        "ignore_features": FEATURE_NAMES,
    }
    int_params = frozenset({"num_iterations", "num_leaves", "min_data_in_leaf", "bagging_freq",
                            "max_bin", "max_cat_to_onehot", "early_stopping_rounds"})
    uses_text = False

    def default_params(self, task_type, n_rows):
        # LightGBM's own defaults (31 leaves, 20 rows a leaf) with a slower rate and early
        # stopping instead of a fixed 100 trees; big tables learn enough at LightGBM's 0.1
        return {"num_iterations": 2000, "learning_rate": 0.05 if n_rows <= 100000 else 0.1,
                "num_leaves": 31, "min_data_in_leaf": 20, "early_stopping_rounds": 100}

    def work_caps(self, task_type, n_rows, budget_seconds):
        iterations = _scaled(self.default_params(task_type, n_rows)["num_iterations"],
                             100 * budget_seconds, 10000)
        return {"num_iterations": iterations, "num_leaves": _scaled(31, n_rows / 20, 1024),
                "max_bin": 255 if budget_seconds < 600 else 1023,
                "early_stopping_rounds": max(100, iterations // 10)}

    def _params(self, params: dict, ctx: FitContext, n_rows: int) -> dict:
        objective = {"regression": ("regression", "l2"), "binary": ("binary", "binary_logloss")}.get(
            ctx.task_type, ("multiclass", "multi_logloss"))
        out = {k: v for k, v in params.items()
               if k not in ("num_iterations", "early_stopping_rounds", "ignore_features")}
        out.update(objective=objective[0], metric=objective[1], seed=ctx.seed, verbosity=-1,
                   num_threads=openmp_threads(ctx.threads, n_rows))  # see core/cpu.py
        if ctx.task_type == "multiclass":
            out["num_class"] = max(ctx.n_classes, 2)
        if out.get("bagging_fraction", 1.0) < 1.0 and not out.get("bagging_freq"):
            out["bagging_freq"] = 1  # LightGBM ignores a bagging fraction without a frequency
        return out

    def fit(self, params, x, y, ctx, x_valid=None, y_valid=None):
        import lightgbm

        from core.runtime import lightgbm_frame

        features = _blanked(lightgbm_frame(x, ctx.schema), ctx.schema,
                            params.get("ignore_features") or ())
        if features.shape[1] == 0:
            raise ValueError("LightGBM needs at least one numeric or categorical column.")
        lgb_params = self._params(params, ctx, len(x))
        train = lightgbm.Dataset(features, y, params=lgb_params, free_raw_data=True)
        early_stopping = x_valid is not None and len(x_valid) > 0
        valid = ([lightgbm.Dataset(lightgbm_frame(x_valid, ctx.schema), y_valid, reference=train)]
                 if early_stopping else [])
        guard = _LightGBMGuard(ctx, int(params.get("early_stopping_rounds", 100)) if early_stopping else None)
        total = int(params.get("num_iterations", 1000))
        booster = lightgbm.train(lgb_params, train, num_boost_round=total, valid_sets=valid,
                                 callbacks=[guard])
        trained = max(guard.trained, int(booster.current_iteration()))
        best = guard.best_iteration + 1 if early_stopping and guard.best_iteration >= 0 else trained
        # a fresh booster from the text model: exactly what a bundle loads, best trees only
        model = lightgbm.Booster(model_str=booster.model_to_string(num_iteration=best))
        info = {"iterations": best, "trained_iterations": trained,
                "completed_share": trained / max(1, total), "interrupted": guard.interrupted}
        return FittedModel("lightgbm", model, info)



def _blanked(features: pd.DataFrame, schema: dict, ignored) -> pd.DataFrame:
    """The training frame with the ignored features missing on every row: the trees cannot
    split on them, yet the model keeps every feature, so a bundle passes the same frame as
    for any LightGBM member and those features' values change nothing."""
    ignored = set(ignored)
    blank = [f"f{i}" for i, name in enumerate(lightgbm_features(schema)) if name in ignored]
    if not blank:
        return features
    features = features.copy()
    for column in blank:
        values = features[column]
        features[column] = (pd.Categorical([None] * len(values), dtype=values.dtype)
                            if isinstance(values.dtype, pd.CategoricalDtype) else np.nan)
    return features


# --------------------------------------------------------------------------- sklearn helpers


def _ordinal_trees_preprocessor(schema: dict, max_categories: int) -> tuple[ColumnTransformer, list[int]]:
    """Numbers as they are (the trees handle NaN), categories as ordinal codes; no text."""
    by_kind = _columns_by_kind(schema)
    steps = []
    if by_kind["numeric"]:
        steps.append(("num", "passthrough", by_kind["numeric"]))
    if by_kind["categorical"]:
        steps.append((
            "cat",
            OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=np.nan,
                encoded_missing_value=np.nan, max_categories=max_categories,
            ),
            by_kind["categorical"],
        ))
    if not steps:
        raise ValueError("This model family needs at least one numeric or categorical column.")
    n_num = len(by_kind["numeric"])
    cat_idx = list(range(n_num, n_num + len(by_kind["categorical"])))
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0), cat_idx


def _staged_fit(pipeline: Pipeline, x, y, ctx: FitContext, size_param: str, total: int,
                step: int) -> dict:
    """Grow a warm-started ensemble in steps until `total`, the deadline, or a cancel.

    The preprocessor is fitted once; each step adds `step` trees / iterations. This is
    what makes forests and HistGradientBoosting interruptible.
    """
    prep, model = pipeline.steps[0][1], pipeline.steps[-1][1]
    features = prep.fit_transform(x)
    done, interrupted = 0, False
    threads = openmp_threads(ctx.threads, len(x))  # see core/cpu.py
    while done < total:
        done = min(total, done + step)
        model.set_params(**{size_param: done})
        with threadpool_limits(limits=threads, user_api="openmp"):
            model.fit(features, y)
        if getattr(model, "n_iter_", done) < done:  # HistGradientBoosting stopped early
            break
        if done < total and ctx.out_of_time():
            interrupted = True
            break
    size = int(getattr(model, "n_iter_", done))
    return {"iterations": size, "interrupted": interrupted, "completed_share": done / total}


# --------------------------------------------------------------------------- HistGradientBoosting


class HistGradientBoostingFamily(EstimatorFamily):
    name = "hist_gradient_boosting"
    description = "scikit-learn HistGradientBoosting (categories as ordinal codes) with early stopping"
    search_space = {
        "learning_rate": (0.005, 0.5),
        "max_iter": (20, 3000),
        "max_leaf_nodes": (4, 512),
        "min_samples_leaf": (1, 500),
        "l2_regularization": (0.0, 100.0),
        "max_features": (0.1, 1.0),
        "max_bins": (16, 255),
    }
    int_params = frozenset({"max_iter", "max_leaf_nodes", "min_samples_leaf", "max_bins"})
    uses_text = False

    def default_params(self, task_type, n_rows):
        if n_rows < 1000:  # too few rows for early stopping: slower, smaller, regularised
            return {"learning_rate": 0.05, "max_iter": 200, "max_leaf_nodes": 15,
                    "min_samples_leaf": 10, "l2_regularization": 1.0}
        return {"learning_rate": 0.1, "max_iter": 1000, "max_leaf_nodes": 31,
                "min_samples_leaf": 20, "l2_regularization": 0.0}

    def work_caps(self, task_type, n_rows, budget_seconds):
        return {
            "max_iter": _scaled(self.default_params(task_type, n_rows)["max_iter"], 25 * budget_seconds, 3000),
            "max_leaf_nodes": _scaled(31, n_rows / 20, 512),
        }

    def fit(self, params, x, y, ctx, x_valid=None, y_valid=None):
        prep, cat_idx = _ordinal_trees_preprocessor(
            ctx.schema, max_categories=int(params.get("max_bins", 255)) - 1)
        cls = HistGradientBoostingRegressor if ctx.task_type == "regression" else HistGradientBoostingClassifier
        total = int(params.get("max_iter", 300))
        model = cls(
            **{k: v for k, v in params.items() if k != "max_iter"},
            categorical_features=(cat_idx or None) if NATIVE_HGB_CATEGORIES else None,
            warm_start=True, random_state=ctx.seed,
            early_stopping=len(x) >= 1000, n_iter_no_change=20, validation_fraction=0.1,
        )
        pipeline = Pipeline([("prepare", prep), ("model", model)])
        info = _staged_fit(pipeline, x, y, ctx, "max_iter", total, step=max(25, total // 10))
        model.set_params(warm_start=False)
        return FittedModel("sklearn", pipeline, info)

    # refit_params: unchanged; the refit early-stops on its own internal validation share


# --------------------------------------------------------------------------- forests


class _ForestFamily(EstimatorFamily):
    classifier: type = RandomForestClassifier
    regressor: type = RandomForestRegressor
    search_space = {
        "n_estimators": (10, 2000),
        "max_features": ["sqrt", "log2", 0.2, 0.3, 0.5, 0.7, 1.0],
        "min_samples_leaf": (1, 100),
        "max_samples": (0.05, 1.0),
        "max_depth": (2, 60),
    }
    int_params = frozenset({"n_estimators", "min_samples_leaf", "max_depth"})
    uses_text = False

    def default_params(self, task_type, n_rows):
        params: dict[str, Any] = {
            "n_estimators": 300,
            "max_features": "sqrt" if task_type != "regression" else 0.5,
            "min_samples_leaf": 1 if n_rows < 5000 else (3 if n_rows < 20000 else 5),
        }
        if n_rows > 50000:  # bound memory and time on big tables
            params["max_samples"] = round(max(0.05, 50000 / n_rows), 3)
        return params

    def work_caps(self, task_type, n_rows, budget_seconds):
        # a fully grown tree is about log2(rows) deep; deeper limits only add cost to check
        return {
            "n_estimators": _scaled(self.default_params(task_type, n_rows)["n_estimators"],
                                    10 * budget_seconds, 2000),
            "max_depth": max(8, 2 * math.ceil(math.log2(max(n_rows, 2)))),
        }

    def fit(self, params, x, y, ctx, x_valid=None, y_valid=None):
        prep, _ = _ordinal_trees_preprocessor(ctx.schema, max_categories=250)
        cls = self.regressor if ctx.task_type == "regression" else self.classifier
        total = int(params.get("n_estimators", 300))
        extra = {"bootstrap": True} if "max_samples" in params else {}
        model = cls(**{k: v for k, v in params.items() if k != "n_estimators"}, **extra,
                    warm_start=True, n_jobs=ctx.threads, random_state=ctx.seed)
        pipeline = Pipeline([("prepare", prep), ("model", model)])
        info = _staged_fit(pipeline, x, y, ctx, "n_estimators", total, step=max(25, total // 8))
        model.set_params(warm_start=False)
        return FittedModel("sklearn", pipeline, info)

    def refit_params(self, params, infos, growth):
        out = dict(params)
        out["n_estimators"] = max(10, int(min(i["iterations"] for i in infos)))
        return out


class RandomForestFamily(_ForestFamily):
    name = "random_forest"
    description = "scikit-learn random forest"


class ExtraTreesFamily(_ForestFamily):
    name = "extra_trees"
    description = "scikit-learn extremely randomised trees"
    classifier = ExtraTreesClassifier
    regressor = ExtraTreesRegressor


# --------------------------------------------------------------------------- linear


class LinearFamily(EstimatorFamily):
    name = "linear"
    description = ("logistic regression (classification) or ridge (regression) on scaled "
                   "numbers, one-hot categories and TF-IDF text (words hashed into "
                   "max_text_features columns)")
    search_space = {
        "C": (1e-4, 1e4),
        "alpha": (1e-4, 1e4),
        "max_categories": (2, 500),
        "max_text_features": (1024, 2 ** 20),
        "ngram_max": (1, 3),
    }
    int_params = frozenset({"max_categories", "max_text_features", "ngram_max"})
    classification_only = frozenset({"C"})
    regression_only = frozenset({"alpha"})

    def default_params(self, task_type, n_rows):
        params: dict[str, Any] = {"max_categories": 50, "max_text_features": 2 ** 16, "ngram_max": 1}
        params["alpha" if task_type == "regression" else "C"] = 1.0
        return params

    def work_caps(self, task_type, n_rows, budget_seconds):
        default = self.default_params(task_type, n_rows)["max_text_features"]
        return {"max_text_features": _scaled(default, 64 * n_rows, 2 ** 20)}

    def _preprocessor(self, params, schema, x: pd.DataFrame | None = None) -> ColumnTransformer:
        by_kind = _columns_by_kind(schema)
        # numbers missing somewhere in the training rows get a 0/1 "was missing" flag
        flagged = [c for c in by_kind["numeric"] if x is not None and x[c].isna().any()]
        steps = []
        if by_kind["numeric"]:
            steps.append(("num", Pipeline([
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]), by_kind["numeric"]))
        if flagged:
            # the flags stay 0/1 (MaxAbsScaler only makes them numbers): scaled to unit
            # variance, a flag set on one training row in hundreds becomes a huge value, and
            # the model learns that row's class with great confidence for any new row
            # missing the same value
            steps.append(("num_missing", Pipeline([
                ("flag", MissingIndicator(features="all", error_on_new=False)),
                ("as_number", MaxAbsScaler()),
            ]), flagged))
        if by_kind["categorical"]:
            steps.append(("cat", Pipeline([
                ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY,
                                         keep_empty_features=True)),
                ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist",
                                         max_categories=int(params.get("max_categories", 50)))),
            ]), by_kind["categorical"]))
        for i, column in enumerate(by_kind["text"]):
            # words hashed, not looked up: a fitted vocabulary is a dict that skops writes
            # word by word (27,000 words took 18 s to save and 7 s to load), where hashing
            # leaves only the IDF weights, one array; held-out scores are the same
            steps.append((f"text{i}", Pipeline([
                ("hash", HashingVectorizer(n_features=int(params.get("max_text_features", 2 ** 16)),
                                           ngram_range=(1, int(params.get("ngram_max", 1))),
                                           alternate_sign=False, norm=None)),
                ("tfidf", TfidfTransformer(sublinear_tf=True)),
            ]), column))
        if not steps:
            raise ValueError("The linear model needs at least one feature column.")
        return ColumnTransformer(steps, remainder="drop")

    def fit(self, params, x, y, ctx, x_valid=None, y_valid=None):
        if ctx.task_type == "regression":
            model = Ridge(alpha=float(params.get("alpha", 1.0)))
        else:
            model = LogisticRegression(C=float(params.get("C", 1.0)), max_iter=2000)
        pipeline = Pipeline([("prepare", self._preprocessor(params, ctx.schema, x)), ("model", model)])
        pipeline.fit(x, y)
        return FittedModel("sklearn", pipeline, {"interrupted": False})


class TfidfLinearFamily(LinearFamily):
    name = "tfidf_linear"
    description = "linear model led by the text columns: word and bigram TF-IDF, wide vocabulary"

    def default_params(self, task_type, n_rows):
        params = super().default_params(task_type, n_rows)
        params.update({"max_text_features": 2 ** 18, "ngram_max": 2})
        params["alpha" if task_type == "regression" else "C"] = 4.0 if task_type != "regression" else 1.0
        return params


# --------------------------------------------------------------------------- registry

REGISTRY: dict[str, EstimatorFamily] = {
    family.name: family
    for family in [
        CatBoostFamily(),
        LightGBMFamily(),
        HistGradientBoostingFamily(),
        RandomForestFamily(),
        ExtraTreesFamily(),
        LinearFamily(),
        TfidfLinearFamily(),
    ]
}


def get_family(name: str) -> EstimatorFamily:
    """The family called `name`; PlanError listing the known names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise PlanError(
            f"Unknown estimator '{name}'. Use one of: {', '.join(REGISTRY)}."
        ) from None


def describe_registry(task_type: str | None = None) -> list[dict]:
    """JSON-able description of the families (for LLM prompts and the UI)."""
    out = []
    for fam in REGISTRY.values():
        if task_type is not None and not fam.supports(task_type):
            continue
        space = fam.space(task_type) if task_type else fam.search_space
        out.append({
            "name": fam.name, "description": fam.description,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in space.items()},
            "integer_params": sorted(fam.int_params & set(space)),
        })
    return out


def _check_value(family: EstimatorFamily, param: str, value: Any, bounds: tuple | list | str,
                 notes: list[str]) -> Any:
    if bounds == FEATURE_NAMES:
        if not isinstance(value, list) or len(value) > MAX_NAMED_FEATURES or not all(
                isinstance(v, str) and len(v) <= 500 for v in value):
            raise PlanError(f"Parameter '{param}' of '{family.name}' must be a list of at most "
                            f"{MAX_NAMED_FEATURES} feature names, not {str(value)[:80]!r}.")
        return sorted(set(value))  # names the data does not have are skipped when fitting
    if isinstance(bounds, list):
        if value not in bounds:
            raise PlanError(
                f"Parameter '{param}' of '{family.name}' must be one of {bounds}, not {value!r}."
            )
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PlanError(
            f"Parameter '{param}' of '{family.name}' must be a number between "
            f"{bounds[0]} and {bounds[1]}, not {value!r}."
        )
    low, high = bounds
    clipped = min(max(value, low), high)
    if param in family.int_params:
        clipped = int(round(clipped))
    if clipped != value:
        notes.append(f"{param}={value!r} clipped to {clipped!r} (bounds {low}..{high})")
    return clipped


def validate_candidate(candidate: Candidate, task_type: str, *, n_rows: int | None = None,
                       budget_seconds: float | None = None) -> Candidate:
    """Check a candidate against the registry; return a clean copy.

    Raises PlanError for an unknown estimator, a family that does not fit the task, an
    unknown parameter, or a choice outside its list. Numbers outside their bounds are
    clipped (integers rounded) and the clipping is noted in the returned candidate's `why`.
    Given the rows and the budget, the work parameters are also clipped to the family's
    `work_caps`.
    """
    family = get_family(candidate.estimator)
    if not family.supports(task_type):
        raise PlanError(f"The estimator '{family.name}' cannot be used for a {task_type} task.")
    space = family.space(task_type)
    unknown = sorted(set(candidate.params) - set(space))
    if unknown:
        raise PlanError(
            f"Unknown parameter(s) {', '.join(repr(u) for u in unknown)} for '{family.name}' "
            f"on a {task_type} task. Allowed: {', '.join(space)}."
        )
    notes: list[str] = []
    params = {p: _check_value(family, p, v, space[p], notes) for p, v in candidate.params.items()}
    if n_rows is not None and budget_seconds is not None:
        for param, cap in family.work_caps(task_type, n_rows, budget_seconds).items():
            if param in params and params[param] > cap:
                notes.append(f"{param}={params[param]!r} clipped to {cap!r} (what {n_rows} rows "
                             f"and {budget_seconds:g} s afford)")
                params[param] = cap
    why = candidate.why
    if notes:
        why = (why + " " if why else "") + "[registry: " + "; ".join(notes) + "]"
    return candidate.model_copy(update={"params": params, "why": why})
