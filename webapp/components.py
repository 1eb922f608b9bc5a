"""Shared widgets for the pages: error display, the current project, the plan editor, the
leaderboard, metric tables and the charts (altair).

Pages lay out widgets and call the workspace layer; anything two pages need lives here.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from core.errors import BriefmlError, invalid_plan
from core.metrics import display_name
from core.runtime import BundleIntegrityError, ExplanationError, SchemaError
from core.tableread import TableReadError
from workspace import datasets, projects, versions
from workspace.accounts import AccountError
from workspace.builds import BuildStateError
from workspace.permissions import Forbidden, NotFound, NotSignedIn, allows
from workspace.projects import ConfirmationRequired, MembershipError, ProjectNameError
from workspace.runtime import DatabaseUnavailable
from workspace.settings import get_settings

log = logging.getLogger("briefml.webapp")

# Exceptions whose message is already a sentence for the user (the workspace and engine
# word them that way), named one by one: a KeyError or ValueError from a bug is not one of
# them, and gets a generic sentence with a log id instead of its raw text.
USER_ERRORS = (
    BriefmlError,
    NotFound,
    Forbidden,
    DatabaseUnavailable,
    AccountError,
    BuildStateError,
    ConfirmationRequired,
    MembershipError,
    ProjectNameError,
    SchemaError,
    BundleIntegrityError,
    ExplanationError,
    TableReadError,
)

PROJECT_KEY = "project_id"
CHART_HEIGHT = 260
BAR_STEP = 26  # pixels per bar in horizontal bar charts, so every label fits
LABEL_LIMIT = 280


# --------------------------------------------------------------------------- values


def val(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a workspace result, whether it is a dict or an object."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def fmt_number(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


_MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$&])")
_WORD_JOINER = "\u2060"  # invisible; splits what the front end would turn into a link or icon


def plain(text: Any) -> str:
    """Text from users, files or an LLM, made safe to put inside Markdown: shown as written,
    never as a link, image, icon, code span, heading or formula. (Escaping alone is not
    enough: the front end still links bare addresses and draws :icon: names, so those
    get an invisible word joiner.)"""
    text = _MARKDOWN_SYNTAX.sub(r"\\\1", str(text))
    text = text.replace("@", f"{_WORD_JOINER}@{_WORD_JOINER}").replace(":", f":{_WORD_JOINER}")
    return text.replace("www\\.", f"www{_WORD_JOINER}\\.")


def file_size(n_bytes: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:,.0f} {unit}" if unit == "bytes" else f"{n_bytes:,.1f} {unit}"
        n_bytes /= 1024
    return ""


def viewer_timezone() -> ZoneInfo | None:
    """The browser's time zone (None without a browser, e.g. in AppTest: times stay UTC)."""
    try:
        name = st.context.timezone
        return ZoneInfo(name) if name else None
    except Exception:  # noqa: BLE001 - no browser, or a zone name this machine does not know
        return None


def local_time(value: datetime) -> datetime:
    """A stored (UTC) time in the viewer's own zone; a naive time is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    zone = viewer_timezone()
    return value.astimezone(zone) if zone else value.astimezone(UTC)


def when(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as the viewer reads it: their zone, no UTC offset; '—' when there is none."""
    if isinstance(value, datetime):
        return local_time(value).strftime(fmt)
    return str(value) if value else "—"


# --------------------------------------------------------------------------- errors


def error_sentence(exc: BaseException) -> str:
    """What to tell the user about an exception, in words."""
    if isinstance(exc, NotSignedIn):
        return "Your session has ended. Sign in again to continue."
    if isinstance(exc, USER_ERRORS) and str(exc).strip():
        return str(exc).strip()
    log_id = uuid.uuid4().hex[:12]
    log.error("Unexpected error in the web app [log id %s]", log_id, exc_info=exc)
    return (
        f"Something went wrong on the server (log id {log_id}). Try again; if it keeps "
        "happening, give the log id to whoever runs briefml: the server log has the details."
    )


@contextmanager
def shown_errors(*, stop: bool = False) -> Iterator[None]:
    """Run a workspace call; if it fails, show why in words (and stop the page if asked).

    Streamlit's own control flow (st.stop, st.rerun) derives from BaseException and passes.
    """
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
        st.error(plain(error_sentence(exc)), icon=":material/error:")  # may quote names
        if stop:
            st.stop()


