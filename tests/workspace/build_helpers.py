"""Helpers for the build and queue tests: a small team, datasets as CSV bytes, real workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sklearn.datasets import load_breast_cancer, load_iris

from workspace.permissions import Actor

ROOT = Path(__file__).resolve().parents[2]


def iris_csv() -> bytes:
    frame = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    frame["species"] = frame["species"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    return frame.to_csv(index=False).encode()


def cancer_csv(rows: int = 300) -> bytes:
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, list(range(8)) + [-1]].head(rows)
    frame = frame.rename(columns={"target": "diagnosis"})
    frame["diagnosis"] = frame["diagnosis"].map({0: "malignant", 1: "benign"})
    return frame.to_csv(index=False).encode()


def add_dataset(actor: Actor, project_id, data: bytes, name: str = "table.csv"):
    """Upload CSV bytes as a dataset; returns its id."""
    from workspace.datasets import upload_dataset

    return upload_dataset(actor=actor, project_id=project_id, source=data, filename=name).id


def wait_for(check, *, timeout: float, what: str, every: float = 0.3):
    """Poll `check()` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}.")


def start_worker(database_url: str, log_dir: Path, name: str, *, concurrency: int = 1,
                 env: dict | None = None) -> subprocess.Popen:
    """`briefml worker` in its own process group (so a test can kill it and its children)."""
    environment = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1",
                   "BRIEFML_WORKER_HEARTBEAT_SECONDS": "1", "BRIEFML_WORKER_STALLED_SECONDS": "4",
                   **(env or {})}
    with open(log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "briefml", "worker", "--name", name, "--concurrency", str(concurrency)],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the worker and everything it started."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def stop_worker(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a worker the way Ctrl-C does; kill it if it does not stop in time."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
    else:
        kill_group(process)


def training_processes(worker: subprocess.Popen) -> list[int]:
    """Pids of the worker's training processes (children of its multiprocessing fork server)."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    servers = [pid for pid in children.get(worker.pid, []) if "forkserver" in commands.get(pid, "")]
    return [pid for server in servers for pid in children.get(server, [])]


def build_in_process(actor: Actor, project_id, dataset_id, brief: str, budget_seconds: float):
    """Plan, approve and run one build attempt in this process, as a worker would (no worker
    start-up); return the model version summary it made."""
    import uuid as _uuid

    from workspace import build_runner, builds, tasks, versions

    build = builds.create_and_approve(actor=actor, project_id=project_id, dataset_id=dataset_id,
                                      brief=brief, budget_seconds=budget_seconds)
    start = tasks.begin_attempt(str(build.id), build.job_id)
    build_runner.run_attempt(_uuid.UUID(str(build.id)), start.attempt)
    return next(v for v in versions.list_model_versions(actor=actor, project_id=project_id)
                if v.build_id == build.id)
