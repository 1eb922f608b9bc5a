"""No data yet: find a fitting table in the team's library, or generate one from a column
table the person reviews. Used by the New model and Datasets pages (not a page itself)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.llm.synthetic import (
    EDITOR_FIELDS,
    MAX_ROWS,
    STARTER_ROWS,
    SYNTHETIC_NOTE,
    spec_from_rows,
    spec_rows,
)
from webapp import components
from webapp.components import shown_errors
from workspace import datasets, labelling, library
from workspace.settings import get_settings

SPEC_KEY = "synthetic-spec-rows"
KINDS = ["numeric", "integer", "categorical", "boolean"]
NUMBER_FIELDS = ("mean", "std", "minimum", "maximum", "missing_share", "effect_on_target")


def dataset_label(d) -> str:
    """'churn v2 · 7,043 rows × 21 columns', marked when the rows are generated."""
    label = f"{d.name} v{d.version} · {d.rows:,} rows × {d.columns} columns"
    return label + (" · synthetic" if d.synthetic else "")


def data_notice(dataset) -> None:
    """Say where the dataset came from when it is not a plain upload."""
    if dataset.synthetic:
        st.warning(SYNTHETIC_NOTE, icon=":material/science:")
    copied = library.provenance_text(dataset)
    if copied:
        st.caption(components.plain(copied))


def _pick(dataset_id) -> None:
    """Make `dataset_id` the chosen dataset on this page and the next (the brief form's
    select box remembers its own value, so it is set too) and start again from the top."""
    st.session_state["dataset_id"] = dataset_id
    st.session_state["brief-dataset"] = dataset_id
    st.session_state.pop("library-searched", None)
    st.query_params["dataset"] = str(dataset_id)
    st.rerun()


def _use(actor, project, match) -> None:
    with shown_errors():
        chosen = match.dataset_id
        if not match.in_this_project:
            chosen = library.copy_dataset_to_project(
                actor=actor, dataset_id=match.dataset_id, project_id=project.id).id
        _pick(chosen)


def library_section(actor, project) -> None:
    """The brief ranks the datasets of every project the user belongs to."""
    st.markdown("##### Find a table in your library")
    with st.form("library-search"):
        brief = st.text_input("What should the model predict?", key="library-brief",
                              placeholder="e.g. which customers will cancel next month")
        searched = st.form_submit_button("Search my projects")
    if searched:
        st.session_state["library-searched"] = brief
    brief = st.session_state.get("library-searched")
    if not brief:
        return
    with shown_errors():
        found = library.find_datasets_for_brief(actor=actor, brief=brief, project_id=project.id)
        if not found:
            st.info("No table in your projects fits this brief. Upload one, or generate a "
                    "synthetic table below.", icon=":material/search_off:")
            return
        for i, match in enumerate(found):
            left, right = st.columns([4, 1])
            left.markdown(f"**{components.plain(match.name)}** v{match.version} — "
                          f"{components.plain(match.why)}")
            label = "Use" if match.in_this_project else "Copy here and use"
            if right.button(label, key=f"library-use-{i}"):
                _use(actor, project, match)


def _starting_rows(actor, project, brief: str) -> list[dict]:
    if brief and get_settings().llm:
        with st.spinner("Asking the LLM to describe the columns…"):
            spec = datasets.propose_synthetic_spec(actor=actor, project_id=project.id, brief=brief)
        st.session_state["synthetic-target"] = spec.target
        return spec_rows(spec)
    return [dict(r) for r in STARTER_ROWS]


def generate_section(actor, project) -> None:
    """A column table (from the LLM or filled in by hand) → rows sampled by the engine."""
    st.markdown("##### Generate a synthetic table")
    st.caption("Describe the columns; briefml samples the rows (no data or code comes from an "
               "LLM). Everything trained on it is marked synthetic.")
    has_llm = bool(get_settings().llm)
    brief = st.text_input("Brief for the table (optional)", key="synthetic-brief")
    start = st.button("Describe the columns with the LLM" if has_llm else "Start a column table",
                      key="synthetic-start")
    if start:
        with shown_errors():
            st.session_state[SPEC_KEY] = _starting_rows(actor, project, brief)
    rows = st.session_state.get(SPEC_KEY)
    if rows is None:
        return
    frame = pd.DataFrame(rows, columns=list(EDITOR_FIELDS))
    for name in NUMBER_FIELDS:  # numbers, so an empty cell shows empty rather than "None"
        frame[name] = pd.to_numeric(frame[name], errors="coerce")
    table = components.editor(
        frame, num_rows="dynamic", key="synthetic-table",
        hide_index=True, width="stretch",
        column_config={
            "kind": st.column_config.SelectboxColumn("kind", options=KINDS, required=True),
            "categories": st.column_config.TextColumn("categories (comma-separated)"),
            "effect_on_target": st.column_config.NumberColumn(
                "effect on target", min_value=-3.0, max_value=3.0,
                help="how strongly this column pushes the target up (+) or down (−)"),
            "missing_share": st.column_config.NumberColumn("missing share", min_value=0.0,
                                                           max_value=0.5),
        },
    )
    names = [str(n) for n in table["name"].dropna() if str(n).strip()]
    if len(names) < 2:
        st.info("Add at least two columns: the one to predict and one input.")
        return
    with st.form("synthetic-generate"):
        left, middle, right = st.columns(3)
        default_target = st.session_state.get("synthetic-target")
        target = left.selectbox("Column to predict", names, key="synthetic-target-pick",
                                index=names.index(default_target) if default_target in names else 0)
        n_rows = middle.number_input("Rows", min_value=10, max_value=MAX_ROWS, value=500, step=100)
        noise = right.slider("Noise", 0.0, 1.0, 0.5, help="the share of the target's spread the "
                             "columns do not explain")
        name = st.text_input("Dataset name", value="synthetic", key="synthetic-name")
        if not st.form_submit_button("Generate the table", type="primary"):
            return
    with shown_errors():
        spec = spec_from_rows(table.to_dict("records"), target=target, noise=noise, title=name)
        dataset = datasets.add_dataset_from_spec(actor=actor, project_id=project.id, spec=spec,
                                                 n_rows=int(n_rows), name=name, brief=brief)
        st.session_state.pop(SPEC_KEY, None)
        _pick(dataset.id)


# --------------------------------------------------------------------------- label and distil


def _columns_missing_labels(dataset) -> list[str]:
    profile = dataset.profile or {}
    return [c["name"] for c in profile.get("column_profiles", [])
            if c.get("missing_share", 0) >= 0.3 and c.get("role") != "text"]


def label_section(actor, dataset) -> None:
    """Fill a mostly empty target with the LLM (cost shown first), then review a sample."""
    labels = (dataset.provenance or {}).get("labels")
    if labels:
        review_section(actor, dataset, labels)
    columns = _columns_missing_labels(dataset)
    if not columns:
        return
    with st.expander("Label the missing values with the LLM", icon=":material/label:"):
        if not get_settings().llm:
            st.info("Labelling needs an LLM: set BRIEFML_LLM (for example "
                    "'openai:gpt-4o-mini') and restart briefml.")
            return
        left, right = st.columns(2)
        column = left.selectbox("Column to fill in", columns, key=f"label-column-{dataset.id}")
        rows = right.number_input("Rows to label", 10, labelling.MAX_LABEL_ROWS, 200, step=50,
                                  key=f"label-rows-{dataset.id}")
        seen = _observed_values(dataset, column)
        allowed = st.text_input("Allowed labels (comma-separated)", ", ".join(seen),
                                key=f"label-allowed-{dataset.id}")
        cap = st.number_input("Stop when the cost would pass (USD)", 0.01, 100.0, 1.0,
                              key=f"label-cap-{dataset.id}")
        brief = st.text_input("What the label means", key=f"label-brief-{dataset.id}",
                              placeholder="e.g. is the review positive or negative?")
        with shown_errors():
            estimate = labelling.labelling_estimate(actor=actor, dataset_id=dataset.id,
                                                    column=column, max_rows=int(rows))
            cost = ("unknown (this model is not in the price table)" if estimate["cost_usd"] is None
                    else f"about ${estimate['cost_usd']:.4f}")
            st.caption(f"{estimate['missing']:,} of {estimate['total']:,} rows have no "
                       f"'{components.plain(column)}'. Labelling {estimate['rows']:,} of them asks "
                       f"about {estimate['input_tokens'] + estimate['output_tokens']:,} tokens: {cost}.")
            if st.button(f"Label {estimate['rows']:,} rows", key=f"label-go-{dataset.id}"):
                with st.spinner("The LLM is labelling…"):
                    made, run = labelling.label_dataset(
                        actor=actor, dataset_id=dataset.id, column=column,
                        allowed=[a for a in allowed.split(",") if a.strip()], brief=brief,
                        max_rows=int(rows), max_cost_usd=float(cap))
                st.session_state["label-run"] = run
                _pick(made.id)


def _observed_values(dataset, column: str) -> list[str]:
    for col in (dataset.profile or {}).get("column_profiles", []):
        if col["name"] == column:
            return [str(v) for v, _ in col.get("top_values") or []][:20]
    return []


def _run_sentence(run: dict) -> str:
    parts = [f"The LLM labelled {run['labelled']:,} rows"]
    if run["invalid"]:
        parts.append(f"{run['invalid']} answers were outside the allowed labels (left empty)")
    if run["unanswered"]:
        parts.append(f"{run['unanswered']} rows were left unlabelled")
    if run["stopped_because"]:
        parts.append(f"it stopped because {run['stopped_because']}")
    return "; ".join(parts) + "."


def review_section(actor, dataset, labels: dict) -> None:
    run = st.session_state.pop("label-run", None) or labels.get("run")
    if run:
        st.info(components.plain(_run_sentence(run)), icon=":material/label:")
    with st.expander("Review the LLM's labels", expanded=True, icon=":material/rule:"):
        with shown_errors():
            sample = labelling.labels_to_review(actor=actor, dataset_id=dataset.id)
        if sample.empty:
            st.caption(f"Every LLM label has been reviewed ({len(labels.get('human', {}))} by a "
                       "person). Train on this version from New model.")
            return
        sample["your_label"] = sample["llm_label"]
        edited = components.editor(
            sample, hide_index=True, key=f"review-{dataset.id}", width="stretch",
            disabled=[c for c in sample.columns if c != "your_label"],
            column_config={"your_label": st.column_config.SelectboxColumn(
                "your label", options=labels["allowed"], required=True)})
        if st.button("Save the review", type="primary", key=f"review-save-{dataset.id}"):
            with shown_errors():
                made = labelling.review_labels(
                    actor=actor, dataset_id=dataset.id,
                    decisions=dict(zip(edited["row"], edited["your_label"], strict=True)))
                _pick(made.id)


def label_agreement_note(actor, version) -> None:
    """On a version trained on LLM labels: its agreement with reviewed and with LLM labels."""
    with shown_errors():
        agreement = labelling.label_agreement(actor=actor, version_id=version.id)
    if not agreement:
        return
    human, llm = agreement["human"], agreement["llm"]

    def said(part: dict) -> str:
        return "—" if part["agreement"] is None else f"{part['agreement']:.0%} of {part['rows']}"

    st.info(f"Labels made by an LLM ({components.plain(agreement['model'])}) and reviewed by a "
            f"person. The model agrees with {said(human)} reviewed labels and {said(llm)} "
            "unreviewed LLM labels (on its own data, mostly training rows).",
            icon=":material/label:")
