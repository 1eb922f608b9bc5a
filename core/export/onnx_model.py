"""`briefml export --onnx FILE BUNDLE.zip`: the bundle's model as one ONNX graph, where the
members allow it.

Each member becomes a subgraph: scikit-learn pipelines through skl2onnx, LightGBM boosters
through onnxmltools (numbers only: LightGBM maps categories to codes outside the model),
CatBoost models through CatBoost's own ONNX export (only without categorical or text
features: CatBoost cannot export those). Each converted member is run through onnxruntime on rows that cover
the schema (every category, missing values, numbers across their range) and must reproduce
the member to 1e-4, so a converter that silently encodes categories differently cannot ship
a wrong model. The graph then takes the weighted average of the members' outputs, as the
bundle does. A member that cannot be exported stops the export with one line that names it
and says why.

The graph's inputs are the bundle's feature columns as `predict.py` prepares them (see
`core.runtime.prepare_frame`): one [N, 1] tensor per feature, float for numbers (datetime
columns become `<name>__year`, `__month`, ...), string for categories (missing ones as
`__missing__`) and text. Its output is `probabilities` [N, classes] in the order of the
metadata's `classes`, or `prediction` [N, 1] for a regressor. A decision threshold the
bundle applies to the positive class is in the metadata (`decision_threshold`, on the scale
`decision_threshold_scale`; the scale the likeliest class is taken on is `class_scale`), not in
the graph; nor is a calibrator the bundle applies to the probabilities (a caveat then says
so: a "calibrated" threshold or class is not for the graph's output). ONNX computes in float32, so outputs agree with predict.py to about 1e-6.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from core import runtime
from core.errors import BundleError

OPSET = {"": 17, "ai.onnx.ml": 3}
LIGHTGBM_OPSET = 15  # the newest onnxmltools converts LightGBM to; the graph takes the max


def input_names(schema: dict) -> dict[str, str]:
    """Feature name -> the graph's input name (letters, digits and '_' only, as converters
    need; the metadata's `inputs` maps them back)."""
    names: dict[str, str] = {}
    for feature in runtime.feature_names(schema):
        name = re.sub(r"[^0-9A-Za-z_]", "_", feature) or "column"
        while name in names.values():
            name += "_"
        names[feature] = name
    return names


class NotExportable(BundleError):
    """A member of the model has no ONNX form; the message names it and says why."""


def export_onnx(bundle_path: str | Path, out_file: str | Path) -> tuple[Path, list[str]]:
    """Write the bundle's model as an ONNX file; return its path and the caveats (one line
    each, also in the file's metadata as `caveats`)."""
    onnx = _onnx()
    model = _load(bundle_path)
    schema = model.schema
    complete, gappy = probe_frame(schema, missing=False), probe_frame(schema, missing=True)
    parts, caveats = [], []
    for i, member in enumerate(model.members):
        graph = _member_graph(i, member, schema)
        _check(i, member, graph, complete, schema, "on rows without missing values")
        try:
            _check(i, member, graph, gappy, schema, "on rows with missing values")
        except NotExportable:
            caveats.append(f"Member {i} ('{member.name or member.kind}') treats missing values "
                           "differently in ONNX than in the bundle: fill them before predicting "
                           "with the ONNX model.")
        parts.append(graph)
    caveats += _calibration_caveats(model)
    gap_fill = (schema.get("gap_fill") or {}).get("values")
    if gap_fill:  # an average over filled copies is not one graph's pass over a row
        shown = ", ".join(sorted({runtime.source_column(f) for f in gap_fill})[:8])
        caveats.append(f"The ONNX model does not fill gaps the way predict.py does: a row missing "
                       f"a value in {shown} gets each member's own missing-value rule there, which "
                       "was learned from almost no training rows. Fill those values first.")
    total = sum(m.weight for m in model.members)
    combined = _weighted_average(onnx, parts, [m.weight / total for m in model.members], schema,
                                 caveats)
    onnx.checker.check_model(combined)
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_bytes(combined.SerializeToString())
    return out_file, caveats


