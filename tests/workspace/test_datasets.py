import io

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.errors import DataError
from core.loading import load_table
from db.artifacts import put_artifact
from db.engine import session_scope
from db.models import Artifact, AuditEvent, Build, BuildStatus, Dataset, ModelVersion
from tests.workspace.conftest import CSV
from workspace.datasets import (
    add_synthetic_dataset,
    dataset_deletion_impact,
    delete_dataset,
    download_dataset,
    get_dataset,
    list_datasets,
    load_dataset_frame,
    preview_dataset,
    upload_dataset,
)
from workspace.permissions import Forbidden, NotFound
from workspace.projects import ConfirmationRequired, list_audit_events


def _count(model) -> int:
    with session_scope() as session:
        return session.exec(select(sa.func.count()).select_from(model)).one()


def test_an_upload_is_profiled_checked_and_stored_as_the_original_file(team):
    dataset = upload_dataset(actor=team.editor, project_id=team.project_id, source=CSV,
                             filename="customers.csv")
    assert (dataset.name, dataset.version, dataset.rows, dataset.columns) == ("customers", 1, 120, 4)
    assert [c["name"] for c in dataset.profile["column_profiles"]] == ["age", "plan", "monthly_fee", "churned"]
    assert isinstance(dataset.findings, list)
    assert download_dataset(actor=team.viewer, dataset_id=dataset.id) == ("customers.csv", CSV)
    frame = load_dataset_frame(actor=team.viewer, dataset_id=dataset.id)
    pd.testing.assert_frame_equal(frame, load_table(CSV, filename="customers.csv"))
    assert len(preview_dataset(actor=team.viewer, dataset_id=dataset.id, rows=7)) == 7
    events = [(e.action, e.user_email) for e in list_audit_events(actor=team.owner, project_id=team.project_id)]
    assert events[:2] == [("download", team.viewer.email), ("upload", team.editor.email)]


def test_the_same_name_again_is_a_new_version_and_the_old_one_stays(team, tmp_path):
    first = upload_dataset(actor=team.editor, project_id=team.project_id, source=CSV, filename="customers.csv")
    changed = CSV.replace(b"basic", b"starter")
    path = tmp_path / "export.csv"
    path.write_bytes(changed)
    second = upload_dataset(actor=team.owner, project_id=team.project_id, source=path,
                            filename="export.csv", name="customers")
    third = upload_dataset(actor=team.owner, project_id=team.project_id, source=io.BytesIO(CSV),
                           filename="other.csv")
    assert (second.name, second.version) == ("customers", 2)
    listed = list_datasets(actor=team.viewer, project_id=team.project_id)
    assert [(d.name, d.version, d.created_by_email) for d in listed] == [
        ("customers", 2, team.owner.email), ("customers", 1, team.editor.email),
        ("other", 1, team.owner.email)]
    assert "starter" not in set(load_dataset_frame(actor=team.owner, dataset_id=first.id)["plan"])
    assert "starter" in set(load_dataset_frame(actor=team.owner, dataset_id=second.id)["plan"])
    assert third.content_sha256 == first.content_sha256 and _count(Artifact) == 2  # stored once


def test_the_chosen_excel_sheet_is_the_one_read_again(team):
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer) as writer:
        pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_excel(writer, sheet_name="notes", index=False)
        load_table(CSV, filename="c.csv").to_excel(writer, sheet_name="data", index=False)
    dataset = upload_dataset(actor=team.editor, project_id=team.project_id, source=buffer.getvalue(),
                             filename="book.xlsx", sheet="data")
    assert (dataset.rows, dataset.sheet) == (120, "data")
    assert len(load_dataset_frame(actor=team.editor, dataset_id=dataset.id)) == 120
    by_position = upload_dataset(actor=team.editor, project_id=team.project_id,
                                 source=buffer.getvalue(), filename="book.xlsx", sheet=1)
    assert (by_position.sheet, by_position.version) == ("data", 2)
    assert len(load_dataset_frame(actor=team.editor, dataset_id=by_position.id)) == 120


def test_a_bad_file_stores_nothing_and_says_why(team, set_env):
    with pytest.raises(DataError, match="'empty.csv' is empty"):
        upload_dataset(actor=team.editor, project_id=team.project_id, source=b"", filename="empty.csv")
    set_env(max_upload_mb="1")
    big = b"a,b\n" + b"1,2\n" * 300_000
    with pytest.raises(DataError, match=r"is 1.1 MiB; the limit is 1 MiB\."):  # the setting's unit
        upload_dataset(actor=team.editor, project_id=team.project_id, source=big, filename="big.csv")
    assert (_count(Dataset), _count(Artifact), _count(AuditEvent)) == (0, 0, 4)  # 4: setup events


def test_viewers_cannot_upload_and_outsiders_see_nothing(team):
    with pytest.raises(Forbidden, match="Only a project editor or above may upload"):
        upload_dataset(actor=team.viewer, project_id=team.project_id, source=CSV, filename="c.csv")
    dataset = upload_dataset(actor=team.editor, project_id=team.project_id, source=CSV, filename="c.csv")
    for call in (get_dataset, load_dataset_frame, download_dataset):
        with pytest.raises(NotFound, match="No dataset with that id exists"):
            call(actor=team.outsider, dataset_id=dataset.id)
    with pytest.raises(NotFound, match="No dataset with that id exists"):
        get_dataset(actor=team.owner, dataset_id="not-a-uuid")


