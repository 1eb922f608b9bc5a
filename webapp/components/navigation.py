"""Where the user is: the open project (from the URL or this tab), pickers whose choice lives in
the URL, links and switches between pages, and the empty state of a page."""

from __future__ import annotations

import uuid
from typing import Any

import streamlit as st

from workspace import projects
from workspace.permissions import allows

from .errors import error_sentence
from .formatting import as_uuid, plain

PROJECT_KEY = "project_id"


def query_id(name: str) -> uuid.UUID | None:
    """An id from the URL (e.g. ?version=...), or None if absent or malformed."""
    return as_uuid(st.query_params.get(name))


def url_picker(label: str, options: list, *, param: str, key: str, what: str,
               format_func=str, default: Any = None) -> Any:
    """A select box whose choice lives in the URL (?param=id), so links, reloads and picks
    agree: the URL's id wins over what the widget remembers from an earlier run, a pick
    rewrites the URL first (in the callback), and an id that is not among the options is
    said to be so instead of silently showing something else. `options` are ids."""
    wanted = query_id(param)
    if st.query_params.get(param) and wanted not in options:
        st.warning(
            f"The link names a {what} that is not in this project (or no longer exists); "
            f"showing another {what} instead.",
            icon=":material/link_off:",
        )
    fallback = default if default in options else options[0]
    st.session_state[key] = wanted if wanted in options else fallback

    def picked() -> None:
        st.query_params[param] = str(st.session_state[key])

    chosen = st.selectbox(label, options, key=key, format_func=format_func, on_change=picked)
    st.query_params[param] = str(chosen)
    return chosen


def current_project_id() -> uuid.UUID | None:
    """The open project: from ?project= (links, reloads) or from this tab's choice."""
    from_url = query_id("project")
    if from_url is not None:
        st.session_state[PROJECT_KEY] = from_url
    return st.session_state.get(PROJECT_KEY)


def open_project(project_id: uuid.UUID) -> None:
    st.session_state[PROJECT_KEY] = project_id
    st.query_params["project"] = str(project_id)


def require_project(actor) -> tuple[Any, Any]:
    """The open project and the actor's role in it, or an empty state / an error and stop.

    A project the actor is not a member of is "not found", whatever the URL says."""
    project_id = current_project_id()
    if project_id is None:
        st.info(
            "Open a project first: choose one on the **Projects** page.", icon=":material/folder:"
        )
        st.page_link(page("projects"), label="Go to Projects", icon=":material/folder:")
        st.stop()
    try:
        project = projects.get_project(actor=actor, project_id=project_id)
        role = projects.project_role(actor=actor, project_id=project_id)
    except Exception as exc:  # noqa: BLE001 - shown in words
        st.session_state.pop(PROJECT_KEY, None)
        st.error(plain(error_sentence(exc)), icon=":material/error:")  # may quote names
        st.page_link(page("projects"), label="Go to your projects", icon=":material/folder:")
        st.stop()
    st.caption(f"Project **{plain(project.name)}** · your role: {role.value}")
    return project, role


def can(role, action) -> bool:
    return allows(role, action)


_PAGES: dict[str, Any] = {}


def register_pages(pages: dict[str, Any]) -> None:
    """app.py hands over its st.Page objects so pages can link to each other by name."""
    _PAGES.clear()
    _PAGES.update(pages)


def page(name: str) -> Any:
    """The st.Page for a name (falls back to its file path when app.py is not the entry)."""
    return _PAGES.get(name, f"views/{name}.py")


def go(name: str, **params: Any) -> None:
    """Switch to another page, carrying the open project and any ids in the URL."""
    query = {k: str(v) for k, v in params.items() if v is not None}
    project_id = st.session_state.get(PROJECT_KEY)
    if project_id is not None:
        query.setdefault("project", str(project_id))
    st.switch_page(page(name), query_params=query)


def empty_state(message: str, *, icon: str = ":material/inbox:") -> None:
    st.info(message, icon=icon)
