"""Builds: from a brief to an approved plan to a trained model version.

Lifecycle: draft → planned (awaiting approval) → queued → running → succeeded | failed |
cancelled. A draft is a brief the planner could not resolve (it says why and lists candidate
targets); a planned build holds a validated plan the user may edit; approving it defers the
queue job in the same transaction (`workspace.jobs`); a worker runs it (`workspace.tasks`). Who planned,
approved, cancelled and retried, and when, is on the build and in the audit log.
"""

from __future__ import annotations

import uuid

import pandas as pd
from pydantic import ValidationError
from sqlmodel import Session, select

from core.build import plan_build
from core.checks import run_checks
from core.errors import PlanError, invalid_plan
from core.loading import without_nul
from core.planner import fallback_warnings, planner_report
from core.profile import profile_frame
from core.reproducibility import ReplayPlanner, rebuild_note, recorded_plan
from core.spec import DataProfile, Finding, SearchPlan, TaskSpec
from db.engine import session_scope
from db.models import Build, BuildLog, BuildStatus, Dataset, ModelVersion, Trial, utcnow
from workspace import audit
from workspace.access import load_in_project, not_found, parse_id
from workspace.build_state import add_log, finish, running_in_project
from workspace.datasets import load_dataset_frame
from workspace.jobs import cancel_queued_job, defer_build_job
from workspace.permissions import Action, Actor, require
from workspace.planners import combine_usage, planner_for, planner_usage  # noqa: F401
from workspace.settings import get_settings


class BuildStateError(ValueError):
    """The build is not in a state that allows this step; the message says what is possible."""


# --------------------------------------------------------------------------- engine glue


def dataset_frame(actor: Actor, dataset_id: uuid.UUID) -> pd.DataFrame:
    """The dataset's table, as the actor may read it."""
    return load_dataset_frame(actor=actor, dataset_id=dataset_id)


def _profile_and_findings(dataset: Dataset, df: pd.DataFrame):
    profile = DataProfile.model_validate(dataset.profile) if dataset.profile else profile_frame(df)
    if dataset.findings is not None:
        findings = [Finding.model_validate(f) for f in dataset.findings]
    else:
        findings = run_checks(df, profile)
    return profile, findings


def _plan_json(plan, question: str = "", candidates=(), target_doubt: dict | None = None) -> dict:
    """What a build stores as its plan (the dataset keeps the profile). `target_doubt`: the
    brief points to another target than the planner chose; the plan page asks about it."""
    if plan is None:
        return {"spec": None, "search": None, "findings": [], "planner_notes": [],
                "question": question,
                "candidates": [c.model_dump(mode="json") for c in candidates]}
    return {
        "spec": plan.spec.model_dump(mode="json"),
        "search": plan.search_plan.model_dump(mode="json"),
        "findings": [f.model_dump(mode="json") for f in plan.findings],
        "planner_notes": list(plan.notes),
        **({"target_doubt": target_doubt}
           if target_doubt and target_doubt.get("chosen") == plan.spec.target else {}),
    }


def _engine_plan(df, brief: str, planner, *, budget_seconds: float, seed: int,
                 spec: dict | None = None, search: dict | None = None,
                 spec_from_planner: bool = False):
    """The engine's planning step; user-edited parts are validated like the planner's."""
    try:
        spec_obj = TaskSpec.model_validate(spec) if spec is not None else None
        search_obj = SearchPlan.model_validate(search) if search is not None else None
    except ValidationError as exc:
        raise invalid_plan(exc) from None
    plan = plan_build(df, brief, planner, budget_seconds=budget_seconds, seed=seed,
                      spec=spec_obj, search_plan=search_obj, spec_from_planner=spec_from_planner)
    _check_target_name_fits(plan.spec.target)
    return plan


def _check_target_name_fits(target: str) -> None:
    """A model version stores its target's name: refuse a name it cannot hold now, not after
    the whole training budget."""
    limit = ModelVersion.__table__.c.target.type.length
    if len(target) > limit:
        raise PlanError(f"The column to predict, '{target[:60]}…', has a name of {len(target):,} "
                        f"characters; a model version can store at most {limit}. Rename the column "
                        "in the file (or pick another one) and upload it again.")


