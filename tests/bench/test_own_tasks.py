"""bench/own_tasks.json: tables the public tasks do not use, loaded like them and kept apart
from them (the public task list, which the planner's tests run over, does not grow)."""

import json

from bench.tasks import OWN_TASKS_FILE, TASKS_FILE, get_task, load_task, task_names


def test_own_tasks_are_apart_from_the_public_ones_and_load_with_their_target():
    public = json.loads(TASKS_FILE.read_text())["tasks"]
    assert task_names() == [t["name"] for t in public]
    own = task_names("own")
    assert own and not set(own) & set(task_names())
    sources = {t["source"] for t in public}
    for name in own:
        task = get_task(name)
        assert task["source"] not in sources and task["kind"] in ("binary", "multiclass", "regression")
        df, _ = load_task(name)
        assert task["target"] in df.columns and len(df) >= 500
    assert json.loads(OWN_TASKS_FILE.read_text())["about"]
