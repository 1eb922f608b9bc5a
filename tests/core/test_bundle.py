import ast
import importlib.util
import json
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from core import runtime
from core.bundle import build_bundle, load_bundle, predict_file, requirements_text, verify_manifest
from core.errors import BundleError
from core.explain import explain_model, explain_row
from core.spec import Finding, Severity
from tests.core import model_factories as mf

ALLOWED_PREDICT_IMPORTS = {
    "__future__", "argparse", "dataclasses", "hashlib", "json", "numpy", "pandas", "pathlib",
    "sys", "typing", "zipfile", "contextlib", "catboost", "lightgbm", "skops", "shap", "sklearn",
    "threadpoolctl",
    # reading a bundle safely: paths, sizes, symlinks, JSON constants, signatures (--trust only)
    "os", "posixpath", "stat", "math", "base64", "re", "cryptography",
}
# the reader's own child process (address-space and time limits) and its streamed xlsx checks
READER_STDLIB = {"subprocess", "tempfile", "resource", "xml", "array", "importlib", "csv", "io"}


@pytest.fixture(scope="module")
def catboost_model(penguins):
    df, schema = penguins
    return mf.model_of(schema, mf.catboost_member(df, schema))


@pytest.fixture(scope="module")
def pipeline_model(cancer):
    df, schema = cancer
    return mf.model_of(schema, mf.sklearn_member(df, schema, HistGradientBoostingClassifier(max_iter=30)))


@pytest.fixture(scope="module")
def lightgbm_model(cancer):
    df, schema = cancer
    return mf.model_of(schema, mf.lightgbm_member(df, schema))


@pytest.fixture(scope="module")
def ensemble_model(penguins):
    df, schema = penguins
    return mf.model_of(
        schema,
        mf.catboost_member(df, schema, weight=0.7),
        mf.sklearn_member(df, schema, LogisticRegression(max_iter=500), weight=0.3),
    )


@pytest.fixture(scope="module")
def ensemble_bundle(tmp_path_factory, ensemble_model, penguins):
    df, _ = penguins
    explanation = explain_model(ensemble_model, df, max_rows=80)
    path = tmp_path_factory.mktemp("bundle") / "penguins.zip"
    findings = [Finding(check="missing_values", severity=Severity.WARNING,
                        message="Column 'sex' is missing in 3% of rows.", columns=["sex"])]
    build_bundle(
        ensemble_model, path, brief="Predict the penguin species from field measurements.",
        metrics={"log_loss": 0.08, "accuracy": 0.97}, baseline={"log_loss": 1.06, "accuracy": 0.44},
        confidence_intervals={"log_loss": [0.04, 0.13], "accuracy": [0.94, 0.99]},
        findings=findings, explanation=explanation, input_example=df.head(4),
        build_id="build-123", model_version=2,
    )
    return path, explanation


