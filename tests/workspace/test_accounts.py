import logging
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from db.engine import get_engine, session_scope
from db.models import AuthSession, LoginAttempt, User, utcnow
from workspace import accounts
from workspace.accounts import (
    AccountError,
    InvalidCredentials,
    SignUpClosed,
    TooManyAttempts,
    actor_for_token,
    ensure_oidc_user,
    get_user_by_email,
    sign_in,
    sign_out,
    sign_up,
)
from workspace.permissions import Actor

PASSWORD = "correct horse battery staple"


def test_the_first_account_is_admin_and_emails_are_lower_case(db):
    first = sign_up(email="  Ada@Example.COM ", password=PASSWORD, display_name="Ada")
    second = ensure_oidc_user("grace@example.com", "Grace")
    assert first.email == "ada@example.com" and first.is_admin
    assert not second.is_admin
    assert get_user_by_email("ADA@example.com").id == first.id
    assert get_user_by_email("nobody@example.com") is None


@pytest.mark.parametrize("password, message", [
    ("short", "too short: use at least 10"),
    ("aaaaaaaaaaaa", "too simple"),
    ("x" * 2000, "too long"),
    ("ada@example.com", "must not be your email"),
])
def test_weak_passwords_are_refused_with_a_reason(db, password, message):
    with pytest.raises(AccountError, match=message):
        sign_up(email="ada@example.com", password=password)
    assert get_user_by_email("ada@example.com") is None


def test_a_bad_email_and_a_taken_email_are_refused(db):
    with pytest.raises(AccountError, match="not an email address"):
        sign_up(email="ada-at-example", password=PASSWORD)
    ensure_oidc_user("ada@example.com")
    with pytest.raises(AccountError, match="already exists. Sign in instead"):
        sign_up(email="ADA@example.com", password=PASSWORD)


def test_closed_sign_up_admits_only_the_first_user_and_admins(db, set_env):
    set_env(open_signup="false")
    admin = ensure_oidc_user("admin@example.com")
    with pytest.raises(SignUpClosed, match="Sign-up is closed"):
        sign_up(email="eve@example.com", password=PASSWORD)
    with pytest.raises(SignUpClosed, match="Sign-up is closed"):
        ensure_oidc_user("mallory@example.com")
    # an administrator can still add people; a forged Actor claiming to be one cannot
    forged = Actor(user_id=uuid.uuid4(), email="eve@example.com", is_admin=True)
    with pytest.raises(SignUpClosed):
        sign_up(email="eve@example.com", password=PASSWORD, actor=forged)
    added = sign_up(email="bob@example.com", password=PASSWORD, actor=admin)
    assert not added.is_admin
    assert ensure_oidc_user("bob@example.com").user_id == added.id  # existing people still get in


def test_sign_in_gives_a_session_that_survives_and_sign_out_ends_it(db):
    user = sign_up(email="ada@example.com", password=PASSWORD)
    who, token = sign_in(email="Ada@example.com ", password=PASSWORD)
    assert who.id == user.id
    # "a page reload": a new request holding only the token finds the same actor
    actor = actor_for_token(token)
    assert actor.user_id == user.id and actor.email == "ada@example.com" and actor.is_admin
    assert actor_for_token("not-a-token") is None and actor_for_token(None) is None
    sign_out(token)
    assert actor_for_token(token) is None


def test_sessions_expire_after_the_configured_hours(db, set_env):
    set_env(session_hours="2")
    sign_up(email="ada@example.com", password=PASSWORD)
    _, token = sign_in(email="ada@example.com", password=PASSWORD)
    with session_scope() as session:
        row = session.exec(select(AuthSession)).one()
        assert abs((row.expires_at - utcnow()) - timedelta(hours=2)) < timedelta(minutes=1)
        assert row.token_sha256 != token and token not in row.token_sha256
        row.expires_at = utcnow() - timedelta(seconds=1)  # as if two hours had passed
    assert actor_for_token(token) is None


