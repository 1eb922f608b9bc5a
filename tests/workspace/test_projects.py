import pytest
import sqlalchemy as sa
from sqlmodel import select

from db.artifacts import put_artifact
from db.engine import session_scope
from db.models import Artifact, Build, BuildStatus, Dataset, ModelVersion, Role
from tests.workspace.conftest import person
from workspace.accounts import AccountError, actor_of, sign_up
from workspace.permissions import Forbidden, NotFound
from workspace.projects import (
    ConfirmationRequired,
    Invited,
    MembershipError,
    change_role,
    create_project,
    delete_project,
    get_project,
    invite_member,
    leave_project,
    list_audit_events,
    list_invitations,
    list_members,
    list_projects,
    project_deletion_impact,
    project_role,
    remove_member,
    rename_project,
    transfer_ownership,
)


def test_the_creator_owns_the_project_and_lists_show_only_own_projects(team):
    mine = list_projects(actor=team.owner)
    assert [(p.name, p.role, p.datasets, p.model_versions) for p in mine] == [("Churn", Role.OWNER, 0, 0)]
    assert [(p.name, p.role) for p in list_projects(actor=team.viewer)] == [("Churn", Role.VIEWER)]
    assert [p.name for p in list_projects(actor=team.outsider)] == ["Elsewhere"]
    assert project_role(actor=team.editor, project_id=team.project_id) == Role.EDITOR


def _add_dataset_and_versions(project_id, *, versions: int, dataset_version: int = 1) -> None:
    with session_scope() as session:
        sha = put_artifact(session, f"file of {project_id}".encode())
        dataset = Dataset(project_id=project_id, name="customers", version=dataset_version,
                          filename="c.csv", content_sha256=sha)
        session.add(dataset)
        session.flush()
        build = Build(project_id=project_id, dataset_id=dataset.id, brief="predict churn",
                      status=BuildStatus.SUCCEEDED)
        session.add(build)
        session.flush()
        for n in range(1, versions + 1):
            session.add(ModelVersion(project_id=project_id, build_id=build.id, dataset_id=dataset.id,
                                     version=n, target="churned", task_type="binary",
                                     metric="roc_auc", bundle_sha256=sha))


def test_list_counts_datasets_by_name_and_model_versions(team):
    _add_dataset_and_versions(team.project_id, versions=3)
    _add_dataset_and_versions(team.project_id, versions=0, dataset_version=2)  # same name, v2
    (summary,) = list_projects(actor=team.editor)
    assert (summary.datasets, summary.model_versions) == (1, 3)


def test_a_guessed_id_is_not_found_and_a_malformed_one_too(team):
    with pytest.raises(NotFound, match="No project with that id exists"):
        get_project(actor=team.outsider, project_id=team.project_id)
    with pytest.raises(NotFound, match="No project with that id exists"):
        get_project(actor=team.owner, project_id="'; drop table projects; --")
    assert get_project(actor=team.viewer, project_id=str(team.project_id)).name == "Churn"


def test_rename_is_for_owners(team):
    with pytest.raises(Forbidden, match="Only a project owner or above may rename; your role is editor"):
        rename_project(actor=team.editor, project_id=team.project_id, name="Attrition")
    with pytest.raises(ValueError, match="Give the project a name"):
        rename_project(actor=team.owner, project_id=team.project_id, name="   ")
    renamed = rename_project(actor=team.owner, project_id=team.project_id, name="Attrition",
                             description="renamed")
    assert (renamed.name, renamed.description) == ("Attrition", "renamed")


def test_invite_refuses_a_current_member_and_an_address_that_is_no_email(team):
    with pytest.raises(MembershipError, match="already a member of this project \\(as viewer\\)"):
        invite_member(actor=team.owner, project_id=team.project_id, email="VERA@example.com", role="editor")
    with pytest.raises(AccountError, match="'not-an-email' is not an email address"):
        invite_member(actor=team.owner, project_id=team.project_id, email="not-an-email")
    person("new@example.com")
    added = invite_member(actor=team.owner, project_id=team.project_id, email="New@Example.com", role="editor")
    assert added == Invited("new@example.com", Role.EDITOR)
    members = list_members(actor=team.viewer, project_id=team.project_id)
    assert [(m.email, m.role) for m in members] == [
        ("olive@example.com", Role.OWNER), ("eddie@example.com", Role.EDITOR),
        ("new@example.com", Role.EDITOR), ("vera@example.com", Role.VIEWER)]


def test_inviting_answers_the_same_whether_or_not_the_email_has_an_account(team):
    person("has.account@example.com")
    with_account = invite_member(actor=team.owner, project_id=team.project_id,
                                 email="has.account@example.com", role="editor")
    without = invite_member(actor=team.owner, project_id=team.project_id,
                            email="no.account@example.com", role="editor")
    assert type(with_account) is type(without)
    assert vars(with_account) == {"email": "has.account@example.com", "role": Role.EDITOR}
    assert vars(without) == {"email": "no.account@example.com", "role": Role.EDITOR}
    # the audit log, which every member reads, tells no difference either
    [second, first] = [e for e in list_audit_events(actor=team.viewer, project_id=team.project_id)
                       if e.action == "invite member"][:2]
    assert (first.object_type, first.object_id, sorted(first.detail)) == \
        (second.object_type, second.object_id, sorted(second.detail))


