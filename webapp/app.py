"""briefml web app entry point (placeholder until the workspace pages land)."""

import streamlit as st

from workspace.status import workspace_status

st.set_page_config(page_title="briefml", page_icon="📐", layout="wide")


@st.cache_resource(show_spinner="Connecting to the workspace…")
def _status() -> dict:
    return workspace_status()


st.title("briefml")
st.caption("A brief and a table in; a trained, evaluated, explained model out.")
status = _status()
st.success(f"Workspace ready: {status['database']}, schema revision {status['revision']}.")
cols = st.columns(4)
for col, (name, count) in zip(cols, status["counts"].items()):
    col.metric(name.replace("_", " ").title(), count)
