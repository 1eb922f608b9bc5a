"""`briefml export --mlflow DIR BUNDLE.zip`: the bundle as an MLflow model directory.

MLflow's "models from code": the python model is a file (`mlflow_pyfunc.py`), not a pickle,
and the bundle travels unzipped as its artifact `bundle`; loading it goes through the
bundle's own `predict.py` `load()`, which checks every file's SHA-256 and reads CatBoost
`.cbm` / skops files. `mlflow.pyfunc.load_model(DIR).predict(df)` therefore returns exactly
the table `python predict.py` writes.

The signature names every input column the bundle needs. Text columns are strings; the
other kinds are declared `Any`, because predict.py reads them from whatever a DataFrame holds
(numbers as int or float or text with the training file's decimal mark, booleans as True or
"yes", categories as text or codes) and MLflow's own casts would refuse some of those (an
int64 column for a double, say) before the model ever sees them. The output columns are
typed: the prediction, and a double per class probability.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from core import runtime, tableread
from core.errors import BundleError

PYTHON_MODEL = Path(__file__).with_name("mlflow_pyfunc.py")


def export_mlflow(bundle_path: str | Path, out_dir: str | Path) -> Path:
    """Write the bundle at `bundle_path` as an MLflow model directory `out_dir`; return it.

    Raises BundleError for a damaged bundle, an existing non-empty `out_dir`, or MLflow not
    installed.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise BundleError(f"'{out_dir}' already exists and is not empty; pick a new folder for "
                          "the MLflow model.")
    mlflow = _mlflow()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no bar on stderr
    files = _checked_files(bundle_path)
    schema = json.loads(files[runtime.SCHEMA])
    example = typed_example(schema, files["input_example.csv"])
    with tempfile.TemporaryDirectory(prefix="briefml-mlflow-") as tmp:
        folder = Path(tmp) / "bundle"
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        output = runtime.load(folder).predict_table(example)[0]
        if out_dir.exists():
            out_dir.rmdir()  # MLflow writes into a folder of its own
        with warnings.catch_warnings():  # MLflow asks for type hints this model does not need
            warnings.simplefilter("ignore", UserWarning)
            _save(mlflow, out_dir, folder, schema, example, output, files)
    return out_dir


def _save(mlflow, out_dir: Path, folder: Path, schema: dict, example: pd.DataFrame,
          output: pd.DataFrame, files: dict[str, bytes]) -> None:
    mlflow.pyfunc.save_model(
        path=str(out_dir),
        python_model=str(PYTHON_MODEL),
        artifacts={"bundle": str(folder)},
        signature=_signature(schema, output),
        input_example=example,
        pip_requirements=_requirements(files, mlflow.__version__),
        metadata=_metadata(files),
    )


def _mlflow():
    try:
        import mlflow.pyfunc
    except ImportError:
        raise BundleError("Exporting to MLflow needs MLflow: pip install 'briefml[export]'.") from None
    return mlflow


def _checked_files(bundle_path: str | Path) -> dict[str, bytes]:
    try:
        files = runtime.read_bundle_files(bundle_path)
        runtime.verify_manifest(files)
    except runtime.BundleIntegrityError as exc:
        raise BundleError(str(exc)) from None
    return files


def typed_example(schema: dict, csv_bytes: bytes) -> pd.DataFrame:
    """The bundle's input example as a user's DataFrame would hold it: numbers as floats,
    categories, text and dates as strings (None when empty), booleans as they were read."""
    frame = pd.read_csv(io.BytesIO(csv_bytes), dtype=object, keep_default_na=False)
    out = {}
    for column in schema["columns"]:
        name, kind = column["name"], column["kind"]
        values = tableread.blank_missing(frame[name])
        if kind == "numeric":
            out[name] = tableread.parse_numbers(values, decimal=column.get("decimal", ".")).astype("float64")
        elif kind == "boolean" and _all_bool_words(values):
            out[name] = values.map(lambda v: None if pd.isna(v) else str(v).strip().lower() == "true")
            out[name] = out[name].astype("boolean" if out[name].isna().any() else "bool")
        else:
            out[name] = values.map(lambda v: None if pd.isna(v) else str(v)).astype(object)
    return pd.DataFrame(out)


def _all_bool_words(values: pd.Series) -> bool:
    words = {str(v).strip().lower() for v in values.dropna()}
    return bool(words) and words <= {"true", "false"}


def _signature(schema: dict, output: pd.DataFrame):
    from mlflow.models.signature import ModelSignature
    from mlflow.types import DataType
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = Schema([ColSpec(DataType.string if c["kind"] == "text" else AnyType(), c["name"])
                     for c in schema["columns"]])
    outputs = Schema([ColSpec(DataType.double if pd.api.types.is_float_dtype(output[c])
                              else DataType.string, c) for c in output.columns])
    return ModelSignature(inputs=inputs, outputs=outputs)


def _requirements(files: dict[str, bytes], mlflow_version: str) -> list[str]:
    pinned = [line.strip() for line in files["requirements.txt"].decode().splitlines() if line.strip()]
    return [f"mlflow-skinny=={mlflow_version}", *pinned]


def _metadata(files: dict[str, bytes]) -> dict:
    manifest = json.loads(files[runtime.MANIFEST])
    keep = ("format", "format_version", "build_id", "model_version", "task_type", "target", "classes")
    return {"briefml_bundle": {key: manifest.get(key) for key in keep}}
