"""Projects: list, create and open them; members and roles (owners); rename, delete, leave.

An empty workspace offers the sample project (a small bundled table and a brief), which goes
straight to a running build.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from webapp import components, session
from webapp.components import can, shown_errors
from workspace import projects
from workspace.permissions import Action, Role

actor = session.require_actor()
st.title("Projects")


def start_sample_project() -> None:
    """Create the sample project, upload its table and start a build with its brief."""
    from webapp.sample import SAMPLE_BRIEF, SAMPLE_BUDGET_SECONDS, SAMPLE_CSV, SAMPLE_PROJECT_NAME
    from workspace import builds, datasets

    with st.status("Setting up the sample project…", expanded=True) as status, shown_errors():
        st.write("Creating the project")
        project = projects.create_project(
            actor=actor,
            name=SAMPLE_PROJECT_NAME,
            description="Penguin measurements from the Palmer Archipelago (CC0).",
        )
        components.open_project(project.id)
        st.write("Uploading the penguins table")
        dataset = datasets.upload_dataset(
            actor=actor,
            project_id=project.id,
            source=SAMPLE_CSV.read_bytes(),
            filename=SAMPLE_CSV.name,
        )
        st.write("Planning and starting the build")
        build = builds.create_and_approve(
            actor=actor,
            project_id=project.id,
            dataset_id=components.val(dataset, "id"),
            brief=SAMPLE_BRIEF,
            budget_seconds=SAMPLE_BUDGET_SECONDS,
        )
        status.update(label="Sample project ready", state="complete")
        components.go("build", build=components.val(build, "id"))


def project_table(summaries: list) -> None:
    frame = pd.DataFrame(
        [
            {
                "name": p.name,
                "your role": p.role.value,
                "datasets": p.datasets,
                "model versions": p.model_versions,
                "created": components.when(p.created_at, "%Y-%m-%d"),
                "description": p.description or "—",
            }
            for p in summaries
        ]
    )
    components.table(
        frame,
        hide_index=True,
        width="stretch",
    )


FLASH_KEY = "projects-flash"


def create_project_form(summaries: list, *, expanded: bool) -> None:
    """A new project opens at once; the form empties and the page says it was created."""
    taken = {p.name.strip().casefold() for p in summaries}
    with (
        st.expander("New project", expanded=expanded, icon=":material/add:"),
        st.form("create-project"),
    ):
        name = st.text_input("Name", key="new-project-name", max_chars=200)
        description = st.text_area(
            "Description (optional)", key="new-project-description", height=80
        )
        if st.form_submit_button("Create project", type="primary"):
            if not name.strip():
                st.error("Give the project a name.")
            elif name.strip().casefold() in taken:
                st.error(f"You already have a project named '{components.plain(name.strip())}': "
                         "pick another name.")
            else:
                with shown_errors():
                    project = projects.create_project(
                        actor=actor, name=name, description=description
                    )
                    components.open_project(project.id)
                    st.session_state[FLASH_KEY] = f"Project '{project.name}' created and opened."
                    for key in ("new-project-name", "new-project-description"):
                        st.session_state.pop(key, None)  # the next run shows an empty form
                    st.rerun()


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(components.plain(message), icon=":material/check_circle:")


def members_section(project_id, role: Role) -> None:
    members = []  # the forms below still work when the list could not be read
    with shown_errors():
        members = projects.list_members(actor=actor, project_id=project_id)
        components.table(
            pd.DataFrame(
                [
                    {
                        "email": m.email,
                        "name": m.display_name or "—",
                        "role": m.role.value,
                        "joined": components.when(m.joined_at, "%Y-%m-%d"),
                    }
                    for m in members
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    if not can(role, Action.MANAGE_MEMBERS):
        st.caption("Only owners can invite members or change roles.")
        return
    roles = [r.value for r in Role]
    with st.form("invite-member", clear_on_submit=True):
        left, right = st.columns([3, 1])
        email = left.text_input("Invite by email", key="invite-email")
        new_role = right.selectbox("Role", roles, index=roles.index("viewer"), key="invite-role")
        if st.form_submit_button("Invite"):
            if not email.strip():
                st.error("Enter the email of the person to invite.")
            else:
                with shown_errors():
                    projects.invite_member(
                        actor=actor, project_id=project_id, email=email, role=new_role
                    )
                    # the same words whether or not the e-mail has an account yet
                    article = "an" if new_role[0] in "aeiou" else "a"
                    st.session_state[FLASH_KEY] = (
                        f"Invited {email.strip()} as {article} {new_role}: they can open this "
                        "project once they are signed in with that email."
                    )
                    st.rerun()
    waiting = []
    with shown_errors():
        waiting = projects.list_invitations(actor=actor, project_id=project_id)
    if waiting:
        st.caption("Invited, waiting for an account: " + ", ".join(
            f"{components.plain(i.email)} ({i.role.value})" for i in waiting))
    others = [m.email for m in members if m.user_id != actor.user_id] + [i.email for i in waiting]
    if not others:
        return
    with st.form("change-member"):
        left, middle, right = st.columns([3, 1, 1])
        who = left.selectbox("Member", others, key="member-email")
        changed_role = middle.selectbox("New role", roles, key="member-role")
        change = right.form_submit_button("Change role")
        remove = right.form_submit_button("Remove")
        if change or remove:
            with shown_errors():
                if change:
                    projects.change_role(
                        actor=actor, project_id=project_id, email=who, role=changed_role
                    )
                else:
                    projects.remove_member(actor=actor, project_id=project_id, email=who)
                st.rerun()


def settings_section(project, role: Role) -> None:
    if can(role, Action.RENAME):
        with st.form("rename-project"):
            name = st.text_input("Name", value=project.name, key="rename-name")
            description = st.text_area(
                "Description", value=project.description, height=80, key="rename-description"
            )
            if st.form_submit_button("Save"):
                with shown_errors():
                    projects.rename_project(
                        actor=actor, project_id=project.id, name=name, description=description
                    )
                    st.rerun()
    if can(role, Action.DELETE):
        with st.form("delete-project"):
            with shown_errors():
                impact = projects.project_deletion_impact(actor=actor, project_id=project.id)
                st.warning(
                    f"Deleting this project also deletes "
                    f"{projects.describe_impact(impact)}. This cannot be undone."
                )
            confirm = st.text_input(f"Type '{components.plain(project.name)}' to confirm", key="delete-confirm")
            if st.form_submit_button("Delete project", type="secondary"):
                with shown_errors():
                    projects.delete_project(
                        actor=actor, project_id=project.id, confirm_name=confirm
                    )
                    st.session_state.pop(components.PROJECT_KEY, None)
                    st.query_params.clear()
                    st.rerun()
    if st.button("Leave this project", key="leave-project"):
        with shown_errors():
            projects.leave_project(actor=actor, project_id=project.id)
            st.session_state.pop(components.PROJECT_KEY, None)
            st.query_params.clear()
            st.rerun()


def open_picked_project() -> None:
    picked = st.session_state.get("open-project")
    if picked is not None:
        components.open_project(picked)


def open_project_section(summaries: list) -> None:
    by_id = {p.id: p for p in summaries}
    wanted = components.current_project_id()
    # The open project (from the URL, just created, or picked: the callback runs first) drives
    # the picker, so a value it remembers from an earlier run cannot reopen the old project.
    st.session_state["open-project"] = wanted if wanted in by_id else None
    chosen = st.selectbox(
        "Open a project",
        list(by_id),
        key="open-project",
        format_func=lambda i: project_label(by_id[i], summaries),
        placeholder="Choose a project",
        on_change=open_picked_project,
    )
    if chosen is None:
        return
    summary = by_id[chosen]
    st.subheader(components.plain(summary.name), anchor=False)
    if summary.description:
        st.caption(components.plain(summary.description))
    cols = st.columns(3)
    cols[0].page_link(
        components.page("datasets"),
        label="Datasets",
        icon=":material/table_chart:",
        query_params={"project": str(chosen)},
    )
    cols[1].page_link(
        components.page("new_model"),
        label="New model",
        icon=":material/edit_note:",
        query_params={"project": str(chosen)},
    )
    cols[2].page_link(
        components.page("model"),
        label="Model versions",
        icon=":material/insights:",
        query_params={"project": str(chosen)},
    )
    members_tab, settings_tab, log_tab = st.tabs(["Members", "Settings", "Activity"])
    with members_tab:
        members_section(chosen, summary.role)
    with settings_tab, shown_errors():
        project = projects.get_project(actor=actor, project_id=chosen)
        settings_section(project, summary.role)
    with log_tab, shown_errors():
        events = projects.list_audit_events(actor=actor, project_id=chosen, limit=50)
        if events:
            components.table(
                pd.DataFrame(
                    [
                        {
                            "when": components.when(e.at),
                            "who": e.user_email or "(deleted user)",
                            "what": e.action,
                            "object": audit_object(e),
                        }
                        for e in events
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
        else:
            st.caption("Nothing has happened in this project yet.")


def project_label(summary, summaries: list) -> str:
    """The name, and when two projects share it, when each was made."""
    same_name = sum(p.name == summary.name for p in summaries)
    if same_name < 2:
        return summary.name
    return f"{summary.name} (created {summary.created_at:%Y-%m-%d %H:%M})"


def audit_object(entry) -> str:
    """'dataset customers.csv v2', 'user sam@example.com', 'build (target churned)'."""
    detail = entry.detail or {}
    name = next((str(detail[k]) for k in ("name", "email", "filename") if detail.get(k)), "")
    if name and detail.get("version") is not None:
        name += f" v{detail['version']}"
    elif not name and detail.get("version") is not None:
        name = f"v{detail['version']}"
    elif not name and detail.get("target"):
        name = f"(target {detail['target']})"
    return f"{entry.object_type} {name}".strip() or "—"


def forget_unknown_project(summaries: list) -> None:
    """An id in the URL that is not one of the user's projects: say nothing about it."""
    wanted = components.current_project_id()
    if wanted is not None and wanted not in {p.id for p in summaries}:
        st.error(
            "No project with that id exists, or you are not a member of its project.",
            icon=":material/error:",
        )
        st.session_state.pop(components.PROJECT_KEY, None)
        st.query_params.pop("project", None)


with shown_errors(stop=True):
    summaries = projects.list_projects(actor=actor)
forget_unknown_project(summaries)

if not summaries:
    st.info(
        "Your workspace is empty. Start with the sample project — a table of 344 penguins "
        "and the brief *“predict the species”* — and see a trained model in about a minute, "
        "or create your own project.",
        icon=":material/waving_hand:",
    )
    if st.button(
        "Try the sample project",
        type="primary",
        icon=":material/rocket_launch:",
        key="sample-project",
    ):
        start_sample_project()
    create_project_form(summaries, expanded=True)
else:
    show_flash()
    project_table(summaries)
    create_project_form(summaries, expanded=False)
    open_project_section(summaries)