def _unzip(path: Path, where: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(where)
    return where


def _import_predict(folder: Path):
    spec = importlib.util.spec_from_file_location(f"predict_{abs(hash(folder))}", folder / "predict.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as `import predict` would; dataclasses need it
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("which", ["catboost_model", "pipeline_model", "lightgbm_model", "ensemble_model"])
def test_bundle_predicts_exactly_what_the_in_memory_model_predicts(request, tmp_path, which):
    model = request.getfixturevalue(which)
    df, _ = request.getfixturevalue("cancer" if which in ("pipeline_model", "lightgbm_model") else "penguins")
    path = build_bundle(model, tmp_path / "model.zip", input_example=df.head(3))
    loaded = load_bundle(path)
    assert np.array_equal(loaded.model.predict_proba(df), model.predict_proba(df))
    assert np.array_equal(loaded.model.predict(df), model.predict(df))
    # `from predict import load` in the unpacked bundle gives the same answers
    module = _import_predict(_unzip(path, tmp_path / "unpacked"))
    table, _ = module.load().predict_table(df)
    expected, _ = model.predict_table(df)
    pd.testing.assert_frame_equal(table, expected)


def test_bundle_holds_every_listed_file_with_its_hash_and_no_pickle(ensemble_bundle):
    path, _ = ensemble_bundle
    manifest = verify_manifest(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert names == set(manifest["files"]) | {"manifest.json"}
    assert {"schema.json", "input_example.csv", "requirements.txt", "metrics.json", "predict.py",
            "README.md", "models/member_0.cbm", "models/member_1.skops"} <= names
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)
    assert manifest["build_id"] == "build-123" and manifest["model_version"] == 2
    assert [m["kind"] for m in manifest["members"]] == ["catboost", "sklearn"]
    assert manifest["library_versions"]["catboost"] == metadata.version("catboost")


def test_requirements_pin_the_installed_versions(ensemble_bundle):
    path, _ = ensemble_bundle
    with zipfile.ZipFile(path) as archive:
        lines = archive.read("requirements.txt").decode().split()
    pins = dict(line.split("==") for line in lines)
    for name in ("numpy", "pandas", "scikit-learn", "catboost", "skops"):
        assert pins[name] == metadata.version(name)


def _imported_modules(source: bytes) -> set[str]:
    """Top-level modules a file imports; a relative import counts as the sibling it names."""
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            imported |= {f".{alias.name}" for alias in node.names}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
                         for alias in node.names}
    return imported


def test_predict_py_imports_nothing_from_briefml(ensemble_bundle):
    path, _ = ensemble_bundle
    with zipfile.ZipFile(path) as archive:
        predict_imports = _imported_modules(archive.read("predict.py"))
        reader_imports = _imported_modules(archive.read("tableread.py"))
    allowed = ALLOWED_PREDICT_IMPORTS | READER_STDLIB
    # the only sibling predict.py needs is the table reader, which ships next to it
    assert predict_imports - allowed == {".tableread"}
    # the reader needs only its optional helpers on top of that
    assert reader_imports - allowed <= {"charset_normalizer", "pyarrow", "openpyxl"}, reader_imports


def test_model_card_tells_use_metrics_checks_and_features(ensemble_bundle):
    path, explanation = ensemble_bundle
    with zipfile.ZipFile(path) as archive:
        card = archive.read("README.md").decode()
    assert "Predict the penguin species from field measurements." in card
    assert "| log_loss | 0.08 | 0.04 – 0.13 | 1.06 |" in card
    assert "better than the naive baseline" in card
    assert "Column 'sex' is missing in 3% of rows." in card
    assert f"`{explanation['importance'][0]['column']}`" in card
    assert "python predict.py" in card and "## Limitations" in card
    assert "$" not in card.replace("$ ", "")  # every template placeholder was filled


def test_a_tampered_file_fails_the_manifest_check(ensemble_bundle, tmp_path):
    path, _ = ensemble_bundle
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "schema.json":
                schema = json.loads(data)
                schema["classes"] = list(reversed(schema["classes"]))
                data = json.dumps(schema).encode()
            target.writestr(info, data)
    with pytest.raises(BundleError, match="'schema.json' does not match its SHA-256"):
        load_bundle(tampered)
    # the standalone predict.py refuses it too, with the same words
    folder = _unzip(tampered, tmp_path / "unpacked")
    done = subprocess.run([sys.executable, "predict.py", "input_example.csv"], cwd=folder,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 2
    assert "'schema.json' does not match its SHA-256" in done.stderr


def test_a_missing_model_file_is_named(ensemble_bundle, tmp_path):
    path, _ = ensemble_bundle
    folder = _unzip(path, tmp_path / "unpacked")
    (folder / "models" / "member_1.skops").unlink()
    with pytest.raises(BundleError, match="missing 'models/member_1.skops'"):
        load_bundle(folder)


def test_cli_predicts_explains_and_writes_a_spreadsheet_safe_csv(ensemble_bundle, ensemble_model, penguins, tmp_path):
    path, _ = ensemble_bundle
    df, _ = penguins
    folder = _unzip(path, tmp_path / "unpacked")
    rows = df.iloc[:25].drop(columns=["species"]).copy()
    rows[["island", "bill_length_mm"]] = rows[["island", "bill_length_mm"]].astype(object)
    rows.loc[rows.index[0], "island"] = "=HYPERLINK(\"http://x\")"  # unseen, and a formula
    rows.loc[rows.index[1], "bill_length_mm"] = "not measured"
    rows["comment"] = "extra column"
    rows.to_csv(tmp_path / "in.csv", index=False)
    done = subprocess.run([sys.executable, "predict.py", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"),
                           "--explain"], cwd=folder, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert re.search(r"warning: Ignored \d column\(s\) the model does not use: .*comment", done.stderr)
    assert "Column 'island': 1 row(s) have a category not seen in training." in done.stderr
    assert "1 row had values the model cannot read in column bill_length_mm; it was predicted as missing." in done.stderr
    out = pd.read_csv(tmp_path / "out.csv")
    expected, _ = ensemble_model.predict_table(pd.read_csv(tmp_path / "in.csv"))
    assert list(out["species"]) == list(expected["species"])
    np.testing.assert_allclose(out[[c for c in out if c.startswith("proba_")]], expected.filter(like="proba_"), atol=1e-12)
    # the explanation columns add up to the explained class's probability
    shap_sum = out["shap_base"] + out[[f"shap_{c}" for c in runtime.input_columns(ensemble_model.schema)]].sum(axis=1)
    explained = [out.loc[i, f"proba_{cls}"] for i, cls in enumerate(out["shap_class"])]
    np.testing.assert_allclose(shap_sum, explained, atol=1e-6)


def test_spreadsheet_formula_cells_are_neutralised_in_the_output(cancer, tmp_path):
    df, schema = cancer
    df = df.assign(diagnosis=df["diagnosis"].map({"benign": "+fine", "malignant": "=SUM(A1)"}))
    schema = {**schema, "classes": sorted(df["diagnosis"].unique())}
    model = mf.model_of(schema, mf.catboost_member(df, schema, iterations=10))
    path = build_bundle(model, tmp_path / "m.zip")
    df.head(20).to_csv(tmp_path / "in.csv", index=False)
    predict_file(path, tmp_path / "in.csv", tmp_path / "out.csv")
    cells = pd.read_csv(tmp_path / "out.csv", dtype=str)
    # the prediction (named apart from the input's own diagnosis) and the input's cells alike
    assert set(cells["predicted_diagnosis"]) | set(cells["diagnosis"]) <= {"'+fine", "'=SUM(A1)"}
    assert {"proba_+fine", "proba_=SUM(A1)"} <= set(cells.columns)  # do not start like a formula


def test_missing_columns_are_listed(ensemble_bundle, penguins, tmp_path):
    path, _ = ensemble_bundle
    df, _ = penguins
    df.drop(columns=["island", "observed"]).head(3).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(runtime.SchemaError, match="missing 2 column.*'island', 'observed'"):
        predict_file(path, tmp_path / "in.csv")


def test_row_explanation_from_a_loaded_bundle_matches_the_in_memory_one(ensemble_bundle, ensemble_model, penguins):
    path, explanation = ensemble_bundle
    df, _ = penguins
    loaded = load_bundle(path)
    row = df.iloc[[11]]
    assert explain_row(loaded.model, row, explanation=loaded.explanation) == explain_row(
        ensemble_model, row, explanation=explanation)


def test_a_lightgbm_member_ships_as_its_text_model_and_pins_lightgbm_only_then(lightgbm_model, catboost_model,
                                                                              cancer, tmp_path):
    path = build_bundle(lightgbm_model, tmp_path / "lgb.zip")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        model_text = archive.read("models/member_0.txt").decode()
        pins = dict(line.split("==") for line in archive.read("requirements.txt").decode().split())
    assert "models/member_0.txt" in names and model_text.startswith("tree\n")
    assert pins["lightgbm"] == metadata.version("lightgbm") and "catboost" not in pins
    assert "lightgbm" not in requirements_text(catboost_model)
    # a category the model never saw is predicted as missing, not refused
    df, _ = cancer
    unseen = df.head(5).assign(size_band="enormous")
    missing = df.head(5).assign(size_band=None)
    np.testing.assert_array_equal(load_bundle(path).model.predict_proba(unseen),
                                  lightgbm_model.predict_proba(missing))


def test_members_with_types_outside_the_trusted_list_are_refused(diabetes, tmp_path):
    df, schema = diabetes
    member = mf.sklearn_member(df, schema, RandomForestRegressor(n_estimators=5, random_state=0))
    steps = member.estimator.steps
    member.estimator.steps = [steps[0], ("custom", FunctionTransformer(_custom_code)), steps[1]]
    member.estimator.fit(runtime.prepare_frame(df, schema)[0], mf.labels(df, schema))
    with pytest.raises(BundleError, match="types the bundle runtime does not trust: tests.core.test_bundle._custom_code"):
        build_bundle(mf.model_of(schema, member), tmp_path / "m.zip")


def _custom_code(x):
    return x


@pytest.mark.slow
def test_bundle_installed_in_a_fresh_virtualenv_predicts_correctly(ensemble_bundle, ensemble_model, penguins, tmp_path):
    path, _ = ensemble_bundle
    df, _ = penguins
    folder = _unzip(path, tmp_path / "bundle")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r",
                              str(folder / "requirements.txt")], capture_output=True, text=True, check=False, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    df.drop(columns=["species"]).to_csv(tmp_path / "in.csv", index=False)
    done = subprocess.run([str(python), "predict.py", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"),
                           "--explain"], cwd=folder, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(tmp_path / "out.csv")
    expected, _ = ensemble_model.predict_table(df)
    assert list(out["species"]) == list(expected["species"])
    np.testing.assert_allclose(out.filter(like="proba_"), expected.filter(like="proba_"), atol=1e-12)
    shap_sum = out["shap_base"] + out[[f"shap_{c}" for c in runtime.input_columns(ensemble_model.schema)]].sum(axis=1)
    np.testing.assert_allclose(shap_sum, [out.loc[i, f"proba_{c}"] for i, c in enumerate(out["shap_class"])], atol=1e-6)


SMALL_PARAMS = {"iterations": 30, "num_iterations": 30, "max_iter": 20, "n_estimators": 10}


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_every_registry_family_explains_additively_and_round_trips_through_a_bundle(task, penguins, diabetes, tmp_path):
    from core.model import TabularModel
    from core.registry import REGISTRY, FitContext

    df, schema = penguins if task == "multiclass" else diabetes
    frame, _ = runtime.prepare_frame(df, schema)
    ctx = FitContext(task_type=task, schema=schema, n_classes=len(schema.get("classes") or []))
    members = []
    for name, family in REGISTRY.items():
        if family.supports(task):
            params = family.default_params(task, len(df))
            params.update({k: v for k, v in SMALL_PARAMS.items() if k in params})
            fitted = family.fit(params, frame, mf.labels(df, schema), ctx)
            members.append(runtime.Member(fitted.kind, fitted.estimator, 1.0, name))
    assert len(members) >= 5
    model = TabularModel(schema, members)
    rows = df.iloc[:40]
    explanation = explain_model(model, rows, max_rows=40)
    contrib = runtime.explain_frame(members, model.feature_frame(rows)[0], schema, explanation["references"])
    output = model.raw_output(rows)
    np.testing.assert_allclose(contrib.base + contrib.values.sum(axis=1), output.reshape(len(rows), -1), atol=1e-8)
    loaded = load_bundle(build_bundle(model, tmp_path / "m.zip", explanation=explanation))
    assert np.array_equal(loaded.model.raw_output(df), model.raw_output(df))
