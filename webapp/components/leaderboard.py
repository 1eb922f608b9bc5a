"""The leaderboard: trials best first, with what shipped marked once the version exists."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.metrics import display_name

from .charts import leaderboard_chart
from .formatting import val
from .widgets import table


def leaderboard_frame(trials: list) -> pd.DataFrame:
    """Trials as a table, best first; `value` is the metric as people read it."""
    from core.metrics import to_value

    rows = []
    for t in trials:
        score, metric = val(t, "score"), val(t, "metric", "")
        try:
            value = to_value(metric, score) if score is not None else None
        except Exception:  # an unknown metric name from an older plan
            value = score
        rows.append(
            {
                "trial": val(t, "trial_key") or val(t, "trial_id", ""),
                "model family": val(t, "estimator", ""),
                "metric": display_name(metric) if metric else "",
                "value": value,
                "score": score,
                "seconds": round(float(val(t, "seconds", 0) or 0), 1),
                "status": val(t, "status", ""),
                "error": val(t, "error") or "",
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=["trial", "model family", "metric", "value", "score", "seconds", "status", "error"],
    )
    return frame.sort_values("score", ascending=False, na_position="last").reset_index(drop=True)


def shipped_share(ensemble: dict | None) -> dict[str, float]:
    """Trial id -> its share of the shipped model: the ensemble's weights when an ensemble
    shipped, else 1.0 for the single best trial. Empty before a model exists."""
    if not ensemble:
        return {}
    if ensemble.get("used"):
        weights = {str(k): float(v) for k, v in (ensemble.get("weights") or {}).items() if v}
        total = sum(weights.values()) or 1.0
        return {k: w / total for k, w in weights.items()}
    best = (ensemble.get("best_single") or {}).get("trial_id")
    return {str(best): 1.0} if best else {}


def shipped_sentence(frame: pd.DataFrame, share: dict[str, float]) -> str:
    families = dict(zip(frame["trial"], frame["model family"], strict=True))
    if len(share) == 1:
        [(trial, _)] = share.items()
        return f"Shipped: the single best model, trial {trial} ({families.get(trial, '?')})."
    parts = ", ".join(f"{families.get(t, '?')} {t} {w:.0%}"
                      for t, w in sorted(share.items(), key=lambda kv: -kv[1]))
    return f"Shipped: a weighted average of {len(share)} models ({parts})."


def leaderboard(trials: list, *, key: str = "leaderboard", ensemble: dict | None = None) -> None:
    """Trials best first; with `ensemble` (a finished version's), what shipped is marked."""
    frame = leaderboard_frame(trials)
    if frame.empty:
        st.caption("No trials yet.")
        return
    share = shipped_share(ensemble)
    if share:  # known once the version exists
        frame.insert(1, "shipped", [f"{share[t]:.0%}" if t in share else "" for t in frame["trial"]])
        st.markdown(shipped_sentence(frame, share))
    chart = leaderboard_chart(frame, str(val(trials[0], "metric", "")), marked=bool(share))
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    table(
        frame.drop(columns=["score"]),
        hide_index=True,
        width="stretch",
        key=key,
        column_config={"value": st.column_config.NumberColumn(format="%.4f")},
    )
