"""One reader for every path: the same awkward files (Latin-1 with `;` and decimal commas, a
UTF-8 BOM, UTF-16, money, percent signs) predict identically when read for training, through
the web app's batch predict (workspace layer), `briefml predict` and a bundle's predict.py run
on its own; a Yes/No target answers Yes/No everywhere; bad files get the upload's one-line
errors on every predict path."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from briefml.engine_cli import build, predict
from core.build import build_model
from core.bundle import build_bundle, bundle_from_result
from core.errors import DataError
from core.loading import load_table
from db.artifacts import put_artifact
from db.engine import session_scope
from db.models import ModelVersion
from tests.core import awkward_tables as awkward
from workspace import bundle_keys, versions

app = typer.Typer()
app.command()(build)
app.command()(predict)
runner = CliRunner()
TARGET = awkward.TARGET
OUTPUT_COLUMNS = [TARGET, "proba_No", "proba_Yes", "set"]  # set: the 90% prediction set
# beside the input's own target column, the prediction is named predicted_<target>
WRITTEN_COLUMNS = [f"predicted_{TARGET}", "proba_No", "proba_Yes", "set"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model built from the Latin-1 `;` decimal-comma file, its bundle zip and unzipped folder."""
    work = tmp_path_factory.mktemp("reader")
    files = awkward.variant_files(awkward.table())
    for name, data in files.items():
        (work / name).write_bytes(data)
    frame = load_table(work / "latin1.csv")
    result = build_model(frame, awkward.BRIEF, budget_seconds=6, seed=0)
    bundle = bundle_from_result(result, work / "model.zip", signing_key=bundle_keys.signing_key())
    folder = work / "bundle"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    return work, files, result, bundle, folder


def _add_version(project_id, bundle_bytes: bytes, result) -> ModelVersion:
    with session_scope() as session:
        sha = put_artifact(session, bundle_bytes, media_type="application/zip")
        version = ModelVersion(project_id=project_id, version=1, target=TARGET, task_type="binary",
                               metric=result.spec.metric, bundle_sha256=sha,
                               metrics={"holdout": result.holdout_metrics})
        session.add(version)
        return version


def _read_written(path) -> pd.DataFrame:
    """A written predictions file, every cell as the file writes it."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _predictions(table: pd.DataFrame) -> pd.DataFrame:
    """The prediction columns of a written table, under the in-memory model's names."""
    out = table[WRITTEN_COLUMNS].copy()
    out.columns = OUTPUT_COLUMNS
    return out


def _bundle_predict_py(folder, input_path, output_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "predict.py", str(input_path), "-o", str(output_path)],
                          cwd=folder, capture_output=True, text=True, check=False, timeout=300)


def test_every_path_reads_the_same_files_into_the_same_predictions(trained, team, tmp_path):
    work, files, result, bundle, folder = trained
    version = _add_version(team.project_id, bundle.read_bytes(), result)
    expected = None
    for name, data in files.items():
        # training's reader, in memory
        in_memory, _ = result.model.predict_table(load_table(data, filename=name))
        # the web app's batch predict, through the workspace layer
        web = versions.predict_file(actor=team.viewer, version_id=version.id, data=data, filename=name)
        web_table = web["table"]
        # briefml predict
        cli = runner.invoke(app, ["predict", str(bundle), str(work / name), "-o", str(tmp_path / f"cli-{name}")])
        assert cli.exit_code == 0, cli.output
        # the bundle's own predict.py, run where the bundle was unzipped
        done = _bundle_predict_py(folder, work / name, tmp_path / f"py-{name}")
        assert done.returncode == 0, done.stderr

        assert list(in_memory.columns) == OUTPUT_COLUMNS
        assert set(in_memory[TARGET]) == {"Yes", "No"}
        expected = in_memory if expected is None else expected
        written = {"briefml predict": _read_written(tmp_path / f"cli-{name}"),
                   "predict.py": _read_written(tmp_path / f"py-{name}")}
        for path, got in [("in memory", in_memory), ("web", _predictions(web_table)),
                          *[(path, _predictions(table).astype({c: float for c in OUTPUT_COLUMNS[1:3]}))
                            for path, table in written.items()]]:
            pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True,
                                          obj=f"{name} through {path}")
        assert web["warnings"] == []
        # the user's own columns come back as the file writes them, Yes/No included
        raw = pd.read_csv(io.BytesIO(data), sep=None, engine="python", dtype=str,
                          encoding="utf-16" if name.endswith(".txt") else
                          "latin-1" if name.startswith("latin1") else "utf-8-sig",
                          keep_default_na=False)
        # the prediction first, then the user's columns in the file's order, on every path
        for path, table in [("web", web_table), *written.items()]:
            pd.testing.assert_frame_equal(table[list(raw.columns)], raw, check_dtype=False,
                                          obj=f"{name}'s own columns through {path}")
            assert list(table.columns) == WRITTEN_COLUMNS + list(raw.columns), path


