"""New model with no data yet: the brief finds a table in another of the user's projects and
one click copies it here; without an LLM the person fills a column table and the engine
generates a table marked synthetic; a wrong column table is refused in words."""

from __future__ import annotations

from tests.webapp.conftest import actor_of, app_as, no_exception, sign_up_and_in, texts
from webapp.sample import SAMPLE_CSV
from workspace import datasets, projects


def _new_model_page(token, project):
    at = app_as(token, project=str(project.id))
    at.switch_page("views/new_model.py")
    at.run()
    no_exception(at)
    return at


def _click(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    no_exception(at)


def test_the_brief_finds_a_table_in_another_project_and_copies_it(owner_token):
    owner = actor_of(owner_token)
    source = projects.create_project(actor=owner, name="Field trip")
    datasets.upload_dataset(actor=owner, project_id=source.id, source=SAMPLE_CSV.read_bytes(),
                            filename="penguins.csv")
    empty = projects.create_project(actor=owner, name="Species model")

    at = _new_model_page(owner_token, empty)
    assert "has no datasets yet" in texts(at)
    at.text_input(key="library-brief").input("Which species is a penguin?")
    _click(at, "Search my projects")
    shown = texts(at)
    assert "'species'" in shown and "project Field trip" in shown
    _click(at, "Copy here and use")
    [copy] = datasets.list_datasets(actor=owner, project_id=empty.id)
    assert copy.name == "penguins"
    assert "has no datasets yet" not in texts(at)  # the page now offers the brief form
    assert at.selectbox(key="brief-dataset").value == copy.id

    # someone who is not a member of "Field trip" finds nothing, not even its name
    stranger = sign_up_and_in("sam@example.com")
    theirs = projects.create_project(actor=actor_of(stranger), name="Mine")
    other = _new_model_page(stranger, theirs)
    other.text_input(key="library-brief").input("Which species is a penguin?")
    _click(other, "Search my projects")
    assert "No table in your projects fits this brief" in texts(other)
    assert "Field trip" not in texts(other)


def _starter_column_table(token, monkeypatch):
    """An empty project's New model page, no LLM, with the starter column table open."""
    monkeypatch.setenv("BRIEFML_LLM", "")
    owner = actor_of(token)
    project = projects.create_project(actor=owner, name="Nothing yet")
    at = _new_model_page(token, project)
    _click(at, "Start a column table")
    return owner, project, at


def test_a_filled_in_column_table_generates_a_synthetic_table(owner_token, monkeypatch):
    owner, project, at = _starter_column_table(owner_token, monkeypatch)
    assert at.session_state["synthetic-spec-rows"][0]["name"] == "outcome"
    at.text_input(key="synthetic-name").input("trial")
    _click(at, "Generate the table")
    [made] = datasets.list_datasets(actor=owner, project_id=project.id)
    assert (made.name, made.rows, made.synthetic) == ("trial", 500, True)
    assert at.selectbox(key="brief-dataset").value == made.id
    assert at.selectbox(key="brief-dataset").options == ["trial v1 · 500 rows × 3 columns · synthetic"]


def test_a_wrong_column_table_is_refused_in_words(owner_token, monkeypatch):
    owner, project, at = _starter_column_table(owner_token, monkeypatch)
    rows = at.session_state["synthetic-spec-rows"]
    rows[2]["categories"] = "only-one"
    at.session_state["synthetic-spec-rows"] = rows
    at.run()
    _click(at, "Generate the table")
    assert "row 3: categorical column 'plan' needs at least two categories" in texts(at)
    assert datasets.list_datasets(actor=owner, project_id=project.id) == []


def test_llm_labels_are_reviewed_on_the_datasets_page(owner_token):
    """A dataset labelled by a (fake) LLM shows the run in words and a review table; saving
    the review makes a version whose reviewed rows are the person's labels."""
    from tests.workspace.test_labelling import LABELS, ReadingFakeModel, _table
    from workspace import labelling

    owner = actor_of(owner_token)
    project = projects.create_project(actor=owner, name="Reviews")
    sparse = datasets.upload_dataset(actor=owner, project_id=project.id, source=_table(),
                                     filename="reviews.csv")
    labelled, _ = labelling.label_dataset(
        actor=owner, dataset_id=sparse.id, column="sentiment", allowed=LABELS, brief="sentiment",
        max_rows=40, chat_model=ReadingFakeModel(responses=[]))
    at = app_as(owner_token, project=str(project.id), dataset=str(labelled.id))
    at.switch_page("views/datasets.py")
    at.run()
    no_exception(at)
    assert "The LLM labelled 40 rows." in texts(at)
    _click(at, "Save the review")
    newest = datasets.list_datasets(actor=owner, project_id=project.id)[0]
    assert newest.version == 3
    reviewed = datasets.get_dataset(actor=owner, dataset_id=newest.id)
    assert len(reviewed.provenance["labels"]["human"]) == 20
