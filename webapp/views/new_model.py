"""New model: pick a dataset, write the brief, review and edit the proposed plan, approve it."""

from __future__ import annotations

import zlib

import streamlit as st

from webapp import components, session
from webapp.components import can, shown_errors
from webapp.views import find_data
from workspace import builds, datasets
from workspace.builds import BuildStatus
from workspace.permissions import Action
from workspace.settings import get_settings

DRAFT_KEY = "planning_build_id"

actor = session.require_actor()
st.title("New model")
project, role = components.require_project(actor)

if not can(role, Action.BUILD):
    st.info(
        "Viewers cannot start builds. Ask an owner of the project for the editor role.",
        icon=":material/lock:",
    )
    st.stop()


def brief_form(available: list) -> None:
    labels = {d.id: find_data.dataset_label(d) for d in available}
    wanted = components.query_id("dataset") or st.session_state.get("dataset_id")
    ids = list(labels)
    settings = get_settings()
    with st.form("brief"):
        # a value put in session state (a dataset just copied or generated) wins; a
        # default index beside it would make Streamlit warn
        remembered = st.session_state.get("brief-dataset")
        if remembered is not None and remembered not in labels:
            st.session_state.pop("brief-dataset")
        chosen = {} if "brief-dataset" in st.session_state else {
            "index": ids.index(wanted) if wanted in labels else 0}
        dataset_id = st.selectbox(
            "Dataset", ids, format_func=labels.get, key="brief-dataset", **chosen
        )
        brief = st.text_area(
            "Brief: what should the model predict, and for what?",
            key="brief-text",
            height=100,
            placeholder="e.g. Predict which customers will cancel next month, so we can "
            "call them first.",
        )
        left, right = st.columns(2)
        budget = left.number_input(
            "Time budget (seconds)",
            min_value=float(settings.min_budget_seconds),
            max_value=float(settings.max_budget_seconds),
            value=float(settings.default_budget_seconds),
            step=5.0,
            format="%.0f",
            key="brief-budget",
        )
        auto = right.checkbox(
            "Auto-approve: start training as soon as the plan is ready", key="brief-auto"
        )
        if not st.form_submit_button("Propose a plan", type="primary"):
            return
    if not brief.strip():
        st.error("Write a brief first: say in a sentence what to predict.")
        return
    with st.spinner("Reading the data and planning…"), shown_errors():
        make = builds.create_and_approve if auto else builds.create_build
        build = make(
            actor=actor,
            project_id=project.id,
            dataset_id=dataset_id,
            brief=brief,
            budget_seconds=budget,
        )
        if build.status in (BuildStatus.QUEUED, BuildStatus.RUNNING):
            components.go("build", build=build.id)
        st.session_state[DRAFT_KEY] = build.id
        st.query_params["build"] = str(build.id)


def planning_build():
    """The draft or planned build being edited (from this tab or ?build=), or None."""
    build_id = components.query_id("build") or st.session_state.get(DRAFT_KEY)
    if build_id is None:
        return None
    try:
        build = builds.get_build(actor=actor, build_id=build_id)
    except Exception as exc:  # noqa: BLE001 - shown in words
        st.error(components.plain(components.error_sentence(exc)), icon=":material/error:")
        st.session_state.pop(DRAFT_KEY, None)
        return None
    if build.project_id != project.id or build.status not in (
        BuildStatus.DRAFT,
        BuildStatus.PLANNED,
    ):
        return None
    return build


def draft_section(build) -> None:
    plan = build.plan or {}
    st.warning(  # the question quotes column names: untrusted text
        components.plain(plan.get("question") or "The planner could not tell what to predict."),
        icon=":material/help:",
    )
    candidates = plan.get("candidates") or []
    columns = [c["column"] for c in candidates]
    with st.form("pick-target"):
        if columns:
            target = st.radio(
                "Which column should the model predict?",
                columns,
                format_func=components.plain,  # radio options are Markdown
                key="draft-target",
                captions=[components.plain(c.get("why", "")) for c in candidates],
            )
        else:
            target = st.text_input(
                "Name the column the model should predict", key="draft-target-text"
            )
        if st.form_submit_button("Use this target", type="primary"):
            with st.spinner("Planning…"), shown_errors():
                builds.update_plan(actor=actor, build_id=build.id, spec={"target": target})
                st.rerun()


def _changed(stored: dict, edited: dict) -> dict:
    return {k: v for k, v in edited.items() if stored.get(k) != v}