def test_a_yes_no_target_answers_in_the_files_own_labels(trained, team):
    _, _, result, bundle, folder = trained
    assert result.spec.positive_class == "Yes"
    assert result.model.classes_ == ["No", "Yes"]
    assert result.confusion["labels"] == ["No", "Yes"]
    assert list(result.curves) == ["Yes"]
    summary = result.to_json_summary()
    assert (summary["positive_class"], summary["classes"]) == ("Yes", ["No", "Yes"])
    card = (folder / "README.md").read_text()
    assert "Classes: `No`, `Yes`." in card and "True" not in card
    # a Yes/No input column is a column of labels, not booleans
    kinds = {c["name"]: c for c in result.model.schema["columns"]}
    assert kinds["mitglied"]["kind"] == "categorical" and set(kinds["mitglied"]["categories"]) == {"No", "Yes"}
    # the schema remembers the decimal commas, so one row of '1,234' means what training meant
    assert [kinds[c].get("decimal") for c in ("größe", "miete", "anteil")] == [",", ",", ","]
    # the web app's one-row predict explains the probability of 'Yes'
    version = _add_version(team.project_id, bundle.read_bytes(), result)
    row = load_table(awkward.utf8_bom_comma(awkward.table().head(1)), filename="one.csv").drop(columns=[TARGET])
    one = versions.predict_rows(actor=team.viewer, version_id=version.id, df=row, explain=True)
    assert list(one["table"].columns) == OUTPUT_COLUMNS and one["table"][TARGET].iloc[0] in {"Yes", "No"}
    assert one["explanation"]["explained_class"] == "Yes"


def _bad_files() -> dict[str, bytes]:
    unreadable = awkward.table().head(6).drop(columns=[TARGET]).astype(object)
    unreadable.loc[[0, 3], "größe"] = "unknown"
    unreadable.loc[3, "miete"] = "ask the landlord"
    unreadable.loc[4, "größe"] = "n/a"  # a missing value, not an unreadable one
    return {
        "empty.csv": b"",
        "junk.csv": bytes(range(256)) * 40,
        "header.csv": "größe;miete;anteil;stadt;mitglied\n".encode("latin-1"),
        "unreadable.csv": unreadable.to_csv(index=False, sep=";").encode("latin-1"),
    }


def test_bad_files_get_the_uploads_one_line_errors_on_every_predict_path(trained, tmp_path):
    _, _, _, bundle, folder = trained
    for name, data in _bad_files().items():
        (tmp_path / name).write_bytes(data)
    for name in ("empty.csv", "junk.csv", "header.csv"):
        with pytest.raises(DataError) as upload:
            load_table(tmp_path / name)
        message = str(upload.value)
        cli = runner.invoke(app, ["predict", str(bundle), str(tmp_path / name), "-o", str(tmp_path / "o.csv")])
        assert cli.exit_code == 2, cli.output
        assert cli.stderr.strip() == f"Error: {message}", name
        done = _bundle_predict_py(folder, tmp_path / name, tmp_path / "o.csv")
        assert done.returncode == 2 and done.stderr.strip() == f"error: {message}", (name, done.stderr)

    # text in numeric columns: the rows are predicted with those values missing, and said so
    said = "2 rows had values the model cannot read in columns größe, miete; they were predicted as missing."
    cli = runner.invoke(app, ["predict", str(bundle), str(tmp_path / "unreadable.csv"), "-o", str(tmp_path / "u.csv")])
    assert cli.exit_code == 0, cli.output
    assert said in " ".join(cli.stderr.split()) and "Traceback" not in cli.output
    assert len(_read_written(tmp_path / "u.csv")) == 6
    done = _bundle_predict_py(folder, tmp_path / "unreadable.csv", tmp_path / "u2.csv")
    assert done.returncode == 0 and f"warning: {said}" in done.stderr, done.stderr
    pd.testing.assert_frame_equal(_read_written(tmp_path / "u2.csv"), _read_written(tmp_path / "u.csv"))


def test_build_says_two_columns_share_a_name(tmp_path):
    (tmp_path / "dup.csv").write_text("a,b,a,y\n" + "".join(f"{i},{i % 7},{i % 3},{i % 2}\n" for i in range(60)))
    result = runner.invoke(app, ["build", str(tmp_path / "dup.csv"), "--intent", "predict y", "--budget", "5"])
    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == (
        "Error: Two columns of 'dup.csv' share the name 'a': rename one and try again.")


def test_every_path_calls_a_rare_positive_class_by_the_probability_it_shows(tmp_path):
    # a calibrated model with a decision threshold: `briefml predict` and the bundle's own
    # predict.py call a row positive exactly when the probability they write reaches it
    from tests.core import model_factories as factories

    model, rows = factories.calibrated_naive_bayes()
    bundle = build_bundle(model, tmp_path / "calibrated.zip", signing_key=bundle_keys.signing_key())
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "bundle")
    rows.drop(columns=["diagnosis"]).to_csv(tmp_path / "rows.csv", index=False)
    cli = runner.invoke(app, ["predict", str(bundle), str(tmp_path / "rows.csv"), "-o", str(tmp_path / "cli.csv")])
    assert cli.exit_code == 0, cli.output
    done = _bundle_predict_py(tmp_path / "bundle", tmp_path / "rows.csv", tmp_path / "py.csv")
    assert done.returncode == 0, done.stderr
    positive, threshold = model.classes_[1], model.schema["decision_threshold"]
    for written in ("cli.csv", "py.csv"):
        out = pd.read_csv(tmp_path / written)
        called = out["diagnosis"] == positive
        assert (called == (out[f"proba_{positive}"] >= threshold - 1e-12)).all(), written
        assert called.tolist() == list(model.predict(rows) == positive), written
