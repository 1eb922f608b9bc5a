"""The reproducibility record of a model version: what it takes to make it again, and for a
rebuilt version how closely its held-out metrics match the version it rebuilt."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.reproducibility import rebuild_closeness, record_rows

from .formatting import plain


def reproducibility_section(version) -> None:
    """A short section (heading, one table, the plan JSON folded away) for a version page."""
    record = (version.metrics or {}).get("reproducibility")
    st.markdown("##### Reproducibility")
    if not record:
        st.caption("This version was trained before briefml kept reproducibility records.")
        return
    matched = rebuild_closeness(record, (version.metrics or {}).get("holdout") or {},
                                version.metric)
    if matched:
        st.info(plain(matched), icon=":material/replay:")
    st.dataframe(pd.DataFrame(record_rows(record)), hide_index=True, width="stretch")
    with st.expander("The plan it ran (JSON)"):
        st.json({k: record.get(k) for k in ("task_spec", "search_plan", "trials")}, expanded=False)
