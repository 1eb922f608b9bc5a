"""Model versions: held-out metrics against the baseline, the charts that go with the task,
SHAP importance by original column, data checks, the written report, a side-by-side
comparison of versions, and the bundle download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.metrics import display_name, greater_is_better
from webapp import components, session
from webapp.components import can, fmt_number, shown_errors, val
from webapp.views import find_data
from webapp.views.model_failures import failures_tab
from webapp.views.model_reliability import reliability_tab
from workspace import builds, versions
from workspace.permissions import Action
from workspace.version_diff import diff_versions

actor = session.require_actor()
st.title("Model versions")
project, role = components.require_project(actor)


def _too_good(version) -> bool:
    findings = (version.explanation or {}).get("review_findings") or []
    return any(val(f, "severity") == "warning" for f in findings)


def headline(version) -> None:
    metrics = version.metrics or {}
    if metrics.get("synthetic_data"):
        st.warning("Trained on SYNTHETIC data: its metrics say nothing about how it does on "
                   "real data.", icon=":material/science:")
    find_data.label_agreement_note(actor, version)
    holdout, baseline = metrics.get("holdout") or {}, metrics.get("baseline") or {}
    main = version.metric
    cols = st.columns(4)
    model_value, base_value = holdout.get(main), baseline.get(main)
    delta = None
    if isinstance(model_value, (int, float)) and isinstance(base_value, (int, float)):
        delta = f"{model_value - base_value:+.4g} vs baseline"
    cols[0].metric(
        f"Held-out {display_name(main)}",
        fmt_number(model_value),
        delta,
        # a score the review calls too good to be true is not shown as good news
        delta_color="off" if _too_good(version)
        else "normal" if greater_is_better(main) else "inverse",
    )
    cols[1].metric(
        "Baseline",
        fmt_number(base_value),
        help="A naive model: the training class shares, or the training mean.",
    )
    cols[2].metric("Target", components.plain(version.target))  # a metric's value is Markdown
    rows = metrics.get("rows") or {}
    cols[3].metric(
        "Test rows",
        f"{rows.get('test', '—')}",
        help="Rows held out before training and used once, for these numbers.",
    )


def performance_tab(version) -> None:
    metrics = version.metrics or {}
    st.markdown("##### Held-out metrics and the naive baseline")
    table = components.metrics_table(metrics, main=version.metric)
    components.table(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "model": st.column_config.NumberColumn(format="%.4f"),
            "baseline": st.column_config.NumberColumn(format="%.4f"),
        },
    )
    details = metrics.get("details") or {}
    if version.task_type == "regression":
        residuals = details.get("residuals") or {}
        left, right = st.columns(2)
        with left:
            st.markdown("##### Actual against predicted")
            components.show_chart(components.actual_vs_predicted_chart(residuals))
        with right:
            st.markdown("##### Residuals")
            components.show_chart(components.residual_chart(residuals))
    else:
        left, right = st.columns(2)
        with left:
            st.markdown("##### Confusion matrix")
            confusion = details.get("confusion_matrix")
            components.show_chart(
                components.confusion_chart(confusion) if confusion else None,
                "No confusion matrix was stored.",
            )
            if confusion and confusion.get("decision_threshold") is not None:
                st.caption(_threshold_caption(confusion))
        curves = details.get("curves") or {}
        with right:
            st.markdown("##### ROC curve")
            components.show_chart(components.curve_chart(curves, "roc"), "No ROC curve was stored.")
        left, right = st.columns(2)
        with left:
            st.markdown("##### Precision and recall")
            components.show_chart(
                components.curve_chart(curves, "precision_recall"),
                "No precision-recall curve was stored.",
            )
    slices = metrics.get("slices") or {}
    if slices:
        st.markdown("##### By group")
        column = st.selectbox("Group by", list(slices), key="slice-column")
        groups = pd.DataFrame(slices[column])
        first = [c for c in ("value", "rows") if c in groups.columns]
        components.table(
            groups[first + [c for c in groups.columns if c not in first]].rename(
                columns=lambda c: c if c in first else display_name(c)),  # "log_loss" -> "Log loss"
            hide_index=True,
            width="stretch",
        )
    for warning in metrics.get("warnings") or []:
        st.caption(f"⚠️ {components.plain(warning)}")


def _threshold_caption(confusion: dict) -> str:
    """What a confusion matrix of a rare positive class holds: the model's decisions at its
    threshold, which the accuracy-like figures above (taken at the likeliest class) are not."""
    labels = confusion.get("labels") or ["", ""]
    return (f"As the model decides: a row is called **{components.plain(labels[-1])}** when its "
            f"probability reaches {confusion['decision_threshold']:.1%} (the decision threshold). "
            "Accuracy, precision, recall and F1 in the table above take the likeliest class "
            "instead; the figures at threshold match this matrix.")


def explanation_tab(version) -> None:
    explanation = version.explanation or {}
    importance = explanation.get("importance") or []
    if not importance:
        why = [w for w in (version.metrics or {}).get("warnings") or [] if "explain" in w.lower()]
        components.empty_state(
            components.plain(" ".join(why) or "This version has no SHAP explanation."),
            icon=":material/search:",
        )
        return
    st.markdown("##### What the model relies on (SHAP, by original column)")
    components.show_chart(components.importance_chart(importance))
    scope = components.explanation_scope_sentence(explanation, version.input_schema or {})
    if scope:  # already Markdown-safe (class names made plain)
        st.caption(scope)
    for note in explanation.get("notes") or []:  # notes name columns: untrusted text
        st.caption(components.plain(note))


def _rebuilt_from(version) -> str | None:
    record = (version.metrics or {}).get("reproducibility") or {}
    return (record.get("rebuild_of") or {}).get("version_id")


def compare_tab(version, all_versions: list) -> None:
    others = [v for v in all_versions if v.id != version.id]
    if not others:
        st.caption("This is the only version; train another to compare them.")
        return
    labels = {v.id: components.version_label(v) for v in others}
    # a rebuilt version is compared with the one it rebuilds first
    source = [i for i in labels if str(i) == _rebuilt_from(version)]
    picked = st.multiselect(
        "Compare with",
        list(labels),
        default=source or list(labels)[:1],
        format_func=labels.get,
        key="compare-with",
    )
    if not picked:
        return
    with shown_errors():
        rows = versions.compare_versions(actor=actor, version_ids=[version.id, *picked])
        metric_names = list(dict.fromkeys(k for r in rows for k in (r.get("holdout") or {})))
        table = pd.DataFrame(
            {
                f"v{r['version']}": {
                    "target": r["target"],
                    "task": r["task_type"],
                    "main metric": display_name(r["metric"]),
                    "dataset": r["dataset"],
                    **{display_name(m): fmt_number((r.get("holdout") or {}).get(m))
                       for m in metric_names},
                }
                for r in rows
            }
        )
        if len(picked) > 1:  # two versions: the diff below says it all
            components.table(table, width="stretch")
        first = picked[0]
        diff = diff_versions(actor=actor, before_id=version.id, after_id=first)
        version_diff_section(diff)


def _interval_text(interval) -> str:
    if not interval or len(interval) != 2:
        return "—"
    return f"{fmt_number(interval[0])} – {fmt_number(interval[1])}"


def version_diff_section(diff) -> None:
    """What changed from the older version to the newer one, beyond the scores."""
    before, after = f"v{diff.before.version}", f"v{diff.after.version}"
    st.markdown(f"##### What changed from {before} to {after}")
    if diff.settings:
        components.table(
            pd.DataFrame(
                [{"": r["what"], before: fmt_number(r["before"]),
                  after: fmt_number(r["after"])} for r in diff.settings]
            ),
            hide_index=True, width="stretch",
        )
    else:
        st.caption("Same brief, target, dataset, planner and budget.")
    if diff.columns:
        st.markdown("###### Columns")
        components.table(
            pd.DataFrame([{"column": r["column"], before: r["before"], after: r["after"]}
                          for r in diff.columns]),
            hide_index=True, width="stretch",
        )
    else:
        st.caption("The same columns were used and left out.")
    st.markdown("###### Held-out metrics with their 95% intervals")
    components.table(
        pd.DataFrame(
            [{"metric": display_name(r["metric"]), before: fmt_number(r["before"]),
              f"{before} interval": _interval_text(r["before interval"]),
              after: fmt_number(r["after"]),
              f"{after} interval": _interval_text(r["after interval"])} for r in diff.metrics]
        ),
        hide_index=True, width="stretch",
    )
    if diff.importance:
        st.markdown("###### Change in what the model relies on (mean |SHAP|)")
        components.table(
            pd.DataFrame(
                [{"column": r["column"], before: fmt_number(r["before"]),
                  after: fmt_number(r["after"]),
                  "change": None if r["change"] is None else f"{r['change']:+.4g}"}
                 for r in diff.importance[:15]]
            ),
            hide_index=True, width="stretch",
        )


def rebuild_section(version) -> None:
    """Editors: queue a build that replays this version's recorded plan."""
    if not can(role, Action.APPROVE) or not (version.metrics or {}).get("reproducibility"):
        return
    with st.popover("Rebuild", icon=":material/replay:"):
        on = st.radio(
            "Train on",
            ["same", "newest"],
            format_func={"same": "the same dataset version",
                         "newest": "the newest version of that dataset"}.get,
            key=f"rebuild-on-{version.id}",
            help="Same version and seed: the same held-out metrics within noise. Newest: "
                 "retrain on new rows with the same plan, then compare.",
        )
        if st.button("Queue the rebuild", key=f"rebuild-{version.id}", type="primary"):
            with shown_errors():
                build = builds.rebuild_version(actor=actor, version_id=version.id, dataset=on)
                st.success("Queued. The new version will compare itself with this one.")
                st.page_link(
                    components.page("build"),
                    label="Follow the build",
                    icon=":material/monitoring:",
                    query_params={"project": str(project.id), "build": str(build.id)},
                )


