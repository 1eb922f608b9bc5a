"""The budgeted model search: plan → propose → train one → record → stop when the budget says so.

Every trial is validated the same way (k-fold cross-validation or one holdout, fixed by the
seed), so its out-of-fold predictions can be ensembled afterwards. `TrialResult.score` is
the validation score with "higher is better": losses such as log loss and RMSE are negated.

The budget is held by giving each trial (and each fold) a deadline: CatBoost stops through a
callback, forests and HistGradientBoosting grow in warm-started steps that check the clock,
and linear models are fast. `callbacks.should_stop()` is checked between trials and inside
training, so a cancel takes effect within seconds.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from core import metrics
from core.callbacks import BuildCallbacks
from core.errors import BriefmlError, PlanError
from core.registry import REGISTRY, FitContext, FittedModel, available_threads, validate_candidate
from core.runtime import Member, feature_kinds, member_output
from core.spec import Candidate, SearchPlan, TaskSpec, TrialResult

HOLDOUT_SHARE = 0.2
# A single holdout's validation rows, at most: 25,000 rows rank models as surely as more do
# (as the held-out test rows, `core.build.MAX_TEST_ROWS`), and every row past that is kept
# from the model that ships when its refit on all rows does not fit the budget. On
# nycflights13 (245k rows, validated forward in time) the shipped model then saw the earliest
# 72% of the rows; LightGBM's test RMSE on the earliest 72% is 13.9, on 90% 13.4 (300 trees,
# bench/big_table_bench.py).
MAX_HOLDOUT_ROWS = 25000
MIN_TRIAL_SECONDS = 0.5  # below this much time left, no new trial is started
# A build that reaches its first trial late (a slow start on a busy machine, a slow planner)
# still trains a model worth shipping: until one trial has succeeded, a trial may use at
# least this share of the budget, past the deadline if need be. A few seconds over the
# budget beat a model of a handful of trees.
FLOOR_TRIAL_SHARE = 0.2
REFINE_BATCH = 3
# A trial whose folds would end more than this share of the budget past the search's time
# is given up (see `train_one`); a smaller overrun comes out of the time for explaining.
GIVE_UP_SLACK_SHARE = 0.05


# --------------------------------------------------------------------------- budget


class BudgetClock:
    """Wall-clock budget shared by the whole build."""

    def __init__(self, budget_seconds: float, start: float | None = None):
        self.budget_seconds = float(budget_seconds)
        self.start = time.monotonic() if start is None else start

    @property
    def end(self) -> float:
        return self.start + self.budget_seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def left(self) -> float:
        return self.end - time.monotonic()

    def share_used(self) -> float:
        return min(1.0, self.elapsed() / self.budget_seconds) if self.budget_seconds > 0 else 1.0


# --------------------------------------------------------------------------- validation folds


@dataclass
class Folds:
    """(train rows, validation rows) pairs; `valid_rows` are the rows with OOF predictions."""

    scheme: str
    splits: list[tuple[np.ndarray, np.ndarray]]
    valid_rows: np.ndarray


def _can_stratify(y: np.ndarray, n_splits: int) -> bool:
    _, counts = np.unique(y, return_counts=True)
    return len(counts) > 1 and counts.min() >= n_splits


def holdout_size(n: int) -> int:
    """How many of `n` rows a single holdout validates on."""
    return max(1, min(MAX_HOLDOUT_ROWS, round(HOLDOUT_SHARE * n)))


def make_folds(y: np.ndarray, task_type: str, scheme: str, seed: int, *,
               groups: np.ndarray | None = None, order: np.ndarray | None = None) -> Folds:
    """Split rows for validation; stratified for classification where every class allows it.

    `groups`: one code per row, each group kept on one side; `order`: a time key per row,
    folds forward in time (see `core.splits`)."""
    n = len(y)
    if scheme in ("auto", "", None):
        from core.planning.search_rules import choose_validation

        scheme = choose_validation(n)
    classify = task_type != "regression"
    if groups is not None or order is not None:
        return _keyed_folds(scheme, seed, groups, order)
    if scheme == "holdout":
        stratify = y if classify and _can_stratify(y, 2) else None
        train, valid = train_test_split(np.arange(n), test_size=holdout_size(n),
                                        random_state=seed, stratify=stratify)
        return Folds("holdout", [(np.sort(train), np.sort(valid))], np.sort(valid))
    if not scheme.startswith("cv") or not scheme[2:].isdigit():
        raise PlanError(f"Unknown validation '{scheme}'; use 'auto', 'cv5', 'cv3' or 'holdout'.")
    k = max(2, min(int(scheme[2:]), n))
    if classify and _can_stratify(y, 2):
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        with warnings.catch_warnings():
            # a class rarer than k rows cannot be in every fold; its rows are spread anyway
            warnings.simplefilter("ignore", UserWarning)
            splits = list(splitter.split(np.zeros(n), y))
    else:
        splits = list(KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n)))
    return Folds(f"cv{k}", splits, np.arange(n))


def _keyed_folds(scheme: str, seed: int, groups: np.ndarray | None,
                 order: np.ndarray | None) -> Folds:
    from core import splits

    n = len(groups if groups is not None else order)
    if scheme == "holdout":
        if groups is not None:
            train, valid = splits.group_holdout(groups, holdout_size(n) / n, seed)
        else:
            train, valid = splits.time_holdout(order, holdout_size(n))
        return Folds("holdout", [(train, valid)], valid)
    if not scheme.startswith("cv") or not scheme[2:].isdigit():
        raise PlanError(f"Unknown validation '{scheme}'; use 'auto', 'cv5', 'cv3' or 'holdout'.")
    k = int(scheme[2:])
    if groups is not None:
        folds = splits.group_folds(groups, k)
        return Folds(f"grouped cv{len(folds)}", folds, np.arange(n))
    folds = splits.forward_folds(order, k)
    valid = np.sort(np.concatenate([v for _, v in folds]))
    return Folds(f"forward cv{k}", folds, valid)


# --------------------------------------------------------------------------- one trial


@dataclass
class TrialRecord:
    """A trial's result plus what ensembling and refitting need."""

    result: TrialResult
    candidate: Candidate
    oof: np.ndarray | None = None  # rows of the search data; NaN where not validated
    models: list[FittedModel] = field(default_factory=list)
    fit_seconds: list[float] = field(default_factory=list)
    predict_seconds: list[float] = field(default_factory=list)  # per fold, its validation rows


