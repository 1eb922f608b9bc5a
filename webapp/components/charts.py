"""Altair chart builders: each takes plain data (dicts, lists, a DataFrame) and returns an
alt.Chart, or None when there is nothing to draw. No Streamlit here, so tests call them directly;
`widgets.show_chart` puts one on a page."""

from __future__ import annotations

import altair as alt
import pandas as pd

from core.metrics import display_name, greater_is_better

from .formatting import fmt_number

CHART_HEIGHT = 260


BAR_STEP = 26  # pixels per bar in horizontal bar charts, so every label fits


LABEL_LIMIT = 280


def histogram_chart(column: dict) -> alt.Chart | None:
    bins = column.get("histogram")
    if not bins:
        return None
    data = pd.DataFrame(bins, columns=["left", "right", "count"])
    return (
        alt.Chart(data, height=CHART_HEIGHT // 2)
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X("left:Q", bin="binned", title=column["name"]),
            x2="right:Q",
            y=alt.Y("count:Q", title="rows"),
            tooltip=[
                alt.Tooltip("left:Q", format=".3g"),
                alt.Tooltip("right:Q", format=".3g"),
                "count:Q",
            ],
        )
    )


def top_values_chart(column: dict) -> alt.Chart | None:
    values = column.get("top_values")
    if not values:
        return None
    data = pd.DataFrame(values[:12], columns=["value", "count"])
    return _ranked_bars(data, x=alt.X("count:Q", title="rows"), label="value:N",
                        color="#72b7b2", tooltip=["value:N", "count:Q"])


def _ranked_bars(data: pd.DataFrame, *, x: alt.X, label: str, color: str, tooltip: list) -> alt.Chart:
    """Horizontal bars, largest first, one labelled row per bar."""
    return (
        alt.Chart(data, height=alt.Step(BAR_STEP))
        .mark_bar(color=color)
        .encode(x=x, y=alt.Y(label, sort="-x", title=None), tooltip=tooltip)
    )


def missing_values_chart(profile: dict) -> alt.Chart | None:
    rows = [
        {"column": c["name"], "missing": c.get("missing_share", 0.0)}
        for c in profile.get("column_profiles", [])
        if c.get("missing_share", 0) > 0
    ]
    if not rows:
        return None
    data = pd.DataFrame(rows)
    return (
        alt.Chart(data, height=alt.Step(BAR_STEP))
        .mark_bar(color="#e45756")
        .encode(
            x=alt.X(
                "missing:Q",
                axis=alt.Axis(format="%"),
                title="share of rows missing",
                scale=alt.Scale(domain=[0, 1]),
            ),
            y=alt.Y("column:N", sort="-x", title=None),
            tooltip=["column:N", alt.Tooltip("missing:Q", format=".1%")],
        )
    )


def target_relation_chart(frame: pd.DataFrame, column: str, target: str) -> alt.Chart | None:
    """How one column relates to the target: the picture depends on both kinds."""
    data = frame[[column, target]].dropna()
    if data.empty or column == target:
        return None
    numeric_x = pd.api.types.is_numeric_dtype(data[column]) and data[column].nunique() > 10
    numeric_y = pd.api.types.is_numeric_dtype(data[target]) and data[target].nunique() > 10
    data = data.sample(min(len(data), 3000), random_state=0)
    if numeric_x and numeric_y:
        return (
            alt.Chart(data, height=CHART_HEIGHT)
            .mark_circle(opacity=0.4)
            .encode(x=alt.X(f"{column}:Q"), y=alt.Y(f"{target}:Q"))
        )
    if numeric_x:  # distribution of the column per target class
        data[target] = data[target].astype(str)
        return (
            alt.Chart(data, height=CHART_HEIGHT)
            .mark_boxplot()
            .encode(
                x=alt.X(f"{column}:Q"),
                y=alt.Y(f"{target}:N"),
                color=alt.Color(f"{target}:N", legend=None),
            )
        )
    data[column] = data[column].astype(str)
    top = data[column].value_counts().index[:15]
    data = data[data[column].isin(top)]
    if numeric_y:
        return (
            alt.Chart(data, height=CHART_HEIGHT)
            .mark_boxplot()
            .encode(x=alt.X(f"{target}:Q"), y=alt.Y(f"{column}:N"))
        )
    data[target] = data[target].astype(str)
    return (
        alt.Chart(data, height=CHART_HEIGHT)
        .mark_bar()
        .encode(
            x=alt.X(
                "count():Q", stack="normalize", axis=alt.Axis(format="%"), title="share of rows"
            ),
            y=alt.Y(f"{column}:N"),
            color=alt.Color(f"{target}:N"),
            tooltip=[f"{column}:N", f"{target}:N", "count():Q"],
        )
    )


