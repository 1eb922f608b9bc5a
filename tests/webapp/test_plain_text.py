"""Names, file values and LLM words put into Markdown render as written: no links, images,
icons, code spans or headings (checked in a real browser when this was written; here the
Markdown source is checked for what the front end would turn into something else)."""

from __future__ import annotations

import re

import pytest

from tests.webapp.conftest import as_read
from webapp.components import plain

HOSTILE = [
    "[click](https://evil.example/x)",
    "![pixel](https://evil.example/t.png?data=secret)",
    "see https://evil.example and www.evil.example",
    "olive@example.com",
    "`a` **b** # c",
    ":material/home: :rocket:",
    "<script>alert(1)</script>",
    "$x^2$",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_shown_as_written(text):
    safe = plain(text)
    assert as_read(safe) == text  # what the reader sees is the text itself
    assert not re.search(r"(?<!\\)[\[\]()`*#<>$!]", safe)  # every Markdown character escaped
    assert "://" not in safe and "www." not in safe  # no bare address to link
    assert not re.search(r"\w@\w", safe)  # no e-mail address to link
    assert not re.search(r":\w", safe)  # no :icon: name


def test_a_reports_headings_sit_below_the_page_title():
    from webapp.components import smaller_headings

    report = "# Summary\nText with a # sign.\n## Data\n   ### Checks\n#hashtag stays\n"
    assert smaller_headings(report) == (
        "##### Summary\nText with a # sign.\n##### Data\n##### Checks\n#hashtag stays\n"
    )