def _check_budget(budget_seconds: float | None) -> float:
    settings = get_settings()
    budget = settings.default_budget_seconds if budget_seconds is None else float(budget_seconds)
    if not settings.min_budget_seconds <= budget <= settings.max_budget_seconds:
        raise PlanError(
            f"The time budget must be between {settings.min_budget_seconds:g} and "
            f"{settings.max_budget_seconds:g} seconds, not {budget:g}. Pick a budget in that range.")
    return budget


# --------------------------------------------------------------------------- loading


def _load_build(session: Session, actor: Actor | None, build_id, action: Action) -> Build:
    return load_in_project(session, actor, Build, build_id, action, what="build")


def _locked(session: Session, build: Build) -> Build:
    session.refresh(build, with_for_update=True)
    return build


def _refuse(build: Build, doing: str, allowed: str) -> BuildStateError:
    return BuildStateError(f"This build is {build.status}; {doing} {allowed}.")


# --------------------------------------------------------------------------- use cases


def create_build(*, actor: Actor | None, project_id, dataset_id, brief: str,
                 budget_seconds: float | None = None, seed: int = 0) -> Build:
    """Plan a build from a brief: status 'planned' with a validated plan, or 'draft' when the
    planner cannot tell what to predict (the plan then holds its question and candidates)."""
    brief = without_nul(brief or "").strip()
    if not brief:
        raise PlanError("The brief is empty. Say in a sentence what to predict, e.g. "
                        "'predict which customers will cancel'.")
    budget = _check_budget(budget_seconds)
    with session_scope() as session:
        project_id = parse_id(project_id, "project")
        require(session, actor, project_id, Action.BUILD)
        dataset = session.get(Dataset, parse_id(dataset_id, "dataset"))
        if dataset is None or dataset.project_id != project_id:
            raise not_found("dataset")
    df = dataset_frame(actor, dataset.id)
    planner, warning = planner_for()
    profile, findings = _profile_and_findings(dataset, df)
    proposal = planner.propose_task(brief, profile, findings)
    plan, question, candidates = None, "", []
    if proposal.spec is None or proposal.ambiguous:
        question = proposal.message or f"Could not tell what to predict from '{brief}'."
        candidates = proposal.candidates
    else:
        plan = _engine_plan(df, brief, planner, budget_seconds=budget, seed=seed,
                            spec=proposal.spec.model_dump(mode="json"), spec_from_planner=True)
    build = Build(
        project_id=project_id, dataset_id=dataset.id, brief=brief[:5000],
        status=BuildStatus.PLANNED if plan else BuildStatus.DRAFT,
        plan=_plan_json(plan, question, candidates, getattr(planner, "target_doubt", None)),
        budget_seconds=budget, seed=int(seed),
        planner=getattr(planner, "name", "offline")[:200],
        planner_fallback=_fallback_note(warning, planner, plan), llm_usage=planner_usage(planner),
        planner_report=planner_report(planner), created_by=actor.user_id,
    )
    with session_scope() as session:
        session.add(build)
        session.flush()
        audit.record(session, actor, "plan", project_id=project_id, object_type="build",
                     object_id=build.id, status=str(build.status), brief=brief[:200])
    return build


def _fallback_note(warning: str | None, planner, plan) -> str | None:
    """Why the build is not (wholly) planned by the configured LLM, in words, or None."""
    notes = fallback_warnings(planner_report(planner))  # the setup warning and each fallback
    if warning and warning not in notes:
        notes.insert(0, warning)
    if plan is not None and plan.planner_fell_back and not notes:
        notes += [n for n in plan.notes if "planner" in n]
    return " ".join(notes)[:5000] or None