def download_section(version) -> None:
    if not can(role, Action.DOWNLOAD):
        return
    # The button holds the bytes, so the browser fetches them as a plain file; the click is
    # what the audit log records (a page view is not a download). A button whose bytes are
    # made on the click (`data=` a callable) waits for a reply over the websocket, and on a
    # busy machine that reply was lost: the button stayed disabled and nothing downloaded.
    name, data = versions.bundle_zip(actor=actor, version_id=version.id)
    st.download_button(
        "Download bundle",
        icon=":material/download:",
        type="primary",
        key=f"bundle-{version.id}",
        data=data,
        file_name=name,
        mime="application/zip",
        on_click=lambda: versions.record_download(actor=actor, version_id=version.id),
        help="Runs anywhere: pip install -r requirements.txt; python predict.py in.csv -o out.csv",
    )


chosen, all_versions = components.choose_version(actor, project.id, key="model-version")
if chosen is None:
    components.empty_state(
        "No model versions yet. Start a build on the **New model** page; "
        "each successful build adds a version here.",
        icon=":material/insights:",
    )
    st.stop()
with shown_errors(stop=True):
    version = versions.get_model_version(actor=actor, version_id=val(chosen, "id"))

for warning in (version.explanation or {}).get("review_findings") or []:
    # a leak-like result is an error; a strong input the review found plausible is a note
    shown = st.error if val(warning, "severity") == "warning" else st.warning
    shown(components.plain(val(warning, "message", "")), icon=":material/warning:")
