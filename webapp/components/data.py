"""Dataset tables for the pages, cached per user."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from workspace import datasets


@st.cache_data(ttl=300, max_entries=8, show_spinner=False)
def _dataset_frame(user_id: str, dataset_id: str) -> pd.DataFrame:
    return datasets.load_dataset_frame(actor=_actors[user_id], dataset_id=dataset_id)


_actors: dict[str, Any] = {}


def dataset_frame(actor, dataset_id) -> pd.DataFrame:
    """A dataset's table, cached per user for a few minutes (dataset versions never change,
    and reading a large file again on every click would be slow). The cache key holds the
    user, so one user's cached read never answers another's permission check."""
    _actors[str(actor.user_id)] = actor
    return _dataset_frame(str(actor.user_id), str(dataset_id))