# --------------------------------------------------------------------------- project context


def query_id(name: str) -> uuid.UUID | None:
    """An id from the URL (e.g. ?version=...), or None if absent or malformed."""
    return as_uuid(st.query_params.get(name))


def url_picker(label: str, options: list, *, param: str, key: str, what: str,
               format_func=str, default: Any = None) -> Any:
    """A select box whose choice lives in the URL (?param=id), so links, reloads and picks
    agree: the URL's id wins over what the widget remembers from an earlier run, a pick
    rewrites the URL first (in the callback), and an id that is not among the options is
    said to be so instead of silently showing something else. `options` are ids."""
    wanted = query_id(param)
    if st.query_params.get(param) and wanted not in options:
        st.warning(
            f"The link names a {what} that is not in this project (or no longer exists); "
            f"showing another {what} instead.",
            icon=":material/link_off:",
        )
    fallback = default if default in options else options[0]
    st.session_state[key] = wanted if wanted in options else fallback

    def picked() -> None:
        st.query_params[param] = str(st.session_state[key])

    chosen = st.selectbox(label, options, key=key, format_func=format_func, on_change=picked)
    st.query_params[param] = str(chosen)
    return chosen


def current_project_id() -> uuid.UUID | None:
    """The open project: from ?project= (links, reloads) or from this tab's choice."""
    from_url = query_id("project")
    if from_url is not None:
        st.session_state[PROJECT_KEY] = from_url
    return st.session_state.get(PROJECT_KEY)


def open_project(project_id: uuid.UUID) -> None:
    st.session_state[PROJECT_KEY] = project_id
    st.query_params["project"] = str(project_id)


def require_project(actor) -> tuple[Any, Any]:
    """The open project and the actor's role in it, or an empty state / an error and stop.

    A project the actor is not a member of is "not found", whatever the URL says."""
    project_id = current_project_id()
    if project_id is None:
        st.info(
            "Open a project first: choose one on the **Projects** page.", icon=":material/folder:"
        )
        st.page_link(page("projects"), label="Go to Projects", icon=":material/folder:")
        st.stop()
    try:
        project = projects.get_project(actor=actor, project_id=project_id)
        role = projects.project_role(actor=actor, project_id=project_id)
    except Exception as exc:  # noqa: BLE001 - shown in words
        st.session_state.pop(PROJECT_KEY, None)
        st.error(plain(error_sentence(exc)), icon=":material/error:")  # may quote names
        st.page_link(page("projects"), label="Go to your projects", icon=":material/folder:")
        st.stop()
    st.caption(f"Project **{plain(project.name)}** · your role: {role.value}")
    return project, role


def can(role, action) -> bool:
    return allows(role, action)


# --------------------------------------------------------------------------- navigation

_PAGES: dict[str, Any] = {}


def register_pages(pages: dict[str, Any]) -> None:
    """app.py hands over its st.Page objects so pages can link to each other by name."""
    _PAGES.clear()
    _PAGES.update(pages)


def page(name: str) -> Any:
    """The st.Page for a name (falls back to its file path when app.py is not the entry)."""
    return _PAGES.get(name, f"views/{name}.py")


def go(name: str, **params: Any) -> None:
    """Switch to another page, carrying the open project and any ids in the URL."""
    query = {k: str(v) for k, v in params.items() if v is not None}
    project_id = st.session_state.get(PROJECT_KEY)
    if project_id is not None:
        query.setdefault("project", str(project_id))
    st.switch_page(page(name), query_params=query)


def empty_state(message: str, *, icon: str = ":material/inbox:") -> None:
    st.info(message, icon=icon)


# --------------------------------------------------------------------------- data


@st.cache_data(ttl=300, max_entries=8, show_spinner=False)
def _dataset_frame(user_id: str, dataset_id: str) -> pd.DataFrame:
    return datasets.load_dataset_frame(actor=_actors[user_id], dataset_id=dataset_id)


_actors: dict[str, Any] = {}


def dataset_frame(actor, dataset_id) -> pd.DataFrame:
    """A dataset's table, cached per user for a few minutes (dataset versions never change,
    and reading a large file again on every click would be slow). The cache key holds the
    user, so one user's cached read never answers another's permission check."""
    _actors[str(actor.user_id)] = actor
    return _dataset_frame(str(actor.user_id), str(dataset_id))


