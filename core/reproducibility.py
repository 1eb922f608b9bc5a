"""The reproducibility record: what it takes to make a model version again.

Every build ends with one (`build_record`), the caller adds where the data came from
(`with_data`), and it travels in the bundle's `manifest.json` (section `reproducibility`) and
in the version's stored metrics. `briefml build --from-bundle` and the web app's Rebuild read
it back (`recorded_plan`) and run the same plan, without asking the planner, then say how
closely the new held-out metrics match the recorded ones (`compare_holdout`).

Shape (plain JSON)::

    {"record_version": 1, "seed": 0, "brief": "...",
     "data": {"sha256": "...", "source": "train.csv", "rows": 344, "columns": 8,
              "dataset_id": "...", "dataset_name": "penguins", "dataset_version": 2},
     "task_spec": {...}, "search_plan": {...},          # the exact JSON the build ran
     "planner": {"name": "llm:gpt-4.1-mini", "model": "gpt-4.1-mini", "fell_back": false,
                 "fallbacks": [...], "warning": null},
     "packages": {"python": "3.11.9", "numpy": "...", ...},
     "briefml": {"version": "0.1.0", "git_commit": "abc123..." | null},
     "machine": {"cores": 8, "cores_available": 2, "threads_used": 2, "platform": "..."},
     "budget_seconds": 60.0, "seconds_used": 58.2,
     "rebuild_of": null | {"version": 3, "version_id": "...", "holdout": {...},
                           "confidence_intervals": {...}, "data_sha256": "..."}}
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from core import metrics as metric_names
from core.errors import BundleError
from core.jsonsafe import json_safe
from core.planning.offline import OfflinePlanner
from core.registry import available_threads
from core.spec import Candidate, SearchPlan, TaskSpec

RECORD_VERSION = 1
PACKAGES = ("briefml", "numpy", "pandas", "scikit-learn", "scipy", "catboost", "lightgbm",
            "skops", "shap", "pydantic", "threadpoolctl", "langchain-core")
# Same seed, same data, same trials: the numbers agree up to the order floating-point sums
# were taken in, far below anything a metric shows.
EXACT_TOLERANCE = 1e-9


# --------------------------------------------------------------------------- writing


def build_record(result: Any, *, threads: int | None = None) -> dict:
    """The record of a finished `core.build.BuildResult` (read by attribute name).

    The data's SHA-256 and dataset are not known here (the engine gets a frame): callers
    add them with `with_data`.
    """
    info = dict(getattr(result, "planner_info", None) or {})
    name = info.get("name") or getattr(result, "planner_name", "offline")
    profile = getattr(result, "profile", None)
    return json_safe({
        "record_version": RECORD_VERSION,
        "seed": int(result.seed),
        "brief": getattr(result, "brief", "") or "",
        "data": {"sha256": None, "source": None,
                 "rows": getattr(profile, "rows", None), "columns": getattr(profile, "columns", None)},
        "task_spec": result.spec.model_dump(mode="json"),
        "search_plan": result.search_plan.model_dump(mode="json"),
        # the configurations the anytime search actually tried, refinements included
        "trials": [{"estimator": t.estimator, "params": t.params, "status": t.status}
                   for t in getattr(result, "leaderboard", None) or []],
        "planner": {
            "name": name,
            "model": name.split(":", 1)[1] if name.startswith("llm:") else None,
            "fell_back": bool(getattr(result, "planner_fell_back", False) or info.get("fell_back")),
            "fallbacks": list(info.get("fallbacks") or []),
            "warning": info.get("warning"),
        },
        "packages": package_versions(),
        "briefml": {"version": _version("briefml"), "git_commit": git_commit()},
        "machine": {"cores": os.cpu_count(), "cores_available": available_threads(),
                    "threads_used": threads, "platform": platform.platform(terse=True)},
        "budget_seconds": float(result.budget_seconds),
        "seconds_used": (getattr(result, "timings", None) or {}).get("total"),
        "rebuild_of": None,
    })


def with_data(record: dict, *, sha256: str | None, source: str | None = None,
              dataset_id: Any = None, dataset_name: str | None = None,
              dataset_version: int | None = None) -> dict:
    """The record with where its data came from (the SHA-256 of the file's bytes)."""
    data = {**(record.get("data") or {}), "sha256": sha256, "source": source}
    if dataset_id is not None:
        data.update(dataset_id=str(dataset_id), dataset_name=dataset_name,
                    dataset_version=dataset_version)
    return {**record, "data": data}


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    versions.update({name: _version(name) for name in PACKAGES})
    return versions


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


_commit: list[str | None] = []


def git_commit() -> str | None:
    """The code's git commit: `BRIEFML_GIT_COMMIT` (set in images built without .git), else
    `git rev-parse HEAD` in the source folder, else None. Looked up once per process."""
    if not _commit:
        _commit.append(os.environ.get("BRIEFML_GIT_COMMIT") or _git_head())
    return _commit[0]


def _git_head() -> str | None:
    source = Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=3, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) == 40 else None


