"""The trained model as the engine hands it on: an input schema plus weighted members."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import runtime
from core.runtime import InputReport, Member


class TabularModel:
    """A fitted model that takes raw input rows (the columns of the training table).

    Made by the search (`core.build`); saved and loaded by `core.bundle`. All prediction goes
    through `core.runtime`, the same code a bundle's `predict.py` runs, so the in-memory model
    and a downloaded bundle cannot disagree.
    """

    def __init__(self, schema: dict, members: list[Member], reliability: dict | None = None):
        self.schema = schema
        self.members = members
        # intervals / sets, calibrator and drift reference (core.trust; reliability.json)
        self.reliability = reliability or {}

    @property
    def task_type(self) -> str:
        return self.schema["task_type"]

    @property
    def classes_(self) -> list:
        return list(self.schema.get("classes") or [])

    @property
    def target(self) -> str:
        return self.schema["target"]

    def feature_frame(self, df: pd.DataFrame) -> tuple[pd.DataFrame, InputReport]:
        return runtime.prepare_frame(df, self.schema)

    def raw_output(self, df: pd.DataFrame) -> np.ndarray:
        """Probabilities (n, K) for classification, values (n,) for regression."""
        frame, _ = self.feature_frame(df)
        return runtime.ensemble_output(self.members, frame, self.schema)

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Class probabilities as the bundle gives them: after its calibrator, if it has one."""
        if self.task_type == "regression":
            raise ValueError("predict_proba is only defined for classification models.")
        return runtime.calibrated_output(self.raw_output(df), self.reliability.get("calibrator"))

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        output = self.raw_output(df)
        if self.task_type == "regression":
            return output
        called = runtime.class_indices(output, self.schema, self.reliability.get("calibrator"))
        return np.asarray(self.classes_, dtype=object)[called]

    def predict_table(self, df: pd.DataFrame, *, coverage: float | None = None,
                      drift: bool = False) -> tuple[pd.DataFrame, InputReport]:
        """Predictions (with intervals or sets when the model has reliability figures); see
        `core.runtime.predict_table`."""
        return runtime.predict_table(self.members, df, self.schema, reliability=self.reliability,
                                     coverage=coverage, drift=drift)