def update_plan(*, actor: Actor | None, build_id, spec: dict | None = None,
                search: dict | None = None, budget_seconds: float | None = None) -> Build:
    """Edit a draft or planned build's plan; the result is validated by the engine.

    `spec` and `search` are merged over the current plan (send only the fields that change).
    A draft becomes planned once a target is given (`spec={"target": "column"}`).
    """
    with session_scope() as session:
        build = _load_build(session, actor, build_id, Action.BUILD)
        if build.status not in (BuildStatus.DRAFT, BuildStatus.PLANNED):
            raise _refuse(build, "its plan can no longer change;", "retry it to train with a new plan")
        dataset = session.get(Dataset, build.dataset_id)
    budget = _check_budget(budget_seconds if budget_seconds is not None else build.budget_seconds)
    df = dataset_frame(actor, build.dataset_id)
    planner, _ = planner_for()
    current_spec = (build.plan or {}).get("spec")
    new_target = (spec or {}).get("target")
    if current_spec is None or (new_target and new_target != current_spec.get("target")):
        # the user picked the column: the rules plan for it exactly (an LLM that chose another
        # target before is not asked again), keeping what else the brief asked for
        current_spec = _spec_for_target(build, dataset, df, new_target)
    new_spec = {**current_spec, **(spec or {})}
    current_search = (build.plan or {}).get("search") or {}
    new_search = {**current_search, **(search or {})} or None
    if new_search is not None and spec and "target" in spec and not search:
        new_search = None  # a new target gets a fresh search from the planner
    plan = _engine_plan(df, build.brief, planner, budget_seconds=budget, seed=build.seed,
                        spec=new_spec, search=new_search)
    with session_scope() as session:
        build = _locked(session, session.get(Build, build.id))
        if build.status not in (BuildStatus.DRAFT, BuildStatus.PLANNED):
            raise _refuse(build, "its plan can no longer change;", "retry it to train with a new plan")
        build.plan, build.status, build.budget_seconds = _plan_json(plan), BuildStatus.PLANNED, budget
        session.add(build)
        audit.record(session, actor, "edit plan", project_id=build.project_id, object_type="build",
                     object_id=build.id, target=plan.spec.target,
                     restored_suspects=list(plan.spec.restored))
    return build


def _spec_for_target(build: Build, dataset: Dataset, df, target: str | None) -> dict:
    """The spec for the column the user picked, planned from the build's own brief: the
    metric, task type and positive class it asks for stay (not a bare 'predict <column>')."""
    from core.planning.overrides import TaskOverrides, propose_with_overrides

    if not target:
        raise PlanError("This build does not know what to predict yet. Pick the column to "
                        "predict, e.g. update_plan(spec={'target': 'churn'}).")
    if target not in df.columns:
        raise PlanError(f"There is no column '{target}' in the dataset. Pick one of: "
                        + ", ".join(f"'{c}'" for c in list(df.columns)[:20]) + ".")
    profile, findings = _profile_and_findings(dataset, df)
    proposal = propose_with_overrides(
        None, build.brief, profile, findings, TaskOverrides(target=target), by="the column picker"
    )
    if proposal.spec is None or proposal.spec.target != target:
        raise PlanError(proposal.message or f"Column '{target}' cannot be predicted as it is; pick another.")
    return proposal.spec.model_dump(mode="json")


def _queue(session: Session, build: Build, actor: Actor) -> None:
    build.status, build.approved_by, build.approved_at = BuildStatus.QUEUED, actor.user_id, utcnow()
    build.phase, build.progress, build.cancel_requested = "waiting for a worker", 0.0, False
    build.job_id = defer_build_job(session, build.id)
    session.add(build)


def approve_build(*, actor: Actor | None, build_id) -> Build:
    """Approve a planned build: it is queued and a worker will pick it up."""
    with session_scope() as session:
        build = _locked(session, _load_build(session, actor, build_id, Action.APPROVE))
        if build.status == BuildStatus.DRAFT:
            raise BuildStateError("This build has no plan yet: pick what to predict first "
                                  "(one of the candidate columns), then approve it.")
        if build.status != BuildStatus.PLANNED:
            raise _refuse(build, "only a planned build can be approved;",
                          "use Retry to run a finished build again")
        _queue(session, build, actor)
        audit.record(session, actor, "approve", project_id=build.project_id, object_type="build",
                     object_id=build.id, job_id=build.job_id,
                     restored_suspects=((build.plan or {}).get("spec") or {}).get("restored", []))
    return build


