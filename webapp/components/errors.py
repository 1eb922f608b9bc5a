"""How a failure reaches the user: the error classes whose message is already a sentence,
the sentence for any other exception (with a log id), and a context manager that shows it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.errors import BriefmlError
from core.runtime import BundleIntegrityError, ExplanationError, SchemaError
from core.tableread import TableReadError
from workspace.accounts import AccountError
from workspace.builds import BuildStateError
from workspace.permissions import Forbidden, NotFound, NotSignedIn
from workspace.projects import ConfirmationRequired, MembershipError, ProjectNameError
from workspace.runtime import DatabaseUnavailable

from .formatting import plain

log = logging.getLogger("briefml.webapp")


# Exceptions whose message is already a sentence for the user (the workspace and engine
# word them that way), named one by one: a KeyError or ValueError from a bug is not one of
# them, and gets a generic sentence with a log id instead of its raw text.
USER_ERRORS = (
    BriefmlError,
    NotFound,
    Forbidden,
    DatabaseUnavailable,
    AccountError,
    BuildStateError,
    ConfirmationRequired,
    MembershipError,
    ProjectNameError,
    SchemaError,
    BundleIntegrityError,
    ExplanationError,
    TableReadError,
)


def error_sentence(exc: BaseException) -> str:
    """What to tell the user about an exception, in words."""
    if isinstance(exc, NotSignedIn):
        return "Your session has ended. Sign in again to continue."
    if isinstance(exc, USER_ERRORS) and str(exc).strip():
        return str(exc).strip()
    log_id = uuid.uuid4().hex[:12]
    log.error("Unexpected error in the web app [log id %s]", log_id, exc_info=exc)
    return (
        f"Something went wrong on the server (log id {log_id}). Try again; if it keeps "
        "happening, give the log id to whoever runs briefml: the server log has the details."
    )


@contextmanager
def shown_errors(*, stop: bool = False) -> Iterator[None]:
    """Run a workspace call; if it fails, show why in words (and stop the page if asked).

    Streamlit's own control flow (st.stop, st.rerun) derives from BaseException and passes.
    """
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
        st.error(plain(error_sentence(exc)), icon=":material/error:")  # may quote names
        if stop:
            st.stop()
