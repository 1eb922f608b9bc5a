"""The whole build: profile → checks → plan → hold out a test split → search → ensemble →
evaluate once on the held-out rows → refit on all rows → explain → report.

Planning and training are separable (`plan_build`, then `run_build`), because the web app
shows the plan for approval before anything trains; `build_model` does both.

The wall-clock budget covers everything from the start of `run_build`: the search stops
early enough to leave time for the refit of the best model and for the steps after it
(evaluation, writing the model's files, failure analysis, explanation), each estimated
from what this build measured (`_post_search_costs`), and each step keeps to the time its
successors leave it. Some members ship as the average of their cross-validation fold models
by choice (`core.search.ships_fold_models`: measured to beat a refit for them; what the
ensemble, the held-out metrics and the calibrator judged is then exactly what ships); a
member whose refit does not fit in what is left ships that way too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from core import metrics
from core.callbacks import BuildCallbacks
from core.ensemble import GreedyEnsemble, paired_win_share
from core.errors import BriefmlError, DataError, PlanError, TargetUnclearError
from core.evaluate import evaluate_holdout
from core.gaps import gap_fill_reference
from core.jsonsafe import json_safe
from core.model import TabularModel
from core.planner import fallback_warnings, limit_planner, planner_report
from core.registry import REGISTRY, FitContext, available_threads
from core.reproducibility import build_record
from core.review import (
    MIN_SPLIT_GROUPS,
    rare_positive_share,
    review_summary,
    too_good_to_be_true,
)
from core.runtime import (
    Member,
    calibrated_output,
    class_indices,
    fold_member_name,
    gap_filled,
    prepare_frame,
)
from core.schema import build_schema, encode_target
from core.search import (
    BudgetClock,
    ModelSearch,
    TrialRecord,
    full_output,
    prediction_seconds,
    refit_growth,
    refit_seconds_estimate,
    ships_fold_models,
)
from core.spec import (
    DataProfile,
    Finding,
    SearchPlan,
    Severity,
    TaskSpec,
    TrialResult,
    ValidationSpec,
)
from core.splits import duplicates_across, group_holdout, split_keys, time_holdout

TEST_SHARE = 0.2
MAX_TEST_ROWS = 25000
MAX_REFIT_SHARE = 0.4  # of the budget, at most kept for refitting after the search
REFIT_SAFETY = 1.15  # fit times vary on a busy machine
REFIT_KEEP_SHARE = 0.85  # a refit stopped by the deadline this far through still ships
EXPLAIN_ROWS = 1000  # at most, when the time allows: held-out rows first, then training rows
ENSEMBLE_SHARE = 0.02  # of the budget, at most spent on bagging the ensemble selection
# how sure (share of bootstrap samples of the validation rows won) a choice that takes in
# refinements must be of beating the plan's first trials alone; below it the floor ships
FLOOR_CONFIDENCE = 0.9
BOOTSTRAP_SHARE = 0.02  # of the budget, at most spent on the held-out confidence intervals
REPORT_GRACE_SHARE = 0.1  # of the budget, the least an LLM's report may wait past the budget
PLANNING_SHARE = 0.3  # of the budget, at most spent waiting for an LLM planner's first answers
# What the steps after the search are expected to take is estimated from this build's own
# measurements (see `_post_search_costs`), so the search runs until the budget is spent but
# for these reserves; each step then keeps to the time its successors leave it.
SAFETY_SECONDS = 0.5  # never planned for: exiting the process, timing noise...
SAFETY_SHARE = 0.01  # ...plus this share of the budget
RELIABILITY_SECONDS = 0.2  # intervals, calibration and drift: cheap whatever the model...
RELIABILITY_SHARE = 0.02  # ...at most this share of the budget kept for them
SHAP_PER_PREDICTION = 15  # SHAP values of some rows cost about this many predictions of them
SHAP_CALLS_PER_MODEL = 3  # explaining a few rows with one model costs about three predictions
EXPLAIN_SHARE = 0.05  # of the budget, at most kept for explaining (it explains fewer rows in less)
# a refit on all rows matters more than explaining or analysing failures: it may leave them this
EXPLAIN_LEAST_SECONDS = 0.2
EXPLAIN_FEW_ROWS = 50  # an importance on fewer rows than this gets a warning
FAILURES_SHARE = 0.05  # of the budget, at most kept for the failure analysis and stress test...
FAILURES_SECONDS = (0.3, 10.0)  # ...but at least (at most) this long
FAILURES_MAX_SHARE = 0.1  # of the budget, at most taken from the time a build has to spare
FAILURES_FLOOR_SHARE = 0.03  # of the budget, taken even when earlier steps used up the rest
STRESS_SHARE = 0.6  # of the failures' time, at most for the stress test
SKOPS_SECONDS_PER_TREE = 0.004  # writing one scikit-learn tree with skops (2.7 ms on a quiet core)
BOOSTED_SECONDS_PER_TREE = 0.00005  # writing one CatBoost / LightGBM tree
ENSEMBLE_FAMILIES = 3  # the ensemble is planned for as the best trial of this many families
BUNDLE_SECONDS = 0.3  # the bundle's own files (model card, manifest, zip) after the build
ZIP_BYTES_PER_SECOND = 30e6  # compressing the members' files into the bundle

# how each ensemble member ships (BuildResult.refit)
ALL_ROWS = "all rows"  # refitted on every row
FOLD_MODELS = "fold models"  # its cross-validation fold models, by choice
NO_TIME_TO_REFIT = "fold models (no time to refit)"


# --------------------------------------------------------------------------- results


# A frame marked `df.attrs["synthetic"]` (generated rows) trains like any other, but says so.
SYNTHETIC_DATA_WARNING = (
    "Trained on synthetic data: its metrics say nothing about how it does on real data."
)

@dataclass
class BuildPlan:
    """What the planner proposed, validated: shown to the user before training."""

    spec: TaskSpec
    search_plan: SearchPlan
    profile: DataProfile
    findings: list[Finding]
    planner_name: str = "offline"
    planner_fell_back: bool = False
    brief: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "spec": self.spec.model_dump(mode="json"),
            "search_plan": self.search_plan.model_dump(mode="json"),
            "planner": self.planner_name, "planner_fell_back": self.planner_fell_back,
            "notes": list(self.notes),
        }


@dataclass
class BuildResult:
    """Everything a build produced. JSON-able fields are plain dicts / lists / floats."""

    spec: TaskSpec
    search_plan: SearchPlan
    profile: DataProfile
    findings: list[Finding]
    leaderboard: list[TrialResult]
    model: TabularModel
    holdout_metrics: dict
    baseline_metrics: dict
    confidence_intervals: dict
    details: dict  # curves and confusion matrix, or residuals
    slices: dict
    ensemble: dict  # {"used": bool, "weights": {trial: w}, "score", "best_single": {...}}
    explanation: dict | None
    report: str
    warnings: list[str]
    timings: dict[str, float]
    planner_name: str
    planner_fell_back: bool
    seed: int
    budget_seconds: float
    brief: str = ""
    validation: str = ""
    rows: dict = field(default_factory=dict)  # {"train": n, "test": n, "all": n}
    refit: dict = field(default_factory=dict)  # trial id -> ALL_ROWS | FOLD_MODELS | NO_TIME_TO_REFIT
    train_sample: pd.DataFrame | None = None  # a few raw rows (input example for bundles)
    planner_info: dict = field(default_factory=dict)  # core.planner.planner_report
    reproducibility: dict = field(default_factory=dict)  # core.reproducibility.build_record
    synthetic_data: bool = False  # trained on generated rows: its metrics say nothing about real data
    reliability: dict = field(default_factory=dict)  # core.trust.reliability (reliability.json)
    failures: dict | None = None  # core.trust: failure analysis and stress test of held-out rows
    # the members' bundle files, written inside the budget (core.bundle.writer.write_members)
    written_members: tuple[list[dict], dict[str, bytes]] | None = None

    @property
    def schema(self) -> dict:
        return self.model.schema

    @property
    def metric(self) -> str:
        return self.spec.metric

    @property
    def curves(self) -> dict:
        return self.details.get("curves", {})

    @property
    def confusion(self) -> dict | None:
        return self.details.get("confusion_matrix")

    @property
    def residuals(self) -> dict | None:
        return self.details.get("residuals")

    def leaderboard_rows(self) -> list[dict]:
        """The leaderboard as JSON rows; `value` is the metric as people read it."""
        return [
            {**t.model_dump(mode="json"), "value": metrics.to_value(t.metric, t.score)}
            for t in self.leaderboard
        ]

    def to_json_summary(self) -> dict:
        """The object `briefml build --json` prints (plain JSON types only)."""
        return json_safe({
            "target": self.spec.target,
            "task_type": str(self.spec.task_type),
            "metric": self.spec.metric,
            "positive_class": self.spec.positive_class,
            "classes": self.model.classes_ or None,
            "feature_columns": list(self.spec.feature_columns),
            "excluded_columns": self.spec.excluded_columns,
            "review": review_summary(self.spec, self.findings),
            "warnings": list(self.warnings),
            "leaderboard": self.leaderboard_rows(),
            "ensemble": self.ensemble,
            "holdout_metrics": self.holdout_metrics,
            "baseline_metrics": self.baseline_metrics,
            "confidence_intervals": self.confidence_intervals,
            "validation": self.validation,
            "rows": self.rows,
            "refit": self.refit,
            "timings": self.timings,
            "planner": {"name": self.planner_name, "fell_back": self.planner_fell_back,
                        **self.planner_info},
            "planner_fell_back": self.planner_fell_back,
            "seed": self.seed,
            "budget_seconds": self.budget_seconds,
            "synthetic_data": self.synthetic_data,
            "reliability": _reliability_summary(self.reliability),
        })


# --------------------------------------------------------------------------- planning


def _default_planner():
    from core.planning.offline import OfflinePlanner

    return OfflinePlanner()


def _ask(planner, fallback_holder: dict, method: str, *args):
    """Call the planner; if a non-offline planner fails, fall back to the offline one."""
    try:
        return getattr(planner, method)(*args)
    except BriefmlError:
        raise
    except Exception as exc:
        if getattr(planner, "name", "") == "offline":
            raise
        fallback_holder["fell_back"] = True
        fallback_holder["notes"].append(f"The {planner.name} planner failed ({exc}); used the offline planner.")
        return getattr(_default_planner(), method)(*args)


def _spec_from_proposal(proposal, brief: str) -> TaskSpec:
    if proposal.spec is None or proposal.ambiguous:
        question = proposal.message or f"Could not tell what to predict from the brief '{brief}'."
        options = "; ".join(f"'{c.column}' ({c.why})" for c in proposal.candidates[:5])
        message = (question + (f" Candidates: {options}." if options else "")
                   + " Name the column to predict in the brief, e.g. 'predict <column>'.")
        if proposal.ambiguous:
            raise TargetUnclearError(message, question, [c.column for c in proposal.candidates[:5]])
        raise PlanError(message)
    return proposal.spec


def plan_build(df: pd.DataFrame, brief: str, planner=None, *, budget_seconds: float = 60.0,
               seed: int = 0, spec: TaskSpec | None = None,
               search_plan: SearchPlan | None = None, spec_from_planner: bool = False) -> BuildPlan:
    """Profile, check and plan: the task spec and the search plan, validated.

    Pass `spec` and/or `search_plan` (e.g. approved and edited by a user) to skip asking the
    planner for them; they are validated all the same. A spec the (LLM) planner proposed
    (asked here, or earlier when `spec_from_planner`) that the target-aware checks leave
    unusable is replaced by the offline planner's, and the fallback is recorded.
    """
    from core.checks import run_checks
    from core.planning.validate import validate_search_plan, validate_task_proposal
    from core.profile import profile_frame
    from core.review import review_spec, with_restored
    from core.spec import TaskProposal

    planner = planner or _default_planner()
    timings: dict[str, float] = {}
    state = {"fell_back": bool(getattr(planner, "fell_back", False)), "notes": []}
    t = time.monotonic()
    profile = profile_frame(df)
    timings["profile"] = time.monotonic() - t
    t = time.monotonic()
    findings = run_checks(df, profile, seed=seed)
    planner_spec = spec is None or spec_from_planner
    if spec is None:
        proposal = _ask(planner, state, "propose_task", brief, profile, findings)
        spec = _spec_from_proposal(proposal, brief)
    findings = run_checks(df, profile, target=spec.target, task_type=spec.task_type, seed=seed,
                          brief=brief)
    try:
        checked = validate_task_proposal(TaskProposal(spec=with_restored(spec)), profile, findings)
    except PlanError as exc:
        if getattr(planner, "name", "offline") == "offline" or not planner_spec:
            raise
        # the target-aware checks can leave an LLM's plan with nothing to learn from:
        # plan that step offline rather than fail the build
        spec, checked = _offline_task(df, brief, profile, planner, state, exc, seed)
        findings = run_checks(df, profile, target=spec.target, task_type=spec.task_type, seed=seed,
                              brief=brief)
    doubt = getattr(planner, "target_doubt", None)
    if doubt and doubt.get("chosen") == spec.target:
        state["notes"].append(doubt["message"])
    spec = review_spec(checked.spec, profile, findings, brief)
    if checked.message:
        state["notes"].append(checked.message)
    timings["checks"] = time.monotonic() - t
    t = time.monotonic()
    if search_plan is None:
        search_plan = _ask(planner, state, "propose_search", spec, profile, budget_seconds)
    search_plan = validate_search_plan(search_plan.model_copy(update={"budget_seconds": float(budget_seconds)}), spec)
    timings["plan"] = time.monotonic() - t
    return BuildPlan(
        spec=spec, search_plan=search_plan, profile=profile, findings=findings,
        planner_name=getattr(planner, "name", type(planner).__name__),
        planner_fell_back=state["fell_back"] or bool(getattr(planner, "fell_back", False)),
        brief=brief, timings=timings, notes=state["notes"],
    )


def _offline_task(df, brief, profile, planner, state, problem, seed):
    """The offline planner's task after the planner's own failed the target-aware checks."""
    from core.checks import run_checks
    from core.planning.validate import validate_task_proposal
    from core.review import with_restored
    from core.spec import TaskProposal

    findings = run_checks(df, profile, seed=seed)
    spec = _spec_from_proposal(_default_planner().propose_task(brief, profile, findings), brief)
    findings = run_checks(df, profile, target=spec.target, task_type=spec.task_type, seed=seed,
                          brief=brief)
    checked = validate_task_proposal(TaskProposal(spec=with_restored(spec)), profile, findings)
    record = getattr(planner, "fallbacks", None)
    if isinstance(record, list):
        record.append({"step": "propose_task", "attempt": 1, "kind": "invalid plan",
                       "reason": f"After the data checks the plan could not be used: {problem}"})
    state["fell_back"] = True
    return spec, checked


# --------------------------------------------------------------------------- data


@dataclass
class _Data:
    raw: pd.DataFrame  # rows with a target, index 0..n-1
    x: pd.DataFrame  # prepared features
    y: np.ndarray
    schema: dict
    train: np.ndarray
    test: np.ndarray
    n_classes: int
    groups: np.ndarray | None = None  # entity code per row, for a grouped validation
    order: np.ndarray | None = None  # time key per row, for validation forward in time
    duplicates_across: int = 0  # test rows that repeat a training row exactly

    def sizes(self) -> _Sizes:
        return _Sizes(all=len(self.y), train=len(self.train), test=len(self.test),
                      columns=len(self.schema["columns"]))

    def search_keys(self) -> dict:
        """The groups / time keys of the training rows, for the search's folds."""
        return {
            "groups": None if self.groups is None else self.groups[self.train],
            "order": None if self.order is None else self.order[self.train],
        }


