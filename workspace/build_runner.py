"""Training one build attempt in its own process.

The worker starts this process (multiprocessing's forkserver: the heavy libraries are
imported once, in the fork server, so a build starts in well under a second) and watches it;
it may kill it at any moment (cancel). Everything the process learns goes to Postgres as it
happens: phase and share of the budget, each trial, log lines. At the end the model version,
its bundle and its explanation are written in one transaction, so a half-written version is
never visible.

The process cannot outlive the worker that supervises it: it holds the read end of a pipe
whose only write end is the worker's (end of file = the worker is gone: it kills itself), it
drops the fork server's liveness pipe (so the fork server, and with it PR_SET_PDEATHSIG, sees
the worker die), it never writes the build's heartbeat (only the worker does, so recovery sees
an unsupervised build as stalled), and it checks the build's cancel flag itself.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import tempfile
import threading
import traceback
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from core.build import plan_build, run_build
from core.bundle import bundle_from_result
from core.callbacks import BuildCallbacks
from core.errors import BriefmlError
from core.jsonsafe import json_safe
from core.metrics import display_name, to_value
from core.reproducibility import ReplayPlanner, with_data
from core.search import BudgetClock
from core.spec import SearchPlan, TaskSpec, TrialResult
from db import engine as db_engine
from db.artifacts import put_artifact
from db.engine import session_scope
from db.models import Build, BuildStatus, Dataset, ModelVersion, Trial, User
from workspace import bundle_keys
from workspace.build_state import (
    LOG_MESSAGE_CHARS,
    add_log,
    finish,
    finish_attempt,
    lock_project,
    locked_running_build,
)
from workspace.builds import dataset_frame
from workspace.permissions import Actor, Forbidden, NotFound
from workspace.planners import combine_reports, combine_usage, planner_for, planner_usage
from workspace.settings import get_settings

# Imported once in the fork server, so each training process starts warm.
PRELOAD = ["workspace.build_runner", "core.build", "core.bundle", "core.registry", "core.search",
           "core.explain", "core.evaluate", "core.planning.offline", "core.loading", "catboost",
           "lightgbm", "sklearn.ensemble", "shap", "skops.io"]
_context = multiprocessing.get_context("forkserver")
SUPERVISION_CHECK_SECONDS = 1.0  # how often the training process looks at its cancel flag
CANCELLED_MESSAGE = "Cancelled; the trials finished so far are kept."


# --------------------------------------------------------------------------- the worker's side


def warm_up() -> None:
    """Start the fork server with the engine's libraries loaded (once per worker)."""
    _context.set_forkserver_preload(PRELOAD)
    multiprocessing.forkserver.ensure_running()


def start_training_process(build_id: str, attempt: int):
    """Start the process that trains this attempt; returns the (started) Process.

    `process.supervision` is the write end of the supervision pipe: keep it open while the
    process should live, close it (`end_supervision`) once the process has ended. Nothing is
    ever written to it; the kernel closes it when the worker dies, however it dies.
    """
    url = db_engine.get_engine().url.render_as_string(hide_password=False)
    child_end, worker_end = _context.Pipe(duplex=False)
    process = _context.Process(target=train_in_child, args=(build_id, attempt, url, child_end),
                               name=f"build-{build_id[:8]}", daemon=False)
    try:
        process.start()
    except BaseException:
        worker_end.close()
        raise
    finally:
        child_end.close()  # the child has its own copy; the worker must hold only the write end
    process.supervision = worker_end
    return process


def end_supervision(process) -> None:
    """Close the worker's end of a finished training process's supervision pipe."""
    process.supervision.close()


# --------------------------------------------------------------------------- progress rows


