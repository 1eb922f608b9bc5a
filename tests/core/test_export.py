"""Export a bundle to MLflow's model format (pickle-free, models from code) and to ONNX."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import mlflow.pyfunc
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from core.bundle import build_bundle
from core.errors import BundleError
from core.export.mlflow_model import export_mlflow
from tests.core import model_factories as mf


@pytest.fixture(scope="module")
def penguin_bundle(tmp_path_factory):
    """An ensemble (CatBoost + logistic regression) over categorical, numeric, text and date
    columns; trained on half the penguins, the other half kept as a held-out file."""
    work = tmp_path_factory.mktemp("export")
    df, schema = mf.penguins()
    train, held = df.iloc[::2].reset_index(drop=True), df.iloc[1::2].reset_index(drop=True)
    model = mf.model_of(schema, mf.catboost_member(train, schema, weight=0.6, iterations=20),
                        mf.sklearn_member(train, schema, LogisticRegression(max_iter=500), weight=0.4))
    build_bundle(model, work / "m.zip", input_example=train.head())
    held.drop(columns=["species"]).to_csv(work / "held.csv", index=False)
    with zipfile.ZipFile(work / "m.zip") as archive:
        archive.extractall(work / "bundle")
    return work


def _predict_py(work, *csvs) -> list[pd.DataFrame]:
    """What the bundle's own predict.py writes for each file, its command line run in the
    bundle's folder (one interpreter for all files: starting one costs seconds)."""
    outs = [work / f"{csv.stem}_predicted.csv" for csv in csvs]
    calls = "; ".join(f"predict.main([{str(c)!r}, '-o', {str(o)!r}])" for c, o in zip(csvs, outs, strict=True))
    subprocess.run([sys.executable, "-c", f"import predict; {calls}"], cwd=work / "bundle",
                   check=True, capture_output=True)
    return [pd.read_csv(out) for out in outs]


def test_the_mlflow_model_predicts_exactly_what_predict_py_predicts(penguin_bundle):
    work = penguin_bundle
    export_mlflow(work / "m.zip", work / "mlflow_model")
    files = {p.name for p in (work / "mlflow_model").iterdir()}
    assert {"MLmodel", "requirements.txt", "conda.yaml", "python_env.yaml",
            "input_example.json", "mlflow_pyfunc.py"} <= files
    assert not any(p.suffix in (".pkl", ".pickle") for p in (work / "mlflow_model").rglob("*"))
    mlmodel = yaml.safe_load((work / "mlflow_model" / "MLmodel").read_text())
    flavor = mlmodel["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.loaders.code_model"  # no cloudpickle
    assert "island" in mlmodel["signature"]["inputs"] and "proba_Gentoo" in mlmodel["signature"]["outputs"]
    pinned = (work / "mlflow_model" / "requirements.txt").read_text().splitlines()
    assert all("==" in line for line in pinned) and any(line.startswith("catboost==") for line in pinned)

    loaded = mlflow.pyfunc.load_model(str(work / "mlflow_model"))
    csvs = (work / "bundle" / "input_example.csv", work / "held.csv")
    for csv, expected in zip(csvs, _predict_py(work, *csvs), strict=True):
        got = loaded.predict(pd.read_csv(csv)).reset_index(drop=True)
        assert list(got.columns) == ["species", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]
        # predict.py writes floats in full (repr), so the comparison is exact; the input's own
        # columns follow its predictions there, and MLflow's model returns predictions only
        assert list(expected.columns[4:]) == list(pd.read_csv(csv).columns)
        pd.testing.assert_frame_equal(got, expected.iloc[:, :4], check_exact=True, check_dtype=False)


def test_mlflow_export_refuses_a_folder_in_use_and_a_changed_bundle(penguin_bundle, tmp_path):
    work = penguin_bundle
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match="already exists and is not empty"):
        export_mlflow(work / "m.zip", tmp_path / "taken")
    with zipfile.ZipFile(work / "m.zip") as old, zipfile.ZipFile(tmp_path / "bad.zip", "w") as new:
        for info in old.infolist():
            new.writestr(info, old.read(info) + (b"\n" if info.filename == "schema.json" else b""))
    with pytest.raises(BundleError, match="schema.json"):
        export_mlflow(tmp_path / "bad.zip", tmp_path / "out")


