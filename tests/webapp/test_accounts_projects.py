"""AppTest: the sign-in gate, sign up / sign in / sign out, and the Projects page."""

from __future__ import annotations

from db.models import Role
from tests.webapp.conftest import PASSWORD, actor_of, app_as, no_exception, texts
from workspace import projects


def button(at, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button '{label}' in {[b.label for b in at.button]}"
    return matches[0]


def test_signed_out_visitor_sees_only_the_sign_in_page(db):
    at = app_as(None)
    at.run()
    no_exception(at)
    assert [t.label for t in at.tabs] == ["Sign in", "Create an account"]
    assert "Projects" not in texts(at)
    assert not at.sidebar.button  # no sign-out, no navigation to anything


def test_sign_up_validates_then_creates_the_account_and_signs_in(db):
    at = app_as(None)
    at.run()
    button(at, "Create account").click().run()
    assert "Enter an email and a password." in texts(at)

    at.text_input(key="sign-up-email").input("new@example.com")
    at.text_input(key="sign-up-password").input(PASSWORD)
    at.text_input(key="sign-up-repeat").input(PASSWORD + "x")
    button(at, "Create account").click().run()
    assert "The two passwords differ" in texts(at)

    at.text_input(key="sign-up-password").input("short")
    at.text_input(key="sign-up-repeat").input("short")
    button(at, "Create account").click().run()
    assert "too short" in texts(at)  # the accounts layer's sentence, shown as is

    at.text_input(key="sign-up-password").input(PASSWORD)
    at.text_input(key="sign-up-repeat").input(PASSWORD)
    button(at, "Create account").click().run()
    no_exception(at)
    assert at.title[0].value == "Projects"
    assert [t.value for t in at.sidebar.text] == ["Signed in as new@example.com"]
    assert at.session_state["auth_token"]


def test_wrong_password_is_refused_in_words(owner_token):
    at = app_as(None)
    at.run()
    at.text_input(key="sign-in-email").input("olive@example.com")
    at.text_input(key="sign-in-password").input("not the password")
    button(at, "Sign in").click().run()
    no_exception(at)
    assert "The email or password is wrong" in texts(at)
    assert "Projects" not in [t.value for t in at.title]

    at.text_input(key="sign-in-password").input(PASSWORD)
    button(at, "Sign in").click().run()
    assert at.title[0].value == "Projects"


def test_sign_out_revokes_the_token(owner_token):
    at = app_as(owner_token)
    at.run()
    at.sidebar.button(key="sign-out").click().run()
    no_exception(at)
    assert [t.label for t in at.tabs] == ["Sign in", "Create an account"]
    assert actor_of(owner_token) is None  # the token is dead on the server too


def test_expired_or_unknown_token_shows_the_sign_in_page(db):
    at = app_as("x" * 43)
    at.run()
    no_exception(at)
    assert [t.label for t in at.tabs] == ["Sign in", "Create an account"]


def test_empty_workspace_offers_the_sample_and_a_create_form(owner_token):
    at = app_as(owner_token)
    at.run()
    no_exception(at)
    assert "Your workspace is empty" in texts(at)
    assert button(at, "Try the sample project")
    button(at, "Create project").click().run()
    assert "Give the project a name." in texts(at)

    at.text_input(key="new-project-name").input("Churn")
    button(at, "Create project").click().run()
    no_exception(at)
    owner = actor_of(owner_token)
    [summary] = projects.list_projects(actor=owner)
    assert summary.name == "Churn"
    assert at.subheader[0].value == "Churn"  # opened at once
    assert at.query_params["project"] == str(summary.id)


def test_a_second_project_opens_at_once_and_the_form_empties(owner_token):
    owner = actor_of(owner_token)
    first = projects.create_project(actor=owner, name="Churn")
    at = app_as(owner_token, project=str(first.id))
    at.run()
    assert at.subheader[0].value == "Churn"

    at.text_input(key="new-project-name").input("Pricing")
    button(at, "Create project").click().run()
    no_exception(at)
    second = next(p for p in projects.list_projects(actor=owner) if p.name == "Pricing")
    assert at.subheader[0].value == "Pricing"
    assert at.selectbox(key="open-project").value == second.id
    assert at.query_params["project"] == str(second.id)
    assert "Project 'Pricing' created and opened." in texts(at)
    assert at.text_input(key="new-project-name").value == ""
    [activity] = [d.value for d in at.dataframe if "what" in d.value.columns]
    assert list(activity["object"]) == ["project Pricing"]
    assert not activity["when"].str.contains(r"\+00:00|UTC").any()  # no offsets shown

    # the same name again is refused in words, not made twice
    at.text_input(key="new-project-name").input("pricing ")
    button(at, "Create project").click().run()
    assert "You already have a project named 'pricing'" in texts(at)
    assert len(projects.list_projects(actor=owner)) == 2

    # and opening the first one again from the picker works
    at.selectbox(key="open-project").select(first.id).run()
    assert at.subheader[0].value == "Churn"


def test_owner_manages_members_and_an_editor_does_not_see_the_controls(owner_token, stranger_token):
    owner, stranger = actor_of(owner_token), actor_of(stranger_token)
    project = projects.create_project(actor=owner, name="Churn")

    at = app_as(owner_token, project=str(project.id))
    at.run()
    no_exception(at)
    at.text_input(key="invite-email").input(stranger.email)
    at.selectbox(key="invite-role").select("editor")
    button(at, "Invite").click().run()
    no_exception(at)
    invited = "as an editor: they can open this project once they are signed in with that email."
    assert f"Invited {stranger.email} {invited}" in texts(at)
    members = {m.email: m.role for m in projects.list_members(actor=owner, project_id=project.id)}
    assert members == {owner.email: Role.OWNER, stranger.email: Role.EDITOR}
    shown = at.dataframe[1].value  # the members table, refreshed after the invite
    assert sorted(shown["email"]) == sorted([owner.email, stranger.email])

    # an e-mail without an account gets the very same answer; its invitation waits
    at.text_input(key="invite-email").input("nobody@example.com")
    at.selectbox(key="invite-role").select("editor")
    button(at, "Invite").click().run()
    no_exception(at)
    assert f"Invited nobody@example.com {invited}" in texts(at)
    assert "No account" not in texts(at)
    assert projects.list_invitations(actor=owner, project_id=project.id) == [
        projects.Invited("nobody@example.com", Role.EDITOR)]

    as_editor = app_as(stranger_token, project=str(project.id))
    as_editor.run()
    no_exception(as_editor)
    assert "Only owners can invite members or change roles." in texts(as_editor)
    assert not [t for t in as_editor.text_input if t.key == "invite-email"]
    assert not [f for f in as_editor.text_input if f.key == "delete-confirm"]


def test_a_non_member_sees_nothing_of_another_project_even_by_id(owner_token, stranger_token):
    owner = actor_of(owner_token)
    secret = projects.create_project(actor=owner, name="Secret plans", description="top secret")

    for page in ("projects", "datasets", "new_model", "build", "model", "predict"):
        at = app_as(stranger_token, project=str(secret.id))
        if page != "projects":
            at.switch_page(f"views/{page}.py")
        at.run()
        no_exception(at)
        said = texts(at)
        assert "Secret plans" not in said and "top secret" not in said, page
        assert "No project with that id exists, or you are not a member of" in said, page


def test_single_sign_on_identity_becomes_an_account(db):
    from workspace import accounts

    at = app_as(None)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "id",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    at.run()
    no_exception(at)
    assert at.button(key="single-sign-on").label == "Sign in with single sign-on"

    at.user = {"is_logged_in": True, "email": "Ida@Example.com", "name": "Ida"}
    at.run()
    no_exception(at)
    assert at.title[0].value == "Projects"
    assert accounts.get_user_by_email("ida@example.com").display_name == "Ida"


def test_without_auth_secrets_there_is_no_single_sign_on_button(db):
    at = app_as(None)
    at.run()
    assert not [b for b in at.button if b.key == "single-sign-on"]