class DatabaseCallbacks(BuildCallbacks):
    """Turns the engine's progress callbacks into rows, each committed as it happens."""

    def __init__(self, build_id: uuid.UUID):
        self.build_id = build_id
        self._phase = ""

    def _update_build(self, **values) -> None:
        # never the heartbeat: only the supervising worker writes it (see the module docstring)
        with session_scope() as session:
            session.execute(sa.update(Build).where(Build.id == self.build_id).values(**values))

    def _log(self, message: str, level: str = "info") -> None:
        with session_scope() as session:
            add_log(session, self.build_id, message, level)

    def on_build_start(self, *, budget_seconds: float, plan: dict) -> None:
        self._log(f"Training started with a budget of {budget_seconds:g} seconds.")

    def on_phase(self, phase: str, *, share_of_budget_used: float) -> None:
        self._update_build(phase=phase[:100], progress=_share(share_of_budget_used))
        if phase != self._phase:  # the log tells each phase once, with where the clock is
            self._phase = phase
            self._log(f"{phase.capitalize()} ({_share(share_of_budget_used):.0%} of the budget "
                      "used).")

    def on_trial_end(self, trial: TrialResult, *, share_of_budget_used: float) -> None:
        with session_scope() as session:
            session.add(Trial(
                build_id=self.build_id, trial_key=trial.trial_id[:100], estimator=trial.estimator,
                params=json_safe(trial.params), score=json_safe(trial.score), metric=trial.metric,
                seconds=float(trial.seconds), status=trial.status,
                error=(trial.error or None) and trial.error[:LOG_MESSAGE_CHARS],
                parent=trial.parent,
            ))
            session.execute(sa.update(Build).where(Build.id == self.build_id)
                            .values(progress=_share(share_of_budget_used)))
            outcome = (f"validation {display_name(trial.metric)} {to_value(trial.metric, trial.score):.4g}"
                       if trial.status == "ok" and trial.score is not None else trial.status)
            add_log(session, self.build_id,
                    f"Trial {trial.trial_id} ({trial.estimator}): {outcome} in {trial.seconds:.1f} s.")

    def on_log(self, message: str) -> None:
        self._log(message)