# --------------------------------------------------------------------------- reading


def record_from_manifest(manifest: dict, where: str = "the bundle") -> dict:
    """The record a bundle carries; BundleError when it has none (built before records)."""
    record = manifest.get("reproducibility")
    if not isinstance(record, dict) or not record.get("task_spec") or not record.get("search_plan"):
        raise BundleError(f"{where} has no reproducibility record (it was built by an older "
                          "briefml), so it cannot be rebuilt. Build it again from its brief.")
    return record


def bundle_record(path: str | Path) -> tuple[dict, dict, dict]:
    """(the reproducibility record, metrics.json, manifest.json) of the bundle at `path`,
    after checking every file against its manifest."""
    import json

    from core import runtime

    try:
        files = runtime.read_bundle_files(path)
        manifest = runtime.verify_manifest(files)
        recorded = json.loads(files.get("metrics.json") or b"{}")
    except (runtime.BundleIntegrityError, ValueError) as exc:
        raise BundleError(str(exc)) from None
    return record_from_manifest(manifest, f"The bundle '{Path(path).name}'"), recorded, manifest


def recorded_plan(record: dict) -> tuple[TaskSpec, SearchPlan]:
    """The approved TaskSpec, and the SearchPlan to replay: the recorded plan with its
    candidates replaced by the trials that finished, refinements included, in their order.

    Run with `ReplayPlanner` (no new refinements), a rebuild tries exactly those configurations
    instead of searching anew, so how far the clock let the first search get on its machine
    does not change what the second one trains.
    """
    try:
        spec = TaskSpec.model_validate(record["task_spec"])
        plan = SearchPlan.model_validate(record["search_plan"])
        finished = [Candidate(estimator=t["estimator"], params=dict(t.get("params") or {}),
                              why="a trial of the recorded build")
                    for t in record.get("trials") or [] if t.get("status") == "ok"]
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"The reproducibility record's plan cannot be read ({exc}); "
                          "build the model again from its brief.") from None
    return spec, plan.model_copy(update={"candidates": finished}) if finished else plan


class ReplayPlanner(OfflinePlanner):
    """The offline planner that proposes no refinements: a rebuild replays the recorded
    trials and nothing else (its report is the offline planner's template)."""

    def refine(self, spec, profile, leaderboard, max_new):
        return []


def rebuild_note(*, version: int | None, version_id: Any, holdout: dict, intervals: dict,
                 data_sha256: str | None) -> dict:
    """What a rebuilt version remembers of the one it was rebuilt from."""
    return json_safe({"version": version, "version_id": None if version_id is None else str(version_id),
                      "holdout": holdout or {}, "confidence_intervals": intervals or {},
                      "data_sha256": data_sha256})


# --------------------------------------------------------------------------- how closely


def compare_holdout(recorded: dict, rebuilt: dict, intervals: dict | None = None) -> list[dict]:
    """One row per held-out metric both have: recorded, rebuilt, difference, and whether the
    rebuilt value lies inside the recorded 95% bootstrap interval (None when none was kept)."""
    rows = []
    for name, before in (recorded or {}).items():
        after = (rebuilt or {}).get(name)
        if not _number(before) or not _number(after):
            continue
        interval = (intervals or {}).get(name)
        inside = None
        if isinstance(interval, (list, tuple)) and len(interval) == 2 and all(map(_number, interval)):
            inside = bool(min(interval) - EXACT_TOLERANCE <= after <= max(interval) + EXACT_TOLERANCE)
        rows.append({"metric": name, "recorded": float(before), "rebuilt": float(after),
                     "difference": float(after) - float(before), "inside_interval": inside})
    return rows