def target_question(build) -> None:
    """The brief points to another target than the LLM planner chose: ask which to use."""
    doubt = (build.plan or {}).get("target_doubt")
    if not doubt or st.session_state.get(f"kept-target-{build.id}"):
        return
    st.warning(components.plain(doubt["message"]), icon=":material/help:")
    left, right = st.columns(2)
    suggested, chosen = components.plain(doubt["suggested"]), components.plain(doubt["chosen"])
    if left.button(f"Predict '{suggested}' instead", key=f"use-suggested-{build.id}"):
        with shown_errors():
            builds.update_plan(actor=actor, build_id=build.id, spec={"target": doubt["suggested"]})
            st.rerun()
    if right.button(f"Keep '{chosen}'", key=f"keep-chosen-{build.id}"):
        st.session_state[f"kept-target-{build.id}"] = True
        st.rerun()


def _columns_revision(build) -> str:
    """Changes when the review changed which columns are used, so the plan editor's column
    table shows the stored plan rather than stale edits."""
    spec, _ = components.plan_parts(build.plan)
    used = ",".join(sorted(spec.get("feature_columns") or []))
    return f"-{zlib.crc32(used.encode()):08x}"


def plan_section(build) -> None:
    plan = build.plan or {}
    st.subheader("Proposed plan")
    st.caption(f"Brief: *{components.plain(build.brief)}* · planner: "
               f"{components.plain(build.planner)}")
    if build.planner_fallback:
        st.info(components.plain(build.planner_fallback), icon=":material/info:")
    target_question(build)
    with shown_errors():
        find_data.data_notice(datasets.get_dataset(actor=actor, dataset_id=build.dataset_id))
        frame_columns = list(components.dataset_frame(actor, build.dataset_id).columns)
        review_change = components.review_section(plan, key=f"plan-{build.id}")
        if review_change is not None:
            with st.spinner("Updating the plan…"):
                builds.update_plan(actor=actor, build_id=build.id, spec=review_change)
            st.rerun()
        edited = components.plan_editor(
            plan,
            frame_columns,
            key=f"plan-{build.id}",
            budget=build.budget_seconds,
            revision=_columns_revision(build),
        )
        # the graded leakage findings are in the review section above
        other = [f for f in plan.get("findings") or [] if not f.get("grade")]
        if other:
            with st.expander(f"Other data checks for this target ({len(other)})"):
                components.findings_list(other)
        for note in plan.get("planner_notes") or []:
            st.caption(components.plain(note))
        left, right = st.columns(2)
        approve = left.button(
            "Approve and build",
            type="primary",
            key="approve",
            disabled=edited is None or not can(role, Action.APPROVE),
        )
        discard = right.button("Start over", key="discard-plan")
        if discard:
            st.session_state.pop(DRAFT_KEY, None)
            st.query_params.pop("build", None)
            st.rerun()
        if approve and edited is not None:
            spec, search = components.plan_parts(plan)
            new_spec = _changed(spec, edited["spec"].model_dump(mode="json"))
            new_search = _changed(search, edited["search"].model_dump(mode="json"))
            with st.spinner("Checking the plan and queueing the build…"):
                if new_spec or new_search or edited["budget_seconds"] != build.budget_seconds:
                    builds.update_plan(
                        actor=actor,
                        build_id=build.id,
                        spec=new_spec or None,
                        search=new_search or None,
                        budget_seconds=edited["budget_seconds"],
                    )
                builds.approve_build(actor=actor, build_id=build.id)
            st.session_state.pop(DRAFT_KEY, None)
            components.go("build", build=build.id)


def no_data_yet_section(empty: bool) -> None:
    """Find a fitting table in the user's other projects, or generate one."""
    with st.expander("No data yet? Find a table in your library, or generate one",
                     expanded=empty, icon=":material/travel_explore:"):
        find_data.library_section(actor, project)
        find_data.generate_section(actor, project)
        st.page_link(components.page("datasets"), label="Or upload a table",
                     icon=":material/upload:", query_params={"project": str(project.id)})


with shown_errors(stop=True):
    available = datasets.list_datasets(actor=actor, project_id=project.id)
if not available:
    components.empty_state(
        "This project has no datasets yet: find one in your library, generate one, or upload "
        "a table.", icon=":material/table_chart:"
    )
if planning_build() is None:
    no_data_yet_section(empty=not available)
if not available:
    st.stop()

current = planning_build()
if current is None:
    brief_form(available)
    current = planning_build()
if current is not None:
    if current.status == BuildStatus.DRAFT:
        draft_section(current)
    else:
        plan_section(current)
