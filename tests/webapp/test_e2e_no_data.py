"""No data yet, in a real browser against a real `briefml up`: a project's New model page
finds the table of another project from the brief and copies it here, and a column table
filled in by hand generates a synthetic table. Screenshots go to
test-artifacts/test_no_data_yet_in_a_browser/."""

from __future__ import annotations

import re

import pytest

from tests.webapp.test_e2e import (  # noqa: F401
    PASSWORD,
    browser_page,
    click_until,
    running_stack,
    small_csv,
    wait_for_app_run,
)

EMAIL = "nadia@example.com"


class Browser:
    """The steps both journeys share: screenshots, waiting for Streamlit, signing up and
    creating a project."""

    def __init__(self, page, artifacts_dir):
        self.page, self.artifacts_dir, self.step = page, artifacts_dir, iter(range(1, 50))

    def shot(self, name: str) -> None:
        from playwright.sync_api import expect

        self.page.wait_for_timeout(500)
        expect(self.page.get_by_test_id("stException")).to_have_count(0)
        self.page.screenshot(path=self.artifacts_dir / f"{next(self.step):02d}-{name}.png",
                             full_page=True)

    def visible(self, selector: str):
        return self.page.locator(f"{selector}:visible")

    def idle(self) -> None:
        wait_for_app_run(self.page)

    def sign_up(self, url: str) -> None:
        from playwright.sync_api import expect

        self.page.goto(url)
        self.page.get_by_role("tab", name="Create an account").click(timeout=60_000)
        self.visible("input[aria-label='Email']").fill(EMAIL)
        self.visible("input[aria-label='Password']").fill(PASSWORD)
        self.visible("input[aria-label='Repeat the password']").fill(PASSWORD)
        self.page.get_by_role("button", name="Create account").click()
        expect(self.page.get_by_role("heading", name="Projects")).to_be_visible(timeout=60_000)
        self.idle()

    def new_project(self, name: str) -> None:
        self.page.get_by_role("link", name="Projects").first.click()
        self.idle()
        if not self.visible("input[aria-label='Name']").count():
            self.page.get_by_text("New project").first.click()  # a closed expander once one exists
        self.visible("input[aria-label='Name']").first.fill(name)
        click_until(self.page.get_by_role("button", name="Create project"),
                    self.page.get_by_text(f"Project '{name}' created"))
        self.idle()


