"""Local accounts: sign up, sign in, sessions, sign out; and the OpenID Connect path.

Passwords are hashed with argon2id (argon2-cffi) and never stored, logged or put in an error
message in clear. A signed-in browser holds an opaque random token; the database keeps only
its SHA-256, so a copy of the database cannot be used to sign in. Failed sign-ins are counted
per email (whether or not an account exists) and, past `login_max_failures` within
`login_window_minutes`, refused until the window has passed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from db.engine import session_scope
from db.models import AuthSession, Invitation, LoginAttempt, Membership, User, UserPublic, utcnow
from workspace.permissions import Actor
from workspace.settings import get_settings

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
# argon2 hashes whatever it is given; a cap stops a megabyte "password" from costing CPU.
MAX_PASSWORD_LENGTH = 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()
_SIGNUP_LOCK = 0x62726D6C  # pg advisory lock key: one sign-up at a time decides "first user"


class AccountError(ValueError):
    """A sign-up or sign-in problem, worded for the person at the form."""


class SignUpClosed(AccountError):
    pass


class InvalidCredentials(AccountError):
    pass


class TooManyAttempts(AccountError):
    def __init__(self, message: str, retry_at: datetime):
        super().__init__(message)
        self.retry_at = retry_at


# --------------------------------------------------------------------------- helpers


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    """The e-mail, normalised; AccountError when it is not an e-mail address."""
    email = normalise_email(email)
    if not _EMAIL.match(email) or len(email) > 320:
        raise AccountError(f"'{email}' is not an email address. Enter one like name@example.com.")
    return email


def check_password_rules(password: str, *, email: str = "") -> None:
    """Raise AccountError saying what is wrong with a new password (the password is not echoed)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters "
            "(a few words strung together is easy to remember)."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"The password is too long: use at most {MAX_PASSWORD_LENGTH} characters.")
    if not password.strip() or len(set(password)) < 4:
        raise AccountError("The password is too simple: use at least 4 different characters.")
    if email and password.strip().lower() == normalise_email(email):
        raise AccountError("The password must not be your email address.")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _public(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, email=user.email, is_admin=user.is_admin)


