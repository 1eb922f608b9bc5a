"""The proposed plan as an editable form (plan_editor), the pure step that turns the form's
values into a validated plan (plan_from_edits), and the read-only summary (plan_summary)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from core.errors import invalid_plan
from core.metrics import display_name
from workspace.settings import get_settings

from .formatting import plain
from .widgets import editor, table


def plan_parts(plan: dict | None) -> tuple[dict, dict]:
    """(spec, search) dicts from a stored plan (either key name for the search part)."""
    plan = plan or {}
    return plan.get("spec") or {}, plan.get("search") or plan.get("search_plan") or {}


def plan_editor(
    plan: dict | None, columns: list[str], *, key: str, budget: float, disabled: bool = False,
    revision: str = "",
) -> dict | None:
    """The proposed plan as an editable form. Returns {'spec', 'search', 'budget_seconds'}
    (validated pydantic objects) or None when the edits are not valid yet (and says why).
    `revision` changes when the stored columns change, so the column table starts afresh."""
    from core import metrics
    from core.registry import REGISTRY
    from core.spec import ExclusionReason, TaskType

    spec, search = plan_parts(plan)
    target_default = spec.get("target") if spec.get("target") in columns else columns[0]
    left, right = st.columns(2)
    target = left.selectbox(
        "Target (what to predict)",
        columns,
        index=columns.index(target_default),
        key=f"{key}-target",
        disabled=disabled,
    )
    tasks = [t.value for t in TaskType]
    task = right.selectbox(
        "Task",
        tasks,
        index=tasks.index(spec.get("task_type", "binary")) if spec.get("task_type") in tasks else 0,
        key=f"{key}-task",
        disabled=disabled,
        help="binary: two classes; multiclass: more; regression: a number",
    )
    metric_names = metrics.metrics_for(task)
    metric_default = (
        spec.get("metric") if spec.get("metric") in metric_names else metrics.DEFAULT_METRIC[task]
    )
    metric = left.selectbox(
        "Metric",
        metric_names,
        index=metric_names.index(metric_default),
        format_func=metrics.display_name,
        key=f"{key}-metric",
        disabled=disabled,
    )
    positive = None
    if task == "binary":
        positive = (
            right.text_input(
                "Positive class (optional)",
                value=spec.get("positive_class") or "",
                key=f"{key}-positive",
                disabled=disabled,
            )
            or None
        )
    lowest, highest = get_settings().min_budget_seconds, get_settings().max_budget_seconds
    budget_seconds = right.number_input(
        "Time budget (seconds)",
        min_value=float(lowest),
        max_value=float(highest),
        value=float(min(max(budget, lowest), highest)),  # the bounds may have changed since
        step=5.0,
        format="%.0f",
        key=f"{key}-budget",
        disabled=disabled,
    )

    excluded = {e["column"]: e for e in spec.get("excluded", [])}
    reasons = [r.value for r in ExclusionReason]
    rows = [
        {
            "column": c,
            "use": c not in excluded,
            # a kept column has no reason: an empty cell, drawn as "—"
            "reason if left out": excluded[c]["reason"] if c in excluded else None,
            "detail": excluded.get(c, {}).get("detail") or None,
        }
        for c in columns
        if c != target
    ]
    st.markdown("**Columns** — untick a column to leave it out, and say why.")
    edited = editor(
        pd.DataFrame(rows),
        key=f"{key}-columns{revision}",
        hide_index=True,
        width="stretch",
        disabled=disabled or ["column"],
        column_config={
            "use": st.column_config.CheckboxColumn("use", width="small"),
            "reason if left out": st.column_config.SelectboxColumn(options=reasons),
            "detail": st.column_config.TextColumn(width="large"),
        },
    )
    families_default = list(
        dict.fromkeys(
            c["estimator"] for c in search.get("candidates", []) if c.get("estimator") in REGISTRY
        )
    )
    families = st.multiselect(
        "Model families to try",
        list(REGISTRY),
        default=families_default or ["catboost"],
        key=f"{key}-families",
        disabled=disabled,
    )
    rows_now = edited.to_dict("records")
    used = kept_columns(rows_now)
    validation = (_validation_editor(spec, used, key=key, disabled=disabled)
                  if families and used else None)
    result = plan_from_edits(plan, target=target, task=task, metric=metric,
                             positive_class=positive, budget_seconds=budget_seconds,
                             column_rows=rows_now, families=families, validation=validation)
    if isinstance(result, str):
        st.warning(plain(result))
        return None
    return result


def kept_columns(column_rows: list[dict]) -> list[str]:
    """The columns the user keeps as inputs, from the column table's rows."""
    return [r["column"] for r in column_rows if r["use"]]


def _filled(cell: Any) -> Any:
    """A table cell's value, or None when it is empty (the editor gives None or NaN)."""
    return None if cell is None or (isinstance(cell, float) and math.isnan(cell)) or cell == "" \
        else cell


