"""Time of the workspace calls behind the list pages, with 200 projects and 1,000 model versions.

    .venv/bin/python -m bench.workspace_lists_bench [--projects 200] [--versions 1000] [--runs 20]

One user is a member of every project; the versions are spread over the projects with half
in the first one (the longest version list a page shows). Rows are inserted directly (one
shared bundle artifact): this measures the queries, not training. Uses a throwaway embedded
Postgres (or a fresh database on the server at DATABASE_URL). Prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import time


def populate(n_projects: int, n_versions: int):
    from db.artifacts import put_artifact
    from db.engine import session_scope
    from db.models import Dataset, Membership, ModelVersion, Project, Role
    from workspace.accounts import ensure_oidc_user

    actor = ensure_oidc_user("bench@example.com", "Bench")
    with session_scope() as session:
        sha = put_artifact(session, b"stand-in bundle")
        projects = [Project(name=f"project {i:03d}", created_by=actor.user_id) for i in range(n_projects)]
        session.add_all(projects)
        session.flush()
        session.add_all(Membership(project_id=p.id, user_id=actor.user_id, role=Role.OWNER) for p in projects)
        datasets = [Dataset(project_id=p.id, name="table", filename="t.csv", content_sha256=sha,
                            rows=1000, columns=10) for p in projects]
        session.add_all(datasets)
        session.flush()
        counters = {p.id: 0 for p in projects}
        metrics = {"holdout": {"roc_auc": 0.8}, "baseline": {"roc_auc": 0.5}}
        for i in range(n_versions):
            k = 0 if i < n_versions // 2 else i % n_projects
            counters[projects[k].id] += 1
            session.add(ModelVersion(project_id=projects[k].id, dataset_id=datasets[k].id,
                                     version=counters[projects[k].id], target="y", task_type="binary",
                                     metric="roc_auc", metrics=metrics, bundle_sha256=sha,
                                     created_by=actor.user_id))
    return actor, projects[0].id


def timed(call, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from bench.render_bench import start_database
    from workspace import datasets, projects, versions

    _, drop = start_database()
    try:
        actor, first = populate(args.projects, args.versions)
        rows = [
            ("list_projects", len(projects.list_projects(actor=actor)),
             *timed(lambda: projects.list_projects(actor=actor), args.runs)),
            ("list_model_versions (largest project)", len(versions.list_model_versions(actor=actor, project_id=first)),
             *timed(lambda: versions.list_model_versions(actor=actor, project_id=first), args.runs)),
            ("list_datasets", len(datasets.list_datasets(actor=actor, project_id=first)),
             *timed(lambda: datasets.list_datasets(actor=actor, project_id=first), args.runs)),
            ("get_project", 1, *timed(lambda: projects.get_project(actor=actor, project_id=first), args.runs)),
        ]
    finally:
        drop()
    print(f"{args.projects} projects, {args.versions} model versions, {args.runs} runs each\n")
    print(f"{'call':42} {'rows':>6} {'median ms':>10} {'max ms':>8}")
    for name, count, median, worst in rows:
        print(f"{name:42} {count:>6} {median:>10.1f} {worst:>8.1f}")


if __name__ == "__main__":
    main()
