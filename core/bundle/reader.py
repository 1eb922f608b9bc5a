"""Load and check prediction bundles; predict files with them.

Loading goes through `core.runtime.load`, the same code a bundle's `predict.py` runs, so
`briefml predict` and `python predict.py` cannot differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core import runtime, tableread
from core.errors import BundleError, DataError
from core.model import TabularModel


@dataclass
class LoadedBundle:
    """A checked, loaded bundle. `explanation` is what `core.explain.explain_row` needs."""

    path: Path
    model: TabularModel
    manifest: dict
    schema: dict
    metrics: dict
    references: dict
    signed_by: str | None = None  # id of the trusted key whose signature verified

    @property
    def explanation(self) -> dict:
        return {"references": self.references}

    @property
    def runtime_model(self) -> runtime.BundleModel:
        return runtime.BundleModel(self.schema, self.model.members, self.manifest, self.metrics, self.references,
                                   self.model.reliability, self.signed_by)


def verify_manifest(path: str | Path) -> dict:
    """Check every file of the bundle at `path` against manifest.json; return the manifest.

    Raises BundleError naming the file that is missing or does not match.
    """
    try:
        return runtime.verify_manifest(runtime.read_bundle_files(path))
    except runtime.BundleIntegrityError as exc:
        raise BundleError(str(exc)) from exc


def load_bundle(path: str | Path, *, trust: list[bytes] | None = None,
                require_signature: bool = True) -> LoadedBundle:
    """Check and load the bundle (zip or unpacked folder) at `path`.

    trust: public keys (PEM); when given, the bundle must be signed by one of them (an
    unsigned bundle passes only with require_signature=False).
    Raises BundleError with a one-line message.
    """
    try:
        loaded = runtime.load(path, trust=trust, require_signature=require_signature)
    except runtime.BundleIntegrityError as exc:
        raise BundleError(str(exc)) from None
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        # the declared structure is checked first: this is a safety net, still one line
        raise BundleError(f"The bundle at '{path}' cannot be read ({type(exc).__name__}). "
                          "Build or download it again.") from None
    model = TabularModel(loaded.schema, loaded.members, loaded.reliability)
    return LoadedBundle(Path(path), model, loaded.manifest, loaded.schema, loaded.metrics, loaded.references,
                        loaded.signed_by)


def predict_file(
    bundle_path: str | Path | LoadedBundle, input_path: str | Path, output_path: str | Path | None = None, *,
    explain: bool = False, coverage: float | None = None, trust: list[bytes] | None = None,
    require_signature: bool = True, limits: tableread.LoadLimits | None = None,
) -> tuple[pd.DataFrame, runtime.InputReport]:
    """Predict every row of `input_path` with the bundle (a path, or one loaded already);
    write a spreadsheet-safe CSV if asked. `report.drift` compares the rows with training.

    Raises BundleError for a damaged bundle, DataError for a file that cannot be read as a
    table, and runtime.SchemaError for input that does not fit (or a coverage it cannot give).
    """
    if isinstance(bundle_path, LoadedBundle):
        bundle = bundle_path
    else:
        bundle = load_bundle(bundle_path, trust=trust, require_signature=require_signature)
    try:
        return runtime.predict_file(bundle.runtime_model, input_path, output_path, explain=explain,
                                    coverage=coverage, limits=limits)
    except tableread.TableReadError as exc:
        raise DataError(str(exc)) from None