def _share(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


# --------------------------------------------------------------------------- the child process


def train_in_child(build_id: str, attempt: int, database_url: str, supervisor) -> None:
    """Entry point of the training process: run the attempt, record how it ended."""
    # Ctrl-C and SIGTERM are for the worker, which decides (and SIGKILLs this process)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _drop_fork_server_liveness_pipe()
    _die_with_parent()
    db_engine.configure(database_url, pool_size=2)
    threading.Thread(target=_supervise, args=(supervisor, uuid.UUID(build_id), attempt),
                     name="supervision", daemon=True).start()
    try:
        run_attempt(uuid.UUID(build_id), attempt)
    except BriefmlError as exc:
        record_failure(uuid.UUID(build_id), attempt, str(exc), None)
    except (NotFound, Forbidden):
        record_failure(uuid.UUID(build_id), attempt,
                       "The person who approved this build can no longer read its dataset. "
                       "Ask a current editor of the project to retry it.", None)
    except Exception as exc:  # noqa: BLE001 - any bug in training becomes the build's error
        record_failure(uuid.UUID(build_id), attempt,
                       f"Training stopped with an internal error ({type(exc).__name__}: {exc}). "
                       "Retry the build; if it fails again, report it with the build's log.",
                       traceback.format_exc())


def _drop_fork_server_liveness_pipe() -> None:
    """Close the write end of the fork server's "alive" pipe that every forkserver child is
    handed. The fork server exits when all write ends are closed; while a training process
    held one, a killed worker left the fork server (and so this process) running."""
    server = multiprocessing.forkserver._forkserver
    if server._forkserver_alive_fd is not None:
        os.close(server._forkserver_alive_fd)
        # this process never asks the fork server for children; forget it
        server._forkserver_alive_fd = server._forkserver_address = None


def _die_with_parent() -> None:
    """Linux: be killed if the fork server (which exits with the worker) goes away."""
    parent = os.getppid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        _kill_self()


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _supervise(supervisor, build_id: uuid.UUID, attempt: int) -> None:
    """The training process's own watch (a thread): die when the worker is gone; on a cancel,
    end the build as cancelled and die; die too once another attempt owns the build."""
    while True:
        if supervisor.poll(SUPERVISION_CHECK_SECONDS):
            _kill_self()  # end of file: the supervising worker is gone (it never writes)
        verdict = _ownership(build_id, attempt)
        if verdict == "cancel":
            finish_attempt(build_id, attempt, BuildStatus.CANCELLED, CANCELLED_MESSAGE)
        if verdict in ("cancel", "lost"):
            _kill_self()
        if verdict == "ended":  # this attempt saved or failed it: the process is finishing
            return


def _ownership(build_id: uuid.UUID, attempt: int) -> str:
    """"own" while this attempt may go on training, "cancel" when a cancel was asked,
    "ended" when the build this attempt ran is over, "lost" when another attempt owns it."""
    try:
        with session_scope() as session:
            row = session.execute(sa.select(Build.status, Build.attempts, Build.cancel_requested)
                                  .where(Build.id == build_id)).first()
    except sa.exc.SQLAlchemyError:  # a database hiccup: the worker decides meanwhile
        return "own"
    if row is None or row.attempts != attempt:
        return "lost"
    if row.status != BuildStatus.RUNNING:
        return "ended" if BuildStatus(row.status).is_final else "lost"
    return "cancel" if row.cancel_requested else "own"


def record_failure(build_id: uuid.UUID, attempt: int, message: str, details: str | None) -> None:
    """The attempt failed in training: the build is failed with this message (if it still
    owns the build)."""
    finish_attempt(build_id, attempt, BuildStatus.FAILED, message, details=details)


def _approver(build: Build) -> Actor:
    with session_scope() as session:
        user = session.get(User, build.approved_by or build.created_by)
        return Actor(user_id=user.id, email=user.email, is_admin=user.is_admin)


def run_attempt(build_id: uuid.UUID, attempt: int) -> None:
    """Plan (from the approved plan) → train → save the model version."""
    with session_scope() as session:
        build = session.get(Build, build_id)
    actor = _approver(build)
    callbacks = DatabaseCallbacks(build_id)
    # the budget covers loading the data and checking the plan too, as `briefml build`'s does
    clock = BudgetClock(build.budget_seconds)
    callbacks.on_phase("loading data", share_of_budget_used=0.0)
    df = dataset_frame(actor, build.dataset_id)
    df.attrs["synthetic"] = _is_synthetic(build.dataset_id)
    rebuild_of = (build.plan or {}).get("rebuild_of")
    # a rebuild runs the recorded plan: the configured LLM is not asked again
    planner = ReplayPlanner() if rebuild_of else planner_for()[0]
    plan = plan_build(df, build.brief, planner, budget_seconds=build.budget_seconds, seed=build.seed,
                      spec=TaskSpec.model_validate(build.plan["spec"]),
                      search_plan=SearchPlan.model_validate(build.plan["search"]))
    plan.timings["inside_clock"] = 1.0
    try:
        result = run_build(df, plan, planner=planner, budget_seconds=build.budget_seconds,
                           seed=build.seed, callbacks=callbacks, threads=get_settings().threads,
                           clock=clock)
    except Exception:
        _save_planner_report(build_id, planner)  # a failed build still tells its fallbacks
        raise
    result.reproducibility = _with_dataset(result.reproducibility, build.dataset_id, rebuild_of)
    callbacks.on_phase("saving", share_of_budget_used=1.0)
    save_model_version(build_id, attempt, result, actor, llm_usage=planner_usage(planner),
                       planner_report=result.planner_info)


def _with_dataset(record: dict, dataset_id: uuid.UUID, rebuild_of: dict | None) -> dict:
    """The engine's reproducibility record with the dataset version it was trained on."""
    with session_scope() as session:
        dataset = session.get(Dataset, dataset_id)
        record = with_data(record, sha256=dataset.content_sha256, source=dataset.filename,
                           dataset_id=dataset.id, dataset_name=dataset.name,
                           dataset_version=dataset.version)
    return {**record, "rebuild_of": rebuild_of} if rebuild_of else record


def _is_synthetic(dataset_id: uuid.UUID) -> bool:
    with session_scope() as session:
        dataset = session.get(Dataset, dataset_id)
        return bool(dataset and dataset.synthetic)


def _save_planner_report(build_id: uuid.UUID, planner) -> None:
    from core.planner import planner_report

    with session_scope() as session:
        build = session.get(Build, build_id)
        build.planner_report = json_safe(combine_reports(build.planner_report,
                                                         planner_report(planner)))
        build.llm_usage = combine_usage(build.llm_usage, planner_usage(planner))
        session.add(build)


def _next_version(session: Session, project_id: uuid.UUID) -> int:
    current = session.execute(sa.select(sa.func.max(ModelVersion.version))
                              .where(ModelVersion.project_id == project_id)).scalar_one()
    return (current or 0) + 1


def save_model_version(build_id: uuid.UUID, attempt: int, result, actor: Actor,
                       llm_usage: dict | None = None,
                       planner_report: dict | None = None) -> ModelVersion | None:
    """Create the model version, its bundle and the build's success in ONE transaction.

    The project row is locked first, so concurrent builds of a project take numbers one after
    another (the unique constraint on (project, version) backs this up). Returns None when
    this attempt no longer owns the build (cancelled or recovered meanwhile): nothing is saved.
    A cancel asked before this moment wins: the build ends cancelled, with no version.
    """
    with session_scope() as session:
        project_id = session.get(Build, build_id).project_id
        lock_project(session, project_id)
        build = locked_running_build(session, build_id, attempt)
        if build is None:
            return None
        if build.cancel_requested:
            finish(session, build, BuildStatus.CANCELLED, CANCELLED_MESSAGE)
            return None
        number = _next_version(session, project_id)
        with tempfile.TemporaryDirectory(prefix="briefml-bundle-") as tmp:
            path = bundle_from_result(result, Path(tmp) / "bundle.zip", build_id=str(build_id),
                                      signing_key=bundle_keys.signing_key(),
                                      model_version=number)
            bundle_sha = put_artifact(session, path, media_type="application/zip")
        version = ModelVersion(
            project_id=project_id, build_id=build_id, dataset_id=build.dataset_id, version=number,
            target=result.spec.target, task_type=str(result.spec.task_type), metric=result.spec.metric,
            spec=result.spec.model_dump(mode="json"), input_schema=json_safe(result.schema),
            metrics=_version_metrics(result),
            explanation=json_safe(result.explanation or {}) or None,
            leaderboard=json_safe({"rows": result.leaderboard_rows()})["rows"],
            findings=[f.model_dump(mode="json") for f in result.findings],
            report=result.report or "", bundle_sha256=bundle_sha, created_by=actor.user_id,
        )
        session.add(version)
        build.progress = 1.0
        build.llm_usage = combine_usage(build.llm_usage, llm_usage)
        build.planner_report = json_safe(combine_reports(build.planner_report, planner_report))
        finish(session, build, BuildStatus.SUCCEEDED, f"Saved model version {number}.")
        return version


def _version_metrics(result) -> dict:
    summary = result.to_json_summary()
    return json_safe({
        "holdout": result.holdout_metrics, "baseline": result.baseline_metrics,
        "confidence_intervals": result.confidence_intervals, "details": result.details,
        "slices": result.slices, "ensemble": result.ensemble, "warnings": summary["warnings"],
        "validation": result.validation, "rows": result.rows, "refit": result.refit,
        "timings": result.timings, "planner": result.planner_name, "classes": summary["classes"],
        "planner_report": summary["planner"], "synthetic_data": summary["synthetic_data"],
        "reliability": summary["reliability"], "failures": result.failures,
        "reproducibility": getattr(result, "reproducibility", None) or None,
    })
