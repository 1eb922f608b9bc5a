"""Write a prediction bundle: a zip that runs anywhere with `pip install -r requirements.txt`.

Layout::

    manifest.json            ids, library versions, members, SHA-256 of every other file
    schema.json              input columns, kinds, allowed categories, ranges seen in training
    models/member_<i>.cbm    CatBoost members (native format)
    models/member_<i>.txt    LightGBM members (LightGBM's text model format)
    models/member_<i>.skops  scikit-learn members (skops, loaded with explicit trusted types)
    explainer_reference.json mean transformed features for linear members (only if needed)
    input_example.csv        a few valid input rows
    requirements.txt         pinned versions of what predict.py imports
    metrics.json             held-out metrics, baseline, confidence intervals
    reliability.json         interval/set quantiles, calibrator, drift reference (if computed)
    predict.py               a verbatim copy of core/runtime.py (CLI and `load()`)
    tableread.py             a verbatim copy of core/tableread.py (the one table reader)
    README.md                the model card

Nothing is pickled. predict.py is the same code the engine predicts with, so a bundle and
the in-memory model cannot disagree.
"""

from __future__ import annotations

import io
import json
import platform
import tempfile
import zipfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd

from core import runtime, tableread
from core.errors import BundleError
from core.jsonsafe import json_safe
from core.model import TabularModel
from core.planning import report as md

FORMAT_VERSION = 1
MODEL_CARD_TEMPLATE = Path(__file__).with_name("model_card.md.tmpl")
EXAMPLE_ROWS = 5


def build_bundle(
    model: TabularModel,
    path: str | Path,
    *,
    spec: Any = None,
    brief: str = "",
    metrics: dict | None = None,
    baseline: dict | None = None,
    confidence_intervals: dict | None = None,
    findings: Any = (),
    explanation: dict | None = None,
    profile: Any = None,
    input_example: pd.DataFrame | None = None,
    build_id: str | None = None,
    model_version: str | int | None = None,
    reproducibility: dict | None = None,
    synthetic_data: bool = False,
    failures: dict | None = None,
    signing_key: Any = None,
    written_members: tuple[list[dict], dict[str, bytes]] | None = None,
) -> Path:
    """Write `model` and what describes it to the zip at `path`; return the path.

    `reproducibility` (`core.reproducibility`) becomes the manifest's `reproducibility`
    section, from which `briefml build --from-bundle` rebuilds the model.
    signing_key: an Ed25519 private key (`core.bundle.signing.load_or_create_key`); the
    bundle then carries signature.json, a signature over its manifest's bytes.
    written_members: `write_members(model)` done earlier (a build does it inside its budget).
    Raises BundleError if a member cannot be stored in a safe format.
    """
    path = Path(path)
    members, files = _matching(written_members, model) or write_members(model)
    files = dict(files)
    files[runtime.SCHEMA] = _json_bytes(_schema_with_ranges(model.schema, profile))
    references = (explanation or {}).get("references") or _references_from(model, input_example)
    if references:
        files[runtime.EXPLAINER_REFERENCE] = _json_bytes(references)
    if model.reliability:
        files[runtime.RELIABILITY] = _json_bytes(model.reliability)
    files["input_example.csv"] = _example_csv(model.schema, input_example)
    files["requirements.txt"] = requirements_text(model).encode()
    files["metrics.json"] = _json_bytes({"holdout": metrics or {}, "baseline": baseline or {},
                                         "confidence_intervals": confidence_intervals or {}})
    files["predict.py"] = Path(runtime.__file__).read_bytes()
    files["tableread.py"] = Path(tableread.__file__).read_bytes()
    context = {"brief": brief, "spec": spec, "holdout_metrics": metrics, "baseline_metrics": baseline,
               "confidence_intervals": confidence_intervals, "findings": list(findings or []),
               "explanation": explanation, "profile": profile, "synthetic_data": synthetic_data,
               "failures": failures}
    ids = {"build_id": build_id, "model_version": model_version}
    files["README.md"] = render_model_card(model, context, ids, sorted(files) + ["README.md"]).encode()
    manifest = _json_bytes(_with_reproducibility(_manifest(model, members, files, ids),
                                                 reproducibility))
    _write_zip(path, {"manifest.json": manifest, **files, **_signature(manifest, signing_key)})
    return path


def _signature(manifest: bytes, signing_key: Any) -> dict[str, bytes]:
    if signing_key is None:
        return {}
    from core.bundle.signing import signature_file

    return {runtime.SIGNATURE: signature_file(manifest, signing_key)}


def bundle_from_result(result: Any, path: str | Path, *, build_id: str | None = None,
                       model_version: str | int | None = None, signing_key: Any = None) -> Path:
    """`build_bundle` fed from a `core.build.BuildResult` (read by attribute name)."""
    return build_bundle(
        result.model,
        path,
        spec=getattr(result, "spec", None),
        brief=getattr(result, "brief", "") or "",
        metrics=getattr(result, "holdout_metrics", None),
        baseline=getattr(result, "baseline_metrics", None),
        confidence_intervals=getattr(result, "confidence_intervals", None),
        findings=getattr(result, "findings", ()) or (),
        explanation=getattr(result, "explanation", None),
        profile=getattr(result, "profile", None),
        input_example=getattr(result, "train_sample", None),
        build_id=build_id,
        model_version=model_version,
        reproducibility=getattr(result, "reproducibility", None),
        synthetic_data=bool(getattr(result, "synthetic_data", False)),
        failures=getattr(result, "failures", None),
        signing_key=signing_key,
        written_members=getattr(result, "written_members", None),
    )


