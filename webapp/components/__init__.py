"""Shared widgets for the pages, one module per part:

- formatting: values as people read them (plain() for untrusted text, when(), fmt_number())
- errors: USER_ERRORS, error_sentence(), shown_errors()
- navigation: the open project, url_picker(), page(), go(), require_project()
- data: dataset tables cached per user
- charts: pure Altair chart builders (data in, alt.Chart out; no Streamlit)
- widgets: show_chart(), findings_list()
- plan_editor: the plan form, plan_from_edits() (pure) and plan_summary()
- review: the pre-training review section
- leaderboard: trials best first, what shipped marked
- model_version: metrics table, version picker, planner and written reports
- reproducibility: a version's reproducibility record and how closely a rebuild matched

Pages import the package (`from webapp import components; components.plain(...)`); every name
they use is re-exported here.
"""

from .charts import (
    BAR_STEP,
    CHART_HEIGHT,
    LABEL_LIMIT,
    actual_vs_predicted_chart,
    confusion_chart,
    contribution_chart,
    curve_chart,
    histogram_chart,
    importance_chart,
    leaderboard_chart,
    missing_values_chart,
    probability_chart,
    residual_chart,
    target_relation_chart,
    top_values_chart,
)
from .data import (
    dataset_frame,
)
from .errors import (
    USER_ERRORS,
    error_sentence,
    shown_errors,
)
from .formatting import (
    as_uuid,
    file_size,
    fmt_number,
    local_time,
    plain,
    smaller_headings,
    val,
    viewer_timezone,
    when,
)
from .leaderboard import (
    leaderboard,
    leaderboard_frame,
    shipped_sentence,
    shipped_share,
)
from .model_version import (
    choose_version,
    explanation_base_sentence,
    explanation_scope_sentence,
    metrics_table,
    planner_report,
    prediction_words,
    version_label,
    written_report,
)
from .navigation import (
    PROJECT_KEY,
    can,
    current_project_id,
    empty_state,
    go,
    open_project,
    page,
    query_id,
    register_pages,
    require_project,
    url_picker,
)
from .plan_editor import (
    kept_columns,
    plan_editor,
    plan_from_edits,
    plan_parts,
    plan_summary,
)
from .reproducibility import (
    reproducibility_section,
)
from .review import (
    review_section,
)
from .widgets import (
    EMPTY_CELL,
    editor,
    findings_list,
    show_chart,
    table,
)

__all__ = [
    "BAR_STEP",
    "CHART_HEIGHT",
    "EMPTY_CELL",
    "LABEL_LIMIT",
    "PROJECT_KEY",
    "USER_ERRORS",
    "actual_vs_predicted_chart",
    "as_uuid",
    "can",
    "choose_version",
    "confusion_chart",
    "contribution_chart",
    "current_project_id",
    "curve_chart",
    "dataset_frame",
    "editor",
    "empty_state",
    "error_sentence",
    "explanation_base_sentence",
    "explanation_scope_sentence",
    "file_size",
    "findings_list",
    "fmt_number",
    "go",
    "histogram_chart",
    "importance_chart",
    "kept_columns",
    "leaderboard",
    "leaderboard_chart",
    "leaderboard_frame",
    "local_time",
    "metrics_table",
    "missing_values_chart",
    "open_project",
    "page",
    "plain",
    "plan_editor",
    "plan_from_edits",
    "plan_parts",
    "plan_summary",
    "planner_report",
    "prediction_words",
    "probability_chart",
    "query_id",
    "register_pages",
    "require_project",
    "residual_chart",
    "reproducibility_section",
    "review_section",
    "shipped_sentence",
    "shipped_share",
    "show_chart",
    "shown_errors",
    "smaller_headings",
    "table",
    "target_relation_chart",
    "top_values_chart",
    "url_picker",
    "val",
    "version_label",
    "viewer_timezone",
    "when",
    "written_report",
]
