"""`briefml build DATA --from-bundle BUNDLE.zip`: the recorded trials, run again, compared.

Tolerance: a rebuild on the same file with the same seed draws the same held-out rows and
the same folds, and replays the recorded trials (no new refinements). With a family whose
fits the clock does not cut short (linear) and no time-boxed ensemble bagging, nothing is
left to chance, so the held-out metrics must agree to `EXACT_TOLERANCE` (1e-9: only the
order of floating-point sums may differ). The rebuild gets a larger budget than the
original so that a busy shared machine cannot stop the replay early; a replay ends when its
trials are done, so that changes nothing else. (Trees the deadline stops early do depend on
the machine; the CLI then judges the difference against the recorded 95% interval.)
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
                      budget_seconds=20, ensemble=False)
    result = build_model(df.iloc[::2].reset_index(drop=True), BRIEF, budget_seconds=20, seed=3,
                         spec_overrides=plan)
    result.reproducibility = repro.with_data(result.reproducibility,
                                             sha256=repro.file_sha256(work / "train.csv"),
                                             source="train.csv")
    bundle_from_result(result, work / "v1.zip", model_version=1)
    return work, result


def _rebuild(work, data, out):
    done = runner.invoke(app, ["build", str(work / data), "--from-bundle", str(work / "v1.zip"),
                               "--out", str(work / out), "--json", "--budget", "60"])
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_manifest_records_what_it_takes_to_rebuild(recorded):
    work, result = recorded
    manifest = json.loads(zipfile.ZipFile(work / "v1.zip").read("manifest.json"))
    record = manifest["reproducibility"]
    assert record["seed"] == 3 and record["budget_seconds"] == 20
    assert record["data"]["sha256"] == repro.file_sha256(work / "train.csv")
    assert record["task_spec"] == result.spec.model_dump(mode="json")
    assert record["search_plan"]["candidates"][0]["estimator"] == "linear"
    assert record["planner"] == {"name": "offline", "model": None, "fell_back": False,
                                 "fallbacks": [], "warning": None}
    assert record["packages"]["scikit-learn"] and record["machine"]["cores"] >= 1
    assert 0 < record["seconds_used"] <= 20 * 1.5
    assert [t["params"] for t in record["trials"]] == [t.params for t in result.leaderboard]


def test_a_rebuild_on_the_same_data_gets_the_same_metrics(recorded):
    work, result = recorded
    summary = _rebuild(work, "train.csv", "v2.zip")
    def trials(rows):
        return [(r["estimator"], r["params"]) for r in rows]

    # the recorded trials, refinements included, and no others
    assert trials(summary["leaderboard"]) == trials(result.leaderboard_rows())
    assert summary["rebuild"]["same_data"] is True
    rows = summary["rebuild"]["metrics"]
    assert {r["metric"] for r in rows} >= {"log_loss", "accuracy", "roc_auc"}
    assert all(abs(r["difference"]) <= repro.EXACT_TOLERANCE for r in rows), rows
    assert summary["rebuild"]["closeness"].startswith("Every held-out metric matches")
    record = json.loads(zipfile.ZipFile(work / "v2.zip").read("manifest.json"))["reproducibility"]
    assert summary["reproducibility"] == record
    assert record["rebuild_of"]["version"] == 1
    assert record["rebuild_of"]["holdout"] == pytest.approx(result.holdout_metrics)


def test_the_replayed_plan_is_every_finished_trial_in_order(recorded):
    _, result = recorded
    record = {**result.reproducibility, "trials": [
        {"estimator": "linear", "params": {"C": 1.0}, "status": "ok"},
        {"estimator": "linear", "params": {"C": 10.0}, "status": "failed"},
        {"estimator": "linear", "params": {"C": 0.1, "max_categories": 200}, "status": "ok"}]}
    spec, plan = repro.recorded_plan(record)
    assert spec == result.spec
    assert [c.params for c in plan.candidates] == [{"C": 1.0}, {"C": 0.1, "max_categories": 200}]
    assert plan.validation == "cv3" and plan.ensemble is False
    assert repro.ReplayPlanner().refine(spec, result.profile, result.leaderboard, 3) == []


def test_closeness_says_exact_within_noise_or_differs_in_one_sentence():
    rows = repro.compare_holdout({"roc_auc": 0.90, "accuracy": 0.8}, {"roc_auc": 0.91, "accuracy": 0.8},
                                 {"roc_auc": [0.85, 0.95]})
    assert rows[0]["inside_interval"] is True and rows[1]["inside_interval"] is None
    assert repro.closeness(rows, "roc_auc", same_data=False).startswith("Within noise on different data")
    outside = repro.compare_holdout({"roc_auc": 0.90}, {"roc_auc": 0.99}, {"roc_auc": [0.85, 0.95]})
    assert repro.closeness(outside, "roc_auc", same_data=True).startswith("Differs on the same data")
    same = repro.compare_holdout({"roc_auc": 0.9}, {"roc_auc": 0.9})
    assert repro.closeness(same, "roc_auc", same_data=None) == "Every held-out metric matches the recorded one exactly."


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