def create_and_approve(*, actor: Actor | None, project_id, dataset_id, brief: str,
                       budget_seconds: float | None = None, seed: int = 0) -> Build:
    """Plan and, if the plan is complete, approve at once (auto-approve). A draft is returned
    as a draft: the user still has to pick what to predict."""
    build = create_build(actor=actor, project_id=project_id, dataset_id=dataset_id, brief=brief,
                         budget_seconds=budget_seconds, seed=seed)
    if build.status != BuildStatus.PLANNED:
        return build
    return approve_build(actor=actor, build_id=build.id)


def cancel_build(*, actor: Actor | None, build_id) -> Build:
    """Cancel a build. Not yet running: cancelled at once. Running: the worker stops its
    training within seconds and keeps the trials finished so far."""
    with session_scope() as session:
        build = _locked(session, _load_build(session, actor, build_id, Action.CANCEL))
        if BuildStatus(build.status).is_final:
            raise _refuse(build, "there is nothing to cancel;", "use Retry to run it again")
        who, was = actor.email or str(actor.user_id), str(build.status)
        if build.status == BuildStatus.RUNNING:
            build.cancel_requested = True
            add_log(session, build.id, f"Cancel requested by {who}; stopping the training.")
        else:
            cancel_queued_job(session, build.job_id)
            build.cancel_requested = True
            finish(session, build, BuildStatus.CANCELLED, f"Cancelled by {who} before it started.")
        session.add(build)
        audit.record(session, actor, "cancel", project_id=build.project_id, object_type="build",
                     object_id=build.id, was=was)
    return build


def retry_build(*, actor: Actor | None, build_id) -> Build:
    """Run a failed or cancelled build again: a new build with the same plan, queued now.
    The old build and its trials stay as they were."""
    with session_scope() as session:
        old = _load_build(session, actor, build_id, Action.APPROVE)
        if old.status not in (BuildStatus.FAILED, BuildStatus.CANCELLED):
            raise _refuse(old, "only a failed or cancelled build can be retried;",
                          "wait for it to finish, or cancel it first")
        if not (old.plan or {}).get("spec"):
            raise BuildStateError("This build never had a complete plan; plan a new build instead.")
        build = Build(
            project_id=old.project_id, dataset_id=old.dataset_id, brief=old.brief, plan=old.plan,
            budget_seconds=old.budget_seconds, seed=old.seed, planner=old.planner,
            planner_fallback=old.planner_fallback, planner_report=old.planner_report,
            created_by=actor.user_id,
            status=BuildStatus.PLANNED,
        )
        session.add(build)
        session.flush()
        _queue(session, build, actor)
        add_log(session, build.id, f"Retry of build {old.id}.")
        audit.record(session, actor, "retry", project_id=build.project_id, object_type="build",
                     object_id=build.id, retry_of=old.id)
    return build


REBUILD_ON = ("same", "newest")


