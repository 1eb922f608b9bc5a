"""Small page widgets shared by several pages: a chart or its empty caption, data-check findings."""

from __future__ import annotations

import altair as alt
import streamlit as st

from .formatting import plain, val


def show_chart(chart: alt.Chart | None, empty: str = "Nothing to draw.") -> None:
    if chart is None:
        st.caption(empty)
    else:
        st.altair_chart(chart, width="stretch")


def findings_list(findings: list | None, *, empty: str = "No data-check findings.") -> None:
    """Data-check findings, worst first, each as a coloured sentence."""
    if not findings:
        st.success(empty, icon=":material/check_circle:")
        return
    order = {"error": 0, "warning": 1, "info": 2}
    for finding in sorted(findings, key=lambda f: order.get(str(val(f, "severity")), 3)):
        severity = str(val(finding, "severity", "info"))
        columns = val(finding, "columns") or []
        text = plain(val(finding, "message", ""))
        if columns:
            text += "  \n*Columns:* " + ", ".join(f"'{plain(c)}'" for c in columns[:12])
        {"error": st.error, "warning": st.warning}.get(severity, st.info)(text)


EMPTY_CELL = "—"


def table(data, **kwargs):
    """st.dataframe with '—' in empty cells (Streamlit would write "None")."""
    return st.dataframe(data, placeholder=EMPTY_CELL, **kwargs)


def editor(data, **kwargs):
    """st.data_editor with '—' in empty cells."""
    return st.data_editor(data, placeholder=EMPTY_CELL, **kwargs)
