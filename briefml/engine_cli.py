"""Headless commands: `briefml build` and `briefml predict` (no database needed).

The lead's `briefml/cli.py` registers these with ``app.command()(build)`` and
``app.command()(predict)``. The contract scripts rely on:

- ``briefml build DATA --intent TEXT [--budget SECONDS] [--seed N] [--out BUNDLE.zip] [--json]
  [--target COLUMN] [--task binary|multiclass|regression] [--metric NAME] [--positive-class VALUE]
  [--planner auto|offline|llm]`` trains and writes a bundle (the overrides win over the brief; a
  brief that does not say clearly what to predict stops with the candidates and the
  ``--target`` flag to pass; planner auto: the LLM when `BRIEFML_LLM` is set, an unusable LLM
  setting is a warning and an offline plan); with ``--json`` the last stdout line is one JSON object
  (`core.build.BuildResult.to_json_summary`). A progress bar goes to stderr unless ``--json``.
- ``briefml build DATA --from-bundle BUNDLE.zip [--budget S] [--seed N] [--out NEW.zip] [--json]``
  re-runs the plan recorded in the bundle's manifest (target, task, metric, columns, families,
  budget, seed; the planner is not asked again) on DATA, writes a new bundle and prints how
  closely the held-out metrics match the recorded ones (``"rebuild"`` in the JSON summary).
- ``briefml predict BUNDLE.zip INPUT [-o OUT.csv]`` writes a CSV with the target column
  (the prediction) and, for classification, one ``proba_<class>`` column per class.

User errors print one line on stderr and exit with code 2, without a traceback.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from briefml.console import fail, file_error_sentence
from core.callbacks import BuildCallbacks

def _user_errors() -> tuple[type[BaseException], ...]:
    from core.errors import BriefmlError
    from core.runtime import SchemaError

    return (BriefmlError, SchemaError, FileNotFoundError, IsADirectoryError)


class ProgressBarCallbacks(BuildCallbacks):
    """Draws the build's progress (share of the budget used) on stderr with rich."""

    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.fields[phase]:<9}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[best]}"), TimeElapsedColumn(), console=console, transient=False,
        )
        self.task = None
        self.best: float | None = None

    def on_build_start(self, *, budget_seconds: float, plan: dict) -> None:
        self.progress.start()
        self.task = self.progress.add_task("build", total=100, phase="start", best="")

    def on_phase(self, phase: str, *, share_of_budget_used: float) -> None:
        if self.task is not None:
            self.progress.update(self.task, phase=phase, completed=100 * share_of_budget_used)

    def on_trial_end(self, trial, *, share_of_budget_used: float) -> None:
        if self.task is None:
            return
        if trial.score is not None and (self.best is None or trial.score > self.best):
            self.best = trial.score
        from core.metrics import display_name, to_value

        name = display_name(trial.metric)
        best = f"best {name} {to_value(trial.metric, self.best):.4g}" if self.best is not None else ""
        self.progress.update(self.task, completed=100 * share_of_budget_used, best=best)
        self.progress.console.print(
            f"  {trial.trial_id} {trial.estimator:<24} {trial.status:<7} "
            + (f"{name} {to_value(trial.metric, trial.score):.4g}" if trial.score is not None
               else (trial.error or "")[:80])
            + f"  ({trial.seconds:.1f}s)", highlight=False,
        )

    def on_build_end(self, *, status: str, summary: dict) -> None:
        if self.task is not None:
            self.progress.update(self.task, phase=status, completed=100)
            self.progress.stop()