headline(version)
st.caption(
    f"{version.task_type} · trained {components.when(version.created_at)} · "
    f"version v{version.version}"
)
actions = st.columns([1, 1, 2])
with actions[0]:
    download_section(version)
actions[1].page_link(
    components.page("predict"),
    label="Predict with this model",
    icon=":material/online_prediction:",
    query_params={"project": str(project.id), "version": str(version.id)},
)
with actions[2]:
    rebuild_section(version)

# short labels: all seven fit a 420 px phone screen without scrolling the tab row
# ("Reliability" or a separate "Errors" tab would not, measured in Chromium): "Trust" holds how
# sure each prediction is, where the model fails and how it copes with messy input
tabs = st.tabs(["Metrics", "Explain", "Trust", "Checks", "Report", "Trials", "Compare"])
with tabs[0]:
    performance_tab(version)
with tabs[1]:
    explanation_tab(version)
with tabs[2]:
    reliability_tab(version)
    failures_tab(version)
with tabs[3]:
    components.findings_list(version.findings)
with tabs[4]:
    components.written_report(version.report)
    components.planner_report((version.metrics or {}).get("planner_report"))
    components.reproducibility_section(version)
with tabs[5]:
    components.leaderboard(version.leaderboard or [], key=f"version-leaderboard-{version.id}",
                           ensemble=(version.metrics or {}).get("ensemble"))
with tabs[6]:
    compare_tab(version, all_versions)