def write_members(model: TabularModel) -> tuple[list[dict], dict[str, bytes]]:
    """The members' manifest entries and files, in safe formats: the bundle's costliest part
    (skops writes a scikit-learn forest tree by tree), which a build does inside its budget.
    Raises BundleError if a member cannot be stored in a safe format."""
    files: dict[str, bytes] = {}
    members = []
    for i, member in enumerate(model.members):
        name, data = _member_file(i, member)
        files[name] = data
        members.append({"name": member.name, "kind": member.kind, "weight": float(member.weight),
                        "file": name, "estimator": _estimator_name(member)})
    return members, files


def _matching(written: tuple[list[dict], dict[str, bytes]] | None, model: TabularModel):
    """`written` if it is still this model's members (same names and weights), else None."""
    if written is None:
        return None
    entries, _ = written
    same = [(e["name"], e["weight"]) for e in entries] == \
        [(m.name, float(m.weight)) for m in model.members]
    return written if same else None


def requirements_text(model: TabularModel) -> str:
    """Pinned versions, taken from this environment, of what predict.py imports."""
    kinds = {m.kind for m in model.members}
    # tableread.py reads any encoding, and hands a file parsed in its bounded child back as Arrow
    packages = ["numpy", "pandas", "charset-normalizer", "pyarrow"]
    for library in ("catboost", "lightgbm"):  # only the boosting libraries a member needs
        if library in kinds:
            packages.append(library)
    if "sklearn" in kinds:
        # shap is only for `predict.py --explain` of scikit-learn members (CatBoost explains itself)
        packages += ["scikit-learn", "scipy", "threadpoolctl", "skops", "shap"]
    return "".join(f"{name}=={metadata.version(name)}\n" for name in packages)


# --------------------------------------------------------------------------- members


def _member_file(i: int, member: runtime.Member) -> tuple[str, bytes]:
    if member.kind == "catboost":
        return f"models/member_{i}.cbm", _catboost_bytes(member.estimator)
    if member.kind == "lightgbm":
        return f"models/member_{i}.txt", member.estimator.model_to_string(num_iteration=-1).encode("utf-8")
    if member.kind == "sklearn":
        return f"models/member_{i}.skops", _skops_bytes(member)
    raise BundleError(f"Member '{member.name}' has kind '{member.kind}', which a bundle cannot store.")


def _catboost_bytes(estimator: Any) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "model.cbm"
        estimator.save_model(str(target), format="cbm")
        return target.read_bytes()


def _skops_bytes(member: runtime.Member) -> bytes:
    import skops.io as sio

    data = sio.dumps(member.estimator)
    refused = sorted(set(sio.get_untrusted_types(data=data)) - set(runtime.TRUSTED_SKOPS_TYPES))
    if refused:
        raise BundleError(
            f"Member '{member.name}' contains types the bundle runtime does not trust: "
            + ", ".join(refused)
            + ". Add them to core.runtime.TRUSTED_SKOPS_TYPES only after checking they are safe."
        )
    return data


def _references_from(model: TabularModel, rows: pd.DataFrame | None) -> dict:
    """Explainer references from example rows, for bundles built without an explanation."""
    if rows is None or not len(rows) or not any(runtime.needs_reference(m) for m in model.members):
        return {}
    frame, _ = model.feature_frame(rows)
    return {str(i): runtime.sklearn_reference(m, frame)
            for i, m in enumerate(model.members) if runtime.needs_reference(m)}


def _estimator_name(member: runtime.Member) -> str:
    estimator = member.estimator[-1] if hasattr(member.estimator, "steps") else member.estimator
    return type(estimator).__name__


# --------------------------------------------------------------------------- files


def _json_bytes(value: Any) -> bytes:
    return json.dumps(json_safe(value), indent=2, sort_keys=False, allow_nan=False).encode()


def _schema_with_ranges(schema: dict, profile: Any) -> dict:
    """The model's schema, with min/max from the data profile where the schema has none."""
    out = json_safe(schema)
    by_name = {c.get("name"): c for c in md.as_dict(profile).get("column_profiles") or []}
    for column in out["columns"]:
        seen = by_name.get(column["name"], {})
        if column["kind"] in ("numeric", "datetime"):
            for key in ("min", "max"):
                if column.get(key) is None and seen.get(key) is not None:
                    column[key] = seen[key]
    return out


def _example_csv(schema: dict, example: pd.DataFrame | None) -> bytes:
    names = runtime.input_columns(schema)
    if example is not None and all(n in example.columns for n in names) and len(example):
        rows = example[names].head(EXAMPLE_ROWS)
    else:
        rows = _synthetic_example(schema)
    return runtime.spreadsheet_safe(rows).to_csv(index=False).encode()