def _engine_member(family: str, x, y, schema, weight: float):
    """A member fitted the way the engine fits it (the registry's own pipeline)."""
    from core.registry import REGISTRY, FitContext
    from core.runtime import Member

    entry = REGISTRY[family]
    params = entry.default_params(schema["task_type"], len(x))
    if family == "random_forest":
        params["n_estimators"] = 30
    if family == "catboost":
        params["iterations"] = 30
    if family == "lightgbm":
        params["num_iterations"] = 30
    fitted = entry.fit(params, x, y, FitContext(task_type=schema["task_type"], schema=schema,
                                                n_classes=len(schema["classes"]), threads=1))
    return Member(fitted.kind, fitted.estimator, weight, family)


@pytest.fixture(scope="module")
def numeric_bundle(tmp_path_factory):
    """Linear + random forest + CatBoost + LightGBM on numbers only: every member has an
    ONNX form."""
    from core import runtime

    df, schema = mf.breast_cancer()
    df = df.drop(columns=["size_band"])
    schema["columns"] = [c for c in schema["columns"] if c["name"] != "size_band"]
    x, _ = runtime.prepare_frame(df, schema)
    y = mf.labels(df, schema)
    members = [_engine_member("linear", x, y, schema, 0.4),
               _engine_member("random_forest", x, y, schema, 0.3),
               _engine_member("catboost", x, y, schema, 0.2),
               _engine_member("lightgbm", x, y, schema, 0.1)]
    path = tmp_path_factory.mktemp("onnx") / "numeric.zip"
    build_bundle(mf.model_of(schema, *members), path, input_example=df.head())
    return path, df


def test_an_onnx_export_matches_the_bundle_within_1e_5(numeric_bundle, tmp_path):
    import onnx
    import onnxruntime

    from core import runtime
    from core.export.onnx_model import export_onnx, onnx_inputs

    path, df = numeric_bundle
    _, caveats = export_onnx(path, tmp_path / "model.onnx")
    # sklearn trees send a missing number where training sent most rows; ONNX cannot say that
    assert [c.split(" treats")[0] for c in caveats] == ["Member 1 ('random_forest')"]
    bundle = runtime.load(path)
    frame, _ = runtime.prepare_frame(df, bundle.schema)
    expected = runtime.ensemble_output(bundle.members, frame, bundle.schema)
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    [got] = session.run(["probabilities"], onnx_inputs(frame, bundle.schema))
    assert got.shape == expected.shape == (len(df), 2)
    assert abs(got - expected).max() <= 1e-5
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "model.onnx")).metadata_props}
    assert props["classes"] == '["benign", "malignant"]' and props["target"] == "diagnosis"
    assert json.loads(props["caveats"]) == caveats


def test_a_member_onnx_cannot_express_is_named_with_the_reason(penguin_bundle, tmp_path):
    from core.export.onnx_model import NotExportable, export_onnx

    with pytest.raises(NotExportable, match=r"^Member 0 \('catboost', CatBoostClassifier\) cannot be "
                       r"exported to ONNX: CatBoost's ONNX export does not support categorical"):
        export_onnx(penguin_bundle / "m.zip", tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_the_export_command_says_in_one_line_what_it_cannot_do(penguin_bundle, tmp_path):
    from typer.testing import CliRunner

    from briefml.cli import app

    runner = CliRunner()
    nothing = runner.invoke(app, ["export", str(penguin_bundle / "m.zip")])
    assert nothing.exit_code == 2 and "--mlflow DIR and/or --onnx FILE" in nothing.stderr
    refused = runner.invoke(app, ["export", "--onnx", str(tmp_path / "m.onnx"),
                                  str(penguin_bundle / "m.zip")])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert refused.stderr.count("\n") == 1 and "cannot be exported to ONNX" in refused.stderr
