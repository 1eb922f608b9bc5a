"""A model version on a page: its held-out metrics, its label and picker, the planner's report
and the written report."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.metrics import display_name
from workspace import versions

from .errors import shown_errors
from .formatting import fmt_number, plain, smaller_headings, val, when
from .navigation import url_picker
from .widgets import table


def metrics_table(metrics: dict, main: str | None = None) -> pd.DataFrame:
    """Held-out metrics beside the naive baseline and the 95% interval; `main` first."""
    holdout = metrics.get("holdout_metrics") or metrics.get("holdout") or {}
    baseline = metrics.get("baseline_metrics") or metrics.get("baseline") or {}
    intervals = metrics.get("confidence_intervals") or {}
    rows = []
    for name, value in holdout.items():
        interval = intervals.get(name)
        rows.append(
            {
                "metric": display_name(name),
                "model": value,
                "baseline": baseline.get(name),
                "95% interval": (f"{interval[0]:.4g} – {interval[1]:.4g}" if interval else ""),
            }
        )
    rows.sort(key=lambda row: row["metric"] != display_name(main or ""))
    return pd.DataFrame(rows, columns=["metric", "model", "baseline", "95% interval"])


def version_label(version) -> str:
    return (
        f"v{val(version, 'version')} · {val(version, 'target')} · "
        f"{display_name(val(version, 'metric') or '')} · {when(val(version, 'created_at'))}"
    )


def choose_version(
    actor, project_id, *, key: str, label: str = "Model version"
) -> tuple[Any, list]:
    """A select box of the project's model versions (preselecting ?version=): the chosen one
    (None when there are none) and the whole list."""
    with shown_errors(stop=True):
        all_versions = list(versions.list_model_versions(actor=actor, project_id=project_id))
    if not all_versions:
        return None, []
    by_id = {val(v, "id"): v for v in all_versions}
    chosen = url_picker(label, list(by_id), param="version", key=key, what="model version",
                        format_func=lambda i: version_label(by_id[i]))
    return by_id[chosen], all_versions


def planner_report(report: dict | None) -> None:
    """Which planner planned the build, every step it handed to the offline planner and why,
    and the LLM's usage."""
    if not report:
        return
    usage = report.get("usage") or {}
    line = f"Planner: **{report.get('name', 'offline')}**"
    if usage.get("calls"):
        line += (f" · {usage['calls']} LLM call(s), {usage.get('input_tokens', 0):,} tokens in, "
                 f"{usage.get('output_tokens', 0):,} out")
        if usage.get("parse_errors"):
            line += f", {usage['parse_errors']} unparseable answer(s)"
    st.markdown(line)
    if report.get("warning"):
        st.warning(plain(report["warning"]), icon=":material/warning:")
    fallbacks = report.get("fallbacks") or []
    if fallbacks:
        st.caption(f"{len(fallbacks)} step(s) fell back to the offline planner:")
        table(
            pd.DataFrame([{k: f.get(k) for k in ("step", "attempt", "kind", "reason")}
                          for f in fallbacks]),
            hide_index=True, width="stretch",
        )


def written_report(text: str | None) -> None:
    """A build's written report: untrusted when an LLM wrote it, so shown without HTML,
    images or links (the engine sanitised it when saving; this holds for older versions too)."""
    from core.report_safety import sanitise_report

    if not text:
        st.caption("No written report for this version.")
        return
    st.markdown(smaller_headings(sanitise_report(text)), unsafe_allow_html=False)


def prediction_words(value: Any, explained_class: Any = None) -> str:
    """A model output in the user's terms: '28% probability of 'Yes'' for a class, the number
    for regression. Class names are data, so they are made plain."""
    if explained_class is None:
        return fmt_number(value)
    return f"{float(value):.0%} probability of '{plain(explained_class)}'"


def explanation_base_sentence(explanation: dict, schema: dict) -> str:
    """Where a row's explanation starts, said so a reader can check it: the model's average
    prediction over its training rows (versions built before that was stored start from the
    explainers' own reference value, which is not an average of the predictions)."""
    base = prediction_words(explanation.get("base_value"), explanation.get("explained_class"))
    output = prediction_words(explanation.get("output"), explanation.get("explained_class"))
    if "average_output" in (schema or {}):
        return (f"On average over its training rows the model predicts {base}. Each bar is how "
                f"much that input moved this row from that average to its {output}.")
    return (f"Each bar is how much that input moved this row from the explainers' reference "
            f"value ({base}) to its {output}. (This version was built before the model's "
            "average prediction was stored; rebuild it to measure from the average.)")


def explanation_scope_sentence(explanation: dict, schema: dict) -> str:
    """What a version's SHAP importance was measured from: its rows (when no note says it)
    and the model's average prediction, the base every contribution starts from."""
    words = []
    rows, available = explanation.get("sample_size"), explanation.get("rows_available")
    if rows and rows == available and "held_out_rows" not in explanation:
        words.append(f"SHAP values computed on all {rows:,} rows.")
    expected = explanation.get("expected_value")
    if "average_output" in (schema or {}) and expected is not None:
        if not isinstance(expected, dict):
            words.append(f"On average the model predicts {fmt_number(expected)}.")
        elif explanation.get("explained_class") is not None:
            cls = explanation["explained_class"]
            words.append(f"On average the model predicts "
                         f"{prediction_words(expected.get(str(cls)), cls)}.")
        else:
            words.append("On average the model predicts " + ", ".join(
                f"{plain(c)} {float(v):.0%}" for c, v in expected.items()) + ".")
    return " ".join(words)
