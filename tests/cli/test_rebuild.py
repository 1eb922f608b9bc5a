"""`briefml build DATA --from-bundle BUNDLE.zip`: the recorded plan, run again, compared.

Tolerance: a rebuild on the same file with the same seed draws the same held-out rows and
the same folds, and a plan whose whole neighbourhood fits in the budget (one linear family
on 172 rows: every refinement by rules is tried long before the deadline) runs the same
trials. Nothing is then left to chance, so the held-out metrics must agree to
`EXACT_TOLERANCE` (1e-9: only the order of floating-point sums may differ). A plan the budget
cuts short is anytime and may finish fewer trials on a busier machine; that case is judged
against the recorded 95% interval instead (`closeness`).
"""

import json
import zipfile

import pytest
import typer
from palmerpenguins import load_penguins
from typer.testing import CliRunner

from briefml.engine_cli import build
from core import reproducibility as repro
from core.build import build_model
from core.bundle import bundle_from_result
from core.spec import Candidate, SearchPlan

app = typer.Typer()
app.command()(build)
app.command("noop")(lambda: None)  # two commands keep `build` a subcommand
runner = CliRunner()
BRIEF = "Identify the penguin species from its measurements"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A bundle built through the engine with a small linear-only plan, as the CLI would."""
    work = tmp_path_factory.mktemp("rebuild")
    df = load_penguins()
    df.iloc[::2].to_csv(work / "train.csv", index=False)
    df.iloc[1::2].to_csv(work / "next_month.csv", index=False)
    plan = SearchPlan(candidates=[Candidate(estimator="linear", params={"C": 1.0})], validation="cv3",
                      budget_seconds=8, ensemble=False)
    result = build_model(df.iloc[::2].reset_index(drop=True), BRIEF, budget_seconds=8, seed=3,
                         spec_overrides=plan)
    result.reproducibility = repro.with_data(result.reproducibility,
                                             sha256=repro.file_sha256(work / "train.csv"),
                                             source="train.csv")
    bundle_from_result(result, work / "v1.zip", model_version=1)
    return work, result


def _rebuild(work, data, out):
    done = runner.invoke(app, ["build", str(work / data), "--from-bundle", str(work / "v1.zip"),
                               "--out", str(work / out), "--json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_manifest_records_what_it_takes_to_rebuild(recorded):
    work, result = recorded
    manifest = json.loads(zipfile.ZipFile(work / "v1.zip").read("manifest.json"))
    record = manifest["reproducibility"]
    assert record["seed"] == 3 and record["budget_seconds"] == 8
    assert record["data"]["sha256"] == repro.file_sha256(work / "train.csv")
    assert record["task_spec"] == result.spec.model_dump(mode="json")
    assert record["search_plan"]["candidates"][0]["estimator"] == "linear"
    assert record["planner"] == {"name": "offline", "model": None, "fell_back": False,
                                 "fallbacks": [], "warning": None}
    assert record["packages"]["scikit-learn"] and record["machine"]["cores"] >= 1
    assert 0 < record["seconds_used"] <= 8 * 1.5


def test_a_rebuild_on_the_same_data_gets_the_same_metrics(recorded):
    work, result = recorded
    summary = _rebuild(work, "train.csv", "v2.zip")
    trials = lambda rows: [(r["estimator"], r["params"]) for r in rows]  # noqa: E731
    # the precondition of an exact match: every trial ran, the budget cut none short
    assert trials(summary["leaderboard"]) == trials(result.leaderboard_rows())
    assert summary["rebuild"]["same_data"] is True
    rows = summary["rebuild"]["metrics"]
    assert {r["metric"] for r in rows} >= {"log_loss", "accuracy", "roc_auc"}
    assert all(abs(r["difference"]) <= repro.EXACT_TOLERANCE for r in rows), rows
    assert summary["rebuild"]["closeness"].startswith("Every held-out metric matches")
    record = json.loads(zipfile.ZipFile(work / "v2.zip").read("manifest.json"))["reproducibility"]
    assert record["rebuild_of"]["version"] == 1
    assert record["rebuild_of"]["holdout"] == pytest.approx(result.holdout_metrics)


def test_a_rebuild_on_new_data_runs_the_recorded_plan_and_says_the_data_differs(recorded):
    work, result = recorded
    summary = _rebuild(work, "next_month.csv", "v3.zip")
    assert summary["rebuild"]["same_data"] is False
    assert "on different data" in summary["rebuild"]["closeness"]
    assert summary["target"] == "species" and summary["metric"] == result.spec.metric
    assert {r["estimator"] for r in summary["leaderboard"]} == {"linear"}


def test_a_bundle_without_a_record_is_refused_in_one_line(recorded, tmp_path):
    work, _ = recorded
    with zipfile.ZipFile(work / "v1.zip") as old, zipfile.ZipFile(tmp_path / "old.zip", "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                manifest.pop("reproducibility")
                data = json.dumps(manifest).encode()
            new.writestr(info, data)
    done = runner.invoke(app, ["build", str(work / "train.csv"), "--from-bundle",
                               str(tmp_path / "old.zip")])
    assert done.exit_code == 2
    assert "has no reproducibility record" in done.stderr and "Traceback" not in done.output