def onnx_inputs(frame: pd.DataFrame, schema: dict) -> dict[str, np.ndarray]:
    """The feeds an ONNX runtime needs for a prepared feature frame (`prepare_frame`)."""
    feeds, names = {}, input_names(schema)
    for name, kind in runtime.feature_kinds(schema).items():
        if kind == "numeric":
            feeds[names[name]] = frame[name].to_numpy(dtype="float32").reshape(-1, 1)
        else:  # string tensors hold no NaN: a missing category is the one the models learned
            values = frame[name].where(frame[name].notna(), runtime.MISSING_CATEGORY)
            feeds[names[name]] = values.astype(str).to_numpy(dtype=object).reshape(-1, 1)
    return feeds


# --------------------------------------------------------------------------- checking

PROBE_ROWS = 240
CHECK_TOLERANCE = 1e-4  # relative: float32 arithmetic; a wrong conversion is off by far more


def probe_frame(schema: dict, *, missing: bool, rows: int = PROBE_ROWS, seed: int = 0) -> pd.DataFrame:
    """Prepared feature rows covering the schema: numbers across (and a little past) their
    training range, every category; with `missing`, values missing in every column."""
    rng = np.random.default_rng(seed)
    raw: dict[str, list] = {}
    for column in schema["columns"]:
        name, kind = column["name"], column["kind"]
        if kind == "numeric":
            low, high = float(column.get("min") or 0.0), float(column.get("max") or 1.0)
            pad = 0.1 * (high - low or 1.0)
            values = list(rng.uniform(low - pad, high + pad, rows))
        elif kind == "categorical":
            categories = list(column.get("categories") or ["a"])
            values = [categories[i % len(categories)] for i in range(rows)]
        elif kind == "boolean":
            values = [bool(i % 2) for i in range(rows)]
        elif kind == "datetime":
            values = list(pd.date_range("2000-01-01", periods=rows, freq="7D").astype(str))
        else:
            values = ["" for _ in range(rows)]
        for i in range(0, rows if missing else 0, 7):  # every column missing on some rows
            values[(i + len(raw)) % rows] = None
        raw[name] = values
    frame, _ = runtime.prepare_frame(pd.DataFrame(raw), schema)
    return frame


def _check(i: int, member: runtime.Member, graph, probe: pd.DataFrame, schema: dict,
           rows: str) -> None:
    """NotExportable unless onnxruntime reproduces the member on the probe rows."""
    import onnxruntime

    expected = runtime.member_output(member, probe, schema).reshape(len(probe), -1)
    try:
        session = onnxruntime.InferenceSession(graph.SerializeToString())
        [got] = session.run(None, {k: v for k, v in onnx_inputs(probe, schema).items()
                                   if k in {x.name for x in session.get_inputs()}})
    except Exception as exc:  # noqa: BLE001 - the runtime says what it cannot run
        raise NotExportable(_why(i, member, f"onnxruntime cannot run the converted model "
                                            f"({_first_line(exc)})")) from None
    gap = float(np.nanmax(np.abs(np.asarray(got, dtype="float64").reshape(expected.shape) - expected)))
    scale = max(1.0, float(np.nanmax(np.abs(expected))))  # a regressor's float32 error grows with it
    if not gap <= CHECK_TOLERANCE * scale:
        raise NotExportable(_why(i, member, f"its ONNX conversion does not reproduce it (off by up "
                                            f"to {gap:.3g} {rows})"))


# --------------------------------------------------------------------------- members


def _member_graph(i: int, member: runtime.Member, schema: dict):
    """The member as an ONNX model whose only output is its probabilities / prediction."""
    if member.kind == "sklearn":
        return _sklearn_graph(i, member, schema)
    if member.kind == "catboost":
        return _catboost_graph(i, member, schema)
    if member.kind == "lightgbm":
        return _lightgbm_graph(i, member, schema)
    raise NotExportable(_why(i, member, f"its kind '{member.kind}' has no ONNX converter here"))


def _why(i: int, member: runtime.Member, reason: str) -> str:
    return (f"Member {i} ('{member.name or member.kind}', {_estimator_name(member)}) cannot be "
            f"exported to ONNX: {reason}.")


def _estimator_name(member: runtime.Member) -> str:
    estimator = member.estimator[-1] if hasattr(member.estimator, "steps") else member.estimator
    return type(estimator).__name__