def full_output(fitted: FittedModel, x: pd.DataFrame, schema: dict, n_classes: int) -> np.ndarray:
    """A fitted model's output with one column per class, even if it missed a class."""
    out = member_output(Member(fitted.kind, fitted.estimator), x, schema)
    if schema["task_type"] == "regression" or out.shape[1] == n_classes:
        return out
    full = np.zeros((len(out), n_classes))
    full[:, np.asarray(fitted.estimator.classes_, dtype=int)] = out
    return full


def _misses(record: TrialRecord, now: float, folds_left: int, give_up_at: float) -> bool:
    """Whether a trial's folds still to fit will end past `give_up_at`, at the pace of the
    folds so far (with half a fold to spare: a family that stops at its fold deadlines
    overshoots each by an iteration or so)."""
    if not record.fit_seconds:
        return now > give_up_at
    per_fold = float(np.mean(record.fit_seconds)) + float(np.mean(record.predict_seconds or [0.0]))
    return now + per_fold * (folds_left - 0.5) > give_up_at


def _new_trial_id(index: int) -> str:
    return f"t{index:03d}"


def train_one(candidate: Candidate, trial_id: str, x: pd.DataFrame, y: np.ndarray, *,
              schema: dict, folds: Folds, metric: str, n_classes: int, seed: int,
              deadline: float, callbacks: BuildCallbacks,
              threads: int | None = None, progress: Callable[[], None] = lambda: None,
              give_up_at: float | None = None) -> TrialRecord:
    """Fit one candidate on every fold, score its out-of-fold predictions. `progress` is
    called after each fold and about once a second inside long fits. A trial whose folds
    left would end past `give_up_at`, at the pace of its folds so far, fails at once: a
    family that cannot stop inside a fit (a linear model on a wide text matrix) would
    otherwise run the build minutes over."""
    family = REGISTRY[candidate.estimator]
    start = time.monotonic()
    shape = (len(y), n_classes) if n_classes else (len(y),)
    oof = np.full(shape, np.nan)
    record = TrialRecord(result=None, candidate=candidate)  # type: ignore[arg-type]
    status, error = "ok", None
    try:
        for i, (train_rows, valid_rows) in enumerate(folds.splits):
            fold_start = time.monotonic()
            folds_left = len(folds.splits) - i
            if give_up_at is not None and _misses(record, fold_start, folds_left, give_up_at):
                raise TimeoutError(f"out of time after {i} of {len(folds.splits)} folds "
                                   f"({fold_start - start:.1f} s); give the build more time "
                                   "to try this model")
            ctx = FitContext(
                task_type=schema["task_type"], schema=schema, seed=seed,
                deadline=fold_start + max(0.0, deadline - fold_start) / folds_left,
                should_stop=callbacks.should_stop, n_classes=n_classes,
                threads=threads or available_threads(), progress=progress,
            )
            x_valid, y_valid = x.iloc[valid_rows], y[valid_rows]
            fitted = family.fit(dict(candidate.params), x.iloc[train_rows], y[train_rows], ctx,
                                x_valid, y_valid)
            record.models.append(fitted)
            predicting = time.monotonic()
            record.fit_seconds.append(predicting - fold_start)
            oof[valid_rows] = full_output(fitted, x_valid, schema, n_classes)
            record.predict_seconds.append(time.monotonic() - predicting)
            progress()
            if callbacks.should_stop():
                status = "stopped"
                break
        rows = folds.valid_rows
        score = (metrics.score(metric, y[rows], oof[rows], n_classes)
                 if status == "ok" else None)
        if score is not None and not np.isfinite(score):
            raise ValueError(f"the validation {metric} is not a finite number")
    except Exception as exc:  # a failed trial is recorded and skipped, never fatal
        status, error, score = "failed", f"{type(exc).__name__}: {exc}"[:500], None
        record.models = []
    record.oof = oof if status == "ok" else None
    record.result = TrialResult(
        trial_id=trial_id, estimator=candidate.estimator, params=dict(candidate.params),
        score=score, metric=metric, seconds=round(time.monotonic() - start, 3), status=status,
        error=error, parent=candidate.parent,
    )
    return record


