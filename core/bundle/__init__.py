"""Prediction bundles: a zip with the model in safe formats, its schema, a model card and a
standalone `predict.py`. See `core.bundle.writer` for the layout."""

from core.bundle.reader import LoadedBundle, load_bundle, predict_file, verify_manifest
from core.bundle.writer import (
    build_bundle,
    bundle_from_result,
    render_model_card,
    requirements_text,
)

__all__ = [
    "LoadedBundle",
    "build_bundle",
    "bundle_from_result",
    "load_bundle",
    "predict_file",
    "render_model_card",
    "requirements_text",
    "verify_manifest",
]