def _sklearn_graph(i: int, member: runtime.Member, schema: dict):
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    types = [(name, FloatTensorType([None, 1]) if kind == "numeric" else StringTensorType([None, 1]))
             for name, kind in runtime.feature_kinds(schema).items()]
    final = member.estimator[-1] if hasattr(member.estimator, "steps") else member.estimator
    options = {} if schema["task_type"] == "regression" else {id(final): {"zipmap": False}}
    try:
        graph = convert_sklearn(member.estimator, initial_types=types, target_opset=OPSET,
                                options=options)
    except Exception as exc:  # noqa: BLE001 - skl2onnx names what it cannot convert
        raise NotExportable(_why(i, member, f"skl2onnx cannot convert it ({_first_line(exc)})")) from None
    wanted = "variable" if schema["task_type"] == "regression" else "probabilities"
    return _renamed_inputs(_keep_output(graph, wanted), list(input_names(schema).values()))


def _catboost_graph(i: int, member: runtime.Member, schema: dict):
    import tempfile

    import onnx

    kinds = runtime.feature_kinds(schema)
    other = [name for name, kind in kinds.items() if kind != "numeric"]
    if other:
        raise NotExportable(_why(i, member, "CatBoost's ONNX export does not support categorical "
                                 "or text features (" + ", ".join(f"'{n}'" for n in other[:5]) + ")"))
    with tempfile.TemporaryDirectory() as tmp:
        member.estimator.save_model(str(Path(tmp) / "m.onnx"), format="onnx")
        graph = onnx.load(str(Path(tmp) / "m.onnx"))
    if schema["task_type"] != "regression":
        graph = _without_zipmap(graph)
    else:
        graph = _keep_output(graph, graph.graph.output[0].name)
    return _from_columns(graph, list(input_names(schema).values()))


def _lightgbm_graph(i: int, member: runtime.Member, schema: dict):
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    kinds, used = runtime.feature_kinds(schema), runtime.lightgbm_features(schema)
    categorical = [name for name in used if kinds[name] == "categorical"]
    if categorical:
        raise NotExportable(_why(i, member, "LightGBM maps its categories to codes outside the "
                                 "model, which ONNX cannot carry (" + ", ".join(
                                     f"'{n}'" for n in categorical[:5]) + ")"))
    try:
        graph = convert_lightgbm(member.estimator, initial_types=[
            ("features", FloatTensorType([None, len(used)]))], target_opset=LIGHTGBM_OPSET, zipmap=False)
    except Exception as exc:  # noqa: BLE001 - onnxmltools names what it cannot convert
        raise NotExportable(_why(i, member, f"onnxmltools cannot convert it ({_first_line(exc)})")) from None
    wanted = "variable" if schema["task_type"] == "regression" else "probabilities"
    names = input_names(schema)
    return _from_columns(_keep_output(graph, wanted), [names[n] for n in used])


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__).rstrip(".")[:300]


def _keep_output(model, name: str):
    from onnx import helper

    outputs = [o for o in model.graph.output if o.name == name]
    graph = helper.make_graph(list(model.graph.node), model.graph.name, list(model.graph.input),
                              outputs, list(model.graph.initializer))
    return helper.make_model(graph, opset_imports=list(model.opset_import))


def _renamed_inputs(model, names: list[str]):
    """The model with its inputs (in order) renamed to `names`."""
    renames = {v.name: new for v, new in zip(model.graph.input, names, strict=True)}
    for node in model.graph.node:
        for k, name in enumerate(node.input):
            if name in renames:
                node.input[k] = renames[name]
    for value in model.graph.input:
        value.name = renames[value.name]
    return model


def _without_zipmap(model):
    """CatBoost ends a classifier in a ZipMap (a list of dicts); keep the tensor before it."""
    from onnx import helper

    zipmap = next(n for n in model.graph.node if n.op_type == "ZipMap")
    tensor = zipmap.input[0]
    nodes = [n for n in model.graph.node if n is not zipmap]
    output = helper.make_tensor_value_info(tensor, 1, [None, None])  # 1: float
    graph = helper.make_graph(nodes, model.graph.name, list(model.graph.input), [output],
                              list(model.graph.initializer))
    return helper.make_model(graph, opset_imports=list(model.opset_import))


