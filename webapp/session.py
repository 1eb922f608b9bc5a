"""Who is signed in, and how that survives a page reload or a reopened browser.

The token from `workspace.accounts.sign_in` is kept in `st.session_state` for the open tab
and in a browser cookie so a reload (a new Streamlit session) finds it again.

Trade-off: Streamlit can read cookies (`st.context.cookies`, sent with the websocket
handshake) but has no API to set one, so a two-line script rendered with
`st.html(unsafe_allow_javascript=True)` writes it. The cookie therefore cannot be HttpOnly,
but it is SameSite=Strict and expires with the server-side session; unlike a token in the
query string it never shows in the address bar, in a copied link, or in proxy logs. The
server keeps only the token's SHA-256, and signing out revokes it there, so a stale cookie
is worthless.
"""

from __future__ import annotations

import json
import re

import streamlit as st

from workspace import accounts
from workspace.permissions import Actor

COOKIE_NAME = "briefml_session"
_TOKEN = "auth_token"
_COOKIE_WRITTEN = "auth_cookie_written"  # the token the browser's cookie holds, as far as we know
_SIGNED_OUT = "auth_signed_out"  # ignore the handshake cookie after an explicit sign-out
_LOGOUT_PROVIDER = "auth_logout_provider"  # also end the identity provider's session
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_\-\.~]{16,512}$")


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # no browser behind this session (AppTest, bare mode)
        return None
    return value if isinstance(value, str) and _SAFE_TOKEN.match(value) else None


def current_token() -> str | None:
    token = st.session_state.get(_TOKEN)
    if token is None and not st.session_state.get(_SIGNED_OUT):
        token = _cookie_token()
        if token:
            st.session_state[_TOKEN] = token
            st.session_state[_COOKIE_WRITTEN] = token
    return token


def current_actor() -> Actor | None:
    """The signed-in user, or None: a local account's session token (checked against the
    database, one query) or, when configured, a single-sign-on identity from st.login."""
    token = current_token()
    if not token:
        return _single_sign_on_actor()
    actor = accounts.actor_for_token(token)
    if actor is None:  # expired or revoked elsewhere
        forget()
    return actor


def single_sign_on_configured() -> bool:
    """Whether .streamlit/secrets.toml has an [auth] section (OpenID Connect for st.login).
    Only webapp/ reads st.secrets; the workspace gets the identity as plain arguments."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all means "not configured"
        return False


def _single_sign_on_actor() -> Actor | None:
    """The actor for an identity-provider login: Streamlit keeps that identity in its own
    signed cookie, so no token of ours is needed. First visit creates the account."""
    if not single_sign_on_configured():
        return None
    user = st.user
    if not user.get("is_logged_in") or not user.get("email"):
        return None
    return accounts.ensure_oidc_user(str(user.get("email")), str(user.get("name") or ""))


def remember(token: str) -> None:
    """Keep a fresh token for this tab; `sync_cookie` writes it to the browser."""
    st.session_state[_TOKEN] = token
    st.session_state.pop(_SIGNED_OUT, None)


def forget() -> None:
    st.session_state.pop(_TOKEN, None)
    st.session_state[_SIGNED_OUT] = True


def sign_out() -> None:
    """Revoke the token on the server and forget it here (used as a button callback)."""
    token = st.session_state.get(_TOKEN)
    if token:
        accounts.sign_out(token)
    cookie_written = st.session_state.get(_COOKIE_WRITTEN)
    single_sign_on = single_sign_on_configured() and bool(st.user.get("is_logged_in"))
    st.session_state.clear()  # the chosen project, forms and caches belong to that user
    st.session_state[_COOKIE_WRITTEN] = cookie_written  # so sync_cookie clears the cookie
    st.session_state[_LOGOUT_PROVIDER] = single_sign_on
    forget()


def finish_single_sign_out() -> None:
    """st.logout() cannot run inside a button callback; app.py calls this on the next run."""
    if st.session_state.pop(_LOGOUT_PROVIDER, False):
        st.logout()


def sync_cookie(max_age_seconds: int) -> None:
    """Make the browser's cookie match the session: set it after sign-in, clear it after
    sign-out. Renders an invisible script only when something changed."""
    token = st.session_state.get(_TOKEN)
    written = st.session_state.get(_COOKIE_WRITTEN)
    if token and written != token:
        _run_cookie_script(token, max_age_seconds)
        st.session_state[_COOKIE_WRITTEN] = token
    elif not token and (written or (st.session_state.get(_SIGNED_OUT) and _cookie_token())):
        _run_cookie_script("", 0)
        st.session_state[_COOKIE_WRITTEN] = None


def _run_cookie_script(token: str, max_age_seconds: int) -> None:
    cookie = f"{COOKIE_NAME}={token}; Max-Age={max_age_seconds}; Path=/; SameSite=Strict"
    # The page is served over http on localhost as well as https behind a proxy; only add
    # Secure when the page itself is https, or the browser would drop the cookie.
    st.html(
        "<script>(function(){var c=" + json.dumps(cookie) + ";"
        "if(location.protocol==='https:'){c+='; Secure';}"
        "(window.parent||window).document.cookie=c;})();</script>",
        unsafe_allow_javascript=True,
        width=1,
    )


def require_actor() -> Actor:
    """The signed-in user for a page; pages opened without one show a prompt and stop."""
    actor = st.session_state.get("actor") or current_actor()
    if actor is None:
        st.warning("Sign in to continue.", icon=":material/key:")
        st.stop()
    return actor
