"""The failures half of the version page's "Trust" tab: where the model fails on held-out
rows (worst slices, confusion pairs, the worst rows with what pushed them wrong) and the
stress test's robustness table with the fixes it suggests. Every figure was computed by
the engine at build time (`core.trust`); this module only lays it out. Not a page of its
own: model.py imports it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.trust.failures import failure_sentences
from core.trust.stress import VERDICT_ORDER, stress_sentences
from webapp import components
from webapp.components import fmt_number

# plain words: an emoji needs a font the viewer may not have (Debian's Chromium draws a box)
VERDICT_WORDS = {"breaks": "BREAKS", "fragile": "FRAGILE", "sensitive": "sensitive",
                 "robust": "robust"}


def failures_tab(version) -> None:
    failures = (version.metrics or {}).get("failures")
    if not failures:
        components.empty_state(
            "This version has no failure analysis: it was built before briefml made one, or "
            "the build ran out of time. Rebuild it to get one.", icon=":material/troubleshoot:")
        return
    st.caption(f"Measured on {failures.get('rows', '—')} held-out rows in "
               f"{failures.get('seconds', 0):.2g} s, {failures.get('share_of_budget', 0):.0%} "
               "of the build's time budget.")
    st.markdown("##### Where it fails")
    for sentence in failure_sentences(failures):
        st.markdown(f"- {components.plain(sentence)}")
    slices_section(failures)
    pairs = failures.get("confusion_pairs") or []
    if pairs:
        st.markdown("###### Errors by actual and predicted class")
        components.table(pd.DataFrame([{
            "actual": p["actual"], "predicted as": p["predicted"], "rows": p["rows"],
            "share of errors": f"{p['share_of_errors']:.0%}",
            "share of that class": f"{p['share_of_actual']:.0%}"} for p in pairs]),
            hide_index=True, width="stretch")
    worst_rows_section(failures, version.task_type)
    robustness_section(failures.get("stress"))


def slices_section(failures: dict) -> None:
    slices = failures.get("slices") or []
    if not slices:
        st.caption("No group of held-out rows large enough to judge does worse than the whole.")
        return
    st.markdown(f"###### Slices with the largest mean {failures.get('measure', 'error')}")
    rows = []
    for s in slices:
        row = {"slice": s["slice"], "rows": s["rows"], "mean error": fmt_number(s["error"]),
               "overall": fmt_number(s["whole"])}
        if s.get("error_rate") is not None:
            row["wrong"] = f"{s['error_rate']:.0%} (overall {s['whole_error_rate']:.0%})"
        row["clearly worse"] = "yes" if s.get("clearly_worse") else "no"
        rows.append(row)
    components.table(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("Groups by category and by quartile of each number, each with enough rows "
               "to judge; 'clearly worse' means beyond two standard errors of the overall mean.")


def worst_rows_section(failures: dict, task_type: str) -> None:
    rows = failures.get("worst_rows") or []
    if not rows:
        return
    st.markdown("###### The held-out rows with the largest errors")
    table = []
    for r in rows:
        entry = {"actual": r["actual"], "predicted": r["predicted"]}
        if task_type == "regression":
            entry["error"] = fmt_number(r["error"])
        else:
            entry["probability of actual"] = f"{r.get('probability_of_actual', 0):.0%}"
        entry["pushed wrong by"] = ", ".join(p["column"] for p in r.get("pushed_wrong_by") or []) or "—"
        entry.update({f"[{k}]": v for k, v in (r.get("values") or {}).items()})
        table.append(entry)
    # values may be numbers or text: shown as text so one table can hold both
    shown = pd.DataFrame(table).map(lambda v: "" if v is None else str(v))
    components.table(shown, hide_index=True, width="stretch")
    st.caption("Input values in [brackets]. 'Pushed wrong by': the columns whose SHAP "
               "contribution moved the prediction away from the actual value, strongest first, "
               "from the models that made these held-out predictions.")


def robustness_frame(stress: dict) -> pd.DataFrame:
    """The robustness table: one row per check, what breaks or moves most first."""
    checks = sorted(stress.get("checks") or [],
                    key=lambda r: (VERDICT_ORDER[r["verdict"]], -r.get("movement", 0.0)))
    rows = []
    for r in checks:
        moved = r.get("known_variant") or r
        row = {"check": r["check"], "column": r["column"] or "(whole table)",
               "rows changed": r["rows"], "runs": "yes" if r.get("runs") else "no"}
        if "changed_labels" in moved:
            row["labels changed"] = f"{moved['changed_labels']:.0%}"
            row["mean probability change"] = f"{moved['mean_probability_change']:.2f}"
        elif "mean_change" in moved:
            row["mean change"] = fmt_number(moved["mean_change"])
        row["verdict"] = VERDICT_WORDS[r["verdict"]]
        rows.append(row)
    return pd.DataFrame(rows)


def robustness_section(stress: dict | None) -> None:
    st.markdown("##### Robustness to messy input")
    if not stress:
        st.caption("No stress test was recorded.")
        return
    for sentence in stress_sentences(stress):
        st.markdown(f"- {components.plain(sentence)}")
    if stress.get("checks"):
        components.table(robustness_frame(stress), hide_index=True, width="stretch")
        st.caption("Each check changes held-out rows on purpose and predicts them the way the "
                   "downloaded bundle does. Fragile: a change that keeps the meaning (case, "
                   "spaces, column order) moves predictions. Sensitive: losing information "
                   "(missing, unseen or out-of-range values) moves them, as expected for a "
                   "column the model uses.")
    fixes = stress.get("suggestions") or []
    if fixes:
        st.markdown("###### Suggested fixes")
        for fix in fixes:
            st.markdown(f"- {components.plain(fix)}")
    if stress.get("skipped"):
        st.caption("Skipped to stay within the budget: "
                   + components.plain(", ".join(stress["skipped"])))