def _from_columns(model, features: list[str]):
    """A model that takes one float matrix `features`, fed from one [N, 1] input per column."""
    from onnx import TensorProto, helper

    matrix = model.graph.input[0].name
    concat = helper.make_node("Concat", features, [matrix], axis=1)
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, 1]) for n in features]
    graph = helper.make_graph([concat, *model.graph.node], model.graph.name, inputs,
                              list(model.graph.output), list(model.graph.initializer))
    return helper.make_model(graph, opset_imports=list(model.opset_import))


# --------------------------------------------------------------------------- the ensemble


def _calibration_caveats(model: runtime.BundleModel) -> list[str]:
    calibrator = model.reliability.get("calibrator") or {}
    if calibrator.get("kind", "none") == "none":
        return []
    if "decision_threshold" in model.schema and len(model.schema.get("classes") or []) == 2:
        decided = (", and its decision threshold applies to the calibrated probabilities"
                   if runtime.threshold_scale(model.schema) == "calibrated" else "")
    else:
        decided = (", and it predicts the class that is likeliest after calibration, which is "
                   "not always the likeliest in this graph's output"
                   if runtime.class_scale(model.schema) == "calibrated" else "")
    return [(f"The bundle passes the probabilities through a {calibrator['kind']} calibrator "
             f"(reliability.json) that this graph leaves out{decided}: predict with the bundle "
             "to get the probabilities and classes it shows.")]


def _weighted_average(onnx, parts: list, weights: list[float], schema: dict, caveats: list[str]):
    from onnx import TensorProto, compose, helper, numpy_helper

    regression = schema["task_type"] == "regression"
    final = "prediction" if regression else "probabilities"
    nodes, initializers, weighted, opsets = [], [], [], {}
    inputs = {}
    for i, (part, weight) in enumerate(zip(parts, weights, strict=True)):
        part = compose.add_prefix(part, f"m{i}_", rename_inputs=False)
        for opset in part.opset_import:
            opsets[opset.domain] = max(opsets.get(opset.domain, 0), opset.version)
        inputs.update({v.name: v for v in part.graph.input})
        nodes += list(part.graph.node)
        initializers += list(part.graph.initializer)
        out = part.graph.output[0].name
        initializers.append(numpy_helper.from_array(np.array(weight, dtype="float32"), f"w{i}"))
        nodes.append(helper.make_node("Mul", [out, f"w{i}"], [f"weighted{i}"]))
        weighted.append(f"weighted{i}")
    nodes.append(helper.make_node("Sum", weighted, [final]))
    width = 1 if regression else len(schema.get("classes") or [])
    output = helper.make_tensor_value_info(final, TensorProto.FLOAT, [None, width])
    ordered = [inputs[name] for name in input_names(schema).values() if name in inputs]
    graph = helper.make_graph(nodes, "briefml_model", ordered, [output], initializers)
    opsets[""] = max(opsets.get("", 0), OPSET[""])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                              producer_name="briefml")
    model.ir_version = min(model.ir_version, 10)  # what current ONNX runtimes load
    helper.set_model_props(model, {
        "target": str(schema["target"]), "task_type": str(schema["task_type"]),
        "classes": json.dumps(schema.get("classes")),
        "decision_threshold": json.dumps(schema.get("decision_threshold")),
        "decision_threshold_scale": json.dumps(runtime.threshold_scale(schema)
                                               if "decision_threshold" in schema else None),
        "class_scale": json.dumps(None if regression else runtime.class_scale(schema)),
        "member_weights": json.dumps(weights),
        "caveats": json.dumps(caveats),
        "inputs": json.dumps({name: feature for feature, name in input_names(schema).items()}),
    })
    return model


def _onnx():
    try:
        import onnx
        import onnxruntime  # noqa: F401 - every member is checked with it
        import skl2onnx  # noqa: F401 - checked here so the message names the extra
    except ImportError:
        raise BundleError("Exporting to ONNX needs onnx, skl2onnx and onnxruntime: "
                          "pip install 'briefml[export]'.") from None
    return onnx


def _load(bundle_path: str | Path) -> runtime.BundleModel:
    try:
        return runtime.load(bundle_path)
    except runtime.BundleIntegrityError as exc:
        raise BundleError(str(exc)) from None
