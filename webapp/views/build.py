"""Builds: live progress of a build (progress bar, phase, growing leaderboard, log, cancel).

The live part is a fragment that re-reads the build from the database every couple of
seconds, so it survives a reload or a browser closed and reopened: nothing lives in the tab.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from webapp import components, session
from webapp.components import can, shown_errors, when
from workspace import builds, versions
from workspace.build_history import (
    budget_share_used,
    build_to_open,
    families_tried,
    list_build_history,
)
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
    brief = build.brief if len(build.brief) <= 70 else build.brief[:69].rstrip() + "…"
    return f"{build.status.value.capitalize()} · {when(build.created_at)} · {brief}"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def builds_table(history: list) -> None:
    """Every build of the project: what it was asked, by whom, how it went, what it made."""
    components.table(
        pd.DataFrame(
            [
                {
                    "status": b.status.value,
                    "brief": b.brief,
                    "started by": b.started_by or "—",
                    "created": when(b.created_at),
                    "duration": duration_text(b.duration_seconds),
                    "budget used": f"{b.budget_used:.0%} of {b.budget_seconds:.0f} s",
                    "version": f"v{b.version}" if b.version is not None else "—",
                    "planner": b.planner,
                }
                for b in history
            ]
        ),
        hide_index=True,
        width="stretch",
        key="builds-table",
    )


def choose_build(history: list):
    """The build picker: the build in the URL, else a running one, else the last success."""
    by_id = {b.id: b for b in history}
    return components.url_picker(
        "Open a build", list(by_id), param="build", key="build-choice", what="build",
        format_func=lambda i: build_label(by_id[i]),
        default=build_to_open(history, None).id,
    )


def controls(build) -> None:
    status = BuildStatus(build.status)
    if not status.is_final and status not in (BuildStatus.DRAFT, BuildStatus.PLANNED):
        if can(role, Action.CANCEL) and not build.cancel_requested:
            cancel_with_confirmation(build)
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


def cancel_with_confirmation(build) -> None:
    """Cancel asks once more: a stopped build keeps no model. (Callbacks, not st.rerun: the
    click reruns the live fragment by itself.)"""
    asking = f"confirm-cancel-{build.id}"

    def cancel() -> None:
        st.session_state.pop(asking, None)
        with shown_errors():
            builds.cancel_build(actor=actor, build_id=build.id)

    if not st.session_state.get(asking):
        st.button("Cancel build", icon=":material/stop_circle:", key=f"cancel-{build.id}",
                  on_click=st.session_state.__setitem__, args=(asking, True))
        return
    st.warning("Stop this build? It makes no model version.", icon=":material/warning:")
    yes, no = st.columns(2)
    yes.button("Yes, cancel it", type="primary", key=f"cancel-yes-{build.id}", on_click=cancel)
    no.button("Keep it running", key=f"cancel-no-{build.id}",
              on_click=st.session_state.pop, args=(asking, None))


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
                label += f" · {components.plain(build.phase)}"
            st.markdown(label)
            done = budget_share_used(
                progress=build.progress, started_at=build.started_at,
                budget_seconds=build.budget_seconds, finished=status == BuildStatus.SUCCEEDED,
                now=datetime.now(UTC),
            )
            st.progress(done, text=f"{done:.0%} of the {build.budget_seconds:.0f} s budget")
        with right:
            controls(build)
        if build.error:
            st.error(components.plain(build.error), icon=":material/error:")
        shipped = None  # what the version is made of, once there is one
        # a finished build is shown from a fresh page run, so the builds list knows its version
        made = next((b for b in history if b.id == build.id and b.version_id), None)
        if status == BuildStatus.SUCCEEDED and made is not None:
            version = versions.get_model_version(actor=actor, version_id=made.version_id)
            shipped = (version.metrics or {}).get("ensemble")
            st.success(f"Model version v{made.version} is ready.", icon=":material/check_circle:")
            st.page_link(
                components.page("model"),
                label=f"Open model v{made.version}",
                icon=":material/insights:",
                query_params={"project": str(project.id), "version": str(made.version_id)},
            )
        trials_tab, log_tab, plan_tab = st.tabs(["Leaderboard", "Log", "Plan"])
        with trials_tab:
            trials = builds.list_trials(actor=actor, build_id=build.id)
            st.caption(families_tried(build.plan, trials, finished=status.is_final))
            components.leaderboard(trials, key=f"leaderboard-{build.id}", ensemble=shipped)
        with log_tab:
            logs = builds.list_build_logs(actor=actor, build_id=build.id)
            if logs:
                components.table(
                    pd.DataFrame(
                        [
                            {
                                "time": when(line.created_at, "%H:%M:%S"),
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
            st.caption(f"Brief: *{components.plain(build.brief)}*")
            components.plan_summary(build.plan)
            components.planner_report(build.planner_report)


@st.fragment(run_every=POLL_SECONDS)
def live_build(build_id) -> None:
    show_build(build_id, live=True)


with shown_errors(stop=True):
    history = list_build_history(actor=actor, project_id=project.id)
if not history:
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

with st.expander(f"All builds ({len(history)})", expanded=len(history) > 1,
                 icon=":material/list:"):
    builds_table(history)
chosen_id = choose_build(history)
chosen = next(b for b in history if b.id == chosen_id)
if chosen.status in (BuildStatus.QUEUED, BuildStatus.RUNNING):
    live_build(chosen_id)
else:
    show_build(chosen_id, live=False)