def _prepare(df: pd.DataFrame, plan: BuildPlan, seed: int, warnings: list[str]) -> _Data:
    spec = plan.spec
    raw = df[df[spec.target].notna()].reset_index(drop=True)
    dropped = len(df) - len(raw)
    if dropped:
        warnings.append(f"{dropped} row(s) with no value in '{spec.target}' were left out.")
    schema = build_schema(raw, spec, plan.profile)
    if not schema["columns"]:
        raise DataError(_nothing_to_learn_from(spec))
    y = encode_target(raw[spec.target], schema)
    if spec.task_type == "regression":
        keep = np.isfinite(y)
        if not keep.all():
            warnings.append(f"{int((~keep).sum())} row(s) whose '{spec.target}' is not a number were left out.")
            raw, y = raw[keep].reset_index(drop=True), y[keep]
    n_classes = len(schema.get("classes") or [])
    if spec.task_type != "regression" and n_classes < 2:
        raise DataError(f"Column '{spec.target}' has only one value; a classifier needs at least two classes.")
    if len(raw) < 10:
        raise DataError(f"Only {len(raw)} row(s) have a value in '{spec.target}'; at least 10 are needed to "
                        "train and test a model.")
    x, _ = prepare_frame(raw, schema)
    groups, order = split_keys(raw, spec.validation)
    if groups is not None and len(np.unique(groups)) < MIN_SPLIT_GROUPS:
        warnings.append(f"'{spec.validation.column}' has too few distinct values for a grouped "
                        "split; rows are split at random instead.")
        groups = None
    if groups is not None or order is not None:
        train, test = _keyed_holdout(len(y), groups, order, seed)
    else:
        train, test = _holdout_split(y, spec.task_type, seed, warnings, schema)
    gap_fill = gap_fill_reference(x.iloc[train], schema)  # training rows only: test stays unseen
    if gap_fill:
        schema["gap_fill"] = gap_fill
    repeats = duplicates_across(raw, [*spec.feature_columns, spec.target], train, test)
    if repeats:
        warnings.append(
            f"{repeats:,} of the {len(test):,} held-out rows repeat a training row exactly, so "
            "the held-out score may look better than it will be on new rows.")
    return _Data(raw, x, y, schema, train, test, n_classes, groups, order, repeats)