def test_unknown_email_and_wrong_password_give_the_same_error(db):
    sign_up(email="ada@example.com", password=PASSWORD)
    ensure_oidc_user("sso@example.com")  # no password at all: cannot sign in locally
    messages = set()
    for email, password in [("ada@example.com", "wrong password!"), ("who@example.com", PASSWORD),
                            ("sso@example.com", PASSWORD)]:
        with pytest.raises(InvalidCredentials) as info:
            sign_in(email=email, password=password)
        messages.add(str(info.value))
    assert messages == {"The email or password is wrong. Check both and try again."}


def test_brute_force_is_stopped_even_with_the_right_password(db, set_env):
    set_env(login_max_failures="3", login_window_minutes="10")
    sign_up(email="ada@example.com", password=PASSWORD)
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            sign_in(email="ada@example.com", password="guess number x")
    with pytest.raises(TooManyAttempts, match=r"Try again after \d\d:\d\d UTC \(in about 10 minutes\)") as info:
        sign_in(email="ada@example.com", password=PASSWORD)
    assert timedelta(minutes=9) < info.value.retry_at - utcnow() <= timedelta(minutes=10)
    # refused attempts are not counted (the lock does not grow), and other emails are unaffected
    with session_scope() as session:
        assert session.exec(select(sa.func.count()).select_from(LoginAttempt)).one() == 3
    sign_up(email="bob@example.com", password=PASSWORD)
    assert sign_in(email="bob@example.com", password=PASSWORD)[0].email == "bob@example.com"


def test_failures_age_out_of_the_window(db, set_env):
    set_env(login_max_failures="2", login_window_minutes="5")
    sign_up(email="ada@example.com", password=PASSWORD)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            sign_in(email="ada@example.com", password="not the password")
    with pytest.raises(TooManyAttempts):
        sign_in(email="ada@example.com", password=PASSWORD)
    with session_scope() as session:  # six minutes later
        for attempt in session.exec(select(LoginAttempt)).all():
            attempt.created_at -= timedelta(minutes=6)
    user, _ = sign_in(email="ada@example.com", password=PASSWORD)
    assert user.email == "ada@example.com"


def test_unknown_emails_are_rate_limited_too(db, set_env):
    set_env(login_max_failures="2")
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            sign_in(email="ghost@example.com", password="anything at all")
    with pytest.raises(TooManyAttempts):
        sign_in(email="Ghost@example.com", password="anything at all")


def _every_stored_value() -> str:
    """Every row of every table, as text."""
    import db.models  # noqa: F401

    parts = []
    with get_engine().connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in conn.execute(sa.select(table))]
    return "\n".join(parts)


def test_passwords_are_never_stored_or_logged_in_clear(db, caplog):
    secret = "Zebra-Quartz-Violin-42"
    caplog.set_level(logging.DEBUG)  # everything any library logs, SQL parameters included
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        sign_up(email="ada@example.com", password=secret)
        _, token = sign_in(email="ada@example.com", password=secret)
        with pytest.raises(InvalidCredentials) as wrong:
            sign_in(email="ada@example.com", password=secret + "!")
        with pytest.raises(AccountError) as weak:
            sign_up(email="bob@example.com", password=secret[:5])
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert "ada@example.com" in caplog.text  # the logs were captured
    stored = _every_stored_value()
    assert "argon2id" in stored  # the hash is there...
    for clear in (secret, secret + "!", secret[:5], token):
        assert clear not in stored  # ...the password and the token are not
        assert clear not in caplog.text
        assert clear not in str(wrong.value) + str(weak.value)
    with session_scope() as session:
        assert accounts._hasher.verify(session.exec(select(User)).one().password_hash, secret)


def test_the_limit_holds_when_guesses_arrive_at_once(db, set_env):
    from concurrent.futures import ThreadPoolExecutor

    set_env(login_max_failures="3")
    sign_up(email="ada@example.com", password=PASSWORD)

    def guess(i: int) -> str:
        try:
            sign_in(email="ada@example.com", password=f"guess number {i}")
        except (InvalidCredentials, TooManyAttempts) as exc:
            return type(exc).__name__
        return "signed in"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(guess, range(8)))
    assert sorted(outcomes) == ["InvalidCredentials"] * 3 + ["TooManyAttempts"] * 5
