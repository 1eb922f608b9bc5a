"""Queue benchmark: approval → first recorded trial with a warm worker, and throughput.

    python bench/queue_bench.py [--latency-runs 5] [--builds 50] [--workers 4] [--budget 1]

Uses a throwaway embedded Postgres (or DATABASE_URL's server, in a fresh database) and real
`briefml worker` processes. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from sklearn.datasets import load_iris

from db import engine as db_engine
from db import migrate
from db.models import Build, BuildStatus, Trial

FINAL = {BuildStatus.SUCCEEDED, BuildStatus.FAILED, BuildStatus.CANCELLED}


def _database() -> tuple[str, callable]:
    base = os.environ.get("DATABASE_URL")
    if base:
        from tests.conftest import _server_database_url

        return _server_database_url(base)
    from db.server import start_embedded, stop_embedded

    server, url = start_embedded(Path(tempfile.mkdtemp(prefix="bml-bench-")) / "pg", delete_on_exit=True)
    return db_engine.sqlalchemy_url(url), lambda: stop_embedded(server)


def _iris_csv() -> bytes:
    frame = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    frame["species"] = frame["species"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    return frame.to_csv(index=False).encode()


def _workspace():
    from workspace.accounts import ensure_oidc_user
    from workspace.datasets import upload_dataset
    from workspace.projects import create_project

    actor = ensure_oidc_user(f"bench-{uuid.uuid4().hex[:6]}@example.com", "Bench")
    project = create_project(actor=actor, name="Queue bench")
    dataset = upload_dataset(actor=actor, project_id=project.id, source=_iris_csv(), filename="iris.csv")
    return actor, project.id, dataset.id


def _start_workers(url: str, count: int, log_dir: Path, env: dict) -> list[subprocess.Popen]:
    environment = {**os.environ, "DATABASE_URL": url, **env}
    return [subprocess.Popen(
        [sys.executable, "-m", "briefml", "worker", "--name", f"bench-{i}"], cwd=ROOT,
        env=environment, stdout=open(log_dir / f"worker-{i}.log", "ab"), stderr=subprocess.STDOUT,
        start_new_session=True) for i in range(count)]


def _stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def _wait(build_ids, timeout: float = 900) -> None:
    from db.engine import session_scope

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            statuses = session.execute(sa.select(Build.status).where(Build.id.in_(build_ids))).scalars().all()
        if all(BuildStatus(s) in FINAL for s in statuses):
            return
        time.sleep(0.2)
    raise TimeoutError("builds did not finish in time")


def _plan(actor, project_id, dataset_id, budget: float, seed: int):
    from workspace.builds import create_build

    return create_build(actor=actor, project_id=project_id, dataset_id=dataset_id,
                        brief="predict the species", budget_seconds=budget, seed=seed)


def measure_latency(actor, project_id, dataset_id, runs: int, budget: float) -> list[float]:
    """Seconds from approval to the first trial row, one build at a time, warm worker."""
    from db.engine import session_scope
    from workspace.builds import approve_build

    warm = _plan(actor, project_id, dataset_id, budget, 0)
    approve_build(actor=actor, build_id=warm.id)
    _wait([warm.id])
    latencies = []
    for seed in range(1, runs + 1):
        build = _plan(actor, project_id, dataset_id, budget, seed)
        approve_build(actor=actor, build_id=build.id)
        _wait([build.id])
        with session_scope() as session:
            approved = session.get(Build, build.id).approved_at
            first = session.execute(sa.select(sa.func.min(Trial.created_at))
                                    .where(Trial.build_id == build.id)).scalar_one()
        latencies.append((first - approved).total_seconds())
    return latencies


def measure_throughput(actor, project_id, dataset_id, count: int, budget: float) -> dict:
    from db.engine import session_scope
    from workspace.builds import approve_build

    planned = [_plan(actor, project_id, dataset_id, budget, 100 + i) for i in range(count)]
    start = time.monotonic()
    for build in planned:
        approve_build(actor=actor, build_id=build.id)
    _wait([b.id for b in planned])
    elapsed = time.monotonic() - start
    with session_scope() as session:
        rows = session.execute(sa.select(Build).where(Build.id.in_([b.id for b in planned]))).scalars().all()
    waits = [(b.started_at - b.approved_at).total_seconds() for b in rows if b.started_at]
    runs = [(b.finished_at - b.started_at).total_seconds() for b in rows if b.started_at and b.finished_at]
    return {"elapsed": elapsed, "succeeded": sum(b.status == BuildStatus.SUCCEEDED for b in rows),
            "per_minute": 60 * count / elapsed, "mean_wait": statistics.mean(waits),
            "mean_run": statistics.mean(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-runs", type=int, default=5)
    parser.add_argument("--builds", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per tiny build")
    args = parser.parse_args()

    url, cleanup = _database()
    log_dir = Path(tempfile.mkdtemp(prefix="bml-bench-logs-"))
    try:
        migrate.upgrade(url)
        db_engine.configure(url)
        actor, project_id, dataset_id = _workspace()
        limit = {"BRIEFML_MAX_CONCURRENT_BUILDS_PER_PROJECT": str(args.workers)}
        workers = _start_workers(url, 1, log_dir, limit)
        try:
            latencies = measure_latency(actor, project_id, dataset_id, args.latency_runs, args.budget)
        finally:
            _stop(workers)
        workers = _start_workers(url, args.workers, log_dir, limit)
        try:
            time.sleep(3)  # let the workers register and start their fork servers
            throughput = measure_throughput(actor, project_id, dataset_id, args.builds, args.budget)
        finally:
            _stop(workers)
    finally:
        cleanup()

    print(f"\nQueue benchmark ({os.cpu_count()} CPUs, iris, budget {args.budget:g} s per build)\n")
    print("| measure | value |\n|---|---|")
    print(f"| approval → first trial, warm worker: median of {len(latencies)} | "
          f"{statistics.median(latencies):.2f} s |")
    print(f"| approval → first trial: min / max | {min(latencies):.2f} s / {max(latencies):.2f} s |")
    print(f"| {args.builds} builds on {args.workers} workers: wall time | {throughput['elapsed']:.1f} s |")
    print(f"| throughput | {throughput['per_minute']:.1f} builds/min |")
    print(f"| succeeded | {throughput['succeeded']} / {args.builds} |")
    print(f"| mean wait in queue (approval → start) | {throughput['mean_wait']:.1f} s |")
    print(f"| mean run time (start → version saved) | {throughput['mean_run']:.1f} s |")
    print(f"\nworker logs: {log_dir}")


if __name__ == "__main__":
    main()