def closeness(rows: list[dict], main_metric: str, *, same_data: bool | None) -> str:
    """One sentence: how closely a rebuild's held-out metrics match the recorded ones.

    Exact (every metric within EXACT_TOLERANCE): the same trials ran on the same rows. Within
    noise: the main metric moved less than the recorded 95% interval's spread, which is as
    much as the held-out score itself is known to (the search is anytime, so a busier machine
    finishes fewer trials in the same budget).
    """
    if not rows:
        return "No held-out metric could be compared with the recorded ones."
    data = {True: " on the same data", False: " on different data", None: ""}[same_data]
    if all(abs(r["difference"]) <= EXACT_TOLERANCE for r in rows):
        return f"Every held-out metric matches the recorded one exactly{data}."
    main = next((r for r in rows if r["metric"] == main_metric), rows[0])
    shown = metric_names.display_name(main["metric"])
    moved = f"{shown} {main['rebuilt']:.4g} vs {main['recorded']:.4g} recorded ({main['difference']:+.3g})"
    if main["inside_interval"]:
        return f"Within noise{data}: held-out {moved}, inside the recorded 95% interval."
    if main["inside_interval"] is None:
        return f"Held-out {moved}{data}; no recorded interval to judge the noise by."
    return f"Differs{data}: held-out {moved}, outside the recorded 95% interval."


def record_rows(record: dict) -> list[dict]:
    """The record as short {"what", "value"} rows of text, for a page or a model card."""
    data, planner = record.get("data") or {}, record.get("planner") or {}
    code, machine = record.get("briefml") or {}, record.get("machine") or {}
    dataset = (f"{data['dataset_name']} v{data['dataset_version']}"
               if data.get("dataset_name") else data.get("source"))
    sha = data.get("sha256")
    used, budget = record.get("seconds_used"), record.get("budget_seconds")
    fallbacks = len(planner.get("fallbacks") or [])
    rows = [
        ("seed", record.get("seed")),
        ("data", " · ".join(str(p) for p in (dataset, f"{data.get('rows')} rows",
                                             f"SHA-256 {sha[:16]}…" if sha else None) if p)),
        ("planner", (planner.get("name") or "offline")
         + (f", fell back {fallbacks} time(s)" if fallbacks else "")
         + (" (the setup fell back to offline)" if planner.get("warning") else "")),
        ("budget", f"{budget:g} s, {used:.1f} s used" if _number(budget) and _number(used)
         else budget),
        ("briefml", " · ".join(p for p in (code.get("version"),
                                           f"commit {code['git_commit'][:12]}"
                                           if code.get("git_commit") else None) if p)),
        ("machine", (f"{machine.get('cores_available')} of {machine.get('cores')} cores, "
                     f"{machine.get('threads_used')} threads used")),
        ("trials replayed by a rebuild",
         sum(1 for t in record.get("trials") or [] if t.get("status") == "ok")),
        ("packages", ", ".join(f"{k} {v}" for k, v in sorted((record.get("packages") or {}).items())
                               if v)),
    ]
    return [{"what": what, "value": "—" if value in (None, "") else str(value)} for what, value in rows]


def rebuild_closeness(record: dict, holdout: dict, main_metric: str) -> str | None:
    """For a rebuilt version: which version it rebuilt and how closely it matches; else None."""
    before = record.get("rebuild_of")
    if not before:
        return None
    rows = compare_holdout(before.get("holdout") or {}, holdout, before.get("confidence_intervals"))
    earlier, now = before.get("data_sha256"), (record.get("data") or {}).get("sha256")
    same = None if not earlier or not now else earlier == now
    which = f"v{before['version']}" if before.get("version") is not None else "its bundle"
    return f"Rebuilt from {which}. " + closeness(rows, main_metric, same_data=same)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