def _lock(session: Session, key: int | str) -> None:
    """A transaction-scoped Postgres advisory lock: concurrent requests take turns."""
    if isinstance(key, str):
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
    else:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def _user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def _any_user(session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


def _may_create_account(session: Session, actor: Actor | None) -> bool:
    """The first user, anyone while sign-up is open, or an administrator adding someone."""
    return (
        get_settings().open_signup
        or not _any_user(session)
        or (actor is not None and _is_admin(session, actor))
    )


def _is_admin(session: Session, actor: Actor) -> bool:
    """Asked of the database, not of the Actor object the caller holds."""
    user = session.get(User, actor.user_id)
    return bool(user and user.is_admin and user.is_active)


_CLOSED = ("Sign-up is closed on this workspace. Ask its administrator to create an account "
           "for you.")


# --------------------------------------------------------------------------- sign up


def sign_up(
    *, email: str, password: str, display_name: str = "", actor: Actor | None = None
) -> UserPublic:
    """Create a local account. The first account of the workspace is its administrator.

    With BRIEFML_OPEN_SIGNUP=false only the first account can sign itself up; after that an
    administrator (passed as `actor`) may still create accounts for others.
    Raises AccountError (SignUpClosed) with a message for the form.
    """
    email = check_email(email)
    check_password_rules(password, email=email)
    password_hash = _hasher.hash(password)
    with session_scope() as session:
        _lock(session, _SIGNUP_LOCK)
        if not _may_create_account(session, actor):
            raise SignUpClosed(_CLOSED)
        if _user_by_email(session, email) is not None:
            raise AccountError(
                f"An account with the email {email} already exists. Sign in instead.")
        user = User(email=email, display_name=display_name.strip()[:200],
                    password_hash=password_hash, is_admin=not _any_user(session))
        session.add(user)
        session.flush()
        _accept_invitations(session, user)
        log.info("account created for %s (admin=%s)", email, user.is_admin)
        return _public(user)


def _accept_invitations(session: Session, user: User) -> None:
    """A new account becomes a member of every project that invited its e-mail."""
    invitations = session.exec(select(Invitation).where(Invitation.email == user.email)).all()
    for invitation in invitations:
        session.add(Membership(project_id=invitation.project_id, user_id=user.id,
                               role=invitation.role))
        session.delete(invitation)
    if invitations:
        log.info("%s joined %d project(s) that had invited them", user.email, len(invitations))


def get_user_by_email(email: str) -> UserPublic | None:
    """The account with this email (any case), or None."""
    with session_scope() as session:
        user = _user_by_email(session, email)
        return _public(user) if user else None


def ensure_oidc_user(email: str, name: str = "") -> Actor:
    """The actor for someone signed in through OpenID Connect (`st.login`); first visit creates
    the account (without a password). An existing account with the same email is the same person:
    the identity provider has checked that they own the address.

    Raises SignUpClosed for a new person while sign-up is closed.
    """
    email = check_email(email)
    with session_scope() as session:
        user = _user_by_email(session, email)
        if user is None:  # only a first visit takes the sign-up lock
            _lock(session, _SIGNUP_LOCK)
            user = _user_by_email(session, email)
        if user is None:
            if not _may_create_account(session, None):
                raise SignUpClosed(_CLOSED)
            user = User(email=email, display_name=(name or "").strip()[:200],
                        is_admin=not _any_user(session))
            session.add(user)
            session.flush()
            _accept_invitations(session, user)
            log.info("account created for %s through single sign-on", email)
        if not user.is_active:
            raise InvalidCredentials("This account is disabled. Ask the workspace administrator.")
        return actor_of(user)


# --------------------------------------------------------------------------- sign in


def _recent_failures(session: Session, email: str, since: datetime) -> list[datetime]:
    """Failed attempts for this email inside the window and after its last success."""
    last_success = session.exec(
        select(sa.func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    ).one()
    start = max(since, last_success) if last_success else since
    return list(session.exec(
        select(LoginAttempt.created_at)
        .where(LoginAttempt.email == email, LoginAttempt.succeeded.is_(False),
               LoginAttempt.created_at > start)
        .order_by(LoginAttempt.created_at)
    ).all())


def _refuse_if_locked_out(session: Session, email: str) -> None:
    settings = get_settings()
    window = timedelta(minutes=settings.login_window_minutes)
    failures = _recent_failures(session, email, utcnow() - window)
    if len(failures) < settings.login_max_failures:
        return
    # the lock lifts when enough of the counted failures have aged out of the window
    retry_at = failures[len(failures) - settings.login_max_failures] + window
    minutes = max(1, int((retry_at - utcnow()).total_seconds() // 60) + 1)
    log.warning("sign-in refused for %s: too many failed attempts", email)
    raise TooManyAttempts(
        f"Too many failed sign-in attempts for this email. Try again after "
        f"{retry_at:%H:%M} UTC (in about {minutes} minute{'s' if minutes != 1 else ''}).",
        retry_at,
    )


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures take the same time.
    (Made on first use: hashing costs half a second, too much for every import.)"""
    return _hasher.hash(secrets.token_urlsafe(16))


def _forget_old_attempts(session: Session, email: str) -> None:
    """Attempts older than a day (or the window, if longer) no longer count for anything."""
    keep = max(timedelta(days=1), timedelta(minutes=get_settings().login_window_minutes))
    session.execute(sa.delete(LoginAttempt).where(LoginAttempt.email == email,
                                                  LoginAttempt.created_at < utcnow() - keep))


def _password_matches(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None else None
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _new_session(session: Session, user: User) -> str:
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=get_settings().session_hours)
    session.add(AuthSession(token_sha256=_token_hash(token), user_id=user.id, expires_at=expires))
    return token


def sign_in(*, email: str, password: str) -> tuple[UserPublic, str]:
    """Check the password; return the user and a new session token (keep it in the browser).

    Unknown email and wrong password give the same InvalidCredentials; too many failures give
    TooManyAttempts saying when to try again.
    """
    email = normalise_email(email)[:320]
    with session_scope() as session:
        _lock(session, f"sign-in:{email}")
        _forget_old_attempts(session, email)
        _refuse_if_locked_out(session, email)
        user = _user_by_email(session, email)
        ok = (len(password) <= MAX_PASSWORD_LENGTH and _password_matches(user, password)
              and user.is_active)
        session.add(LoginAttempt(email=email[:320], succeeded=ok))
        if not ok:
            log.info("failed sign-in for %s", email)
            # committed even though the caller sees an error: the failure must count
            session.commit()
            raise InvalidCredentials("The email or password is wrong. Check both and try again.")
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        token = _new_session(session, user)
        log.info("signed in %s", email)
        return _public(user), token


def actor_for_token(token: str | None) -> Actor | None:
    """The signed-in actor for a session token, or None when it is unknown or has expired."""
    if not token:
        return None
    with session_scope() as session:
        row = session.exec(
            select(User)
            .join(AuthSession, AuthSession.user_id == User.id)
            .where(AuthSession.token_sha256 == _token_hash(token),
                   AuthSession.expires_at > utcnow(), User.is_active.is_(True))
        ).first()
        return actor_of(row) if row else None


def user_for_token(token: str | None) -> UserPublic | None:
    """Like `actor_for_token`, with the display name for the page header."""
    actor = actor_for_token(token)
    return get_user_by_email(actor.email) if actor else None


def sign_out(token: str | None) -> None:
    """End the session of this token (and drop any expired sessions while here)."""
    with session_scope() as session:
        if token:
            session.execute(
                sa.delete(AuthSession).where(AuthSession.token_sha256 == _token_hash(token)))
        session.execute(sa.delete(AuthSession).where(AuthSession.expires_at <= utcnow()))