def _build_with_versions(dataset: Dataset, numbers: list[int], status=BuildStatus.SUCCEEDED) -> None:
    with session_scope() as session:
        build = Build(project_id=dataset.project_id, dataset_id=dataset.id, brief="predict churn",
                      status=status)
        session.add(build)
        session.flush()
        for n in numbers:
            sha = put_artifact(session, f"bundle {n}".encode())
            session.add(ModelVersion(project_id=dataset.project_id, build_id=build.id,
                                     dataset_id=dataset.id, version=n, target="churned",
                                     task_type="binary", metric="roc_auc", bundle_sha256=sha))


def test_deleting_a_used_dataset_names_what_goes_with_it_and_needs_confirmation(team):
    used = upload_dataset(actor=team.editor, project_id=team.project_id, source=CSV, filename="c.csv")
    other = upload_dataset(actor=team.editor, project_id=team.project_id, source=CSV + b"1,pro,3,no\n",
                           filename="d.csv")
    _build_with_versions(used, [1, 2])
    _build_with_versions(other, [3])
    impact = dataset_deletion_impact(actor=team.owner, dataset_id=used.id)
    assert [v["version"] for v in impact["model_versions"]] == [1, 2] and len(impact["builds"]) == 1
    with pytest.raises(ConfirmationRequired, match="also deletes 1 build and model versions v1, v2"):
        delete_dataset(actor=team.owner, dataset_id=used.id)
    with pytest.raises(Forbidden):
        delete_dataset(actor=team.editor, dataset_id=used.id, confirm=True)
    assert _count(ModelVersion) == 3  # nothing went without confirmation
    delete_dataset(actor=team.owner, dataset_id=used.id, confirm=True)
    with session_scope() as session:
        assert session.exec(select(ModelVersion.version)).all() == [3]
        assert session.exec(select(sa.func.count()).select_from(Build)).one() == 1
        # the deleted file and bundles are gone; the other dataset's file stays
        assert {a.sha256 for a in session.exec(select(Artifact))} == {
            other.content_sha256, session.exec(select(ModelVersion.bundle_sha256)).one()}
    (event,) = [e for e in list_audit_events(actor=team.owner, project_id=team.project_id)
                if e.action == "delete"]
    assert event.detail["model_versions"] == [1, 2] and event.user_email == team.owner.email


def test_an_unused_dataset_still_asks_for_confirmation(team):
    dataset = upload_dataset(actor=team.editor, project_id=team.project_id, source=CSV, filename="c.csv")
    with pytest.raises(ConfirmationRequired, match="cannot be undone. Confirm to delete it"):
        delete_dataset(actor=team.owner, dataset_id=dataset.id)
    delete_dataset(actor=team.owner, dataset_id=dataset.id, confirm=True)
    assert list_datasets(actor=team.owner, project_id=team.project_id) == []


def test_a_dataset_with_a_running_build_is_kept(team):
    dataset = upload_dataset(actor=team.editor, project_id=team.project_id, source=CSV, filename="c.csv")
    _build_with_versions(dataset, [], status=BuildStatus.RUNNING)
    with pytest.raises(ConfirmationRequired, match="queued or running. Wait for it to finish or cancel it"):
        delete_dataset(actor=team.owner, dataset_id=dataset.id, confirm=True)
    assert _count(Dataset) == 1


def test_a_synthetic_dataset_is_stored_like_an_upload_and_marked(team):
    from core.llm.synthetic import SyntheticDatasetSpec
    from tests.core.fake_llm import fake_model, tool_call
    from tests.core.test_llm_synthetic import SPEC

    model = fake_model(tool_call(SyntheticDatasetSpec, SPEC))
    dataset = add_synthetic_dataset(actor=team.editor, project_id=team.project_id,
                                    brief="predict cancellations", n_rows=80, chat_model=model,
                                    name="subscriptions")
    assert (dataset.name, dataset.filename, dataset.rows, dataset.synthetic) == (
        "subscriptions", "subscriptions.csv", 80, True)
    frame = load_dataset_frame(actor=team.viewer, dataset_id=dataset.id)
    assert list(frame.columns) == [c["name"] for c in SPEC["columns"]]


def test_synthetic_data_without_an_llm_says_how_to_set_one_up(team, set_env):
    from core.llm.adapter import LLMSetupError

    set_env(llm="")
    with pytest.raises(LLMSetupError, match="needs an LLM: set BRIEFML_LLM.*fill in the columns yourself"):
        add_synthetic_dataset(actor=team.editor, project_id=team.project_id, brief="predict churn")


FLAGGED = b"customer_id,country,spend,churned\n" + b"".join(
    f"C{1000 + i},NL,{(i * 37) % 200},{'yes' if i % 3 == 0 else 'no'}\n".encode() for i in range(100))


def test_the_list_counts_findings_even_for_rows_without_any(team):
    uploaded = upload_dataset(actor=team.editor, project_id=team.project_id,
                              source=FLAGGED, filename="ids.csv")
    with session_scope() as session:  # a row written without findings (JSON null)
        session.add(Dataset(project_id=team.project_id, name="bare", filename="b.csv",
                            content_sha256=uploaded.content_sha256))
    counts = {d.name: d.findings for d in list_datasets(actor=team.viewer, project_id=team.project_id)}
    assert counts == {"bare": 0, "ids": len(uploaded.findings)}
    assert counts["ids"] >= 1  # the identifier and the constant column were flagged
