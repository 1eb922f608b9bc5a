"""Gaps the model never learned to read: a row missing a value that training rows (almost)
always had is predicted as the model's average over typical training values there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import runtime
from core.bundle import build_bundle, load_bundle
from core.gaps import GAP_FILLS, GAP_ROWS, gap_fill_reference
from core.model import TabularModel
from core.runtime import BundleIntegrityError, validate_schema

from . import model_factories as mf


def _size_decides(n: int = 300) -> tuple[pd.DataFrame, dict]:
    """Two species told apart by size alone, which training rows always have; the island
    says little."""
    rng = np.random.default_rng(0)
    species = rng.choice(["big", "small"], n)
    size = np.where(species == "big", rng.normal(50, 3, n), rng.normal(20, 3, n))
    island = rng.choice(["north", "south"], n)
    df = pd.DataFrame({"size": size, "island": island, "species": species})
    return df, mf.schema_for(df, "species", "binary", {"size": "numeric", "island": "categorical"})


def _model_with_gap_fill(df: pd.DataFrame, schema: dict, member) -> TabularModel:
    frame, _ = runtime.prepare_frame(df, schema)
    schema = {**schema, "gap_fill": gap_fill_reference(frame, schema)}
    return TabularModel(schema, [member(df, schema)])


def test_only_features_with_few_gaps_get_typical_values_in_their_training_shares():
    rng = np.random.default_rng(1)
    n = 400
    df = pd.DataFrame({
        "complete": rng.uniform(0, 100, n),
        "often_missing": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        "colour": rng.choice(["red", "blue"], n, p=[0.75, 0.25]),
        "y": rng.normal(size=n),
    })
    df.loc[: GAP_ROWS - 2, "complete"] = np.nan  # one gap short of being learned
    schema = mf.schema_for(df, "y", "regression",
                           {"complete": "numeric", "often_missing": "numeric", "colour": "categorical"})
    frame, _ = runtime.prepare_frame(df, schema)
    fill = gap_fill_reference(frame, schema)["values"]

    assert set(fill) == {"complete", "colour"}
    assert len(fill["complete"]) == len(fill["colour"]) == GAP_FILLS
    assert sorted(fill["colour"]).count("red") == GAP_FILLS * 3 // 4
    present = df["complete"].dropna()
    assert present.quantile(0.01) <= min(fill["complete"]) and max(fill["complete"]) <= present.quantile(0.99)
    assert fill["complete"] != sorted(fill["complete"])  # shuffled: not all the lowest at once
    assert gap_fill_reference(frame, schema) == {"values": fill}  # the same every time
    validate_schema({**schema, "gap_fill": {"values": fill}})


@pytest.mark.parametrize("member", [mf.lightgbm_member, mf.catboost_member])
def test_a_row_missing_the_deciding_value_gets_a_hedged_answer_not_a_certain_one(member):
    df, schema = _size_decides()
    bare = TabularModel(schema, [member(df, schema)])
    hedged = _model_with_gap_fill(df, schema, member)
    row = pd.DataFrame({"size": [np.nan], "island": ["north"]})

    unfilled = bare.predict_proba(row)[0]
    filled = hedged.predict_proba(row)[0]
    assert unfilled.max() > 0.9  # the tree's own gap rule picks a side with near certainty
    assert filled.max() < 0.8  # the average over typical sizes does not
    # the answer is the mean of the model over the row's filled copies
    copies = pd.DataFrame({"size": hedged.schema["gap_fill"]["values"]["size"], "island": "north"})
    assert filled == pytest.approx(bare.predict_proba(copies).mean(axis=0))
    # complete rows are untouched
    assert hedged.predict_proba(df.head(20)) == pytest.approx(bare.predict_proba(df.head(20)))


def test_the_prediction_says_which_gaps_it_filled_and_explanations_still_add_up(monkeypatch):
    df, schema = _size_decides()
    model = _model_with_gap_fill(df, schema, mf.lightgbm_member)
    rows = pd.DataFrame({"size": [np.nan, 21.0, np.nan], "island": ["north", "south", None]})

    table, report = model.predict_table(rows)
    assert report.gap_filled == {"size": 2, "island": 1}
    assert any("2 rows had no value in 'size', 'island'" in w for w in report.warnings())
    frame, _ = model.feature_frame(rows)
    contrib = runtime.explain_frame(model.members, frame, model.schema)
    sums = contrib.base + contrib.values.sum(axis=1)
    assert sums == pytest.approx(model.raw_output(rows), abs=1e-6)
    assert table["proba_big"].to_numpy() == pytest.approx(model.raw_output(rows)[:, 0])
    at_once = model.raw_output(rows)
    monkeypatch.setattr(runtime, "GAP_COPY_ROWS", GAP_FILLS)  # one gap row's copies at a time
    assert model.raw_output(rows) == pytest.approx(at_once, abs=1e-12)


def test_a_bundle_predicts_the_same_hedged_answer_and_refuses_malformed_gap_fills(tmp_path):
    df, schema = _size_decides()
    model = _model_with_gap_fill(df, schema, mf.lightgbm_member)
    path = build_bundle(model, tmp_path / "model.zip", input_example=df.head(3))
    row = pd.DataFrame({"size": [np.nan], "island": ["north"]})
    assert np.array_equal(load_bundle(path).model.predict_proba(row), model.predict_proba(row))

    fills = model.schema["gap_fill"]["values"]
    for bad, says in [
        ({"values": {"weight": fills["size"]}}, "not one of its features"),
        ({"values": {"size": ["1", None]}}, "numbers or texts"),
        ({"values": {"size": fills["size"], "island": fills["island"][:3]}}, "different lengths"),
        ({"values": []}, "not a list of values per feature"),
    ]:
        with pytest.raises(BundleIntegrityError, match=says):
            validate_schema({**model.schema, "gap_fill": bad})


def test_an_onnx_export_of_a_model_that_fills_gaps_says_the_graph_does_not(tmp_path):
    from core.export.onnx_model import export_onnx

    df, schema = _size_decides()
    df["island"] = (df["island"] == "north").astype(float)  # LightGBM exports numbers only
    schema = mf.schema_for(df, "species", "binary", {"size": "numeric", "island": "numeric"})
    model = _model_with_gap_fill(df, schema, mf.lightgbm_member)
    path = build_bundle(model, tmp_path / "model.zip", input_example=df.head(3))
    _, caveats = export_onnx(path, tmp_path / "model.onnx")
    assert any("does not fill gaps" in c and "island, size" in c for c in caveats)
