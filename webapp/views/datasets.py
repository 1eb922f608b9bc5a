"""Datasets: upload a table, then see its preview, profile charts and data-check findings."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from webapp import components, session
from webapp.components import can, shown_errors
from webapp.views import find_data
from workspace import datasets
from workspace.permissions import Action
from workspace.settings import get_settings

UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "xlsx", "xls"]

actor = session.require_actor()
st.title("Datasets")
project, role = components.require_project(actor)


def upload_section() -> None:
    limit_mb = get_settings().max_upload_mb
    with st.expander("Upload a table", expanded=not existing, icon=":material/upload:"):
        with st.form("upload-dataset", clear_on_submit=True):
            upload = st.file_uploader(
                f"CSV, TSV, Parquet or Excel — up to {limit_mb} MB",
                type=UPLOAD_TYPES,
                key="upload-file",
            )
            name = st.text_input("Name (optional; the file name by default)", key="upload-name")
            sheet = st.text_input(
                "Excel sheet (optional; the first by default)", key="upload-sheet"
            )
            # not "Upload": Streamlit (1.67+) names the file picker's own button so
            if st.form_submit_button("Add dataset", type="primary"):
                if upload is None:
                    st.error("Choose a file to upload first.")
                    return
                with st.spinner(f"Reading and profiling {components.plain(upload.name)}…"), shown_errors():
                    dataset = datasets.upload_dataset(
                        actor=actor,
                        project_id=project.id,
                        source=upload.getvalue(),
                        filename=upload.name,
                        name=name.strip() or None,
                        sheet=sheet.strip() or None,
                    )
                    st.session_state["dataset_id"] = dataset.id
                    st.query_params["dataset"] = str(dataset.id)
                    st.rerun()


def choose_dataset():
    labels = {d.id: find_data.dataset_label(d) for d in existing}
    chosen = components.url_picker(
        "Dataset", list(labels), param="dataset", key="dataset-choice", what="dataset",
        format_func=labels.get, default=st.session_state.get("dataset_id"),
    )
    st.session_state["dataset_id"] = chosen
    return chosen


def profile_section(dataset, frame: pd.DataFrame | None) -> None:
    profile = dataset.profile or {}
    columns = profile.get("column_profiles", [])
    cols = st.columns(4)
    cols[0].metric("Rows", f"{profile.get('rows', dataset.rows):,}")
    cols[1].metric("Columns", profile.get("columns", dataset.columns))
    cols[2].metric("Duplicate rows", f"{profile.get('duplicate_rows', 0):,}")
    cols[3].metric("In memory", components.file_size(profile.get("memory_bytes", 0)))
    st.markdown("##### Column types")
    components.table(
        pd.DataFrame(
            [
                {
                    "column": c["name"],
                    "kind": c["role"],
                    "type": c["dtype"],
                    "missing": c.get("missing_share", 0.0),
                    "distinct": c.get("unique_count"),
                    "mean": c.get("mean"),
                    "min": c.get("min"),
                    "max": c.get("max"),
                }
                for c in columns
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "missing": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)
        },
    )
    st.markdown("##### Missing values")
    components.show_chart(components.missing_values_chart(profile), "No missing values.")
    st.markdown("##### Distributions")
    names = [c["name"] for c in columns]
    # ids and constants say nothing in a chart: drawn only when asked for
    worth_drawing = [c["name"] for c in columns if c["role"] not in ("identifier", "constant")]
    picked = st.multiselect(
        "Columns to draw", names, default=worth_drawing[:6], key="profile-columns"
    )
    grid = st.columns(2)
    for i, column in enumerate(c for c in columns if c["name"] in picked):
        with grid[i % 2]:
            st.caption(f"**{components.plain(column['name'])}** · {column['role']}")
            chart = components.histogram_chart(column) or components.top_values_chart(column)
            components.show_chart(chart, "No values to draw.")
    st.markdown("##### Relation to the target")
    target = st.selectbox(
        "Target (what you might predict)",
        names,
        index=None,
        placeholder="Choose a column",
        key="profile-target",
    )
    if target is None:
        st.caption("Choose a target to see how each column relates to it.")
    elif frame is not None:
        others = [n for n in picked if n != target] or [n for n in names if n != target][:4]
        grid = st.columns(2)
        for i, column in enumerate(others):
            with grid[i % 2]:
                st.caption(
                    f"**{components.plain(column)}** against **{components.plain(target)}**"
                )
                components.show_chart(
                    components.target_relation_chart(frame, column, target),
                    "Nothing to draw (no rows with both values).",
                )


def delete_section(dataset) -> None:
    if not can(role, Action.DELETE):
        return
    with st.expander("Delete this dataset version", icon=":material/delete:"):
        with shown_errors():
            impact = datasets.dataset_deletion_impact(actor=actor, dataset_id=dataset.id)
            also = len(impact["builds"]), len(impact["model_versions"])
            st.warning(
                f"This deletes {components.plain(dataset.name)} v{dataset.version}, {also[0]} build(s) and "
                f"{also[1]} model version(s) made from it. This cannot be undone."
            )
        sure = st.checkbox("Yes, delete it", key="delete-dataset-confirm")
        if st.button("Delete", disabled=not sure, key="delete-dataset"):
            with shown_errors():
                datasets.delete_dataset(actor=actor, dataset_id=dataset.id, confirm=True)
                st.session_state.pop("dataset_id", None)
                del st.query_params["dataset"]
                st.rerun()


with shown_errors(stop=True):
    existing = datasets.list_datasets(actor=actor, project_id=project.id)

if can(role, Action.UPLOAD):
    upload_section()
    with st.expander("Generate a synthetic table", icon=":material/science:"):
        find_data.generate_section(actor, project)
else:
    st.caption("Viewers cannot upload tables; ask an owner for the editor role.")

if not existing:
    components.empty_state(
        "No datasets in this project yet. Upload a CSV, TSV, Parquet or Excel file to start.",
        icon=":material/table_chart:",
    )
    st.stop()

dataset_id = choose_dataset()
with shown_errors(stop=True):
    dataset = datasets.get_dataset(actor=actor, dataset_id=dataset_id)
find_data.data_notice(dataset)
if can(role, Action.UPLOAD):
    find_data.label_section(actor, dataset)

preview_tab, profile_tab, checks_tab = st.tabs(
    ["Preview", "Profile", f"Data checks ({len(dataset.findings or [])})"]
)
frame = None
with preview_tab, shown_errors(), st.spinner("Loading the table…"):
    frame = components.dataset_frame(actor, dataset.id)
    components.table(frame.head(200), width="stretch", hide_index=True)
    st.caption(f"The first {min(200, len(frame))} of {len(frame):,} rows.")
with profile_tab:
    profile_section(dataset, frame)
with checks_tab:
    components.findings_list(
        dataset.findings, empty="The data checks found nothing to worry about."
    )
    st.caption(
        "Checks that depend on the target (leakage, class balance) run again when you plan a model."
    )
delete_section(dataset)
