"""`briefml export`: a bundle in the formats deployment tools load (no database needed).

    briefml export --mlflow DIR BUNDLE.zip     an MLflow model directory (pickle-free)
    briefml export --onnx FILE BUNDLE.zip      an ONNX model, where the members allow it

Both need the `export` extra (`pip install 'briefml[export]'`). User errors print one line
on stderr and exit with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from briefml.console import fail


def export(
    bundle: Annotated[Path, typer.Argument(help="A bundle zip written by briefml.")],
    mlflow_dir: Annotated[Path | None, typer.Option(
        "--mlflow", help="Write an MLflow model directory here (it must not exist yet).")] = None,
    onnx_file: Annotated[Path | None, typer.Option(
        "--onnx", help="Write an ONNX model file here (members that ONNX can express only).")] = None,
) -> None:
    """Export a bundle to MLflow's model format and/or ONNX."""
    console = Console(stderr=True, highlight=False)
    if mlflow_dir is None and onnx_file is None:
        fail("Say what to export: --mlflow DIR and/or --onnx FILE.")
    from core.errors import BriefmlError

    try:
        if mlflow_dir is not None:
            from core.export.mlflow_model import export_mlflow

            export_mlflow(bundle, mlflow_dir)
            console.print(f"MLflow model written to {mlflow_dir} "
                          "(mlflow.pyfunc.load_model(DIR).predict(df)).")
        if onnx_file is not None:
            from core.export.onnx_model import export_onnx

            _, caveats = export_onnx(bundle, onnx_file)
            console.print(f"ONNX model written to {onnx_file}.")
            for caveat in caveats:
                console.print(f"[yellow]Warning:[/] {caveat}")
    except BriefmlError as exc:
        fail(str(exc))
