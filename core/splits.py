"""Splits that respect groups and time, for the held-out test rows and for validation folds.

A grouped split keeps every row of one entity (a customer, a patient, a store) on one side,
so the test measures how the model does on entities it has not seen. A time split holds out
the latest rows and validates forward in time (train on the past, validate on what follows),
as the model will be used. Rows are positions 0..n-1 of the table being split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from core.spec import ValidationKind, ValidationSpec


def split_keys(raw: pd.DataFrame, validation: ValidationSpec) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(group codes, time order keys) per row for the validation scheme; None where unused."""
    column = validation.column
    if column is None or column not in raw.columns:
        return None, None
    if validation.kind is ValidationKind.GROUP:
        codes, _ = pd.factorize(raw[column].astype("str"))
        return codes, None
    if validation.kind is ValidationKind.TIME:
        when = pd.to_datetime(raw[column], errors="coerce")
        keys = when.astype("int64").to_numpy().astype("float64")
        keys[when.isna().to_numpy()] = -np.inf  # undated rows count as the oldest
        return None, keys
    return None, None


def group_holdout(groups: np.ndarray, test_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_share, random_state=seed)
    train, test = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return np.sort(train), np.sort(test)


def time_holdout(order: np.ndarray, test_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The latest `test_size` rows are the test rows (ties stay together on the test side)."""
    ranked = np.argsort(order, kind="stable")
    cut = len(order) - test_size
    boundary = order[ranked[cut]]
    test = order >= boundary
    if test.all():  # one date for everything: fall back to the last rows by position
        test = np.zeros(len(order), dtype=bool)
        test[ranked[cut:]] = True
    return np.flatnonzero(~test), np.flatnonzero(test)


def group_folds(groups: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    k = max(2, min(k, len(np.unique(groups))))
    return [(np.sort(tr), np.sort(va))
            for tr, va in GroupKFold(n_splits=k).split(np.zeros(len(groups)), groups=groups)]


def forward_folds(order: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds forward in time: fold i trains on the first i+1 of k+1 chunks by time and
    validates on the next chunk. The first chunk is never validated."""
    ranked = np.argsort(order, kind="stable")
    chunks = np.array_split(ranked, k + 1)
    return [(np.sort(np.concatenate(chunks[: i + 1])), np.sort(chunks[i + 1])) for i in range(k)]


def duplicates_across(raw: pd.DataFrame, columns: list[str], train: np.ndarray,
                      test: np.ndarray) -> int:
    """How many test rows repeat a training row exactly (on the inputs and the target)."""
    if not len(test) or not columns:
        return 0
    keys = pd.util.hash_pandas_object(raw[columns].astype("str"), index=False).to_numpy()
    return int(np.isin(keys[test], keys[train]).sum())
