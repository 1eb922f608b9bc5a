"""Predict: one row from a form generated from the model's input schema (with the SHAP
explanation of that prediction), or a whole file whose predictions download as CSV."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from webapp import components, session
from webapp.components import shown_errors, val
from workspace import versions

actor = session.require_actor()
st.title("Predict")
project, role = components.require_project(actor)


def _number_default(column: dict) -> float | None:
    """The training median (older schemas: the midpoint of the range seen)."""
    median = column.get("median")
    if isinstance(median, (int, float)):
        return float(median)
    low, high = column.get("min"), column.get("max")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return float(round((low + high) / 2, 6))
    return None


def input_widget(column: dict, key: str):
    """One input for one schema column; an empty answer means 'missing'."""
    kind = column.get("kind", "text")
    label = components.plain(column["name"])  # widget labels are Markdown
    if kind == "numeric":
        low, high = column.get("min"), column.get("max")
        hint = f"seen in training: {fmt(low)} to {fmt(high)}" if low is not None else None
        return st.number_input(
            label,
            value=_number_default(column),
            key=key,
            help=hint,
            format="%g",
            placeholder="missing",
        )
    if kind == "boolean":
        answer = st.selectbox(label, ["true", "false"], index=None, key=key, placeholder="missing")
        return None if answer is None else answer == "true"
    if kind == "categorical":
        # the categories the model learned, most frequent first (and preselected): a typed
        # value it never saw would only be read as "unknown"
        categories = column.get("categories") or []
        return st.selectbox(
            label,
            categories,
            index=0 if categories else None,
            key=key,
            placeholder="missing",
            help="The categories seen in training, most frequent first.",
        )
    if kind == "datetime":
        return (
            st.text_input(label, key=key, placeholder="e.g. 2024-03-31 or 2024-03-31 14:00") or None
        )
    return st.text_area(label, key=key, height=80) or None


def fmt(value) -> str:
    return components.fmt_number(value)


def one_row_section(version) -> None:
    schema = version.input_schema or {}
    columns = schema.get("columns") or []
    if not columns:
        st.caption("This version has no input schema; use a file instead.")
        return
    last = f"predicted-{version.id}"  # the latest answer stays when the page runs again
    with st.form(f"predict-one-{version.id}"):
        row = {}
        # two inputs a row, each row its own pair of columns: on a phone they stack in the
        # schema's order instead of all of the left column first
        for start in range(0, len(columns), 2):
            for cell, column in zip(st.columns(2), columns[start:start + 2]):
                with cell:
                    row[column["name"]] = input_widget(
                        column, key=f"in-{version.id}-{column['name']}")
        submitted = st.form_submit_button("Predict", type="primary")
    if submitted:
        frame = pd.DataFrame([row]).astype(object)
        st.session_state.pop(last, None)
        with st.spinner("Predicting and explaining…"), shown_errors():
            st.session_state[last] = versions.predict_rows(
                actor=actor, version_id=version.id, df=frame, explain=True)
    if last in st.session_state:
        show_one_result(st.session_state[last], schema)


def show_one_result(result: dict, schema: dict) -> None:
    table: pd.DataFrame = result["table"]
    target = schema.get("target") or table.columns[0]
    prediction = table[target].iloc[0] if target in table.columns else table.iloc[0, 0]
    probabilities = {
        c.removeprefix("proba_"): float(table[c].iloc[0])
        for c in table.columns
        if c.startswith("proba_")
    }
    sure = probabilities.get(str(prediction))
    st.success(
        f"Prediction for **{components.plain(target)}**: "
        f"**{components.plain(components.fmt_number(prediction))}**"
        + (f" ({sure:.0%} probability)" if sure is not None else "")
        + _how_sure(table),
        icon=":material/online_prediction:",
    )
    threshold = _threshold_sentence(schema)
    if threshold:
        st.caption(threshold)
    for line in result.get("coverage") or []:
        st.caption(components.plain(line))
    left, right = st.columns(2)
    if probabilities:
        with left:
            st.markdown("##### Class probabilities")
            components.show_chart(components.probability_chart(probabilities))
    explanation = result.get("explanation")
    with right if probabilities else left:
        st.markdown("##### Why this prediction")
        if explanation:
            st.caption(components.explanation_base_sentence(explanation, schema))
            components.show_chart(
                components.contribution_chart(explanation.get("contributions") or [])
            )
        else:
            st.caption("No explanation is available for this model.")
    for warning in result.get("warnings") or []:
        st.warning(components.plain(warning))


def _threshold_sentence(schema: dict) -> str:
    """The decision threshold of a rare positive class, said beside the probabilities it is
    compared with (the ones shown, calibrated where the model has a calibrator)."""
    threshold, classes = schema.get("decision_threshold"), schema.get("classes") or []
    if threshold is None or len(classes) != 2:
        return ""
    return (f"A row is called **{components.plain(classes[1])}** when its probability reaches "
            f"**{threshold:.1%}**, not 50%: that class is rare, and this threshold caught it best "
            "on validation rows.")


def _how_sure(table: pd.DataFrame) -> str:
    """The one row's interval or prediction set, as a clause of the prediction sentence."""
    if {"lower", "upper"} <= set(table.columns):
        low, high = (components.fmt_number(table[c].iloc[0]) for c in ("lower", "upper"))
        return f"; likely between **{components.plain(low)}** and **{components.plain(high)}**"
    if "set" in table.columns and table["set"].iloc[0]:
        return f"; likely one of: **{components.plain(table['set'].iloc[0])}**"
    return ""