# --------------------------------------------------------------------------- data profile charts


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


def show_chart(chart: alt.Chart | None, empty: str = "Nothing to draw.") -> None:
    if chart is None:
        st.caption(empty)
    else:
        st.altair_chart(chart, width="stretch")


def findings_list(findings: list | None, *, empty: str = "No data-check findings.") -> None:
    """Data-check findings, worst first, each as a coloured sentence."""
    if not findings:
        st.success(empty, icon=":material/check_circle:")
        return
    order = {"error": 0, "warning": 1, "info": 2}
    for finding in sorted(findings, key=lambda f: order.get(str(val(f, "severity")), 3)):
        severity = str(val(finding, "severity", "info"))
        columns = val(finding, "columns") or []
        text = plain(val(finding, "message", ""))
        if columns:
            text += "  \n*Columns:* " + ", ".join(f"'{plain(c)}'" for c in columns[:12])
        {"error": st.error, "warning": st.warning}.get(severity, st.info)(text)


# --------------------------------------------------------------------------- review


_GRADE_ORDER = {"certain leak": 0, "suspect": 1, "strong but plausible": 2}


def _evidence_words(evidence: dict) -> str:
    numbers = []
    if "auc" in evidence:
        numbers.append(f"AUC {evidence['auc']:.3f}")
    if "agreement" in evidence:
        numbers.append(f"agreement {evidence['agreement']:.1%}")
    if "majority" in evidence:
        numbers.append(f"always guessing the commonest class agrees {evidence['majority']:.1%}")
    if "r2" in evidence:
        numbers.append(f"R² {evidence['r2']:.3f}")
    signs = evidence.get("signs") or []
    numbers.append(f"{len(signs)} sign(s) of a leak besides its power" if signs else
                   "no other sign of a leak")
    return "; ".join(numbers)


def review_section(plan: dict | None, *, key: str, disabled: bool = False) -> dict | None:
    """The pre-training review as one section of the plan: each graded column with its
    evidence and a use / leave-out switch. Returns the spec fields to change when a switch
    was flipped (restored suspects, columns the user leaves out), else None."""
    spec, _ = plan_parts(plan)
    graded = [f for f in (plan or {}).get("findings") or [] if val(f, "grade")]
    st.markdown("**Review before training**")
    validation = spec.get("validation") or {}
    for note in spec.get("review_notes") or []:  # names columns: data, shown as written
        st.caption(plain(note))
    if not graded:
        st.caption("No column predicts the target suspiciously well on its own.")
        return None
    features = list(spec.get("feature_columns") or [])
    excluded = {e["column"]: e for e in spec.get("excluded") or []}
    restored = list(spec.get("restored") or [])
    change = None
    for finding in sorted(graded, key=lambda f: _GRADE_ORDER.get(str(val(f, "grade")), 3)):
        grade = str(val(finding, "grade"))
        for column in val(finding, "columns") or []:
            used = column in features
            box = {"certain leak": st.error, "suspect": st.warning}.get(grade, st.info)
            state = " · put back by you" if column in restored else ""
            box(f"**{plain(column)}** · {grade}{state}  \n{plain(val(finding, 'message', ''))}"
                f"  \n*Evidence:* {plain(_evidence_words(val(finding, 'evidence') or {}))}")
            wanted = st.toggle(
                f"Use '{plain(column)}' as an input",
                value=used,
                key=f"{key}-review-{column}",
                disabled=disabled or grade == "certain leak",
                help=("A certain leak always stays out." if grade == "certain leak" else
                      "Put it back only if its value is known when you predict."),
            )
            if wanted != used and change is None:
                change = _review_change(spec, column, wanted, grade, features, excluded, restored)
    if validation.get("kind") in ("group", "time"):
        st.caption(f"Held-out rows and folds: {validation['kind']} split on "
                   f"'{plain(validation.get('column'))}'.")
    return change


def _review_change(spec: dict, column: str, wanted: bool, grade: str, features: list,
                   excluded: dict, restored: list) -> dict:
    if wanted:
        return {
            "restored": [*restored, column] if grade == "suspect" else restored,
            "feature_columns": [*features, column],
            "excluded": [e for c, e in excluded.items() if c != column],
        }
    return {
        "restored": [c for c in restored if c != column],
        "feature_columns": [c for c in features if c != column],
        "excluded": [*excluded.values(), {"column": column, "reason": "left out by the user",
                                          "detail": "Left out in the review."}],
    }


