"""The version page's Trust tab (reliability): how sure each prediction is. The coverage of the
intervals or prediction sets beside their promise, and for classifiers the calibration curve
before and after the calibrator, with the expected calibration error and log loss. Every
figure was computed by the engine at build time (core.trust); this module only lays it out."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from webapp import components


def reliability_tab(version) -> None:
    reliability = (version.metrics or {}).get("reliability") or {}
    holdout = reliability.get("holdout") or {}
    if not holdout.get("coverage"):
        st.info("This version has no intervals or calibration figures: it was built before "
                "they existed, or its build ran out of time. Build it again to get them.",
                icon=":material/info:")
        return
    coverage_section(reliability)
    if holdout.get("calibration"):
        calibration_section(reliability)
    st.caption("Batch predictions (the Predict page, `briefml predict`, the bundle's "
               "`predict.py --report`) also say whether a file looks like the training data.")


def _promise_sentence(entry: dict, kind: str, rows: int) -> str:
    level = f"{entry['promised']:.0%}"
    what = "intervals" if kind == "interval" else "prediction sets"
    return f"{level} {what} covered {entry['covered']:.1%} of {rows:,} held-out rows"


def coverage_section(reliability: dict) -> None:
    conformal, holdout = reliability.get("conformal") or {}, reliability["holdout"]
    kind, shown = conformal.get("kind", "interval"), holdout["coverage"]
    default = shown.get(f"{reliability.get('coverage_default', 0.9):.2f}") or next(iter(shown.values()))
    st.markdown("##### Intervals" if kind == "interval" else "##### Prediction sets")
    size = (f"± {components.fmt_number(default['quantile'])} around each prediction"
            if kind == "interval" else f"{default['mean_set_size']:.2f} classes per set on average")
    st.metric(f"{default['promised']:.0%} promised", f"{default['covered']:.1%} covered", help=size)
    st.caption(components.plain(
        _promise_sentence(default, kind, holdout.get("rows", 0))
        + f", {size}. Calibrated on {conformal.get('rows', 0):,} rows the models never trained on "
        f"({conformal.get('method', 'out-of-fold predictions')})."))
    if kind == "set" and default.get("single_class_share") == 1:
        st.caption("Every set is a single class: the model is right more often than promised, "
                   "so sets cannot get smaller and cover more than the promise.")
    rows = []
    for entry in shown.values():
        row = {"promised": entry["promised"], "covered": entry["covered"]}
        if kind == "interval":
            row["width"] = float(f"{entry['mean_width']:.4g}")
        else:
            row["mean set size"] = entry["mean_set_size"]
            row["single class"] = entry["single_class_share"]
        rows.append(row)
    percent = st.column_config.NumberColumn(format="percent")
    components.table(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"promised": percent, "covered": percent, "single class": percent})
    per_class = default.get("per_class")
    if per_class:
        worst = min(per_class, key=per_class.get)
        st.caption(components.plain(f"By class, the {default['promised']:.0%} sets held the true class "
                                    f"least often for '{worst}' ({per_class[worst]:.0%})."))


def calibration_chart(calibration: dict) -> alt.Chart | None:
    """Predicted probability against how often it came true, before and after."""
    rows = [{"when": when, "predicted": p["predicted"], "observed": p["observed"], "rows": p["rows"]}
            for when in ("before", "after") for p in calibration[when]["curve"]["points"]]
    if not rows:
        return None
    lines = (
        alt.Chart(pd.DataFrame(rows), height=components.CHART_HEIGHT)
        .mark_line(point=True)
        .encode(
            x=alt.X("predicted:Q", title="predicted probability", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("observed:Q", title="observed share", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("when:N", title="calibration", sort=["before", "after"]),
            tooltip=["when:N", alt.Tooltip("predicted:Q", format=".2f"),
                     alt.Tooltip("observed:Q", format=".2f"), "rows:Q"],
        )
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"predicted": [0, 1], "observed": [0, 1]}))
        .mark_line(strokeDash=[4, 4], color="gray")
        .encode(x="predicted:Q", y="observed:Q")
    )
    return lines + diagonal


def calibration_section(reliability: dict) -> None:
    calibration = reliability["holdout"]["calibration"]
    calibrator = reliability.get("calibrator") or {}
    before, after = calibration["before"], calibration["after"]
    used = calibrator.get("kind", "none") != "none"
    st.markdown("##### Are the probabilities honest?")
    left, right = st.columns(2)
    left.metric("Calibration error (ECE)", f"{after['ece']:.3f}",
                f"{after['ece'] - before['ece']:+.3f}" if used else None, delta_color="inverse")
    right.metric("Log loss", f"{after['log_loss']:.4f}",
                 f"{after['log_loss'] - before['log_loss']:+.4f}" if used else None,
                 delta_color="inverse")
    if used:
        st.caption(components.plain(
            f"A {calibrator['kind']} calibrator is applied to every prediction: "
            f"{calibrator.get('why', '')}. On held-out rows: ECE {before['ece']:.3f} → "
            f"{after['ece']:.3f}, log loss {before['log_loss']:.4f} → {after['log_loss']:.4f}."))
    else:
        st.caption(components.plain(
            f"No calibrator is applied: {calibrator.get('why', 'none helped on validation rows')}."))
    about = before["curve"].get("about", "positive class")
    st.caption(f"Each point: held-out rows grouped by the predicted probability of the {about}; "
               "on the dashed line the probabilities are honest.")
    components.show_chart(calibration_chart(calibration), "No calibration curve was stored.")
