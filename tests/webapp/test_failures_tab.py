"""AppTest of the failures part of the version page's Trust tab, fed with what the engine
measured on a model that leans on one category spelling (see tests/core/test_trust_failures.py)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.core.test_trust_failures import _answers_model
from tests.webapp.conftest import no_exception, texts


def _tab(metrics: dict, task_type: str):
    from types import SimpleNamespace

    from webapp.views.model_failures import failures_tab

    failures_tab(SimpleNamespace(metrics=metrics, task_type=task_type))


def _failures_of_planted_model() -> dict:
    from core.trust.failures import analyse_failures
    from core.trust.stress import stress_test
    from tests.core import model_factories as mf

    model, df = _answers_model(spelling_decides=True)
    rows = df.drop(columns="outcome")
    failures = analyse_failures(schema=model.schema, raw_test=df, y_test=mf.labels(df, model.schema),
                                output=model.predict_proba(rows),
                                explainer=[(1.0, model.members)])
    return {**failures, "stress": stress_test(model, rows), "seconds": 0.4, "share_of_budget": 0.05}


def test_failures_tab_shows_slices_worst_rows_and_the_robustness_table():
    failures = _failures_of_planted_model()
    at = AppTest.from_function(_tab, args=({"failures": failures}, "binary"), default_timeout=30)
    at.run()
    no_exception(at)
    said = texts(at)
    assert "5% of the build's time budget" in said
    assert "Most fragile to 'answer' (case change, fragile)" in said
    assert "normalise case in the data and rebuild" in said  # the suggested fix
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    robustness = next(t for cols, t in tables.items() if "verdict" in cols)
    assert robustness.iloc[0][["check", "column"]].tolist() == ["case change", "answer"]
    assert robustness.iloc[0]["verdict"] == "FRAGILE"
    assert len(robustness) == len(failures["stress"]["checks"])
    worst = next(t for cols, t in tables.items() if "pushed wrong by" in cols)
    assert len(worst) == len(failures["worst_rows"]) > 0 and "[answer]" in worst.columns
    pairs = next(t for cols, t in tables.items() if "predicted as" in cols)
    assert pairs["rows"].sum() == sum(p["rows"] for p in failures["confusion_pairs"])


def test_a_version_without_failure_analysis_says_so():
    at = AppTest.from_function(_tab, args=({}, "binary"), default_timeout=30)
    at.run()
    no_exception(at)
    assert "has no failure analysis" in texts(at)