def plan_from_edits(
    plan: dict | None, *, target: str, task: str, metric: str, positive_class: str | None,
    budget_seconds: float, column_rows: list[dict], families: list[str],
    validation: dict | None = None,
) -> dict | str:
    """The plan editor's values as a validated plan: {'spec', 'search', 'budget_seconds'}
    (pydantic objects), or one sentence saying what to fix. `column_rows` are the column
    table's rows ('column', 'use', 'reason if left out', 'detail'); `plan` is the stored plan
    the edits start from (its exclusion grades, restored columns, candidates and notes carry
    over). No widgets: the form calls it, and so do the tests."""
    from core.spec import Candidate, Exclusion, ExclusionReason, SearchPlan, TaskSpec

    spec, search = plan_parts(plan)
    if not families:
        return "Choose at least one model family."
    used = kept_columns(column_rows)
    if not used:
        return "Keep at least one column as an input to the model."
    excluded = {e["column"]: e for e in spec.get("excluded", [])}
    was_suspect = {c for c, e in excluded.items() if e.get("grade") == "suspect"}
    restored = [c for c in used if c in was_suspect or c in spec.get("restored", [])]
    kept = [c for c in search.get("candidates", []) if c.get("estimator") in families]
    added = [
        Candidate(estimator=f, why="added by the user")
        for f in families
        if f not in {c["estimator"] for c in kept}
    ]
    try:
        exclusions = [
            Exclusion(
                column=r["column"],
                reason=ExclusionReason(_filled(r["reason if left out"]) or ExclusionReason.USER_CHOICE),
                detail=str(_filled(r["detail"]) or ""),
                grade=excluded.get(r["column"], {}).get("grade"),
            )
            for r in column_rows
            if not r["use"]
        ]
        new_spec = TaskSpec(
            target=target,
            task_type=task,
            metric=metric,
            positive_class=positive_class,
            feature_columns=used,
            excluded=exclusions,
            text_columns=[c for c in spec.get("text_columns", []) if c in used],
            datetime_columns=[c for c in spec.get("datetime_columns", []) if c in used],
            rationale=spec.get("rationale", ""),
            validation=validation or spec.get("validation") or {"kind": "random"},
            restored=restored,
            review_notes=spec.get("review_notes", []),
        )
        new_search = SearchPlan(
            candidates=[Candidate.model_validate(c) for c in kept] + added,
            validation=search.get("validation", "auto"),
            budget_seconds=budget_seconds,
            ensemble=search.get("ensemble", True),
            rationale=search.get("rationale", ""),
        )
    except ValidationError as exc:  # the user's edit broke a rule: say which field
        return str(invalid_plan(exc))
    return {"spec": new_spec, "search": new_search, "budget_seconds": float(budget_seconds)}


_VALIDATION_LABELS = {
    "random": "random rows",
    "group": "grouped: each value of a column on one side",
    "time": "by time: latest rows held out, folds forward in time",
}


def _validation_editor(spec: dict, used: list[str], *, key: str, disabled: bool) -> dict:
    """How held-out rows and folds are drawn, as the review proposed it, editable."""
    current = spec.get("validation") or {}
    kinds = list(_VALIDATION_LABELS)
    kind_now = current.get("kind") if current.get("kind") in kinds else "random"
    left, right = st.columns(2)
    kind = left.selectbox("Validation split", kinds, index=kinds.index(kind_now),
                          format_func=_VALIDATION_LABELS.get, key=f"{key}-validation",
                          disabled=disabled, help=current.get("why") or None)
    if kind == "random":
        return {"kind": "random", "why": current.get("why", "") if kind_now == kind else
                "Chosen in the plan editor."}
    options = list(dict.fromkeys([c for c in [current.get("column")] if c] + used))
    column = right.selectbox("Split on column", options, key=f"{key}-validation-column",
                             disabled=disabled)
    same = kind == kind_now and column == current.get("column")
    return {"kind": kind, "column": column,
            "why": current.get("why", "") if same else "Chosen in the plan editor."}


def plan_summary(plan: dict | None) -> None:
    """A read-only plan: for builds that are already approved."""
    spec, search = plan_parts(plan)
    if not spec:
        st.caption("No plan yet.")
        return
    cols = st.columns(4)
    cols[0].metric("Target", plain(spec.get("target", "—")))  # a metric's value is Markdown
    cols[1].metric("Task", spec.get("task_type", "—"))
    cols[2].metric("Metric", display_name(spec["metric"]) if spec.get("metric") else "—")
    cols[3].metric("Budget", f"{search.get('budget_seconds', 0):.0f} s")
    if spec.get("excluded"):
        table(pd.DataFrame(spec["excluded"]), hide_index=True, width="stretch")
    families = sorted({c["estimator"] for c in search.get("candidates", [])})
    st.caption("Model families: " + (", ".join(families) or "—"))
    for note in spec.get("review_notes") or []:  # holds column names
        st.caption(plain(note))
    if spec.get("rationale") or search.get("rationale"):  # may be an LLM's words
        st.caption(plain(" ".join(x for x in (spec.get("rationale"), search.get("rationale")) if x)))