def _test_size(n: int) -> int:
    return min(MAX_TEST_ROWS, max(2, round(n * TEST_SHARE)))


def _keyed_holdout(n: int, groups, order, seed: int):
    test_size = _test_size(n)
    if groups is not None:
        return group_holdout(groups, test_size / n, seed)
    return time_holdout(order, test_size)


def _nothing_to_learn_from(spec: TaskSpec) -> str:
    left_out = "; ".join(f"'{c}' ({why.replace('_', ' ')})" for c, why in list(spec.excluded_columns.items())[:8])
    return (
        f"Every column was left out, so nothing is left to predict '{spec.target}' from"
        + (f": {left_out}" if left_out else "")
        + ". Add columns that describe each row, or include a left-out column in the plan."
    )


def _holdout_split(y: np.ndarray, task_type, seed: int, warnings: list[str], schema: dict):
    n = len(y)
    test_size = _test_size(n)
    stratify = None
    if task_type != "regression":
        counts = np.bincount(y, minlength=len(schema["classes"]))
        rare = [schema["classes"][i] for i, c in enumerate(counts) if 0 < c < 2]
        if rare:
            warnings.append(
                "Class(es) " + ", ".join(f"'{r}'" for r in rare) + " appear only once; they cannot be "
                "both learned and tested, so test results for them mean little. Add more examples."
            )
        else:
            stratify = y
        if stratify is not None and test_size < len(counts):
            test_size = len(counts)
    train, test = train_test_split(np.arange(n), test_size=test_size, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)


# --------------------------------------------------------------------------- steps


# The steps after the search, in the order they run. "serialize" writes the members' files
# for the bundle inside the build, so that cost is measured and planned for like the others;
# "bundle" is what is left to write once the build is over.
POST_SEARCH_STEPS = ("ensemble", "evaluate", "reliability", "refit", "serialize", "failures",
                     "explain", "bundle")


@dataclass
class _Sizes:
    """How much the steps after the search have to predict, explain and check."""

    all: int  # rows with a target
    train: int
    test: int
    columns: int  # input columns (the stress test runs a few checks per column)


@dataclass
class PostSearchCosts:
    """Seconds each step after the search is expected to take (the refit keeps its own
    reserve, from its fold fit times), estimated by `_post_search_costs`."""

    seconds: dict[str, float]
    # the least the steps that make do with less time (fewer rows explained) can use
    least: dict[str, float] = field(default_factory=dict)

    def after(self, step: str, *, at_least: bool = False) -> float:
        """What the steps that run after `step` need; `at_least`: the least they can use."""
        later = POST_SEARCH_STEPS[POST_SEARCH_STEPS.index(step) + 1:]
        return sum(min(self.seconds.get(name, 0.0), self.least.get(name, np.inf)) if at_least
                   else self.seconds.get(name, 0.0) for name in later)

    def total(self) -> float:
        return sum(self.seconds.values())


def _margin(clock: BudgetClock) -> float:
    return SAFETY_SECONDS + SAFETY_SHARE * clock.budget_seconds


def _step_end(clock: BudgetClock, costs: PostSearchCosts, step: str, *,
              at_least: bool = False) -> float:
    """When `step` must be done: the budget's end less the margin and its successors' needs
    (`at_least`: the least they can use, for a step that matters more than they do)."""
    return clock.end - _margin(clock) - costs.after(step, at_least=at_least)


def _seconds_until(end: float, most: float, least: float = 0.05) -> float:
    """The time a self-limiting step may take: what is left before `end`, at most `most`."""
    return max(least, min(most, end - time.monotonic()))


def _bootstrap_seconds(clock: BudgetClock) -> float:
    return max(0.2, BOOTSTRAP_SHARE * clock.budget_seconds)


def _post_search_costs(records: list[TrialRecord], folds, sizes: _Sizes, clock: BudgetClock,
                       refitted: set[str] | None = None) -> PostSearchCosts:
    """What the steps after the search will take with `records` as the ensemble's members,
    from this build's own measurements: each member's prediction time (timed on its
    validation folds, so a slow machine or a big model shows in it), scaled to the rows each
    step predicts or explains; and the trees the bundle will write, one model for a member
    refitted on all rows (`refitted`, trial ids; default: all), its fold models otherwise.
    The steps that grow into the time they get (bagging, bootstrap, failure analysis,
    explanation) are capped by a share of the budget."""
    budget = clock.budget_seconds
    k = len(folds.splits)

    def predicting(rows: int) -> float:  # one model of each member
        return sum(prediction_seconds(r, folds, rows) for r in records)

    stress_rows = min(sizes.test, 200)  # core.trust.stress: that many rows, ~4 checks a column
    low, high = FAILURES_SECONDS
    # the clean rows, the changed ones, then SHAP of the worst rows fold model by fold model
    failures = (predicting(stress_rows) + predicting(stress_rows * 4 * sizes.columns)
                + SHAP_CALLS_PER_MODEL * k * predicting(5))
    explain = (predicting(min(sizes.train, 5000))  # the average output explanations start from
               + SHAP_PER_PREDICTION * predicting(min(EXPLAIN_ROWS, sizes.all)))
    shipped = [m for r in records for m in (r.models[:1] if refitted is None
                                            or r.result.trial_id in refitted else r.models)]
    return PostSearchCosts({
        "ensemble": ENSEMBLE_SHARE * budget,
        "evaluate": k * predicting(sizes.test) + 0.5 * _bootstrap_seconds(clock),
        "reliability": min(RELIABILITY_SHARE * budget,
                           RELIABILITY_SECONDS + 1e-6 * sizes.all * sizes.columns),
        "serialize": _writing_seconds(shipped),
        "failures": min(high, FAILURES_SHARE * budget, max(low, failures)),
        "explain": min(EXPLAIN_SHARE * budget, max(EXPLAIN_LEAST_SECONDS, explain)),
        "bundle": BUNDLE_SECONDS + _zipping_seconds(shipped),
    }, least={"failures": max(low, FAILURES_FLOOR_SHARE * budget), "explain": EXPLAIN_LEAST_SECONDS})