# --------------------------------------------------------------------------- plan editor


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
    from core.spec import Candidate, Exclusion, ExclusionReason, SearchPlan, TaskSpec, TaskType

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
            "reason if left out": (excluded[c]["reason"] if c in excluded else ""),
            "detail": excluded.get(c, {}).get("detail", ""),
        }
        for c in columns
        if c != target
    ]
    st.markdown("**Columns** — untick a column to leave it out, and say why.")
    edited = st.data_editor(
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
    if not families:
        st.warning("Choose at least one model family.")
        return None
    used = [r["column"] for r in edited.to_dict("records") if r["use"]]
    if not used:
        st.warning("Keep at least one column as an input to the model.")
        return None
    exclusions = [
        Exclusion(
            column=r["column"],
            reason=ExclusionReason(r["reason if left out"] or ExclusionReason.USER_CHOICE),
            detail=str(r["detail"] or ""),
            grade=excluded.get(r["column"], {}).get("grade"),
        )
        for r in edited.to_dict("records")
        if not r["use"]
    ]
    was_suspect = {c for c, e in excluded.items() if e.get("grade") == "suspect"}
    restored = [c for c in used if c in was_suspect or c in spec.get("restored", [])]
    validation = _validation_editor(spec, used, key=key, disabled=disabled)
    kept = [c for c in search.get("candidates", []) if c.get("estimator") in families]
    added = [
        Candidate(estimator=f, why="added by the user")
        for f in families
        if f not in {c["estimator"] for c in kept}
    ]
    with shown_errors():
        try:
            new_spec = TaskSpec(
                target=target,
                task_type=task,
                metric=metric,
                positive_class=positive,
                feature_columns=used,
                excluded=exclusions,
                text_columns=[c for c in spec.get("text_columns", []) if c in used],
                datetime_columns=[c for c in spec.get("datetime_columns", []) if c in used],
                rationale=spec.get("rationale", ""),
                validation=validation,
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
            raise invalid_plan(exc) from None
        return {"spec": new_spec, "search": new_search, "budget_seconds": float(budget_seconds)}
    return None


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
    cols[0].metric("Target", spec.get("target", "—"))
    cols[1].metric("Task", spec.get("task_type", "—"))
    cols[2].metric("Metric", spec.get("metric", "—"))
    cols[3].metric("Budget", f"{search.get('budget_seconds', 0):.0f} s")
    if spec.get("excluded"):
        st.dataframe(pd.DataFrame(spec["excluded"]), hide_index=True, width="stretch")
    families = sorted({c["estimator"] for c in search.get("candidates", [])})
    st.caption("Model families: " + (", ".join(families) or "—"))
    for note in spec.get("review_notes") or []:  # holds column names
        st.caption(plain(note))
    if spec.get("rationale") or search.get("rationale"):  # may be an LLM's words
        st.caption(plain(" ".join(x for x in (spec.get("rationale"), search.get("rationale")) if x)))


# --------------------------------------------------------------------------- leaderboard


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
    scored = frame.dropna(subset=["value"]).head(20)
    if not scored.empty:
        from core.metrics import greater_is_better

        metric = str(val(trials[0], "metric", ""))
        try:
            better = "higher" if greater_is_better(metric) else "lower"
        except Exception:  # an unknown metric name from an older plan
            better = "higher"
        chart = (
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
                if share else alt.value(1.0),
                tooltip=[
                    "trial:N",
                    "model family:N",
                    alt.Tooltip("value:Q", format=".4g"),
                    "seconds:Q",
                ],
            )
        )
        st.altair_chart(chart, width="stretch")
    st.dataframe(
        frame.drop(columns=["score"]),
        hide_index=True,
        width="stretch",
        key=key,
        column_config={"value": st.column_config.NumberColumn(format="%.4f")},
    )


# --------------------------------------------------------------------------- model version


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
        st.dataframe(
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


def smaller_headings(markdown: str) -> str:
    """A report's own headings sit below the page's: '# Summary' is drawn as a small heading,
    not as large as the page title."""
    return re.sub(r"(?m)^ {0,3}#{1,6}(?=\s)", "#####", markdown)