def confusion_chart(confusion: dict) -> alt.Chart:
    labels = confusion["labels"]
    rows = [
        {"actual": labels[i], "predicted": labels[j], "rows": int(n)}
        for i, row in enumerate(confusion["matrix"])
        for j, n in enumerate(row)
    ]
    data = pd.DataFrame(rows)
    base = alt.Chart(data, height=max(CHART_HEIGHT, 40 * len(labels))).encode(
        x=alt.X("predicted:N", sort=labels, axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("actual:N", sort=labels),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("rows:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=["actual", "predicted", "rows"],
    )
    # a precomputed colour column: alt.condition costs most of a second of schema work per run
    data["ink"] = ["white" if n > data["rows"].max() / 2 else "black" for n in data["rows"]]
    text = base.mark_text(fontSize=14).encode(text="rows:Q", color=alt.Color("ink:N", scale=None))
    # two colour scales (blues for the cells, black/white for the numbers) must not merge
    return (heat + text).resolve_scale(color="independent")


def curve_chart(curves: dict, kind: str) -> alt.Chart | None:
    """ROC ('roc') or precision-recall ('precision_recall') curves, one line per class."""
    x, y = ("fpr", "tpr") if kind == "roc" else ("recall", "precision")
    rows = []
    for cls, data in curves.items():
        points = data.get(kind) or {}
        rows += [{"class": cls, x: a, y: b} for a, b in zip(points.get(x, []), points.get(y, []))]
    if not rows:
        return None
    titles = {
        "fpr": "false positive rate",
        "tpr": "true positive rate",
        "recall": "recall",
        "precision": "precision",
    }
    lines = (
        alt.Chart(pd.DataFrame(rows), height=CHART_HEIGHT)
        .mark_line()
        .encode(
            x=alt.X(f"{x}:Q", title=titles[x], scale=alt.Scale(domain=[0, 1])),
            y=alt.Y(f"{y}:Q", title=titles[y], scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("class:N"),
            order=alt.Order(f"{x}:Q"),
        )
    )
    if kind == "roc":
        diagonal = (
            alt.Chart(pd.DataFrame({x: [0, 1], y: [0, 1]}))
            .mark_line(strokeDash=[4, 4], color="gray")
            .encode(x=f"{x}:Q", y=f"{y}:Q")
        )
        return lines + diagonal
    return lines


def residual_chart(residuals: dict) -> alt.Chart | None:
    sample = residuals.get("sample") or {}
    if not sample.get("actual"):
        return None
    data = pd.DataFrame(sample)
    return alt.Chart(data, height=CHART_HEIGHT).mark_circle(opacity=0.5).encode(
        x=alt.X("predicted:Q", scale=alt.Scale(zero=False)),
        y=alt.Y("residual:Q", title="actual − predicted"),
        tooltip=["actual:Q", "predicted:Q", "residual:Q"],
    ) + alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="gray").encode(y="y:Q")


def actual_vs_predicted_chart(residuals: dict) -> alt.Chart | None:
    sample = residuals.get("sample") or {}
    if not sample.get("actual"):
        return None
    data = pd.DataFrame(sample)
    low, high = (
        float(data[["actual", "predicted"]].min().min()),
        float(data[["actual", "predicted"]].max().max()),
    )
    return alt.Chart(data, height=CHART_HEIGHT).mark_circle(opacity=0.5).encode(
        x=alt.X("actual:Q", scale=alt.Scale(domain=[low, high])),
        y=alt.Y("predicted:Q", scale=alt.Scale(domain=[low, high])),
    ) + alt.Chart(pd.DataFrame({"actual": [low, high], "predicted": [low, high]})).mark_line(
        strokeDash=[4, 4], color="gray"
    ).encode(x="actual:Q", y="predicted:Q")


def importance_chart(importance: list[dict], top: int = 15) -> alt.Chart | None:
    if not importance:
        return None
    return _ranked_bars(
        pd.DataFrame(importance[:top]),
        x=alt.X("mean_abs_shap:Q", title="mean |SHAP| (average effect on the prediction)"),
        label="column:N", color="#4c78a8",
        tooltip=["column:N", alt.Tooltip("mean_abs_shap:Q", format=".4g")],
    )


def contribution_chart(contributions: list[dict], top: int = 12) -> alt.Chart | None:
    """One prediction explained: how each input pushed it up (blue) or down (red)."""
    if not contributions:
        return None
    data = pd.DataFrame(contributions[:top])
    data["label"] = [
        f"{c} = {fmt_number(v) if isinstance(v, float) else v}"
        for c, v in zip(data["column"], data["value"])
    ]
    data["direction"] = ["raises" if c >= 0 else "lowers" for c in data["contribution"]]
    return (
        alt.Chart(data, height=alt.Step(BAR_STEP))
        .mark_bar()
        .encode(
            x=alt.X("contribution:Q", title="effect on this prediction"),
            y=alt.Y(
                "label:N",
                sort=alt.EncodingSortField("contribution", op="max", order="descending"),
                title=None,
                axis=alt.Axis(labelLimit=LABEL_LIMIT),
            ),
            color=alt.Color(
                "direction:N",
                scale=alt.Scale(domain=["raises", "lowers"], range=["#4c78a8", "#e45756"]),
            ),
            tooltip=["column:N", "value:N", alt.Tooltip("contribution:Q", format=".4g")],
        )
    )


def probability_chart(probabilities: dict) -> alt.Chart | None:
    if not probabilities:
        return None
    data = pd.DataFrame({"class": list(probabilities), "probability": list(probabilities.values())})
    return (
        alt.Chart(data, height=alt.Step(BAR_STEP))
        .mark_bar()
        .encode(
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            y=alt.Y("class:N", sort="-x", title=None),
            tooltip=["class:N", alt.Tooltip("probability:Q", format=".1%")],
        )
    )


def leaderboard_chart(frame: pd.DataFrame, metric: str, *, marked: bool = False) -> alt.Chart | None:
    """The leaderboard's top 20 scored trials as dots on the metric's axis; with `marked`, the
    shipped ones (a non-empty 'shipped' column) solid and the rest faded."""
    scored = frame.dropna(subset=["value"]).head(20)
    if scored.empty:
        return None
    try:
        better = "higher" if greater_is_better(metric) else "lower"
    except Exception:  # an unknown metric name from an older plan
        better = "higher"
    return (
        alt.Chart(scored, height=alt.Step(BAR_STEP))
        .mark_circle(size=140)
        .encode(
            # dots on an axis that is not from zero: 0.979 and 0.990 must look different
            x=alt.X(
                "value:Q",
                title=f"validation {display_name(metric)} ({better} is better)",
                scale=alt.Scale(zero=False, nice=False, padding=8),
            ),
            y=alt.Y(
                "trial:N", sort=alt.EncodingSortField("score", order="descending"), title=None
            ),
            color=alt.Color("model family:N", legend=alt.Legend(orient="bottom")),
            opacity=alt.condition(alt.datum.shipped != "", alt.value(1.0), alt.value(0.45))
            if marked else alt.value(1.0),
            tooltip=[
                "trial:N",
                "model family:N",
                alt.Tooltip("value:Q", format=".4g"),
                "seconds:Q",
            ],
        )
    )