def drift_section(result: dict) -> None:
    """How the file compares with the training rows, and what the intervals promise."""
    lines = result.get("drift_lines") or []
    if lines:
        looks_alike = result["drift"]["looks_like_training"]
        box = st.success if looks_alike else st.warning
        box("  \n".join(components.plain(line) for line in lines),
            icon=":material/check_circle:" if looks_alike else ":material/warning:")
    for line in result.get("coverage") or []:
        st.caption(components.plain(line))


def batch_section(version) -> None:
    upload = st.file_uploader(
        "A table with the model's input columns (CSV, TSV, Parquet or Excel)",
        type=["csv", "tsv", "txt", "parquet", "xlsx", "xls"],
        key=f"batch-{version.id}",
    )
    if upload is None:
        st.caption(
            "The result keeps your columns and adds the prediction (and class probabilities)"
            " to each row, with a 90% interval (lower, upper) or prediction set (set) where the"
            " model has one, and says whether the file looks like the training data."
        )
        return
    with st.spinner(f"Predicting {components.plain(upload.name)}…"), shown_errors():
        result = versions.predict_file(
            actor=actor, version_id=version.id, data=upload.getvalue(), filename=upload.name
        )
        out = result["table"]
        for warning in result.get("warnings") or []:
            st.warning(components.plain(warning))
        st.success(f"Predicted {len(out):,} rows.")
        drift_section(result)
        components.table(out.head(100), hide_index=True, width="stretch")
        st.download_button(
            "Download the predictions (CSV)",
            icon=":material/download:",
            type="primary",
            data=versions.spreadsheet_csv(out),
            file_name=f"predictions-{upload.name.rsplit('.', 1)[0]}.csv",
            mime="text/csv",
            key=f"batch-download-{version.id}",
        )


chosen, _all = components.choose_version(actor, project.id, key="predict-version")
if chosen is None:
    components.empty_state(
        "No model versions yet: train one first, then predict with it here.",
        icon=":material/online_prediction:",
    )
    st.stop()
with shown_errors(stop=True):
    version = versions.get_model_version(actor=actor, version_id=val(chosen, "id"))

one_tab, batch_tab = st.tabs(["One row", "A file"])
with one_tab:
    one_row_section(version)
with batch_tab:
    batch_section(version)