def test_an_invitation_waits_for_the_account_and_sign_up_makes_it_a_membership(team):
    invite_member(actor=team.owner, project_id=team.project_id, email="Ghost@Example.com", role="editor")
    assert list_invitations(actor=team.owner, project_id=team.project_id) == [
        Invited("ghost@example.com", Role.EDITOR)]
    with pytest.raises(Forbidden):  # only owners see who is invited
        list_invitations(actor=team.editor, project_id=team.project_id)
    change_role(actor=team.owner, project_id=team.project_id, email="ghost@example.com", role="viewer")
    ghost = sign_up(email="ghost@example.com", password="a long enough passphrase 7")
    assert project_role(actor=actor_of(ghost), project_id=team.project_id) == Role.VIEWER
    assert list_invitations(actor=team.owner, project_id=team.project_id) == []
    # single sign-on creates accounts too; a withdrawn invitation gives nothing
    invite_member(actor=team.owner, project_id=team.project_id, email="sso@example.com", role="editor")
    invite_member(actor=team.owner, project_id=team.project_id, email="gone@example.com")
    remove_member(actor=team.owner, project_id=team.project_id, email="gone@example.com")
    assert project_role(actor=person("sso@example.com"), project_id=team.project_id) == Role.EDITOR
    with pytest.raises(NotFound):
        project_role(actor=person("gone@example.com"), project_id=team.project_id)


def test_the_last_owner_is_kept(team):
    with pytest.raises(MembershipError, match="needs at least one owner. Transfer ownership"):
        change_role(actor=team.owner, project_id=team.project_id, email=team.owner.email, role="editor")
    with pytest.raises(MembershipError, match="You are the last owner of this project, so you cannot leave"):
        leave_project(actor=team.owner, project_id=team.project_id)
    with pytest.raises(MembershipError, match="needs at least one owner"):
        remove_member(actor=team.owner, project_id=team.project_id, email=team.owner.email)
    # with a second owner, the first may step down
    change_role(actor=team.owner, project_id=team.project_id, email=team.editor.email, role="owner")
    leave_project(actor=team.owner, project_id=team.project_id)
    with pytest.raises(NotFound):
        get_project(actor=team.owner, project_id=team.project_id)


def test_transfer_ownership_makes_the_old_owner_an_editor(team):
    with pytest.raises(MembershipError, match="nora@example.com is not a member of this project. Invite them first"):
        transfer_ownership(actor=team.owner, project_id=team.project_id, new_owner_email=team.outsider.email)
    transfer_ownership(actor=team.owner, project_id=team.project_id, new_owner_email="Vera@example.com")
    assert project_role(actor=team.viewer, project_id=team.project_id) == Role.OWNER
    assert project_role(actor=team.owner, project_id=team.project_id) == Role.EDITOR
    with pytest.raises(Forbidden):
        remove_member(actor=team.owner, project_id=team.project_id, email=team.viewer.email)


def test_members_can_leave_and_lose_access(team):
    leave_project(actor=team.viewer, project_id=team.project_id)
    assert list_projects(actor=team.viewer) == []
    with pytest.raises(NotFound):
        list_members(actor=team.viewer, project_id=team.project_id)
    remove_member(actor=team.owner, project_id=team.project_id, email=team.editor.email)
    assert [m.email for m in list_members(actor=team.owner, project_id=team.project_id)] == [team.owner.email]


def test_deleting_a_project_needs_its_name_and_says_what_goes(team):
    _add_dataset_and_versions(team.project_id, versions=2)
    impact = project_deletion_impact(actor=team.owner, project_id=team.project_id)
    assert impact == {"name": "Churn", "datasets": 1, "builds": 1, "model_versions": 2, "members": 3}
    with pytest.raises(ConfirmationRequired,
                       match="also deletes 1 dataset version, 1 build, 2 model versions and 3 memberships.*"
                             "Type the project name 'Churn' exactly"):
        delete_project(actor=team.owner, project_id=team.project_id, confirm_name="churn")
    with pytest.raises(Forbidden):
        delete_project(actor=team.editor, project_id=team.project_id, confirm_name="Churn")
    assert delete_project(actor=team.owner, project_id=team.project_id, confirm_name=" Churn ")["model_versions"] == 2
    with session_scope() as session:
        for model in (Dataset, Build, ModelVersion, Artifact):
            assert session.exec(select(sa.func.count()).select_from(model)).one() == 0
    assert [p.name for p in list_projects(actor=team.owner)] == []


def test_a_project_with_a_running_build_is_not_deleted(team):
    _add_dataset_and_versions(team.project_id, versions=0)
    with session_scope() as session:
        session.exec(select(Build)).one().status = BuildStatus.RUNNING
    with pytest.raises(ConfirmationRequired, match="1 build is queued or running.*cancel"):
        delete_project(actor=team.owner, project_id=team.project_id, confirm_name="Churn")


def test_artifacts_shared_with_another_project_survive_its_deletion(team):
    other = create_project(actor=team.owner, name="Other")
    _add_dataset_and_versions(team.project_id, versions=1)
    with session_scope() as session:  # the same file uploaded in the other project
        sha = session.exec(select(Dataset.content_sha256)).one()
        session.add(Dataset(project_id=other.id, name="copy", filename="c.csv", content_sha256=sha))
    delete_project(actor=team.owner, project_id=team.project_id, confirm_name="Churn")
    with session_scope() as session:
        assert session.get(Artifact, sha) is not None


def test_the_audit_log_says_who_did_what(team):
    rename_project(actor=team.owner, project_id=team.project_id, name="Attrition")
    events = list_audit_events(actor=team.viewer, project_id=team.project_id)
    assert [(e.action, e.user_email) for e in events] == [
        ("rename project", "olive@example.com"),
        ("invite member", "olive@example.com"),
        ("invite member", "olive@example.com"),
        ("create project", "olive@example.com"),
    ]
    assert events[0].detail == {"old_name": "Churn", "name": "Attrition"}
    assert len(list_audit_events(actor=team.viewer, project_id=team.project_id, limit=2)) == 2
    with pytest.raises(NotFound):
        list_audit_events(actor=team.outsider, project_id=team.project_id)