def _writing_seconds(models) -> float:
    """About how long writing these fitted models into a bundle takes: skops spends a few
    milliseconds on each scikit-learn tree, the boosting libraries much less."""
    seconds = 0.0
    for model in models:
        last = _final_step(model)
        if getattr(model, "kind", "") == "sklearn":
            forest = getattr(last, "estimators_", None)
            boosted = getattr(last, "_predictors", None)  # HistGradientBoosting: a list a round
            trees = (len(forest) if forest is not None
                     else sum(len(p) for p in boosted) if boosted is not None else 1)
            seconds += 0.02 + SKOPS_SECONDS_PER_TREE * trees
        else:
            info = getattr(model, "info", {}) or {}
            trees = info.get("trained_iterations") or info.get("iterations") or 1000
            seconds += 0.02 + BOOSTED_SECONDS_PER_TREE * trees
    return seconds


def _zipping_seconds(models) -> float:
    """About how long compressing these models' files into the bundle takes: a forest of
    deep trees is tens of megabytes (each node's split, children and class counts)."""
    nodes = 0
    width = 1
    for model in models:
        for tree in getattr(_final_step(model), "estimators_", None) or ():
            structure = getattr(tree, "tree_", None)
            if structure is not None:
                nodes += structure.node_count
                width = max(width, structure.value.shape[1] * structure.value.shape[2])
    return nodes * (64 + 8 * width) / ZIP_BYTES_PER_SECOND


def _final_step(model):
    estimator = getattr(model, "estimator", None)
    return estimator[-1] if hasattr(estimator, "steps") else estimator


def _leaders(search: ModelSearch, families: int) -> list[TrialRecord]:
    """The best trial of each of the leading families: the likely ensemble."""
    leaders: dict[str, TrialRecord] = {}
    for record in sorted((r for r in search.records_.values() if r.result.status == "ok"),
                         key=lambda r: -r.result.score):
        leaders.setdefault(record.candidate.estimator, record)
    return list(leaders.values())[:families]


def _search_deadline_fn(clock: BudgetClock, sizes: _Sizes):
    def deadline(search: ModelSearch) -> float:
        # the likely ensemble: the best trial of each of the leading families
        likely = _leaders(search, ENSEMBLE_FAMILIES)
        costs = _post_search_costs(likely, search.folds_, sizes, clock)
        # keep time to refit the best trial of the two leading families
        reserve, cap, refitted = 0.0, MAX_REFIT_SHARE * clock.budget_seconds, set()
        for rank, record in enumerate(likely[:2]):
            if ships_fold_models(record, search.folds_, search.spec.metric, sizes.all):
                continue  # nothing to refit: its fold models ship
            needed = REFIT_SAFETY * refit_seconds_estimate(record, search.folds_, sizes.all)
            # the leader's all-rows refit is what ships, so it outranks any refinement, as
            # long as it can still finish; a refit that cannot fit ships as fold models
            # anyway, and reserving for it would only waste the time
            fits = time.monotonic() + reserve + needed <= _step_end(clock, costs, "refit",
                                                                      at_least=True)
            if fits and (rank == 0 or reserve + needed <= cap):
                reserve += needed
                refitted.add(record.result.trial_id)
        # a leader that is not refitted ships its fold models, all to be written
        costs = _post_search_costs(likely, search.folds_, sizes, clock, refitted)
        return clock.end - _margin(clock) - costs.total() - reserve

    return deadline


def _fold_output(record: TrialRecord, x: pd.DataFrame, schema: dict, n_classes: int) -> np.ndarray:
    return np.mean([full_output(m, x, schema, n_classes) for m in record.models], axis=0)


def _refittable_trials(search: ModelSearch, data: _Data, clock: BudgetClock,
                       costs: PostSearchCosts) -> set[str] | None:
    """For a search validated forward in time: the trials whose refit on all rows is
    expected to fit in the time left, each on its own (the refit step takes the chosen ones
    by weight; one that no longer fits ships as its fold models, as before). None when no
    trial's refit fits: then every trial ships as its fold models anyway.

    A trial that cannot be refitted ships as fold models that never saw the latest rows,
    the ones most like the future the brief asks about; its validation score says how fold
    models do, while a refitted trial gains the latest rows on top of its score. On
    nycflights13 (60 s, tested on the latest quarter) a cut-short CatBoost validated best
    and carried the ensemble to 15.3 RMSE, where the LightGBM beside it, refitted, scored
    13.9 alone."""
    time_left = _refit_time_left(clock, costs)
    fits = {tid for tid, record in search.records_.items() if record.result.status == "ok"
            and _refit_needs(record, search, data) <= time_left}
    return fits or None


def _refit_time_left(clock: BudgetClock, costs: PostSearchCosts) -> float:
    return _step_end(clock, costs, "refit", at_least=True) - time.monotonic()


def _refit_needs(record: TrialRecord, search: ModelSearch, data: _Data) -> float:
    """The seconds to keep for refitting a trial on all rows, with the safety margin."""
    return REFIT_SAFETY * refit_seconds_estimate(record, search.folds_, len(data.y))


def _ensemble_of_refitted(search: ModelSearch, data: _Data, clock: BudgetClock,
                          costs: PostSearchCosts, use_ensemble: bool,
                          only: set[str] | None) -> tuple[GreedyEnsemble, set[str] | None]:
    """The ensemble over `only` (None: every finished trial), chosen again without the
    members whose refits no longer fit once the heavier ones have taken their time, until
    all of them fit (or no time is left to choose). Returns it and the trials it was
    chosen among.

    Each member fitting on its own is not enough: on nycflights13 (60 s, validated forward
    in time, seed 0) five members were chosen and three shipped as fold models that never
    saw the latest rows; chosen among those that all get refitted, a random quarter of
    the flights scored 13.99 -> 13.60 RMSE."""
    end = _step_end(clock, costs, "ensemble")
    while True:
        ensemble = _choose_ensemble(search, data, use_ensemble,
                                    _seconds_until(end, ENSEMBLE_SHARE * clock.budget_seconds),
                                    only=only)
        if only is None:
            return ensemble, only
        unrefitted = _left_unrefitted(ensemble.weights_, search, data, clock, costs)
        if not unrefitted or unrefitted >= only or time.monotonic() >= end:
            return ensemble, only
        only = only - unrefitted


def _floor_that_fits(ensemble: GreedyEnsemble, search: ModelSearch, data: _Data,
                     clock: BudgetClock, costs: PostSearchCosts,
                     only: set[str] | None) -> GreedyEnsemble:
    """The floor's choice as chosen, if shipping it fits in the time left or costs no more
    than the refined choice the search kept time for; else chosen again without its
    costliest members until it fits. The search kept time for its leaders, which the floor
    need not be: on acs12 (60 s) three default trials that could not be refitted shipped
    as 15 fold models, and writing, checking and explaining them took the build to 77 s."""
    floor = ensemble.floor_
    if not floor or not floor["kept"] or len(ensemble.weights_) == 1:
        return ensemble
    # the search kept time for about what the refined choice needs: no less is left for it
    needs = _shipping_needs(ensemble.weights_, search, data, clock, costs)
    refined = _shipping_needs(floor["refined_weights"], search, data, clock, costs)
    if needs <= refined or _ships_in_time(ensemble.weights_, search, data, clock, costs):
        return ensemble
    # the floors' choice again without its costliest member, until what it ships fits
    floors = {tid: r for tid, r in search.records_.items() if r.result.status == "ok"
              and r.candidate.parent is None and (only is None or tid in only)}
    while len(ensemble.weights_) > 1 and not _ships_in_time(ensemble.weights_, search, data,
                                                            clock, costs):
        costliest = max(ensemble.weights_, key=lambda tid: _shipping_needs(
            {tid: 1.0}, search, data, clock, costs))
        floors.pop(costliest)
        ensemble = _greedy_ensemble(search, data, floors, use_ensemble=True, max_seconds=0.2)
    ensemble.floor_ = {**floor, "cut_to_fit": True}
    return ensemble


def _ships_in_time(weights: dict[str, float], search: ModelSearch, data: _Data,
                   clock: BudgetClock, costs: PostSearchCosts) -> bool:
    needs = _shipping_needs(weights, search, data, clock, costs)
    return time.monotonic() + needs <= clock.end - _margin(clock)


