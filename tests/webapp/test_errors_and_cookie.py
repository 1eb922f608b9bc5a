"""How failures reach the user (`components.error_sentence`) and how the sign-in cookie
follows the session (`session.sync_cookie`)."""

from __future__ import annotations

import logging
import re

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import DataError
from core.tableread import TableReadError
from tests.webapp.conftest import actor_of, app_as, no_exception, texts
from webapp import components, session
from workspace import projects
from workspace.permissions import NotFound

GENERIC = re.compile(r"Something went wrong on the server \(log id ([0-9a-f]{12})\)")


@pytest.mark.parametrize("bug", [KeyError("internal_cache_slot"), IndexError("internal_cache_slot"),
                                 ValueError("internal_cache_slot"), TypeError("internal_cache_slot")])
def test_a_bug_is_told_as_something_went_wrong_with_a_log_id_never_its_text(bug, caplog):
    with caplog.at_level(logging.ERROR, logger="briefml.webapp"):
        sentence = components.error_sentence(bug)
    assert "internal_cache_slot" not in sentence and type(bug).__name__ not in sentence
    [log_id] = GENERIC.findall(sentence)
    [record] = [r for r in caplog.records if log_id in r.getMessage()]
    assert record.exc_info[1] is bug  # the server log keeps the traceback under that id


def test_errors_worded_for_the_user_are_shown_as_they_are():
    assert components.error_sentence(DataError("Column 'x' is empty.")) == "Column 'x' is empty."
    assert components.error_sentence(TableReadError("The file is empty.")) == "The file is empty."
    assert components.error_sentence(NotFound("No project with that id exists.")) == \
        "No project with that id exists."
    assert components.error_sentence(projects.ProjectNameError("Give the project a name.")) == \
        "Give the project a name."


def test_a_key_error_from_a_bug_reaches_the_page_as_something_went_wrong(owner_token, monkeypatch):
    project = projects.create_project(actor=actor_of(owner_token), name="Churn")

    def broken(**_):
        raise KeyError("role_of_member_7")

    monkeypatch.setattr(projects, "list_members", broken)
    at = app_as(owner_token, project=str(project.id))
    at.run()
    no_exception(at)
    said = texts(at)
    assert GENERIC.search(said), said
    assert "role_of_member_7" not in said and "KeyError" not in said


# --------------------------------------------------------------------------- the cookie


def _cookie_page():
    import streamlit as st

    from webapp import session

    if st.session_state.get("sign_out_now"):
        st.session_state["sign_out_now"] = False
        session.forget()
    session.current_token()
    session.sync_cookie(3600)


@pytest.fixture
def cookie_writes(monkeypatch):
    """What the page asked the browser to store, one (token, max_age) per script."""
    writes = []
    monkeypatch.setattr(session, "_run_cookie_script", lambda token, age: writes.append((token, age)))
    return writes


def test_the_cookie_is_written_once_after_sign_in_and_cleared_after_sign_out(cookie_writes):
    at = AppTest.from_function(_cookie_page)
    at.run()
    assert cookie_writes == []  # nobody signed in: nothing to write or clear

    at.session_state["auth_token"] = "t" * 32
    at.run()
    at.run()  # nothing changed: no second script
    assert cookie_writes == [("t" * 32, 3600)]

    at.session_state["sign_out_now"] = True
    at.run()
    assert cookie_writes == [("t" * 32, 3600), ("", 0)]
    at.run()
    assert cookie_writes[-1] == ("", 0) and len(cookie_writes) == 2


def test_a_reload_signs_in_from_the_cookie_without_writing_it_again(cookie_writes, monkeypatch):
    monkeypatch.setattr(session, "_cookie_token", lambda: "c" * 32)
    at = AppTest.from_function(_cookie_page)
    at.run()
    assert at.session_state["auth_token"] == "c" * 32
    assert cookie_writes == []  # the browser already holds it

    at.session_state["sign_out_now"] = True
    at.run()  # the handshake still carries the old cookie: clear it, and do not sign in again
    assert "auth_token" not in at.session_state
    assert cookie_writes == [("", 0)]


def test_the_cookie_script_sets_a_strict_cookie_for_the_session():
    def page():
        from webapp import session

        session._run_cookie_script("abc" * 8, 120)

    at = AppTest.from_function(page)
    at.run()
    no_exception(at)
    [html] = at.get("html")
    body = html.proto.body
    assert "briefml_session=" + "abc" * 8 in body
    assert "Max-Age=120; Path=/; SameSite=Strict" in body
    assert "location.protocol==='https:'" in body  # Secure only on https pages
