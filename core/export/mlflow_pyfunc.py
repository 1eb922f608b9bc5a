"""The python model of an MLflow export ("models from code"): MLflow runs this file, no
pickle is involved. It loads the bundle folder shipped as the artifact `bundle` through the
bundle's own `predict.py` `load()`, so it predicts exactly what `python predict.py` does.

This file runs inside MLflow, where briefml is not installed: standard library and mlflow only.
"""

import importlib.util
import sys
from pathlib import Path

import mlflow
from mlflow.pyfunc import PythonModel


def _predict_module(folder: Path):
    name = f"briefml_bundle_predict_{abs(hash(str(folder))):x}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, folder / "predict.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules[name]


class BriefmlBundleModel(PythonModel):
    """`predict(df)` returns predict.py's table: the target column (the prediction) and, for
    a classifier, one proba_<class> column per class."""

    def load_context(self, context):
        folder = Path(context.artifacts["bundle"]).resolve()
        self.bundle = _predict_module(folder).load(folder)  # checks every file's SHA-256

    def predict(self, context, model_input, params=None):
        table, _ = self.bundle.predict_table(model_input)
        return table


mlflow.models.set_model(BriefmlBundleModel())