def _shipping_needs(weights: dict[str, float], search: ModelSearch, data: _Data,
                    clock: BudgetClock, costs: PostSearchCosts) -> float:
    """The least seconds the steps after the ensemble need to ship these members: refits
    that fit, then writing, checking and explaining what ships."""
    refitted = set(weights) - _left_unrefitted(weights, search, data, clock, costs)
    members = [search.records_[tid] for tid in weights]
    after = _post_search_costs(members, search.folds_, data.sizes(), clock, refitted)
    return after.after("ensemble", at_least=True) + sum(
        _refit_needs(search.records_[tid], search, data) for tid in refitted)


def _left_unrefitted(weights: dict[str, float], search: ModelSearch, data: _Data,
                     clock: BudgetClock, costs: PostSearchCosts) -> set[str]:
    """The ensemble's members (trial id → weight) whose refits, taken by weight as the refit
    step takes them, no longer fit in the time left once the heavier members' refits have
    taken theirs."""
    time_left = _refit_time_left(clock, costs)
    left = set()
    for tid, _ in sorted(weights.items(), key=lambda kv: -kv[1]):
        needed = _refit_needs(search.records_[tid], search, data)
        if needed <= time_left:
            time_left -= needed
        else:
            left.add(tid)
    return left


def _choose_ensemble(search: ModelSearch, data: _Data, use_ensemble: bool,
                     max_seconds: float, only: set[str] | None = None) -> GreedyEnsemble:
    """The greedy ensemble over the search's finished trials (`only`: over these of them).

    The plan's first trials (the offline plan's: each family's proven defaults) are the
    floor: a choice that takes in refinements must beat the choice among the first trials
    alone on most bootstrap samples of the validation rows, or the floor ships. Picked as the best of many trials by
    one noisy validation score, a refinement wins by chance: on openintro's acs12 (974 rows)
    a CatBoost refinement validated 0.8% better than its defaults, shipped alone and scored
    10% worse than CatBoost's defaults on the test rows."""
    ok = {tid: r for tid, r in search.records_.items()
          if r.result.status == "ok" and (only is None or tid in only)}
    floors = {tid for tid, r in ok.items() if r.candidate.parent is None}
    # the bootstrap draws rows as if each were independent; days in time order or rows of one
    # group are not (seattle_weather, validated forward: the floor was kept on every seed
    # and lost 7% of log loss on the test rows, 4% on the latest quarter)
    if not floors or floors == set(ok) or not search.rows_exchangeable_:
        return _greedy_ensemble(search, data, ok, use_ensemble, max_seconds)
    # bagging the selection is cheap insurance on small data; keep it to a sliver of the budget
    chosen = _greedy_ensemble(search, data, ok, use_ensemble, max_seconds * 0.4)
    if set(chosen.weights_) <= floors:
        return chosen
    floor = _greedy_ensemble(search, data, {tid: ok[tid] for tid in floors}, use_ensemble,
                             max_seconds * 0.3)
    outputs = {tid: r.oof[search.folds_.valid_rows] for tid, r in ok.items()}
    share = paired_win_share(search.spec.metric, data.n_classes, _validated_y(search, data),
                             chosen.blend(outputs), floor.blend(outputs), seed=search.seed,
                             max_seconds=max_seconds * 0.3)
    floor.floor_ = chosen.floor_ = {"kept": share < FLOOR_CONFIDENCE, "confidence": share,
                                    "refined_score": chosen.score_, "floor_score": floor.score_,
                                    "refined_weights": dict(chosen.weights_)}
    return floor if share < FLOOR_CONFIDENCE else chosen


def _validated_y(search: ModelSearch, data: _Data) -> np.ndarray:
    """The targets of the search's validated rows, in the order of its out-of-fold rows."""
    return data.y[data.train][search.folds_.valid_rows]


def _greedy_ensemble(search: ModelSearch, data: _Data, records: dict[str, TrialRecord],
                     use_ensemble: bool, max_seconds: float) -> GreedyEnsemble:
    ens = GreedyEnsemble(search.spec.metric, data.n_classes, rounds=25 if use_ensemble else 0,
                         max_seconds=max_seconds, seed=search.seed)
    ens.floor_ = None
    rows = search.folds_.valid_rows
    return ens.fit({tid: r.oof[rows] for tid, r in records.items()},
                   {tid: r.result.score for tid, r in records.items()}, _validated_y(search, data))


def _affordable_growth(record: TrialRecord, search: ModelSearch, n_all: int,
                       hard_end: float) -> float | None:
    """The refit size (growth over a fold's) that fits before `hard_end`: more iterations for
    more rows if time allows, else the folds' own size; None if not even that fits."""
    for growth in (refit_growth(search.folds_, n_all), 1.0):
        estimate = refit_seconds_estimate(record, search.folds_, n_all, growth)
        if time.monotonic() + estimate * REFIT_SAFETY <= hard_end:
            return growth
    return None


def _refit_member(record: TrialRecord, data: _Data, search: ModelSearch, clock: BudgetClock,
                  seed: int, callbacks: BuildCallbacks, weight: float,
                  hard_end: float) -> tuple[list[Member], str]:
    """One ensemble member as it ships: its fold models where they are measured to beat a
    refit, else refitted on all rows if that fits before `hard_end`, else its fold models."""
    if ships_fold_models(record, search.folds_, search.spec.metric, len(data.y)):
        return _fold_members(record, data.n_classes, weight), FOLD_MODELS
    family = REGISTRY[record.candidate.estimator]
    n_all = len(data.y)
    growth = _affordable_growth(record, search, n_all, hard_end)
    if growth is not None and not callbacks.should_stop():
        params = family.refit_params(dict(record.candidate.params), [m.info for m in record.models], growth)
        ctx = FitContext(task_type=data.schema["task_type"], schema=data.schema, seed=seed,
                         deadline=hard_end, should_stop=callbacks.should_stop,
                         n_classes=data.n_classes, threads=search.threads,
                         progress=lambda: callbacks.on_phase("refit", share_of_budget_used=clock.share_used()))
        try:
            fitted = family.fit(params, data.x, data.y, ctx)
            # a refit stopped close to its end is still better than models on fewer rows
            if not fitted.info.get("interrupted") or \
                    fitted.info.get("completed_share", 0.0) >= REFIT_KEEP_SHARE:
                return [Member(fitted.kind, fitted.estimator, weight, record.result.trial_id)], ALL_ROWS
        except Exception as exc:  # keep the validated fold models instead
            callbacks.on_log(f"Refit of {record.result.trial_id} failed ({exc}); using its fold models.")
    return _fold_members(record, data.n_classes, weight), NO_TIME_TO_REFIT


def _fold_members(record: TrialRecord, n_classes: int, weight: float) -> list[Member]:
    """A trial's fold models as members sharing its weight equally: their mean is the model
    whose out-of-fold predictions were validated. Fold models that missed a class are left
    out while others saw every class."""
    def member(i, m):
        return Member(m.kind, m.estimator, 1.0, fold_member_name(record.result.trial_id, i))

    members = [member(i, m) for i, m in enumerate(record.models)
               if n_classes == 0 or len(getattr(m.estimator, "classes_", range(n_classes))) == n_classes
               ] or [member(i, m) for i, m in enumerate(record.models)]
    for m in members:
        m.weight = weight / len(members)
    return members


def _report(planner, context: dict) -> str:
    try:
        if planner is not None:
            return planner.write_report(context)
    except Exception:
        pass
    try:
        from core.planning.report import template_report

        return template_report(context)
    except Exception:
        s = context
        return (f"# Model for '{s['spec']['target']}'\n\n{s['spec']['task_type']} task, metric "
                f"{s['spec']['metric']}. Held-out {s['spec']['metric']}: "
                f"{s['holdout_metrics'].get(s['spec']['metric'])} (baseline "
                f"{s['baseline_metrics'].get(s['spec']['metric'])}).\n")


