"""The one planner factory: the CLI, the worker and the web app all get their planner here.

`planner_for(mode)` reads the LLM settings (`BRIEFML_LLM*`) and returns the planner for one
build. Modes: "auto" (the LLM when `BRIEFML_LLM` is set, else offline), "llm" (the LLM; an
unusable setting is a warning and the offline planner) and "offline". A planner that could
not be the LLM one carries the reason as `setup_warning`, which the build's summary reports.
"""

from __future__ import annotations

from workspace.settings import Settings, get_settings

PLANNER_MODES = ("auto", "offline", "llm")


def planner_for(mode: str = "auto", settings: Settings | None = None):
    """The planner for one build, and a one-line warning for the user (or None)."""
    from core.llm import make_planner
    from core.planning.offline import OfflinePlanner

    settings = settings or get_settings()
    mode = (mode or "auto").strip().lower()
    if mode not in PLANNER_MODES:
        raise ValueError(f"Unknown planner '{mode}'; use one of {', '.join(PLANNER_MODES)}.")
    if mode == "offline" or (mode == "auto" and not settings.llm):
        return OfflinePlanner(), None
    if not settings.llm:
        planner = OfflinePlanner()
        planner.setup_warning = (
            "--planner llm was asked for but BRIEFML_LLM is not set (e.g. "
            "BRIEFML_LLM=openai:gpt-4.1-mini); the offline planner is used."
        )
        return planner, planner.setup_warning
    return make_planner(
        settings.llm,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        send_examples=settings.llm_send_examples,
        max_retries=settings.llm_max_retries,
        timeout_seconds=settings.llm_timeout_seconds,
    )


def planner_usage(planner) -> dict | None:
    """Tokens and cost an LLM planner spent so far (None for the offline planner)."""
    usage = getattr(planner, "usage", None)
    return usage.model_dump(mode="json") if usage is not None else None


def combine_usage(earlier: dict | None, later: dict | None) -> dict | None:
    """Add up two LLM usage records (planning, then training) of one build."""
    if not earlier or not later:
        return later or earlier
    total = dict(later)
    for key in ("calls", "input_tokens", "output_tokens", "parse_errors"):
        total[key] = int(earlier.get(key) or 0) + int(later.get(key) or 0)
    costs = (earlier.get("cost_usd"), later.get("cost_usd"))
    total["cost_usd"] = None if None in costs else sum(costs)
    return total


def combine_reports(earlier: dict | None, later: dict | None) -> dict | None:
    """One build's planner report over planning (web app) and training (worker)."""
    if not earlier or not later:
        return later or earlier
    return {
        **later,
        "fell_back": bool(earlier.get("fell_back") or later.get("fell_back")),
        "fallbacks": list(earlier.get("fallbacks") or []) + list(later.get("fallbacks") or []),
        "warning": later.get("warning") or earlier.get("warning"),
        "usage": combine_usage(earlier.get("usage"), later.get("usage")),
    }