@pytest.mark.e2e
def test_no_data_yet_in_a_browser(running_stack, browser_page, artifacts_dir, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    page, url = browser_page, running_stack
    browser = Browser(page, artifacts_dir)
    shot, visible, idle = browser.shot, browser.visible, browser.idle
    browser.sign_up(url)

    # a table in one project ...
    browser.new_project("Field trip")
    page.get_by_role("link", name="Datasets").first.click()
    page.locator("input[type='file']").set_input_files(str(small_csv(tmp_path / "penguins.csv")))
    page.get_by_role("button", name="Add dataset", exact=True).click()
    expect(page.get_by_role("tab", name="Preview")).to_be_visible(timeout=60_000)
    idle()

    # ... found from another project's brief, and copied there
    browser.new_project("Species model")
    page.get_by_role("link", name="New model").first.click()
    expect(page.get_by_text("has no datasets yet")).to_be_visible()
    visible("input[aria-label='What should the model predict?']").fill("Which species is a penguin?")
    click_until(page.get_by_role("button", name="Search my projects"),
                page.get_by_text("project Field trip"))
    idle()
    shot("library-found")
    page.get_by_role("button", name="Copy here and use").click()
    expect(page.get_by_role("button", name="Propose a plan")).to_be_visible()
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value(
        re.compile(r"^penguins v1 · 150 rows"))
    idle()
    shot("copied-and-picked")

    # a column table filled in by hand generates a synthetic table
    page.get_by_text("No data yet? Find a table in your library").click()
    click_until(page.get_by_role("button", name="Start a column table"),
                page.get_by_role("button", name="Generate the table"))
    idle()
    shot("column-table")
    page.get_by_role("button", name="Generate the table").click()
    idle()
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value(
        "synthetic v1 · 500 rows × 3 columns · synthetic")
    shot("generated")


def _labels_from_rows(body: dict) -> dict:
    """The scripted LLM's labels: it reads the rows it was sent ('great' → positive)."""
    prompt = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
    rows = re.findall(r'"row":\s*(\d+),\s*"review":\s*"([^"]*)"', prompt)
    return {"labels": [{"row": int(r), "label": "positive" if "great" in text else "negative"}
                       for r, text in rows]}


@pytest.fixture
def scripted_llm(monkeypatch):
    """A real OpenAI-compatible HTTP server on 127.0.0.1 that the stack is pointed at."""
    from tests.openai_server import ScriptedOpenAI, answers_for

    answers = {**answers_for("sentiment", "binary", "roc_auc", positive_class="positive"),
               "LabelAnswer": _labels_from_rows}
    with ScriptedOpenAI("good", answers) as server:
        monkeypatch.setenv("BRIEFML_LLM", "openai:gpt-4o-mini")
        monkeypatch.setenv("BRIEFML_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("BRIEFML_LLM_API_KEY", "test-key")
        yield server


@pytest.mark.e2e
def test_label_review_and_distil_in_a_browser(scripted_llm, running_stack, browser_page,  # noqa: F811
                                              artifacts_dir, tmp_path):
    """A table with 90% of its labels missing: labelled by a scripted LLM (a real HTTP
    server), reviewed in the browser, trained on, and the version page reports agreement."""
    from playwright.sync_api import expect

    from tests.workspace.test_labelling import _table

    page, url = browser_page, running_stack
    browser = Browser(page, artifacts_dir)
    shot, visible, idle = browser.shot, browser.visible, browser.idle
    browser.sign_up(url)
    browser.new_project("Reviews")

    page.get_by_role("link", name="Datasets").first.click()
    (tmp_path / "reviews.csv").write_bytes(_table())
    page.locator("input[type='file']").set_input_files(str(tmp_path / "reviews.csv"))
    page.get_by_role("button", name="Add dataset", exact=True).click()
    expect(page.get_by_role("tab", name="Preview")).to_be_visible(timeout=60_000)
    idle()

    page.get_by_text("Label the missing values with the LLM").click()
    visible("input[aria-label='Rows to label']").fill("40")
    visible("input[aria-label='What the label means']").fill("Is the review positive or negative?")
    visible("input[aria-label='What the label means']").press("Enter")
    idle()
    expect(page.get_by_text("180 of 200 rows have no 'sentiment'")).to_be_visible()
    shot("labelling-estimate")
    page.get_by_role("button", name="Label 40 rows").click()
    expect(page.get_by_text("The LLM labelled 40 rows.")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Save the review")).to_be_visible()
    idle()
    shot("review")
    page.get_by_role("button", name="Save the review").click()
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value(re.compile(r"^reviews v3 "),
                                                                        timeout=60_000)
    idle()

    page.get_by_role("link", name="New model").first.click()
    visible("textarea").first.fill("predict sentiment")
    visible("input[aria-label='Time budget (seconds)']").fill("8")
    page.get_by_role("button", name="Propose a plan").click()
    expect(page.get_by_text("Proposed plan")).to_be_visible(timeout=60_000)
    idle()
    page.get_by_role("button", name="Approve and build").click()
    expect(page.get_by_text("Model version v1 is ready.")).to_be_visible(timeout=240_000)
    page.get_by_role("link", name="Open model v1").click()
    expect(page.get_by_text("Labels made by an LLM")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("reviewed labels")).to_be_visible()
    idle()
    shot("distilled-version")
    assert any("LabelAnswer" in str(r.get("tools")) for r in scripted_llm.requests)
