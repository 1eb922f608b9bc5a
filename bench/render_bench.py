"""Server-side render time of the web app's Projects, Model version and Predict pages, and of
a single-row prediction (the predict button's run), with 200 projects and 1,000 model
versions in the database.

The time of one `AppTest.run()` of webapp/app.py (sign-in gate, navigation, the page's
workspace calls and widgets) stands in for the server-side render: it is everything the
server does for a page view except sending the result over the websocket.

    .venv/bin/python -m bench.render_bench [--projects 200] [--versions 1000] [--runs 5]

Uses a throwaway embedded Postgres (or a fresh database on the server at DATABASE_URL).
One model version is trained for real (a few seconds); the other 999 are copies of its row
(same metrics, explanation and bundle), spread over the projects with half in the first
project, so the model page's version list is as long as it gets. Prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "webapp" / "app.py"
PASSWORD = "benchmark password"


def start_database() -> tuple[str, callable]:
    import os

    from db import engine as db_engine
    from db import migrate
    from db.server import start_embedded, stop_embedded

    if os.environ.get("DATABASE_URL"):
        from tests.conftest import _server_database_url

        url, drop = _server_database_url(os.environ["DATABASE_URL"])
    else:
        server, libpq = start_embedded(
            Path(tempfile.mkdtemp(prefix="bml-bench-")) / "pg", delete_on_exit=True
        )
        url = db_engine.sqlalchemy_url(libpq)

        def drop() -> None:
            db_engine.get_engine().dispose()
            stop_embedded(server)

    migrate.upgrade(url)
    db_engine.configure(url)
    return url, drop


def copy_versions(project_ids: list, total: int) -> uuid.UUID:
    """Fill the database up to `total` model versions by copying the trained one; returns the
    id of the newest version of the first project."""
    from sqlmodel import select

    from db.engine import session_scope
    from db.models import ModelVersion

    with session_scope() as session:
        original = session.exec(select(ModelVersion)).one()
        fields = original.model_dump(exclude={"id", "project_id", "version", "created_at"})
        per_project = {pid: 0 for pid in project_ids}
        per_project[original.project_id] = 1
        first_share = total // 2  # half in the first project: the longest version list
        placed = 1
        while placed < total:
            pid = project_ids[0] if placed < first_share else project_ids[placed % len(project_ids)]
            per_project[pid] += 1
            session.add(
                ModelVersion(**fields, id=uuid.uuid4(), project_id=pid, version=per_project[pid])
            )
            placed += 1
            if placed % 200 == 0:
                session.flush()
        session.flush()
        newest = session.exec(
            select(ModelVersion.id)
            .where(ModelVersion.project_id == project_ids[0])
            .order_by(ModelVersion.version.desc())
        ).first()
    return newest


def fill(n_projects: int, n_versions: int):
    from tests.webapp.conftest import train_model_version
    from workspace import accounts, projects

    accounts.sign_up(email="bench@example.com", password=PASSWORD)
    _user, token = accounts.sign_in(email="bench@example.com", password=PASSWORD)
    actor = accounts.actor_for_token(token)
    ids = [
        projects.create_project(actor=actor, name=f"Project {i:03d}").id for i in range(n_projects)
    ]
    train_model_version(actor, ids[0])
    newest = copy_versions(ids, n_versions)
    return token, ids[0], newest


def render_seconds(token: str, page: str | None, query: dict, runs: int) -> list[float]:
    """Seconds per re-run of one page. The first run is not counted: it includes AppTest's
    own set-up (scanning installed packages for components), imports and cold caches."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["auth_token"] = token
    for key, value in query.items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - start
        if at.exception:
            raise SystemExit(f"{page or 'projects'} failed: {at.exception[0].value}")
        if i:
            times.append(elapsed)
    return times


def predict_click_seconds(token: str, query: dict, runs: int) -> list[float]:
    """Seconds of the script run a click on the predict form's button makes (predict and
    explain one row, draw the result): the single-row prediction's server-side time. The
    first click is not counted (it loads the bundle into the process cache)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["auth_token"] = token
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page("views/predict.py")
    at.run()
    times = []
    for i in range(runs + 1):
        [button] = [b for b in at.button if b.label == "Predict"]
        start = time.perf_counter()
        button.click().run()
        elapsed = time.perf_counter() - start
        if at.exception or not any("Prediction for" in m.value for m in at.success):
            raise SystemExit(f"the predict button failed: {at.exception or 'no prediction'}")
        if i:
            times.append(elapsed)
    return times


def workspace_seconds(token: str, project_id, version_id) -> dict[str, float]:
    """The workspace calls behind the pages, timed alone (median of 5). The single-row
    prediction (what the predict form's button does: predict and explain one row) is timed
    after one call that loads the bundle into the process cache; that first call is shown
    too."""
    import pandas as pd

    from webapp.sample import SAMPLE_CSV
    from workspace import accounts, projects, versions

    actor = accounts.actor_for_token(token)
    row = pd.read_csv(SAMPLE_CSV).drop(columns=["species"]).head(1).astype(object)

    def predict_one():
        return versions.predict_rows(actor=actor, version_id=version_id, df=row, explain=True)

    start = time.perf_counter()
    predict_one()
    out = {"predict one row + explanation, first call (loads the bundle)":
           time.perf_counter() - start}
    calls = {
        "predict one row + explanation (bundle cached)": predict_one,
        "list_projects": lambda: projects.list_projects(actor=actor),
        "list_model_versions (first project)": lambda: versions.list_model_versions(
            actor=actor, project_id=project_id
        ),
    }
    for name, call in calls.items():
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
        out[name] = statistics.median(samples)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    _url, drop = start_database()
    try:
        started = time.perf_counter()
        token, first_project, newest = fill(args.projects, args.versions)
        print(
            f"Filled {args.projects} projects and {args.versions} model versions in "
            f"{time.perf_counter() - started:.1f} s.\n"
        )
        cases = [
            ("Projects (list of all projects, one open)", None, {"project": str(first_project)}),
            (
                f"Model version (project with {args.versions // 2} versions)",
                "views/model.py",
                {"project": str(first_project), "version": str(newest)},
            ),
            (
                "Predict (same project)",
                "views/predict.py",
                {"project": str(first_project), "version": str(newest)},
            ),
        ]
        print("| page | median s | min s | max s | runs |\n|---|---:|---:|---:|---:|")
        for label, page, query in cases:
            times = render_seconds(token, page, query, args.runs)
            print(
                f"| {label} | {statistics.median(times):.3f} | {min(times):.3f} | "
                f"{max(times):.3f} | {len(times)} |"
            )
        clicks = predict_click_seconds(
            token, {"project": str(first_project), "version": str(newest)}, args.runs)
        print(
            f"| Predict one row (the button's run: predict, explain, draw) | "
            f"{statistics.median(clicks):.3f} | {min(clicks):.3f} | {max(clicks):.3f} | "
            f"{len(clicks)} |"
        )
        print("\nWorkspace calls alone (median of 5):")
        for name, seconds in workspace_seconds(token, first_project, newest).items():
            print(f"  {name}: {seconds:.3f} s")
    finally:
        drop()


if __name__ == "__main__":
    main()
