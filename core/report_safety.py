"""LLM-written report text is untrusted output: what may be shown, and what must not be said.

`sanitise_report` keeps Markdown prose and tables but removes HTML, images and links (an
image or link to an outside host can carry data out in its URL, a `javascript:` link runs
code). `report_contradictions` names claims the engine's own findings refute, so such a
report is replaced by the template one.
"""

from __future__ import annotations

import re

_BLOCKS = re.compile(r"<(script|style|iframe|object|embed)\b.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?(-->|$)", re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z!?/][^>\n]*>?")
_IMAGE = re.compile(r"!\[([^\]]*)\]\s*(\([^)]*\)|\[[^\]]*\])")
_LINK = re.compile(r"\[([^\]]*)\]\s*(\([^)]*\)|\[[^\]]*\])")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_URL = re.compile(r"\b(?:https?|ftp|javascript|data|vbscript|file)\s*:[^\s)>\]]*|\bwww\.[^\s)>\]]+", re.IGNORECASE)


def sanitise_report(text: str) -> str:
    """The report with no HTML, images or links left (their words stay, as plain text)."""
    text = _BLOCKS.sub("", text or "")
    text = _COMMENT.sub("", text)
    text = _TAG.sub("", text)
    text = _IMAGE.sub(lambda m: f"(image removed: {m.group(1)})" if m.group(1) else "", text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _REFERENCE.sub("", text)
    return _URL.sub("(link removed)", text)


_NOTHING_LEFT_OUT = re.compile(
    r"\b(no|none of the|not any|zero)\s+(columns?|features?|variables?)\s+(were|was|are|is|had to be|"
    r"needed to be)?\s*(left out|excluded|dropped|removed)|\bnothing (was|had to be) "
    r"(left out|excluded|dropped|removed)|\ball (columns|features) (were )?used\b",
    re.IGNORECASE,
)
_ALL_CHECKS_PASSED = re.compile(
    r"\ball (the )?(data )?checks (passed|were passed|came back clean)|\bno (data )?"
    r"(issues|problems|warnings) (were )?(found|raised)|\bthe data (is|was) clean\b",
    re.IGNORECASE,
)


def report_contradictions(text: str, context: dict) -> list[str]:
    """Claims in `text` that the engine's findings refute, each said in one sentence."""
    spec = context.get("spec") or {}
    excluded = [e.get("column") for e in spec.get("excluded") or [] if isinstance(e, dict)]
    warnings = [f for f in context.get("findings") or []
                if isinstance(f, dict) and str(f.get("severity")) in ("warning", "error")]
    problems = []
    if excluded and _NOTHING_LEFT_OUT.search(text or ""):
        problems.append(
            f"It says no columns were left out, but the engine left out {len(excluded)} "
            f"({', '.join(repr(c) for c in excluded[:5])})."
        )
    if warnings and _ALL_CHECKS_PASSED.search(text or ""):
        problems.append(
            f"It says all data checks passed, but they raised {len(warnings)} warning(s)."
        )
    return problems
