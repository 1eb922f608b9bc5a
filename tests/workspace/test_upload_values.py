"""Values the database cannot store are dealt with at upload or plan time, on real Postgres:
NUL characters are removed with a warning the user sees; a target name too long for a model
version is refused while planning, before any training."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from core.errors import PlanError
from workspace import builds
from workspace.datasets import load_dataset_frame, upload_dataset
from workspace.projects import create_project


def _rows(count: int) -> str:
    return "".join(f"{i},{'red' if i % 3 else 'blue'},{'yes' if i % 2 else 'no'}\n" for i in range(count))


def test_a_nul_deep_in_a_csv_cell_is_removed_with_a_warning_and_the_upload_stored(team):
    # past the reader's 64 KB sniff window, where a NUL used to reach the INSERT
    data = ("size,colour,label\n" + _rows(8000) + "7,gr\x00een,yes\n").encode()
    dataset = upload_dataset(actor=team.editor, project_id=team.project_id, source=data,
                             filename="paint.csv")
    [warning] = [f for f in dataset.findings if f["check"] == "nul_characters"]
    assert warning["severity"] == "warning" and warning["columns"] == ["colour"]
    assert warning["message"].startswith("Removed NUL characters (\\0) from 1 cell of column 'colour'")
    frame = load_dataset_frame(actor=team.viewer, dataset_id=dataset.id)
    assert frame["colour"].iloc[-1] == "green"  # every later read (a build's) is cleaned the same way
    assert not frame["colour"].str.contains("\x00").any()


def test_nul_in_parquet_strings_and_a_column_name_is_removed_and_a_build_plans(team):
    frame = pd.DataFrame({"note\x00": ["fi\x00ne", "ok"] * 30, "amount": range(60),
                          "label": ["yes", "no", "no"] * 20})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    dataset = upload_dataset(actor=team.editor, project_id=team.project_id,
                             source=buffer.getvalue(), filename="notes.parquet")
    [warning] = [f for f in dataset.findings if f["check"] == "nul_characters"]
    assert warning["message"].startswith(
        "Removed NUL characters (\\0) from 30 cells of column 'note' and from its name")
    assert [c["name"] for c in dataset.profile["column_profiles"]] == ["note", "amount", "label"]
    build = builds.create_build(actor=team.editor, project_id=team.project_id,
                                dataset_id=dataset.id, brief="predict the label\x00", budget_seconds=3)
    assert build.plan["spec"]["target"] == "label" and build.brief == "predict the label"


def test_names_typed_with_nul_characters_are_stored_without_them(team):
    project = create_project(actor=team.owner, name="Ch\x00urn 2", description="a\x00b")
    assert (project.name, project.description) == ("Churn 2", "ab")
    dataset = upload_dataset(actor=team.editor, project_id=team.project_id,
                             source=("size,colour,label\n" + _rows(40)).encode(),
                             filename="pa\x00int.csv", name="pai\x00nt")
    assert (dataset.name, dataset.filename) == ("paint", "paint.csv")


def test_a_target_name_too_long_for_a_model_version_is_refused_when_planning(team):
    target = "did the customer renew " * 15  # 345 characters, as survey exports write them
    data = (f"size,colour,{target}\n" + _rows(60)).encode()
    dataset = upload_dataset(actor=team.editor, project_id=team.project_id, source=data,
                             filename="survey.csv")  # a long name is fine for any other column
    with pytest.raises(PlanError, match=r"has a name of 345 characters; a model version can "
                                        r"store at most 300\. Rename the column"):
        builds.create_build(actor=team.editor, project_id=team.project_id, dataset_id=dataset.id,
                            brief="predict whether the customer renews", budget_seconds=3)
    # a long-named input column with a short target plans as usual
    fine = builds.create_build(actor=team.editor, project_id=team.project_id, dataset_id=dataset.id,
                               brief="predict the colour", budget_seconds=3)
    assert fine.plan["spec"]["target"] == "colour" and fine.status == "planned"