def _explain(model: TabularModel, data: _Data, seed: int, callbacks: BuildCallbacks,
             seconds_allowed: float) -> dict | None:
    """SHAP explanation sized to the time left, on the held-out rows first and then training
    rows, up to EXPLAIN_ROWS."""
    from core.explain import explain_model

    try:
        rng = np.random.default_rng(seed)
        order = np.concatenate([rng.permutation(data.test), rng.permutation(data.train)])
        return explain_model(model, data.raw.iloc[order], seed=seed, max_rows=EXPLAIN_ROWS,
                             seconds=seconds_allowed, held_out_rows=len(data.test))
    except Exception as exc:  # an explanation is a bonus, never a reason to lose the model
        callbacks.on_log(f"Could not explain the model: {exc}")
        return None


def _store_average_output(model: TabularModel, data: _Data, seed: int,
                          callbacks: BuildCallbacks) -> None:
    """The model's average prediction over its training rows, in the schema: every
    explanation (the build's, a row's on the predict page, the bundle's predict.py) starts
    from it. A few thousand predictions: cheap even when no time is left to explain."""
    from core.explain import average_output

    try:
        model.schema["average_output"] = average_output(model, data.raw.iloc[data.train], seed=seed)
    except Exception as exc:  # explanations then start from the explainers' own base
        callbacks.on_log(f"Could not compute the model's average prediction: {exc}")


def _written_members(model: TabularModel, callbacks: BuildCallbacks):
    """The members' bundle files, written now, inside the budget; None if one cannot be
    stored safely (the bundle then says why, when it is written)."""
    from core.bundle.writer import write_members
    from core.errors import BundleError

    try:
        return write_members(model)
    except BundleError as exc:
        callbacks.on_log(f"Could not write the model's files yet: {exc}")
        return None


def _warnings_from(findings: list[Finding], restored: list[str] = ()) -> list[str]:
    # a suspect the user put back is in use: its "is left out" sentence no longer holds
    return [f.message for f in findings if f.severity == Severity.WARNING
            and not (f.restorable and set(f.columns) <= set(restored))]


# --------------------------------------------------------------------------- the pipeline


