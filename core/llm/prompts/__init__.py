"""Prompt templates, one markdown file per step, filled with `string.Template` ($name).

Kept as files so wording can change without touching code; loaded with importlib.resources
so they ship inside the wheel.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from string import Template


@cache
def _template(name: str) -> Template:
    return Template(files(__package__).joinpath(name).read_text(encoding="utf-8"))


def render_prompt(name: str, **values: object) -> str:
    """Fill template `name` (e.g. 'task.md'); a missing value raises KeyError."""
    return _template(name).substitute({k: str(v) for k, v in values.items()})
