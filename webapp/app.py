"""briefml web app: page config, the sign-in gate, and the one st.navigation call.

Run with `briefml up` (or `streamlit run webapp/app.py` with DATABASE_URL set). Each page
is one file under webapp/views/ (see its docstring for why not pages/); pages read the
signed-in user from webapp.session and the open project from webapp.components.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run webapp/app.py` puts webapp/ (not the project root) on sys.path.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from webapp import components, session  # noqa: E402 - after the sys.path fix above

st.set_page_config(
    page_title="briefml",
    page_icon=":material/straighten:",
    layout="wide",
    initial_sidebar_state="auto",
)


@st.cache_resource(show_spinner="Connecting to the workspace…")
def _connect() -> bool:
    """Join the workspace database once per server process. A process whose engine is
    already configured (tests, an embedding host) keeps it."""
    from db import engine
    from workspace.runtime import connect

    try:
        engine.get_engine()
    except RuntimeError:
        connect()
    return True


def _session_max_age() -> int:
    from workspace.settings import get_settings

    return int(get_settings().session_hours * 3600)


def _pages() -> dict[str, st.Page]:
    here = Path(__file__).resolve().parent / "views"
    return {
        "projects": st.Page(
            here / "projects.py", title="Projects", icon=":material/folder:", default=True
        ),
        "datasets": st.Page(here / "datasets.py", title="Datasets", icon=":material/table_chart:"),
        "new_model": st.Page(here / "new_model.py", title="New model", icon=":material/edit_note:"),
        "build": st.Page(here / "build.py", title="Builds", icon=":material/model_training:"),
        "model": st.Page(here / "model.py", title="Model versions", icon=":material/insights:"),
        "predict": st.Page(
            here / "predict.py", title="Predict", icon=":material/online_prediction:"
        ),
    }


def _sidebar(actor) -> None:
    with st.sidebar:
        # plain text: Markdown would turn the address into a mailto link
        st.text(f"Signed in as {actor.email}")
        st.button("Sign out", on_click=session.sign_out, key="sign-out", icon=":material/logout:")


with components.shown_errors(stop=True):
    _connect()

session.finish_single_sign_out()
try:
    actor = session.current_actor()
except Exception as exc:  # noqa: BLE001 - e.g. single sign-on while sign-up is closed
    st.error(components.plain(components.error_sentence(exc)), icon=":material/error:")
    if session.single_sign_on_configured():
        st.button("Sign out of single sign-on", on_click=st.logout)
    st.stop()

if actor is None:
    sign_in = st.Page(
        Path(__file__).resolve().parent / "views" / "sign_in.py",
        title="Sign in",
        icon=":material/key:",
        default=True,
    )
    navigation = st.navigation([sign_in], position="hidden")
else:
    pages = _pages()
    components.register_pages(pages)
    navigation = st.navigation(
        {
            "Workspace": [pages["projects"], pages["datasets"]],
            "Models": [pages["new_model"], pages["build"], pages["model"], pages["predict"]],
        }
    )
    _sidebar(actor)
    # Keep the open project in the address bar so a reload comes back to it.
    project_id = components.current_project_id()
    if project_id is not None and "project" not in st.query_params:
        st.query_params["project"] = str(project_id)

session.sync_cookie(_session_max_age())
st.session_state["actor"] = actor
navigation.run()