# --------------------------------------------------------------------------- the loop

# In folds forward in time, a feature that tracks time itself (the month of a one-year
# table, a running count) takes values in the future that no training row had, and the
# trees only carry the latest level forward. One LightGBM trial then runs without such
# features; the validation decides. On nycflights13 (forward, seed 0, LightGBM 200 trees)
# leaving out 'month' scored 13.38 RMSE on the latest quarter against 13.89 with it.
CLOCK_CORRELATION = 0.9  # |Spearman| with the time order over the training rows, at least
CLOCK_SAMPLE_ROWS = 20000


def clock_features(x: pd.DataFrame, schema: dict, order: np.ndarray, seed: int) -> list[str]:
    """Numeric features that rise or fall with the time order of the rows (|Spearman| at
    least CLOCK_CORRELATION), on a sample of the rows."""
    rows = np.arange(len(order))
    if len(rows) > CLOCK_SAMPLE_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, CLOCK_SAMPLE_ROWS, replace=False))
    when = pd.Series(np.asarray(order)[rows]).rank().to_numpy()
    out = []
    for name, kind in feature_kinds(schema).items():
        if kind != "numeric" or name not in x.columns:
            continue
        values = pd.Series(x[name].to_numpy(dtype="float64", na_value=np.nan)[rows])
        present = values.notna().to_numpy()
        if present.sum() < 10 or values[present].nunique() < 2:
            continue
        rho = np.corrcoef(values[present].rank().to_numpy(), when[present])[0, 1]
        if np.isfinite(rho) and abs(rho) >= CLOCK_CORRELATION:
            out.append(name)
    return out


