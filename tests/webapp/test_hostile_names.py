"""AppTest: names and values a user or a file controls (project, dataset and column names,
category values, a brief, a build's error, an LLM's report) are planted with Markdown links,
images, code spans and HTML, and every page is checked: each piece of Markdown the app sends
to the front end (text, captions, alerts, widget labels, radio options, metric values, tab and
expander labels, help) holds them only escaped, while the page still says them as written."""

from __future__ import annotations

import re

import sqlalchemy as sa
from google.protobuf.json_format import MessageToDict

from db.artifacts import put_artifact
from db.engine import session_scope
from db.models import Build, BuildStatus, ModelVersion
from tests.webapp.conftest import actor_of, app_as, as_read, no_exception
from workspace import builds, datasets, projects

LINK, IMAGE, CODE, HTML = "[x](http://evil)", "![i](http://evil/p.png)", "`a`", "<img src=x>"
# Markdown the front end would turn into a link, an image, a code span or (dropped) HTML
UNESCAPED = re.compile(r"(?<!\\)\]\(|http://evil|(?<!\\)`a(?<!\\)`|(?<!\\)<img"
                       r"|olive@example\.com")  # the signed-in e-mail, which would be a mailto link
# fields the front end shows as plain text (option lists of pickers, typed values, data, charts)
PLAIN_TEXT_FIELDS = {"options", "default", "value", "rawValue", "rawValues", "data", "spec", "datasets", "id",
                     "formId", "placeholder", "key", "url", "pageScriptHash", "queryString"}


def _markdown_strings(node, out: list[str]) -> list[str]:
    """Every string of the rendered tree that the front end reads as Markdown."""
    proto = getattr(node, "proto", None)
    if proto is not None and getattr(node, "type", "") not in ("text", "code", "json"):
        kind = getattr(node, "type", "")
        _strings(MessageToDict(proto), out, markdown_options=kind in ("radio", "pills",
                                                                      "segmented_control"))
    for child in getattr(node, "children", {}).values():
        _markdown_strings(child, out)
    return out


def _strings(value, out: list[str], *, markdown_options: bool, key: str = "") -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            if name in PLAIN_TEXT_FIELDS and not (name == "options" and markdown_options):
                continue
            _strings(item, out, markdown_options=markdown_options, key=name)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out, markdown_options=markdown_options, key=key)
    elif isinstance(value, str):
        out.append(value)


def _page(token: str, page: str | None, **query) -> str:
    """Render a page; fail on any planted Markdown; return what the page says, as read."""
    at = app_as(token, **query)
    if page:
        at.switch_page(f"views/{page}.py")
    at.run()
    no_exception(at)
    markdown = _markdown_strings(at._tree, [])
    leaks = [s for s in markdown if UNESCAPED.search(s)]
    assert not leaks, (page, leaks[:5])
    return as_read("\n".join(markdown + [t.value for t in at.text]))  # st.text: plain text


def _hostile_world(owner):
    project = projects.create_project(actor=owner, name=f"Project {LINK} {IMAGE}",
                                      description=f"{CODE} {HTML}")
    rows = "".join(f"{i % 7},{'ok' if i % 3 else LINK},{i % 5},{'yes' if i % 2 else 'no'}\n"
                   for i in range(80))
    table = f'"{IMAGE}","{LINK} col","{CODE} {HTML}",label\n{rows}'.encode()
    dataset = datasets.upload_dataset(actor=owner, project_id=project.id, source=table,
                                      filename="t.csv", name=f"data {LINK}")
    build = builds.create_build(actor=owner, project_id=project.id, dataset_id=dataset.id,
                                brief=f"predict the label {LINK} {IMAGE}", budget_seconds=3)
    failed = builds.create_build(actor=owner, project_id=project.id, dataset_id=dataset.id,
                                 brief=f"predict the label {CODE}", budget_seconds=3)
    with session_scope() as session:  # a build that failed, quoting a column in its error
        session.execute(sa.update(Build).where(Build.id == failed.id).values(
            status=BuildStatus.FAILED, error=f"Column '{LINK} col' is empty {IMAGE}."))
        sha = put_artifact(session, b"not a real bundle", media_type="application/zip")
        version = ModelVersion(
            project_id=project.id, version=1, target=f"{LINK} target", task_type="binary",
            metric="roc_auc", bundle_sha256=sha, build_id=build.id, dataset_id=dataset.id,
            spec={"target": f"{LINK} target"}, metrics={"holdout": {"roc_auc": 0.9}},
            input_schema={"columns": [
                {"name": f"{LINK} col", "kind": "categorical", "categories": [IMAGE, "ok"]},
                {"name": CODE, "kind": "numeric", "min": 0, "max": 6},
                {"name": HTML, "kind": "text"}]},
            # the report keeps its own Markdown (a code span is fine), never links, images, HTML
            report=f"# Report\nSee {LINK} and {IMAGE}, {HTML}.",
        )
        session.add(version)
        session.flush()
        version_id = version.id
    return project, build, failed, version_id


def test_no_page_renders_a_planted_link_image_code_span_or_html(owner_token):
    owner = actor_of(owner_token)
    project, build, failed, version_id = _hostile_world(owner)
    where = {"project": str(project.id)}

    said = _page(owner_token, None, **where)
    assert f"Project {LINK} {IMAGE}" in said and f"{CODE} {HTML}" in said
    assert f"Signed in as {owner.email}" in said  # with st.text, never as Markdown (a mailto link)
    said = _page(owner_token, "datasets", **where)
    assert f"{LINK} col" in said  # the data checks and profile name the columns
    said = _page(owner_token, "new_model", build=str(build.id), **where)
    assert f"predict the label {LINK} {IMAGE}" in said
    said = _page(owner_token, "build", build=str(failed.id), **where)
    assert f"Column '{LINK} col' is empty {IMAGE}." in said
    said = _page(owner_token, "model", version=str(version_id), **where)
    assert f"{LINK} target" in said
    said = _page(owner_token, "predict", version=str(version_id), **where)
    assert f"{LINK} col" in said and CODE in said and HTML in said  # the form's labels