def run_build(df: pd.DataFrame, plan: BuildPlan, *, planner=None, budget_seconds: float | None = None,
              seed: int = 0, callbacks: BuildCallbacks | None = None,
              clock: BudgetClock | None = None, threads: int | None = None) -> BuildResult:
    """Train, evaluate and refit according to an approved plan, using `threads` cores
    (default: every core this process may use)."""
    from core.checks import raise_for_errors

    callbacks = callbacks or BuildCallbacks()
    budget = float(budget_seconds if budget_seconds is not None else plan.search_plan.budget_seconds)
    clock = clock or BudgetClock(budget)
    timings = dict(plan.timings)
    from_checks = _warnings_from(plan.findings, plan.spec.restored)
    # a planner note that only restates a check's finding would say the same thing twice
    notes = [n for n in plan.notes if not any(m.rstrip(".") in n for m in from_checks)]
    warnings = notes + from_checks
    synthetic = bool(df.attrs.get("synthetic"))
    if synthetic:
        warnings.insert(0, SYNTHETIC_DATA_WARNING)
    callbacks.on_build_start(budget_seconds=budget, plan=plan.to_dict())
    status = "failed"
    threads = threads or available_threads()
    try:
        result = _run(df, plan, planner, budget, seed, callbacks, clock, timings, warnings,
                      raise_for_errors, threads)
        result.synthetic_data = synthetic
        result.reproducibility = build_record(result, threads=threads)
        status = "finished"
        return result
    except BriefmlError as exc:
        status = "cancelled" if callbacks.should_stop() else "failed"
        callbacks.on_build_end(status=status, summary={"error": str(exc)})
        raise
    except Exception as exc:
        callbacks.on_build_end(status="failed", summary={"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        if status == "finished":
            callbacks.on_build_end(status="finished", summary=result.to_json_summary())


def _run(df, plan, planner, budget, seed, callbacks, clock, timings, warnings, raise_for_errors,
         threads):
    def phase(name: str) -> float:
        callbacks.on_phase(name, share_of_budget_used=clock.share_used())
        return time.monotonic()

    raise_for_errors(plan.findings)
    t = phase("prepare")
    data = _prepare(df, plan, seed, warnings)
    timings["prepare"] = time.monotonic() - t
    # OpenMP threads spin-wait: on small tables one thread is faster on a busy machine
    with threadpool_limits(limits=1 if len(data.y) < 20000 else threads, user_api="openmp"):
        return _train_and_evaluate(data, plan, planner, budget, seed, callbacks, clock, timings,
                                   warnings, phase, threads)


def _train_and_evaluate(data, plan, planner, budget, seed, callbacks, clock, timings, warnings,
                        phase, threads):
    spec = plan.spec

    t = phase("search")
    search = ModelSearch(spec=spec, plan=plan.search_plan, planner=planner or _RulesRefiner(),
                         profile=plan.profile, seed=seed, callbacks=callbacks, threads=threads)
    search.fit(data.x.iloc[data.train].reset_index(drop=True), data.y[data.train], schema=data.schema,
               clock=clock, search_deadline=_search_deadline_fn(clock, data.sizes()),
               n_classes=data.n_classes, **data.search_keys())
    timings["search"] = time.monotonic() - t
    if callbacks.should_stop():
        raise BriefmlError("The build was cancelled.")
    failed = [r for r in search.leaderboard_ if r.status == "failed"]
    if failed:
        warnings.append(f"{len(failed)} trial(s) failed and were skipped (see the leaderboard).")
    if search.best_ is None:
        errors = "; ".join(f"{r.estimator}: {r.error}" for r in failed[:3])
        raise BriefmlError(
            f"No model finished training within the {budget:g}-second budget"
            + (f" ({errors})" if errors else "") + ". Give the build more time and try again."
        )

    t = phase("ensemble")
    costs = _post_search_costs(_leaders(search, ENSEMBLE_FAMILIES), search.folds_, data.sizes(), clock)
    # validated forward in time, only trials that can be refitted on all rows are blended
    only = _refittable_trials(search, data, clock, costs) if data.order is not None else None
    ensemble, only = _ensemble_of_refitted(search, data, clock, costs, plan.search_plan.ensemble, only)
    ensemble = _floor_that_fits(ensemble, search, data, clock, costs, only)
    finished = sum(r.result.status == "ok" for r in search.records_.values())
    left_out = 0 if only is None else finished - len(only)
    if left_out:
        warnings.append(f"{left_out} trial(s) were left out of the ensemble: there was no time "
                        "to refit them on all rows, and their cross-validation models never saw "
                        "the latest rows, the ones most like the future.")
    timings["ensemble"] = time.monotonic() - t
    # from here on, the costs of the members actually chosen
    costs = _post_search_costs([search.records_[tid] for tid in ensemble.weights_], search.folds_,
                               data.sizes(), clock)

    t = phase("evaluate")
    test_output = gap_filled(  # the held-out rows predicted as the bundle will predict them
        lambda frame: ensemble.blend({tid: _fold_output(search.records_[tid], frame, data.schema,
                                                        data.n_classes)
                                      for tid in ensemble.weights_}),
        data.x.iloc[data.test], data.schema)
    predicting = time.monotonic() - t
    rare_positive = data.n_classes == 2 and rare_positive_share(plan.profile, plan.spec) is not None
    reliability = _reliability(search, ensemble, data, test_output, clock,
                               timings, phase, callbacks, rare_positive)
    if data.n_classes:
        # how the class is decided (on the probabilities as shipped, after the calibrator just
        # chosen on out-of-fold rows) is known before the held-out rows are measured
        data.schema.update(_decision_entries(search, ensemble, data, reliability, rare_positive))
    t = time.monotonic()  # the rest of "evaluate", in what the reliability step left it
    evaluation = _evaluate(data, spec.metric, test_output, reliability.get("calibrator"), seed,
                           _seconds_until(_step_end(clock, costs, "reliability"),
                                          _bootstrap_seconds(clock)))
    timings["evaluate"] = predicting + time.monotonic() - t
    if "holdout" in reliability and data.n_classes:
        reliability["holdout"]["metrics_after_calibrator"] = True  # for the report's words

    t = phase("refit")
    members, refit = [], {}
    for tid, weight in sorted(ensemble.weights_.items(), key=lambda kv: -kv[1]):
        new, how = _refit_member(search.records_[tid], data, search, clock, seed, callbacks, weight,
                                 hard_end=_step_end(clock, costs, "refit", at_least=True))
        members += new
        refit[tid] = how
    if NO_TIME_TO_REFIT in refit.values():
        warnings.append("Not enough budget left to refit every chosen model on all rows; some ship as "
                        "the average of their cross-validation models.")
    model = TabularModel(data.schema, members, reliability)
    timings["refit"] = time.monotonic() - t
    costs.seconds["serialize"] = _writing_seconds(members)  # the members as they ship
    costs.seconds["bundle"] = BUNDLE_SECONDS + _zipping_seconds(members)

    t = phase("serialize")
    written = _written_members(model, callbacks)
    if written is not None:
        # what is left for the bundle is zipping these files: known now, to the byte
        costs.seconds["bundle"] = BUNDLE_SECONDS + sum(map(len, written[1].values())) / ZIP_BYTES_PER_SECOND
    timings["serialize"] = time.monotonic() - t

    t = phase("failures")
    failures = _failure_analysis(search, ensemble, data, model, test_output,
                                 clock, seed, callbacks, costs)
    timings["failures"] = time.monotonic() - t

    t = phase("explain")
    _store_average_output(model, data, seed, callbacks)
    # explained even when the steps before used the time up (a busy machine's slow refit):
    # the first small chunk of rows always runs, since a model without an importance cannot
    # be checked for a column that carries it all (`too_good_to_be_true` below)
    explain_seconds = max(EXPLAIN_LEAST_SECONDS, _step_end(clock, costs, "explain") - time.monotonic())
    explanation = _explain(model, data, seed, callbacks, explain_seconds)
    if explanation is not None and explanation["sample_size"] < min(EXPLAIN_FEW_ROWS,
                                                             explanation["rows_available"]):
        warnings.append(f"The budget was nearly used up when the model was explained: its SHAP "
                        f"importance rests on {explanation['sample_size']} rows. Give the build "
                        f"more time for a steadier one.")
    timings["explain"] = time.monotonic() - t
    findings = list(plan.findings)
    suspicious = too_good_to_be_true(explanation, evaluation["holdout_metrics"], spec.metric,
                                     findings)
    if suspicious is not None:
        # stored with the explanation, so the model page can say it at the top
        explanation = {**explanation, "review_findings": [suspicious.model_dump(mode="json")]}
        findings.insert(0, suspicious)
        if suspicious.severity is Severity.WARNING:
            warnings.insert(0, suspicious.message)

    best = search.records_[ensemble.best_single_id_].result  # what ships when no mixture does
    ensemble_info = {
        "used": bool(ensemble.improves_), "weights": dict(ensemble.weights_),
        "score": ensemble.score_, "value": metrics.to_value(spec.metric, ensemble.score_),
        "best_single": {"trial_id": best.trial_id, "estimator": best.estimator, "score": best.score,
                        "value": metrics.to_value(spec.metric, best.score)},
        "floor": ensemble.floor_,
    }
    result = BuildResult(
        spec=spec, search_plan=plan.search_plan, profile=plan.profile, findings=findings,
        leaderboard=list(search.leaderboard_), model=model,
        holdout_metrics=json_safe(evaluation["holdout_metrics"]),
        baseline_metrics=json_safe(evaluation["baseline_metrics"]),
        confidence_intervals=json_safe(evaluation["confidence_intervals"]),
        details=json_safe(evaluation["details"]), slices=json_safe(evaluation["slices"]),
        ensemble=json_safe(ensemble_info), explanation=explanation, report="",
        warnings=warnings, timings=timings, planner_name=plan.planner_name,
        planner_fell_back=plan.planner_fell_back, seed=seed, budget_seconds=budget, brief=plan.brief,
        validation=search.folds_.scheme,
        rows={"all": int(len(data.y)), "train": int(len(data.train)), "test": int(len(data.test)),
              "test_rows_repeating_train": data.duplicates_across},
        refit=refit, train_sample=data.raw.head(5).copy(), reliability=reliability,
        failures=failures, written_members=written,
    )
    t = phase("report")
    # the report may use what is left, and at least a sliver: a build that ran a little over
    # still gets its written report, a hung LLM still cannot hold it long
    limit_planner(planner, max(_step_end(clock, costs, "explain"),
                               time.monotonic() + REPORT_GRACE_SHARE * clock.budget_seconds))
    result.report = _report(planner, _report_context(result))
    timings["report"] = time.monotonic() - t
    if planner is not None:
        result.planner_info = planner_report(planner)
        result.planner_fell_back = result.planner_fell_back or result.planner_info["fell_back"]
        warnings += [w for w in fallback_warnings(result.planner_info) if w not in warnings]
    timings["total"] = clock.elapsed() + (0.0 if plan.timings.get("inside_clock") else
                                          sum(plan.timings.values()))
    timings.pop("inside_clock", None)
    timings["training"] = timings["search"] + timings["refit"]
    return result


def _ensemble_oof(search: ModelSearch, ensemble: GreedyEnsemble) -> np.ndarray:
    """The chosen ensemble's out-of-fold output on the validation rows (never the held-out ones)."""
    rows = search.folds_.valid_rows
    return ensemble.blend({tid: search.records_[tid].oof[rows] for tid in ensemble.weights_})


def _reliability(search: ModelSearch, ensemble: GreedyEnsemble, data: _Data, test_output: np.ndarray,
                 clock: BudgetClock, timings: dict, phase, callbacks: BuildCallbacks,
                 rare_positive: bool = False) -> dict:
    """Intervals or sets, a calibrator where it helps and the drift reference (core.trust),
    fitted on the ensemble's out-of-fold predictions and measured on the held-out rows; for a
    rare positive class also the decision threshold, under "decision"."""
    from core.trust.reliability import assess_reliability

    t = phase("reliability")
    try:
        reliability = assess_reliability(
            schema=data.schema, y_oof=data.y[data.train][search.folds_.valid_rows],
            oof=_ensemble_oof(search, ensemble),
            y_test=data.y[data.test], test_output=test_output, frame=data.x,
            validation=search.folds_.scheme, seed=search.seed, rare_positive=rare_positive)
    except Exception as exc:  # like an explanation, a bonus: never a reason to lose the model
        callbacks.on_log(f"Could not compute intervals and calibration: {exc}")
        reliability = {}
    timings["reliability"] = time.monotonic() - t
    if reliability:
        reliability["share_of_budget"] = timings["reliability"] / clock.budget_seconds
    return reliability


def _reliability_summary(reliability: dict) -> dict:
    from core.trust.reliability import reliability_summary

    return reliability_summary(reliability) if reliability else {}


def _failure_analysis(search: ModelSearch, ensemble: GreedyEnsemble, data: _Data,
                      model: TabularModel, test_output: np.ndarray, clock: BudgetClock, seed: int,
                      callbacks: BuildCallbacks, costs: PostSearchCosts) -> dict | None:
    """Where the evaluated model fails on the held-out rows (explained by the fold models
    that made those predictions) and how the shipped model stands up to messy versions of
    them (`core.trust`): in the time kept for it, or half the time a build that finished
    early has to spare; a build whose earlier steps ran over still gets a sliver of it."""
    from core.trust.failures import analyse_failures
    from core.trust.stress import stress_test

    start = time.monotonic()
    spare = _step_end(clock, costs, "failures") - start
    deadline = start + max(FAILURES_FLOOR_SHARE * clock.budget_seconds,
                           min(spare, max(costs.seconds["failures"],
                                          min(spare / 2, FAILURES_MAX_SHARE * clock.budget_seconds))))
    raw_test = data.raw.iloc[data.test]
    try:
        # the stress test first, with most of the time: explaining the worst rows is the extra
        stress = stress_test(model, raw_test, seed=seed,
                             deadline=start + STRESS_SHARE * (deadline - start))
        failures = analyse_failures(schema=data.schema, raw_test=raw_test, y_test=data.y[data.test],
                                    output=test_output, deadline=deadline,
                                    explainer=_evaluated_members(search, ensemble, data.n_classes),
                                    calibrator=model.reliability.get("calibrator"))
        failures["stress"] = stress
    except Exception as exc:  # a bonus, never a reason to lose the model
        callbacks.on_log(f"Could not analyse the model's failures: {exc}")
        return None
    failures["seconds"] = time.monotonic() - start
    failures["share_of_budget"] = failures["seconds"] / clock.budget_seconds
    return failures


def _evaluated_members(search: ModelSearch, ensemble: GreedyEnsemble,
                       n_classes: int) -> list[tuple[float, list[Member]]]:
    """The fold models behind the held-out predictions, per ensemble member with its weight;
    a member whose fold models missed a class is left out (its SHAP values would not line
    up with the classes)."""
    groups = []
    for tid, weight in ensemble.weights_.items():
        models = search.records_[tid].models
        if all(not n_classes or len(getattr(m.estimator, "classes_", range(n_classes))) == n_classes
               for m in models):
            groups.append((weight, [Member(m.kind, m.estimator, 1.0, fold_member_name(tid, i))
                                    for i, m in enumerate(models)]))
    return groups


def _decision_entries(search: ModelSearch, ensemble: GreedyEnsemble, data: _Data,
                      reliability: dict, rare_positive: bool) -> dict:
    """The schema entries of how the classifier decides its class: on the probabilities as
    shipped, and for a rare positive class by the threshold that maximises F1 on the
    out-of-fold predictions of the chosen ensemble (never on the held-out rows). The
    reliability step chose them beside the calibrator; where that step failed, no calibrator
    ships and the ensemble's output is what is shown."""
    from core.trust.reliability import decision_entries

    if "decision" in reliability:
        return reliability.pop("decision")  # schema entries, not a reliability figure
    return decision_entries(data.y[data.train][search.folds_.valid_rows],
                            _ensemble_oof(search, ensemble), reliability.get("calibrator"),
                            rare_positive)


def _evaluate(data: _Data, metric: str, test_output: np.ndarray, calibrator: dict | None,
              seed: int, bootstrap_seconds: float) -> dict:
    """The held-out figures of exactly what the bundle outputs: the probabilities after its
    `calibrator` (chosen on out-of-fold rows, never these) and the classes it decides, so the
    confusion matrix holds the bundle's decisions (a decision threshold's too) and, with a
    threshold, precision, recall and F1 at it (`_at_threshold`)."""
    shown = test_output if data.schema["task_type"] == "regression" else \
        calibrated_output(test_output, calibrator)
    decided = None if data.schema["task_type"] == "regression" else \
        class_indices(test_output, data.schema, calibrator)
    evaluation = evaluate_holdout(
        schema=data.schema, metric=metric, y_test=data.y[data.test], output=shown,
        predicted=decided, y_train=data.y[data.train], raw_test=data.raw.iloc[data.test],
        seed=seed, max_bootstrap_seconds=bootstrap_seconds)
    if "decision_threshold" in data.schema:
        evaluation["holdout_metrics"].update(_at_threshold(
            data.y[data.test], test_output, data.schema, calibrator))
    return evaluation


def _at_threshold(y: np.ndarray, output: np.ndarray, schema: dict, calibrator: dict | None) -> dict:
    """Held-out precision, recall and F1 of the rows called positive as the runtime calls them."""
    threshold = schema["decision_threshold"]
    called = class_indices(output, schema, calibrator) == 1
    actual = y == 1
    hits = float((called & actual).sum())
    precision = hits / called.sum() if called.any() else 0.0
    recall = hits / actual.sum() if actual.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"decision_threshold": threshold, "precision_at_threshold": precision,
            "recall_at_threshold": recall, "f1_at_threshold": f1}


class _RulesRefiner:
    """Refinements by rules when no planner was given (plans passed in directly)."""

    name = "offline"

    def refine(self, spec, profile, leaderboard, max_new):
        from core.planning.search_rules import refine_candidates

        return refine_candidates(spec, profile, leaderboard, max_new)


def _report_context(result: BuildResult) -> dict:
    """What a report writer gets: plain JSON, no model objects."""
    summary = result.to_json_summary()
    return {
        **summary,
        "brief": result.brief,
        "spec": result.spec.model_dump(mode="json"),
        "search_plan": result.search_plan.model_dump(mode="json"),
        "findings": [f.model_dump(mode="json") for f in result.findings],
        "slices": result.slices,
        "details": result.details,
        "explanation": result.explanation,
        "profile": {"rows": result.profile.rows, "columns": result.profile.columns},
        "failures": result.failures,
    }


def _overrides(spec_overrides) -> tuple[TaskSpec | None, SearchPlan | None]:
    if spec_overrides is None:
        return None, None
    if isinstance(spec_overrides, TaskSpec):
        return spec_overrides, None
    if isinstance(spec_overrides, SearchPlan):
        return None, spec_overrides
    if isinstance(spec_overrides, BuildPlan):
        return spec_overrides.spec, spec_overrides.search_plan
    if isinstance(spec_overrides, dict):
        spec = spec_overrides.get("spec")
        plan = spec_overrides.get("search_plan")
        return (TaskSpec.model_validate(spec) if isinstance(spec, dict) else spec,
                SearchPlan.model_validate(plan) if isinstance(plan, dict) else plan)
    if isinstance(spec_overrides, (tuple, list)) and len(spec_overrides) == 2:
        return spec_overrides[0], spec_overrides[1]
    raise PlanError("spec_overrides must be a TaskSpec, a SearchPlan, or both in a dict "
                    "{'spec': ..., 'search_plan': ...}.")


def _check_restorable(findings: list[Finding], columns: list[str]) -> None:
    suspects = {c for f in findings if f.restorable for c in f.columns}
    wrong = [c for c in columns if c not in suspects]
    if wrong:
        shown = ", ".join(f"'{c}'" for c in wrong)
        listed = ", ".join(f"'{c}'" for c in sorted(suspects)) or "none in this table"
        raise PlanError(f"Only leakage suspects can be put back, and {shown} is not one "
                        f"(the suspects are: {listed}); leave it out of --keep.")


def build_model(df: pd.DataFrame, brief: str, *, planner=None, budget_seconds: float = 60,
                seed: int = 0, callbacks: BuildCallbacks | None = None,
                spec_overrides=None, started_at: float | None = None,
                restore: list[str] = (), validation: ValidationSpec | None = None) -> BuildResult:
    """The whole pipeline in one call; see the module docstring.

    planner: any `core.planner.Planner` (default: the offline rules planner).
    spec_overrides: an approved TaskSpec and/or SearchPlan (see `_overrides`) used instead
    of asking the planner. The budget counts from the start of this call, or from
    `started_at` (a `time.monotonic()` value) when the caller already spent time on it,
    e.g. the CLI loading the file. restore: leakage suspects to use anyway (the headless
    twin of the plan editor's switch; see `core.review`). validation: a `ValidationSpec`
    the user chose (`briefml build --split`) instead of the review's.
    """
    clock = BudgetClock(budget_seconds, start=started_at)
    planner = planner or _default_planner()
    # an LLM planner may not hold the whole budget hostage while it plans
    limit_planner(planner, time.monotonic() + PLANNING_SHARE * clock.budget_seconds)
    spec, search_plan = _overrides(spec_overrides)
    plan = plan_build(df, brief, planner, budget_seconds=budget_seconds, seed=seed,
                      spec=spec, search_plan=search_plan)
    if restore or validation is not None:
        # the reviewed plan, with the user's choices: planned again so that they are checked
        update = {}
        if restore:
            _check_restorable(plan.findings, list(restore))
            update["restored"] = list(restore)
        if validation is not None:
            update["validation"] = validation
        plan = plan_build(df, brief, planner, budget_seconds=budget_seconds, seed=seed,
                          spec=plan.spec.model_copy(update=update), search_plan=plan.search_plan)
    plan.timings["inside_clock"] = 1.0  # planning time is already on the clock
    result = run_build(df, plan, planner=planner, budget_seconds=budget_seconds, seed=seed,
                       callbacks=callbacks, clock=clock)
    return result