def without_clock(record: TrialRecord, names: list[str]) -> Candidate:
    """The trial's LightGBM again, with the trees kept off `names`."""
    shown = ", ".join(f"'{n}'" for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return Candidate(
        estimator=record.candidate.estimator,
        params={**record.candidate.params, "ignore_features": list(names)},
        parent=record.result.trial_id,
        why=(f"the same model without {shown}: they follow time itself, so rows to come "
             "hold values no training row had"),
    )


def _row_growth(folds: Folds, n_all: int) -> float:
    """How many times more rows a refit on `n_all` rows sees than a fold's training rows."""
    rows_per_fold = float(np.mean([len(tr) for tr, _ in folds.splits]))
    return max(1.0, n_all / max(rows_per_fold, 1.0))


def refit_growth(folds: Folds, n_all: int) -> float:
    """How much longer a refit on `n_all` rows should train than a fold (iterations etc.)."""
    return min(1.3, _row_growth(folds, n_all))


# Refit on all rows, or ship the fold models? Chosen on bench/bag_vs_refit.py (fixed work:
# briefml's defaults, its folds, no budget; public tasks, seeds 0-2, scored on compare.py's
# test split; ratios > 1 mean the fold models scored better):
# - boosted-tree classifiers on up to 1,000 rows: LightGBM's refit (more rows, 1.3 times the
#   folds' trees) grows overconfident: penguins 2.37 (log loss; a test row at probability
#   1e-9), titanic 1.012, breast_cancer 0.997, oj 0.997; HistGradientBoosting's alike:
#   penguins 2.03, titanic 1.004. Above that the refit wins: digits 0.61 and 0.90 (log
#   loss), default 0.999; credit_status 1.002 and telco_churn 1.003 are even. LightGBM's
#   regressors refit: concrete 0.94, ames 0.95, carseats 1.02, diabetes 1.006, wage 0.997.
# - linear classifiers refined to a weak penalty (C above its default 1), on log loss: the
#   refit on more rows is surer than its folds were; C=30: penguins 1.15, digits 1.50. At
#   C=1 the refit wins (penguins 0.86, digits 0.90).
# - CatBoost always refits: penguins 0.73, carseats 0.96, concrete 0.93, ames 0.95, others
#   0.99-1.007, diabetes 1.05 the exception; so do the forests: penguins 0.80-0.89, digits
#   0.79-0.81 (log loss), titanic 1.00-1.005.
# - forward-in-time folds never ship (their models never saw the latest rows: seattle_weather
#   0.66-0.82), nor a single holdout's one model.
BAG_MAX_ROWS = {"lightgbm": 1000, "hist_gradient_boosting": 1000}  # classifiers only
DEFAULT_C = 1.0


def ships_fold_models(record: TrialRecord, folds: Folds, metric: str, n_rows: int) -> bool:
    """Whether a trial ships as the mean of its cross-validation fold models (a bag: the
    models whose out-of-fold predictions the ensemble, the held-out metrics and the
    calibrator judged) rather than as one model refitted on all `n_rows` rows."""
    if len(record.models) < 2 or not folds.scheme.startswith(("cv", "grouped cv")):
        return False
    name, params = record.candidate.estimator, record.candidate.params
    if metrics.get_metric(metric).tasks == metrics.REGRESSION:
        return False
    if name in BAG_MAX_ROWS:
        return n_rows <= BAG_MAX_ROWS[name]
    return name == "linear" and metric == "log_loss" and float(params.get("C", DEFAULT_C)) > DEFAULT_C


def refit_seconds_estimate(record: TrialRecord, folds: Folds, n_all: int, growth: float = 1.0) -> float:
    """Time a refit on `n_all` rows should take, from the folds' fit times (rows scale the
    time; the family says how the refit's size compares with what a fold trained)."""
    if not record.fit_seconds:
        return 0.0
    per_fold = float(np.mean(record.fit_seconds))
    infos = [m.info for m in record.models]
    work = REGISTRY[record.candidate.estimator].refit_work(infos, growth)
    rows = _row_growth(folds, n_all)
    if infos and all("trained_iterations" in info for info in infos):
        # an early-stopped fold also scored its validation rows at every iteration (CatBoost:
        # its fold fits with them took as long as a fit on all rows without): the refit,
        # with no validation rows, sees only this many times the rows the fold worked on
        worked_on = float(np.mean([len(tr) + len(va) for tr, va in folds.splits]))
        rows = max(1.0, n_all / max(worked_on, 1.0))
    return per_fold * rows * work


CALL_ROWS = 1000  # a prediction call costs about the same for up to this many rows


def prediction_seconds(record: TrialRecord, folds: Folds, rows: int) -> float:
    """About how long one of the trial's models takes to predict `rows` rows, from the time
    it took on its validation folds: a call costs about the same for up to CALL_ROWS rows
    (fixed costs dominate small batches), then grows with the rows."""
    if not record.predict_seconds:
        return 0.0
    timed_rows = float(np.mean([len(v) for _, v in folds.splits[:len(record.predict_seconds)]]))
    return float(np.mean(record.predict_seconds)) * max(1.0, rows / max(timed_rows, CALL_ROWS))


class ModelSearch:
    """The budgeted search over registry candidates (scikit-learn shape: `fit` returns self).

    Parameters: planner (proposes refinements; may be None for "defaults only"), the metric
    to maximise, seed, callbacks, and `reserve` — a function telling how many seconds to keep
    free after the search for the best trial's refit (called after every trial).

    Learned: `leaderboard_` (every TrialResult in order), `records_` (trial id → TrialRecord),
    `rows_exchangeable_` (plain random folds, neither grouped nor forward in time),
    `folds_`, `best_` (the best TrialRecord or None).
    """

    def __init__(self, *, spec: TaskSpec, plan: SearchPlan, planner=None, profile=None,
                 seed: int = 0, callbacks: BuildCallbacks | None = None,
                 max_trials: int = 100, refine_batch: int = REFINE_BATCH,
                 threads: int | None = None):
        self.spec = spec
        self.plan = plan
        self.planner = planner
        self.profile = profile
        self.seed = seed
        self.callbacks = callbacks or BuildCallbacks()
        self.max_trials = max_trials
        self.refine_batch = refine_batch
        self.threads = threads or available_threads()

    # ---- steps

    def _validated(self, candidates: list[Candidate]) -> list[Candidate]:
        out = []
        for cand in candidates:
            try:
                out.append(validate_candidate(cand, str(self.spec.task_type), n_rows=self.rows_,
                                              budget_seconds=self.plan.budget_seconds))
            except BriefmlError as exc:
                self.callbacks.on_log(f"Skipped a proposed candidate: {exc}")
        return out

    def _propose(self, deadline: float) -> list[Candidate]:
        """Ask the planner for refinements of the leaderboard so far, by `deadline`."""
        if self.planner is None:
            return []
        from core.planner import limit_planner

        limit_planner(self.planner, deadline)  # waiting for an LLM is search time
        try:
            proposed = self.planner.refine(self.spec, self.profile, list(self.leaderboard_),
                                           self.refine_batch)
        except Exception as exc:  # a planner failure ends refinement, not the build
            self.callbacks.on_log(f"The planner could not propose refinements: {exc}")
            return []
        return self._validated(list(proposed or []))

    def _is_new(self, cand: Candidate) -> bool:
        key = (cand.estimator, sorted(cand.params.items(), key=lambda kv: kv[0]))
        return all((r.candidate.estimator, sorted(r.candidate.params.items(), key=lambda kv: kv[0])) != key
                   for r in self.records_.values())

    def _trial_deadline(self, search_deadline: float, queued: int) -> float:
        """A trial may not take all the time left while other first candidates wait."""
        now = time.monotonic()
        left = max(0.0, search_deadline - now)
        share = 1.0 if queued == 0 else 0.6
        return now + left * share

    def _record(self, record: TrialRecord, clock: BudgetClock) -> None:
        self.records_[record.result.trial_id] = record
        self.leaderboard_.append(record.result)
        ok = [r for r in self.records_.values() if r.result.status == "ok"]
        self.best_ = max(ok, key=lambda r: r.result.score) if ok else None
        self.callbacks.on_trial_end(record.result, share_of_budget_used=clock.share_used())

    # ---- the algorithm

    def fit(self, x: pd.DataFrame, y: np.ndarray, *, schema: dict, clock: BudgetClock,
            search_deadline, n_classes: int, groups: np.ndarray | None = None,
            order: np.ndarray | None = None) -> "ModelSearch":
        """Run trials until the queue is empty and the planner has nothing new, the deadline
        passes, or the build is cancelled. `search_deadline` is a function of the search
        itself (so the reserve for the refit can follow the best trial). `groups` / `order`
        make the folds grouped / forward in time (see `make_folds`)."""
        self.leaderboard_: list[TrialResult] = []
        self.records_: dict[str, TrialRecord] = {}
        self.best_: TrialRecord | None = None
        self.folds_ = make_folds(y, str(self.spec.task_type), self.plan.validation, self.seed,
                                 groups=groups, order=order)
        self.rows_ = len(y)
        self.forward_ = order is not None and groups is None
        self.rows_exchangeable_ = order is None and groups is None  # plain random folds
        self.clock_features_: list[str] | None = None  # found after the first LightGBM floor
        queue = self._validated(list(self.plan.candidates))
        if not queue:
            raise PlanError("The search plan has no valid candidate to train; add at least one "
                            "estimator from the registry.")
        while len(self.records_) < self.max_trials and not self.callbacks.should_stop():
            deadline = search_deadline(self)
            no_model_yet = self.best_ is None
            if deadline - time.monotonic() < MIN_TRIAL_SECONDS and not no_model_yet:
                break
            if not queue:
                queue = [c for c in self._propose(deadline) if self._is_new(c)]
                if not queue:
                    break
            candidate = queue.pop(0)
            if not self._is_new(candidate):
                continue
            least = FLOOR_TRIAL_SHARE * clock.budget_seconds if no_model_yet else MIN_TRIAL_SECONDS
            trial_deadline = self._trial_deadline(max(deadline, time.monotonic() + least), len(queue))
            record = train_one(
                candidate, _new_trial_id(len(self.records_) + 1), x, y, schema=schema,
                folds=self.folds_, metric=self.spec.metric, n_classes=n_classes, seed=self.seed,
                deadline=trial_deadline, callbacks=self.callbacks, threads=self.threads,
                progress=lambda: self.callbacks.on_phase("search", share_of_budget_used=clock.share_used()),
                # once a model exists, one that cannot finish by the time the steps after the
                # search need (give or take what explaining can do without) is not worth waiting for
                give_up_at=None if no_model_yet else (max(deadline, trial_deadline)
                                                      + GIVE_UP_SLACK_SHARE * clock.budget_seconds),
            )
            self._record(record, clock)
            if self._is_forward_lightgbm_floor(record):
                self.clock_features_ = clock_features(x, schema, order, self.seed)
                if self.clock_features_:
                    # next, not last: if it leads, the time kept for the refit follows it, and
                    # a forward-validated trial that cannot be refitted on the latest rows is
                    # left out of the ensemble (it ran last and missed out on 2 of 3 seeds)
                    queue[:0] = self._validated([without_clock(record, self.clock_features_)])
        return self

    def _is_forward_lightgbm_floor(self, record: TrialRecord) -> bool:
        """The first LightGBM with default settings that succeeded in forward-in-time folds."""
        return (self.forward_ and self.clock_features_ is None and record.result.status == "ok"
                and record.candidate.estimator == "lightgbm" and record.candidate.parent is None)