def build(
    data: Annotated[Path, typer.Argument(help="The training table: CSV, TSV, Parquet or Excel.")],
    intent: Annotated[Optional[str], typer.Option("--intent", help="The brief: what to predict, in plain words.")] = None,
    budget: Annotated[Optional[float], typer.Option("--budget", help="Training time budget in seconds (default 60, or the recorded one with --from-bundle).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Random seed (same seed, same plan; default 0, or the recorded one).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Where to write the bundle zip.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
    target: Annotated[Optional[str], typer.Option("--target", help="The column to predict (overrides the brief).")] = None,
    task: Annotated[Optional[str], typer.Option("--task", help="binary, multiclass or regression.")] = None,
    metric: Annotated[Optional[str], typer.Option("--metric", help="The metric to optimise, e.g. roc_auc, rmse.")] = None,
    positive_class: Annotated[Optional[str], typer.Option("--positive-class", help="The class a binary task is about.")] = None,
    keep: Annotated[Optional[list[str]], typer.Option("--keep", help="A leakage suspect to use anyway, because it is known when you predict (repeatable).")] = None,
    split: Annotated[Optional[str], typer.Option("--split", help="How rows are held out: random, group:COLUMN (each value on one side) or time:COLUMN (the latest rows); default: the review decides.")] = None,
    planner_mode: Annotated[str, typer.Option(
        "--planner", help="auto (the LLM when BRIEFML_LLM is set), offline or llm.")] = "auto",
    from_bundle: Annotated[Optional[Path], typer.Option(
        "--from-bundle", help="Rebuild: re-run the plan recorded in this bundle on DATA "
        "(the planner is not asked again) and compare the held-out metrics.")] = None,
) -> None:
    """Train a model from a table and a brief, with no database, and write a bundle."""
    started_at = _command_started_at()  # the budget covers imports and loading the file too
    console = Console(stderr=True, highlight=False)
    if from_bundle is not None:
        if target or task or metric or positive_class or keep or split:
            fail("--from-bundle re-runs the recorded plan as it is; leave out --target, --task, "
                 "--metric, --positive-class, --keep and --split (or build anew with --intent).")
        rebuild(data, from_bundle, budget=budget, seed=seed, out=out, json_output=json_output,
                started_at=started_at)
        return
    if not (intent or "").strip():
        fail("Say what to predict with --intent TEXT, or rebuild a model with --from-bundle BUNDLE.zip.")
    budget, seed = (60.0 if budget is None else budget), (0 if seed is None else seed)
    if budget <= 0:
        fail(f"The budget must be a positive number of seconds, not {budget:g}.")
    out = out or Path(f"{Path(data).stem}_model.zip")
    try:
        from core.build import build_model
        from core.bundle import bundle_from_result
        from core.errors import TargetUnclearError
        from core.loading import load_table
        from core.planning.overrides import TaskOverrides, with_overrides
        from core.reproducibility import file_sha256, with_data
        from workspace.planners import PLANNER_MODES, planner_for

        _import_late_libraries()

        if planner_mode not in PLANNER_MODES:
            fail(f"Unknown planner '{planner_mode}'; use one of: {', '.join(PLANNER_MODES)}.")
        planner, _ = planner_for(planner_mode)  # its warning comes back in the summary
        overrides = TaskOverrides(target, task, metric, positive_class)
        from core.review import split_from_text

        validation = split_from_text(split) if split is not None else None
        loading = time.monotonic()
        df = load_table(Path(data), limits=_build_limits(budget, started_at))
        loaded = time.monotonic()
        callbacks = BuildCallbacks() if json_output else ProgressBarCallbacks(console)
        result = build_model(df, intent, planner=with_overrides(planner, overrides), budget_seconds=budget,
                             seed=seed, callbacks=callbacks, started_at=started_at,
                             restore=keep or [], validation=validation)
        built = time.monotonic()
        result.reproducibility = with_data(result.reproducibility, sha256=file_sha256(data),
                                           source=Path(data).name)
        from workspace import bundle_keys

        path = bundle_from_result(result, out, signing_key=bundle_keys.signing_key())
        result.timings.update(_command_timings(started_at, loading, loaded, built))
    except OSError as exc:  # the table cannot be read or the bundle written
        fail(file_error_sentence(exc, output=out))
        return
    except TargetUnclearError as exc:
        shown = ", ".join(exc.candidates)
        fail(f"{exc.question}" + (f" Candidates: {shown}." if shown else "")
             + f" Pass --target COLUMN, e.g. --target {shlex.quote(exc.candidates[0]) if exc.candidates else 'COLUMN'}.")
        return
    except _user_errors() as exc:
        fail(str(exc))
        return
    summary = result.to_json_summary()
    summary["bundle"] = str(path)
    summary["overrides"] = overrides.given() | ({"split": split.strip()} if split else {})
    summary["reproducibility"] = result.reproducibility
    if json_output:
        sys.stdout.write(json.dumps(summary, allow_nan=False) + "\n")
        _end_command()
        return
    from core.metrics import display_name

    metric = summary["metric"]
    console.print(
        f"Target '{summary['target']}' ({summary['task_type']}); held-out {display_name(metric)} "
        f"{_number(summary['holdout_metrics'].get(metric))} vs naive baseline "
        f"{_number(summary['baseline_metrics'].get(metric))}."
    )
    for note in summary["review"]["notes"]:
        console.print(f"Review: {note}")
    for warning in summary["warnings"]:
        console.print(f"[yellow]Warning:[/] {warning}")
    from core.trust.stress import stress_sentences

    for line in stress_sentences((result.failures or {}).get("stress")):
        console.print(line, markup=False)  # column names and values are the user's text
    console.print(f"Bundle written to {path}")
    _end_command()


def _end_command() -> None:
    """End a `briefml build` command now that its output is written: tearing down the
    interpreter with CatBoost, LightGBM, shap and scikit-learn loaded takes a second more
    (outside the budget's clock, and nothing is left to tidy). Called some other way (a test,
    a notebook), it only flushes."""
    sys.stdout.flush()
    sys.stderr.flush()
    if _is_the_command():
        import logging
        import os

        logging.shutdown()
        os._exit(0)


def _is_the_command() -> bool:
    command = Path(sys.argv[0] if sys.argv else "")
    return command.name == "briefml" or \
        command.resolve() == Path(__file__).with_name("__main__.py").resolve()


def rebuild(data: Path, bundle: Path, *, budget: float | None, seed: int | None, out: Path | None,
            json_output: bool, started_at: float) -> None:
    """`briefml build DATA --from-bundle BUNDLE.zip`: the recorded plan, on DATA, compared."""
    console = Console(stderr=True, highlight=False)
    out = out or Path(f"{Path(data).stem}_rebuilt_model.zip")
    try:
        from core import reproducibility as repro
        from core.build import build_model
        from core.bundle import bundle_from_result
        from core.loading import load_table
        record, recorded, manifest = repro.bundle_record(bundle)
        spec, search_plan = repro.recorded_plan(record)
        budget = float(record["budget_seconds"]) if budget is None else budget
        seed = int(record["seed"]) if seed is None else seed
        if budget <= 0:
            fail(f"The budget must be a positive number of seconds, not {budget:g}.")
        sha = repro.file_sha256(data)
        df = load_table(Path(data))
        callbacks = BuildCallbacks() if json_output else ProgressBarCallbacks(console)
        # the recorded trials, replayed: no planner is asked for a plan or a refinement
        result = build_model(df, record.get("brief") or "", planner=repro.ReplayPlanner(),
                             budget_seconds=budget, seed=seed, callbacks=callbacks,
                             spec_overrides={"spec": spec, "search_plan": search_plan},
                             started_at=started_at)
        holdout, intervals = recorded.get("holdout") or {}, recorded.get("confidence_intervals") or {}
        note = repro.rebuild_note(version=manifest.get("model_version"), version_id=None,
                                  holdout=holdout, intervals=intervals,
                                  data_sha256=(record.get("data") or {}).get("sha256"))
        result.reproducibility = {**repro.with_data(result.reproducibility, sha256=sha,
                                                    source=Path(data).name), "rebuild_of": note}
        from workspace import bundle_keys

        path = bundle_from_result(result, out, signing_key=bundle_keys.signing_key())
    except _user_errors() as exc:
        fail(str(exc))
        return
    rows = repro.compare_holdout(holdout, result.holdout_metrics, intervals)
    same = None if note["data_sha256"] is None else note["data_sha256"] == sha
    verdict = repro.closeness(rows, spec.metric, same_data=same)
    if json_output:
        summary = {**result.to_json_summary(), "bundle": str(path),
                   "reproducibility": result.reproducibility,
                   "rebuild": {"from": str(bundle), "same_data": same, "metrics": rows,
                               "closeness": verdict}}
        sys.stdout.write(json.dumps(summary, allow_nan=False) + "\n")
        sys.stdout.flush()
        return
    console.print(f"Rebuilt '{spec.target}' ({spec.task_type}) from {bundle.name} with seed {seed} "
                  f"and a {budget:g}-second budget.")
    for row in rows:
        console.print(f"  {row['metric']:<22} recorded {row['recorded']:.4g}  rebuilt "
                      f"{row['rebuilt']:.4g}  ({row['difference']:+.3g})", highlight=False)
    console.print(verdict)
    console.print(f"Bundle written to {path}")


def _command_started_at() -> float:
    """When this `briefml` command started, its own imports included; now when `build` is
    called some other way (a test, a notebook), whose imports are none of its business."""
    from briefml import IMPORTED_AT

    return IMPORTED_AT if _is_the_command() else time.monotonic()


def _import_late_libraries() -> None:
    """Import now, inside the budget's clock where the build plans around it, what the build
    would otherwise import in its last seconds: shap to explain, skops to write the bundle
    (each takes seconds on a busy machine; skops lists every scikit-learn estimator)."""
    import shap  # noqa: F401
    import skops.io  # noqa: F401


def _command_timings(started_at: float, loading: float, loaded: float, built: float) -> dict:
    """The command's own phases, beside the build's: `startup` (imports before the file is
    read), `load`, `bundle`, and `wall`, all of it from the start of the command."""
    now = time.monotonic()
    return {"startup": loading - started_at, "load": loaded - loading, "bundle": now - built,
            "wall": now - started_at}


def _build_limits(budget: float, started_at: float):
    """The settings' limits on the training table; reading it counts inside the budget, so
    a file that takes longer to read than what is left of the budget is refused then."""
    import dataclasses

    from workspace.settings import get_settings

    limits = get_settings().load_limits()
    left = max(0.05, budget - (time.monotonic() - started_at))
    if left >= limits.max_seconds:
        return limits
    return dataclasses.replace(limits, max_seconds=round(left, 2), seconds_limit_name="what was left of --budget")


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def predict(
    bundle: Annotated[Path, typer.Argument(help="A bundle zip written by `briefml build`.")],
    input: Annotated[Path, typer.Argument(help="The rows to predict: CSV, TSV, Parquet or Excel.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Where to write the CSV.")] = None,
    coverage: Annotated[Optional[float], typer.Option(
        "--coverage", help="Coverage of the lower/upper intervals or prediction sets, e.g. 0.9 or 90.")] = None,
    trust: Annotated[Optional[list[Path]], typer.Option(
        "--trust", help="Public key file (.pub) of whoever built the bundle, besides your own (repeatable).")] = None,
) -> None:
    """Predict every row of INPUT with a bundle and write a CSV of predictions, with intervals
    (regression) or prediction sets (classification), each row's own columns after them as
    INPUT writes them; say how INPUT compares with the training data.

    The bundle must be signed by your own key (BRIEFML_HOME), a key in BRIEFML_TRUSTED_KEYS
    or one passed with --trust."""
    import dataclasses

    console = Console(stderr=True, highlight=False)
    output = output or Path(input).with_name(f"{Path(input).stem}_predictions.csv")
    try:
        from core.bundle import load_bundle, predict_file
        from core.runtime import coverage_lines, drift_lines
        from workspace import bundle_keys
        from workspace.settings import get_settings

        loaded = load_bundle(bundle, **bundle_keys.verification(trust or []))
        limits = dataclasses.replace(get_settings().load_limits(), min_columns=1)
        _, report = predict_file(loaded, input, output, coverage=coverage, limits=limits)
        sure = coverage_lines(loaded.model.reliability, coverage)
    except OSError as exc:  # the input cannot be read or the output written
        fail(file_error_sentence(exc, output=output))
        return
    except _user_errors() as exc:
        fail(str(exc))
        return
    for warning in report.warnings():
        console.print(f"[yellow]Warning:[/] {warning}")
    for line in sure:
        console.print(escape(line))
    for i, line in enumerate(drift_lines(report.drift)):
        shifted = i == 0 and not report.drift["looks_like_training"]
        console.print(f"[yellow]Drift:[/] {escape(line)}" if shifted else escape(line))
    console.print(f"Predictions written to {output}")