def _synthetic_example(schema: dict) -> pd.DataFrame:
    """One plausible row from the schema alone: middle of numeric ranges, first category."""
    row: dict[str, Any] = {}
    for column in schema["columns"]:
        kind = column["kind"]
        if kind == "numeric" and column.get("min") is not None and column.get("max") is not None:
            row[column["name"]] = (float(column["min"]) + float(column["max"])) / 2
        elif kind == "categorical" and column.get("categories"):
            row[column["name"]] = column["categories"][0]
        elif kind == "boolean":
            row[column["name"]] = True
        elif kind == "datetime":
            row[column["name"]] = column.get("min") or "2024-01-01"
        else:
            row[column["name"]] = ""
    return pd.DataFrame([row])


def _manifest(model: TabularModel, members: list[dict], files: dict[str, bytes], ids: dict) -> dict:
    return {
        "format": "briefml-bundle",
        "format_version": FORMAT_VERSION,
        "build_id": None if ids["build_id"] is None else str(ids["build_id"]),
        "model_version": ids["model_version"],
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "task_type": model.task_type,
        "target": model.target,
        "classes": model.classes_ or None,
        "members": members,
        "library_versions": _library_versions(),
        "files": {name: runtime.sha256_hex(data) for name, data in sorted(files.items())},
    }


def _with_reproducibility(manifest: dict, record: dict | None) -> dict:
    # the manifest is not in its own checksum list, so the record adds no file to verify
    return {**manifest, "reproducibility": json_safe(record)} if record else manifest


def _library_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in ("briefml", "numpy", "pandas", "scikit-learn", "scipy", "catboost", "lightgbm", "skops",
                 "shap"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _write_zip(path: Path, files: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())  # written whole, so a failed build leaves no half zip


# --------------------------------------------------------------------------- model card


def render_model_card(model: TabularModel, context: dict, ids: dict, file_names: list[str]) -> str:
    """README.md of the bundle, from model_card.md.tmpl."""
    spec = md.as_dict(context.get("spec"))
    brief = str(context.get("brief") or "").strip()
    explanation = context.get("explanation")
    values = {
        "title": f"predict `{model.target}` ({model.task_type})"
        + (" — trained on SYNTHETIC data" if context.get("synthetic_data") else ""),
        "ids": " · ".join(f"{k.replace('_', ' ')}: `{v}`" for k, v in ids.items() if v is not None)
        or "Built with briefml.",
        "intended_use": (f"From the brief: \n\n> {brief}" if brief else "No brief was given.")
        + _classes_line(model),
        "data": "\n".join(md.data_lines({**context, "spec": spec or {"target": model.target,
                                                                    "task_type": model.task_type}})),
        "verdict": md.verdict({**context, "spec": spec}),
        "metrics": md.metrics_table(context.get("holdout_metrics"), context.get("baseline_metrics"),
                                    context.get("confidence_intervals"), md.main_metric({**context, "spec": spec})),
        "baseline_kind": "the training mean for every row" if model.task_type == "regression"
        else "the training class shares for every row",
        "findings": "\n".join(md.findings_lines(context.get("findings"))) or "No data check raised a concern.",
        "top_features": "\n".join(md.top_features_lines(explanation)),
        "reliability": "\n".join(md.reliability_lines(model.reliability))
        or "No intervals or calibration were computed for this model.",
        "failures": "\n".join(md.failure_lines(context.get("failures"))),
        "limitations": "\n".join(f"- {line}" for line in _limitations(model, context)),
        "files": "\n".join(f"- `{name}`" for name in ["manifest.json", *file_names]),
    }
    return Template(MODEL_CARD_TEMPLATE.read_text()).safe_substitute(values)


def _classes_line(model: TabularModel) -> str:
    if model.task_type == "regression":
        return ""
    return "\n\nClasses: " + ", ".join(f"`{c}`" for c in model.classes_) + "."


def _limitations(model: TabularModel, context: dict) -> list[str]:
    out = [
        ("Trained on one table at one point in time: accuracy drops when the population or the "
         "way the data is recorded changes. Re-check it on recent labelled rows regularly."),
        "Importance shows what the model uses, not what causes the outcome.",
    ]
    if context.get("synthetic_data"):
        out.insert(0, "Trained on SYNTHETIC data generated by briefml from a description, not "
                      "collected from the real world: its metrics say nothing about real data.")
    warnings = [f for f in context.get("findings") or [] if str(md.as_dict(f).get("severity")) == "warning"]
    if warnings:
        out.append(f"{len(warnings)} data-check warning(s) were raised (see above).")
    metric = md.main_metric({**context, "spec": md.as_dict(context.get("spec"))})
    holdout, baseline = context.get("holdout_metrics") or {}, context.get("baseline_metrics") or {}
    if metric and md.beats_baseline(metric, holdout.get(metric), baseline.get(metric)) is False:
        out.append("It does NOT beat the naive baseline on held-out rows: do not use it for decisions.")
    if any(c["kind"] == "categorical" for c in model.schema["columns"]):
        out.append("Categories not seen in training are accepted but the model knows nothing about them.")
    return out
