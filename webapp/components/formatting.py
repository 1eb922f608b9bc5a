"""Values as people read them: numbers, sizes, times in the viewer's zone, untrusted text made
safe for Markdown, and the smaller headings of a written report. No widgets here."""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st


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


def smaller_headings(markdown: str) -> str:
    """A report's own headings sit below the page's: '# Summary' is drawn as a small heading,
    not as large as the page title."""
    return re.sub(r"(?m)^ {0,3}#{1,6}(?=\s)", "#####", markdown)
