"""The team library on a real Postgres: a brief finds a fitting dataset in another of the
user's projects, a non-member never sees it, and a copy keeps where it came from."""

from __future__ import annotations

import pytest

from db.models import Role
from tests.workspace.conftest import CSV, person
from workspace.datasets import list_datasets, upload_dataset
from workspace.library import copy_dataset_to_project, find_datasets_for_brief, provenance_text
from workspace.permissions import Forbidden, NotFound
from workspace.projects import create_project, invite_member

WAGES = b"wage,education,experience,region\n" + b"".join(
    f"{8 + (i % 13) * 1.5:.1f},{10 + i % 8},{i % 30},{'south' if i % 2 else 'north'}\n".encode()
    for i in range(80)
)
PENGUINS = b"species,bill_length_mm,flipper_length_mm,island\n" + b"".join(
    f"{['Adelie', 'Gentoo', 'Chinstrap'][i % 3]},{35 + i % 15},{180 + i % 40},{['Biscoe', 'Dream'][i % 2]}\n".encode()
    for i in range(60)
)


@pytest.fixture
def library(team):
    """The owner has a second project holding three tables; the new project is empty."""
    other = create_project(actor=team.owner, name="Retention")
    upload_dataset(actor=team.owner, project_id=other.id, source=CSV, filename="customers.csv")
    upload_dataset(actor=team.owner, project_id=other.id, source=WAGES, filename="wages.csv")
    upload_dataset(actor=team.owner, project_id=other.id, source=PENGUINS, filename="penguins.csv")
    empty = create_project(actor=team.owner, name="New work")
    return other, empty


def test_the_brief_finds_the_fitting_table_in_another_project(team, library):
    _, empty = library
    found = find_datasets_for_brief(actor=team.owner, brief="Which customers have churned?",
                                    project_id=empty.id)
    assert found, "the churn table fits the brief"
    best = found[0]
    assert (best.name, best.target, best.project_name) == ("customers", "churned", "Retention")
    assert "'churned'" in best.why and "120 rows" in best.why and "project Retention" in best.why
    assert not best.in_this_project

    wages = find_datasets_for_brief(actor=team.owner, project_id=empty.id,
                                    brief="Estimate a worker's wage from education and experience")
    assert wages[0].name == "wages" and wages[0].target == "wage"
    assert "education" in wages[0].why  # the inputs the brief mentions are named

    # ... and one click later this empty project trains on it
    from tests.workspace.build_helpers import build_in_process

    copy = copy_dataset_to_project(actor=team.owner, dataset_id=best.dataset_id, project_id=empty.id)
    made = build_in_process(team.owner, empty.id, copy.id, "Which customers have churned?", 4)
    assert made.target == "churned" and made.project_id == empty.id


def test_a_brief_that_fits_nothing_finds_nothing(team, library):
    _, empty = library
    assert find_datasets_for_brief(actor=team.owner, brief="forecast tomorrow's electricity demand",
                                   project_id=empty.id) == []
    assert find_datasets_for_brief(actor=team.owner, brief="   ", project_id=empty.id) == []


def test_a_non_member_never_sees_the_library(team, library):
    other, _ = library
    for actor in (team.outsider, team.editor):  # the editor is a member of Churn, not Retention
        found = find_datasets_for_brief(actor=actor, brief="Which customers have churned?")
        assert all(m.project_id != other.id for m in found)
        assert all(m.project_name != "Retention" for m in found)
    with pytest.raises(NotFound):
        dataset_id = list_datasets(actor=team.owner, project_id=other.id)[0].id
        copy_dataset_to_project(actor=team.outsider, dataset_id=dataset_id,
                                project_id=team.project_id)


def test_copy_keeps_provenance_and_needs_upload_rights(team, library):
    other, empty = library
    source = next(d for d in list_datasets(actor=team.owner, project_id=other.id)
                  if d.name == "customers")
    copy = copy_dataset_to_project(actor=team.owner, dataset_id=source.id, project_id=empty.id)
    assert copy.project_id == empty.id and copy.id != source.id
    assert (copy.name, copy.version, copy.rows) == ("customers", 1, 120)
    assert copy.provenance["source_project_name"] == "Retention"
    assert copy.provenance["copied_by"] == team.owner.email
    assert provenance_text(copy) == (
        f"Copied from project Retention (customers v1) by {team.owner.email}")
    assert [d.id for d in list_datasets(actor=team.owner, project_id=empty.id)] == [copy.id]

    # a viewer of the destination may read the source but cannot add to the project
    reader = person("rita@example.com")
    invite_member(actor=team.owner, project_id=other.id, email=reader.email, role=Role.VIEWER)
    invite_member(actor=team.owner, project_id=empty.id, email=reader.email, role=Role.VIEWER)
    with pytest.raises(Forbidden):
        copy_dataset_to_project(actor=reader, dataset_id=source.id, project_id=empty.id)

    # the copy ranks as "in this project" ahead of its source for the same brief
    found = find_datasets_for_brief(actor=team.owner, brief="Which customers have churned?",
                                    project_id=empty.id)
    assert found[0].dataset_id == copy.id and found[0].in_this_project
    assert "this project" in found[0].why


def test_a_generated_table_trains_a_model_marked_synthetic_end_to_end(team):
    """From an empty project: a person's column table → a synthetic dataset → a build → a
    version whose metrics, summary and bundle model card all say it is synthetic."""
    import io
    import zipfile

    from core.llm.synthetic import STARTER_ROWS, spec_from_rows
    from tests.workspace.build_helpers import build_in_process
    from workspace import datasets, versions

    project = create_project(actor=team.owner, name="No data yet")
    spec = spec_from_rows(STARTER_ROWS, target="outcome", noise=0.3)
    dataset = datasets.add_dataset_from_spec(actor=team.owner, project_id=project.id, spec=spec,
                                             n_rows=200, name="trial")
    assert dataset.synthetic
    summary = build_in_process(team.owner, project.id, dataset.id, "predict outcome", 4)
    version = versions.get_model_version(actor=team.owner, version_id=summary.id)
    assert version.metrics["synthetic_data"] is True
    assert "Trained on synthetic data" in version.metrics["warnings"][0]
    _, data = versions.download_bundle(actor=team.owner, version_id=version.id)
    card = zipfile.ZipFile(io.BytesIO(data)).read("README.md").decode()
    assert "trained on SYNTHETIC data" in card.splitlines()[0]
    assert "Trained on SYNTHETIC data generated by briefml" in card


def test_a_model_of_real_data_is_not_marked_synthetic(tiny_bundle):
    import io
    import zipfile

    data, _, _ = tiny_bundle
    assert "SYNTHETIC" not in zipfile.ZipFile(io.BytesIO(data)).read("README.md").decode()
