"""Small real models built the way the engine builds them, for explain and bundle tests.

Classifier members are fitted on label indices (positions in schema['classes']); CatBoost on
`runtime.catboost_frame(prepare_frame(df))`; scikit-learn members are Pipelines of a
ColumnTransformer (imputers, scaler, one-hot, TF-IDF) and an estimator.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, CatBoostRegressor
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core import runtime
from core.model import TabularModel
from core.runtime import Member


def schema_for(df: pd.DataFrame, target: str, task_type: str, kinds: dict[str, str]) -> dict:
    columns = []
    for name, kind in kinds.items():
        col = {"name": name, "kind": kind}
        if kind == "categorical":
            col["categories"] = sorted(df[name].dropna().astype(str).unique().tolist())
        if kind == "numeric":
            col["min"], col["max"] = float(df[name].min()), float(df[name].max())
        columns.append(col)
    schema = {"target": target, "task_type": task_type, "columns": columns}
    if task_type != "regression":
        schema["classes"] = sorted(df[target].astype(str).unique().tolist())
    return schema


def penguins() -> tuple[pd.DataFrame, dict]:
    """Multiclass: categorical, numeric, text and datetime columns, with missing values."""
    df = load_penguins().dropna(subset=["species"]).reset_index(drop=True)
    rng = np.random.default_rng(0)
    words = np.where(df["body_mass_g"].fillna(4000) > 4200, "heavy large bird", "light small bird")
    df["field_note"] = [f"{w} seen near {i}" for w, i in zip(words, df["island"])]
    df["observed"] = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, len(df)), unit="D")
    kinds = {
        "island": "categorical",
        "bill_length_mm": "numeric",
        "bill_depth_mm": "numeric",
        "flipper_length_mm": "numeric",
        "body_mass_g": "numeric",
        "sex": "categorical",
        "field_note": "text",
        "observed": "datetime",
    }
    return df, schema_for(df, "species", "multiclass", kinds)


def breast_cancer() -> tuple[pd.DataFrame, dict]:
    """Binary: numeric columns plus one categorical column."""
    data = load_breast_cancer(as_frame=True)
    df = data.frame.iloc[:, :6].copy()
    df["size_band"] = pd.cut(df["mean radius"], [0, 12, 16, 99], labels=["small", "medium", "large"]).astype(str)
    df["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    kinds = {c: "numeric" for c in df.columns[:6]} | {"size_band": "categorical"}
    return df, schema_for(df, "diagnosis", "binary", kinds)


def diabetes() -> tuple[pd.DataFrame, dict]:
    """Regression: numeric columns plus 'sex' as a category."""
    df = load_diabetes(as_frame=True, scaled=False).frame
    df["sex"] = df["sex"].map({1.0: "one", 2.0: "two"})
    kinds = {c: "numeric" for c in df.columns if c not in ("target", "sex")} | {"sex": "categorical"}
    return df, schema_for(df, "target", "regression", kinds)


def labels(df: pd.DataFrame, schema: dict) -> np.ndarray:
    if schema["task_type"] == "regression":
        return df[schema["target"]].to_numpy(dtype=float)
    position = {c: i for i, c in enumerate(schema["classes"])}
    return df[schema["target"]].astype(str).map(position).to_numpy()


def catboost_member(df: pd.DataFrame, schema: dict, weight: float = 1.0, iterations: int = 40) -> Member:
    frame, _ = runtime.prepare_frame(df, schema)
    kinds = runtime.feature_kinds(schema)
    cls = CatBoostRegressor if schema["task_type"] == "regression" else CatBoostClassifier
    model = cls(
        iterations=iterations,
        depth=4,
        verbose=0,
        random_seed=0,
        thread_count=1,
        cat_features=[n for n, k in kinds.items() if k == "categorical"] or None,
        text_features=[n for n, k in kinds.items() if k == "text"] or None,
    )
    model.fit(runtime.catboost_frame(frame, schema), labels(df, schema))
    return Member(kind="catboost", estimator=model, weight=weight, name="catboost")


def lightgbm_member(df: pd.DataFrame, schema: dict, weight: float = 1.0, iterations: int = 40) -> Member:
    """A LightGBM member fitted by its registry family, as the search fits it."""
    from core.registry import REGISTRY, FitContext

    frame, _ = runtime.prepare_frame(df, schema)
    ctx = FitContext(schema["task_type"], schema, n_classes=len(schema.get("classes") or []), threads=1)
    fitted = REGISTRY["lightgbm"].fit({"num_iterations": iterations, "num_leaves": 15}, frame,
                                      labels(df, schema), ctx)
    return Member(kind=fitted.kind, estimator=fitted.estimator, weight=weight, name="lightgbm")


def preprocessor(schema: dict) -> ColumnTransformer:
    kinds = runtime.feature_kinds(schema)
    numeric = [n for n, k in kinds.items() if k == "numeric"]
    categorical = [n for n, k in kinds.items() if k == "categorical"]
    parts = [("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric)]
    if categorical:
        parts.append(
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=runtime.MISSING_CATEGORY),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            )
        )
    for name in (n for n, k in kinds.items() if k == "text"):
        parts.append((f"text_{name}", TfidfVectorizer(max_features=50), name))
    return ColumnTransformer(parts, sparse_threshold=0.0)


def sklearn_member(df: pd.DataFrame, schema: dict, estimator, weight: float = 1.0, name: str = "") -> Member:
    frame, _ = runtime.prepare_frame(df, schema)
    pipeline = Pipeline([("prepare", preprocessor(schema)), ("model", estimator)])
    pipeline.fit(frame, labels(df, schema))
    return Member(kind="sklearn", estimator=pipeline, weight=weight, name=name or type(estimator).__name__)


def model_of(schema: dict, *members: Member) -> TabularModel:
    return TabularModel(schema, list(members))


def calibrated_naive_bayes() -> tuple[TabularModel, pd.DataFrame]:
    """(model, rows): naive Bayes on the breast cancer table with the calibrator and decision
    threshold a build would give it, fitted on 70% of the rows; `rows` the other 30%, to
    predict. Naive Bayes is overconfident, so a calibrator is chosen every time."""
    df, schema = breast_cancer()
    # numbers only, so that it exports to ONNX too (skl2onnx cannot impute a missing category)
    schema = {**schema, "columns": [c for c in schema["columns"] if c["kind"] == "numeric"]}
    return _calibrated_naive_bayes(df, schema, rare_positive=True)


def overlapping_classes() -> tuple[pd.DataFrame, dict]:
    """Multiclass, numbers only: four unbalanced classes that overlap, with redundant columns
    (which make naive Bayes overconfident)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=900, n_features=8, n_informative=3, n_redundant=3,
                               n_classes=4, n_clusters_per_class=1, weights=[0.5, 0.25, 0.15, 0.1],
                               class_sep=0.8, random_state=0)
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    df["kind"] = np.array(["a", "b", "c", "d"])[y]
    return df, schema_for(df, "kind", "multiclass", {c: "numeric" for c in df.columns[:-1]})