def rebuild_version(*, actor: Actor | None, version_id, dataset: str = "same",
                    budget_seconds: float | None = None) -> Build:
    """Queue a build that re-runs a model version's recorded plan (editors and owners).

    dataset "same": the dataset version it was trained on (with its seed, the same held-out
    metrics within noise); "newest": the newest version of that dataset (retraining on new
    rows). The planner is not asked again: the recorded TaskSpec and the recorded trials
    (`core.reproducibility.recorded_plan`) are validated against the data like an edited plan,
    and the build's plan remembers the version it rebuilds (`rebuild_of`), so the new version
    can say how closely it matches. `budget_seconds`: instead of the recorded budget (a replay
    ends when its trials are done, so a larger one only guards against a busy machine).
    """
    if dataset not in REBUILD_ON:
        raise PlanError(f"Rebuild on 'same' or 'newest' dataset version, not '{dataset}'.")
    with session_scope() as session:
        version = load_in_project(session, actor, ModelVersion, version_id, Action.APPROVE,
                                  what="model version")
        record = (version.metrics or {}).get("reproducibility")
        if not record:
            raise BuildStateError(f"Version v{version.version} was trained before briefml kept "
                                  "reproducibility records, so it cannot be rebuilt; plan a new "
                                  "build from its brief instead.")
        source = session.get(Dataset, version.dataset_id) if version.dataset_id else None
        if source is None:
            raise BuildStateError(f"The dataset v{version.version} was trained on was deleted; "
                                  "upload it again and plan a new build.")
        data = source if dataset == "same" else _newest_version_of(session, source)
    spec, search = recorded_plan(record)
    budget = _check_budget(budget_seconds if budget_seconds is not None
                           else record.get("budget_seconds"))
    seed = int(record.get("seed") or 0)
    plan = _engine_plan(dataset_frame(actor, data.id), record.get("brief") or "", ReplayPlanner(),
                        budget_seconds=budget, seed=seed, spec=spec.model_dump(mode="json"),
                        search=search.model_dump(mode="json"))
    metrics = version.metrics or {}
    note = rebuild_note(version=version.version, version_id=version.id,
                        holdout=metrics.get("holdout"), intervals=metrics.get("confidence_intervals"),
                        data_sha256=(record.get("data") or {}).get("sha256"))
    with session_scope() as session:
        build = Build(project_id=version.project_id, dataset_id=data.id,
                      brief=(record.get("brief") or f"Rebuild of v{version.version}")[:5000],
                      plan={**_plan_json(plan), "rebuild_of": note}, budget_seconds=budget,
                      seed=seed, planner="offline", created_by=actor.user_id,
                      status=BuildStatus.PLANNED)
        session.add(build)
        session.flush()
        _queue(session, build, actor)
        add_log(session, build.id, f"Rebuild of version v{version.version} on {data.name} "
                                   f"v{data.version}, with its recorded plan and seed {seed}.")
        audit.record(session, actor, "rebuild", project_id=build.project_id, object_type="build",
                     object_id=build.id, rebuild_of=version.id, dataset_id=data.id)
    return build


def _newest_version_of(session: Session, dataset: Dataset) -> Dataset:
    return session.exec(select(Dataset).where(Dataset.project_id == dataset.project_id,
                                              Dataset.name == dataset.name)
                        .order_by(Dataset.version.desc()).limit(1)).one()


def get_build(*, actor: Actor | None, build_id) -> Build:
    """One build (status, phase, progress, plan, error), if the actor may view it."""
    with session_scope() as session:
        return _load_build(session, actor, build_id, Action.VIEW)


def list_builds(*, actor: Actor | None, project_id) -> list[Build]:
    """The project's builds, newest first."""
    with session_scope() as session:
        project_id = parse_id(project_id, "project")
        require(session, actor, project_id, Action.VIEW)
        return list(session.exec(select(Build).where(Build.project_id == project_id)
                                 .order_by(Build.created_at.desc())).all())


def list_trials(*, actor: Actor | None, build_id) -> list[Trial]:
    """The build's trials in the order they finished (the live leaderboard's rows)."""
    with session_scope() as session:
        build = _load_build(session, actor, build_id, Action.VIEW)
        return list(session.exec(select(Trial).where(Trial.build_id == build.id)
                                 .order_by(Trial.created_at, Trial.id)).all())


def list_build_logs(*, actor: Actor | None, build_id, after_id: int = 0) -> list[BuildLog]:
    """Log lines after `after_id` (pass the last id you have to poll for new ones)."""
    with session_scope() as session:
        build = _load_build(session, actor, build_id, Action.VIEW)
        return list(session.exec(select(BuildLog).where(BuildLog.build_id == build.id,
                                                        BuildLog.id > after_id)
                                 .order_by(BuildLog.id)).all())


def running_builds(*, actor: Actor | None, project_id) -> int:
    """How many of the project's builds are running now."""
    with session_scope() as session:
        project_id = parse_id(project_id, "project")
        require(session, actor, project_id, Action.VIEW)
        return running_in_project(session, project_id)
