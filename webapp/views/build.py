"""Builds: live progress of a build (progress bar, phase, growing leaderboard, log, cancel).

The live part is a fragment that re-reads the build from the database every couple of
seconds, so it survives a reload or a browser closed and reopened: nothing lives in the tab.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from webapp import components, session
from webapp.components import can, shown_errors, when
from workspace import builds, versions
from workspace.builds import BuildStatus
from workspace.permissions import Action

POLL_SECONDS = 1.5
STATUS_ICON = {
    "draft": ":material/edit_note:",
    "planned": ":material/edit_note:",
    "queued": ":material/hourglass_empty:",
    "running": ":material/sync:",
    "succeeded": ":material/check_circle:",
    "failed": ":material/error:",
    "cancelled": ":material/stop_circle:",
}

actor = session.require_actor()
st.title("Builds")
project, role = components.require_project(actor)


def build_label(build) -> str:
    # no status here: the list is read once per page run, the status below stays live
    brief = build.brief if len(build.brief) <= 70 else build.brief[:69].rstrip() + "…"
    return f"{when(build.created_at)} · {brief}"


def choose_build(all_builds: list):
    by_id = {b.id: b for b in all_builds}
    wanted = components.query_id("build")
    ids = list(by_id)
    chosen = st.selectbox(
        "Build",
        ids,
        index=ids.index(wanted) if wanted in by_id else 0,
        format_func=lambda i: build_label(by_id[i]),
        key="build-choice",
    )
    st.query_params["build"] = str(chosen)
    return chosen


def version_of(build_id):
    for version in versions.list_model_versions(actor=actor, project_id=project.id):
        if version.build_id == build_id:
            return version
    return None


def controls(build) -> None:
    status = BuildStatus(build.status)
    if not status.is_final and status not in (BuildStatus.DRAFT, BuildStatus.PLANNED):
        if can(role, Action.CANCEL) and not build.cancel_requested:
            if st.button("Cancel build", icon=":material/stop_circle:", key=f"cancel-{build.id}"):
                with shown_errors():
                    builds.cancel_build(actor=actor, build_id=build.id)
                    st.rerun(scope="fragment")
    elif status in (BuildStatus.FAILED, BuildStatus.CANCELLED) and can(role, Action.APPROVE):
        if st.button("Retry with the same plan", icon=":material/replay:", key=f"retry-{build.id}"):
            with shown_errors():
                new = builds.retry_build(actor=actor, build_id=build.id)
                st.query_params["build"] = str(new.id)
                st.rerun()
    elif status in (BuildStatus.DRAFT, BuildStatus.PLANNED):
        st.page_link(
            components.page("new_model"),
            label="Review and approve the plan",
            icon=":material/edit_note:",
            query_params={"project": str(project.id), "build": str(build.id)},
        )


def show_build(build_id, *, live: bool) -> None:
    """Everything about one build that changes while it runs."""
    with shown_errors():
        build = builds.get_build(actor=actor, build_id=build_id)
        status = BuildStatus(build.status)
        if live and (status.is_final or status in (BuildStatus.DRAFT, BuildStatus.PLANNED)):
            st.rerun()  # the whole page: it redraws without polling (nothing will change)
        left, right = st.columns([3, 1])
        with left:
            label = f"{STATUS_ICON.get(status.value, '')} **{status.value.capitalize()}**"
            if build.phase and build.phase.lower() != status.value:
                label += f" · {build.phase}"
            st.markdown(label)
            done = 1.0 if status == BuildStatus.SUCCEEDED else float(build.progress or 0)
            st.progress(
                min(max(done, 0.0), 1.0), text=f"{min(max(done, 0.0), 1.0):.0%} of the budget"
            )
        with right:
            controls(build)
        if build.error:
            st.error(build.error, icon=":material/error:")
        if status == BuildStatus.SUCCEEDED:
            version = version_of(build.id)
            if version is not None:
                st.success(
                    f"Model version v{version.version} is ready.", icon=":material/check_circle:"
                )
                st.page_link(
                    components.page("model"),
                    label=f"Open model v{version.version}",
                    icon=":material/insights:",
                    query_params={"project": str(project.id), "version": str(version.id)},
                )
        trials_tab, log_tab, plan_tab = st.tabs(["Leaderboard", "Log", "Plan"])
        with trials_tab:
            components.leaderboard(
                builds.list_trials(actor=actor, build_id=build.id), key=f"leaderboard-{build.id}"
            )
        with log_tab:
            logs = builds.list_build_logs(actor=actor, build_id=build.id)
            if logs:
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                "time": line.created_at.strftime("%H:%M:%S"),
                                "level": line.level,
                                "message": line.message,
                            }
                            for line in logs[-300:]
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                )
            else:
                st.caption("No log lines yet.")
        with plan_tab:
            st.caption(f"Brief: *{build.brief}*")
            components.plan_summary(build.plan)
            components.planner_report(build.planner_report)


@st.fragment(run_every=POLL_SECONDS)
def live_build(build_id) -> None:
    show_build(build_id, live=True)


with shown_errors(stop=True):
    all_builds = builds.list_builds(actor=actor, project_id=project.id)
if not all_builds:
    components.empty_state(
        "No builds yet. Write a brief on the **New model** page to start one.",
        icon=":material/model_training:",
    )
    st.page_link(
        components.page("new_model"),
        label="New model",
        icon=":material/edit_note:",
        query_params={"project": str(project.id)},
    )
    st.stop()

chosen_id = choose_build(all_builds)
chosen = next(b for b in all_builds if b.id == chosen_id)
if BuildStatus(chosen.status) in (BuildStatus.QUEUED, BuildStatus.RUNNING):
    live_build(chosen_id)
else:
    show_build(chosen_id, live=False)