def calibrated_multiclass_naive_bayes() -> tuple[TabularModel, pd.DataFrame]:
    """(model, rows) as `calibrated_naive_bayes`, on `overlapping_classes`: the per-class
    calibrator chosen there (Platt) ranks another class first on some rows."""
    df, schema = overlapping_classes()
    return _calibrated_naive_bayes(df, schema)


def _calibrated_naive_bayes(df: pd.DataFrame, schema: dict,
                            rare_positive: bool = False) -> tuple[TabularModel, pd.DataFrame]:
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_predict, train_test_split
    from sklearn.naive_bayes import GaussianNB

    from core.trust.reliability import assess_reliability

    fit, rows = train_test_split(df, test_size=0.3, random_state=0, stratify=df[schema["target"]])
    member = sklearn_member(fit, schema, GaussianNB())
    frame, _ = runtime.prepare_frame(fit, schema)
    oof = cross_val_predict(clone(member.estimator), frame, labels(fit, schema), cv=5,
                            method="predict_proba")
    test_frame, _ = runtime.prepare_frame(rows, schema)
    reliability = assess_reliability(
        schema=schema, y_oof=labels(fit, schema), oof=oof, y_test=labels(rows, schema),
        test_output=runtime.ensemble_output([member], test_frame, schema), frame=frame,
        validation="cv5", rare_positive=rare_positive)
    if reliability["calibrator"]["kind"] == "none":
        raise AssertionError("naive Bayes came out calibrated: these tests need a calibrator")
    schema = {**schema, **reliability.pop("decision")}
    return TabularModel(schema, [member], reliability), rows.reset_index(drop=True)


def platt_when_none_helps(y, proba, seed=0):
    """The build's calibrator choice, made deterministic: Platt, fitted by the engine, where
    the real choice (which hangs on which models the budget reached) would ship none."""
    from core.trust.calibration import choose_calibrator, fit_calibrator

    calibrator, losses, crossed = choose_calibrator(y, proba, seed)
    if calibrator["kind"] == "none":
        calibrator = {**fit_calibrator("platt", y, proba), "why": "chosen by the test"}
    return calibrator, losses, crossed


def bundle_without(model: TabularModel, key: str, path):
    """The loaded bundle of `model` with schema entry `key` left out, as a bundle from before
    that entry was written."""
    from core.bundle import build_bundle, load_bundle

    old = TabularModel({k: v for k, v in model.schema.items() if k != key}, model.members,
                       model.reliability)
    bundle = load_bundle(build_bundle(old, path)).model
    assert key not in bundle.schema
    return bundle


def predict_py_table(bundle_path, rows: pd.DataFrame, target: str, folder) -> pd.DataFrame:
    """What the bundle's own predict.py, unpacked into `folder`, writes for `rows`."""
    import io
    import zipfile

    zipfile.ZipFile(bundle_path).extractall(folder / "bundle")
    rows.drop(columns=[target]).to_csv(folder / "rows.csv", index=False)
    done = run_predict_py(folder / "bundle", folder / "rows.csv")
    assert done.returncode == 0, done.stderr
    return pd.read_csv(io.StringIO(done.stdout))


def onnx_export(model: TabularModel, folder) -> tuple[list[str], dict]:
    """(caveats, metadata) of the ONNX export of `model`'s bundle, written into `folder`."""
    import onnx

    from core.bundle import build_bundle
    from core.export.onnx_model import export_onnx

    _, caveats = export_onnx(build_bundle(model, folder / "model.zip"), folder / "model.onnx")
    return caveats, {p.key: p.value for p in onnx.load(str(folder / "model.onnx")).metadata_props}


def run_predict_py(folder, *args):
    """predict.py from the unpacked bundle, isolated (-I), with briefml made unimportable."""
    guard = ("import sys, runpy\n"
             "class NoBriefml:\n"
             "    def find_spec(self, name, path=None, target=None):\n"
             "        if name.split('.')[0] in ('core', 'briefml', 'workspace', 'db', 'webapp'):\n"
             "            raise ImportError('briefml is not installed here: ' + name)\n"
             "sys.meta_path.insert(0, NoBriefml())\n"
             f"sys.argv = ['predict.py', *{list(map(str, args))!r}]\n"
             "sys.path.insert(0, '.')\n"
             "runpy.run_path('predict.py', run_name='__main__')\n")
    return subprocess.run([sys.executable, "-I", "-c", guard], cwd=folder, capture_output=True,
                          text=True, check=False, timeout=300)
