from pathlib import Path

import pytest
from pydantic import ValidationError

from workspace.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("DATABASE_URL", "BRIEFML_DATABASE_URL", "BRIEFML_HOME", "BRIEFML_LLM"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("given", ["postgres://u:p@h:5432/d", "postgresql://u:p@h:5432/d",
                                   "postgresql+psycopg2://u:p@h:5432/d"])
def test_database_urls_use_psycopg3(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    assert Settings().database_url == "postgresql+psycopg://u:p@h:5432/d"


def test_defaults_mean_embedded_postgres_and_offline_planner():
    settings = Settings()
    assert settings.database_url is None
    assert settings.llm is None
    assert settings.embedded_data_dir == Path("~/.briefml").expanduser() / "pgdata"


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("BRIEFML_HOME", str(tmp_path))
    monkeypatch.setenv("BRIEFML_LLM", "  ")  # blank counts as unset
    monkeypatch.setenv("BRIEFML_MAX_UPLOAD_MB", "5")
    settings = Settings()
    assert settings.home_dir == tmp_path
    assert settings.llm is None
    assert settings.max_upload_bytes == 5 * 1024 * 1024


def test_invalid_values_are_rejected_with_the_field_name(monkeypatch):
    monkeypatch.setenv("BRIEFML_MAX_UPLOAD_MB", "0")
    with pytest.raises(ValidationError, match="max_upload_mb"):
        Settings()


def test_a_default_budget_outside_the_bounds_is_refused_in_words(monkeypatch):
    monkeypatch.setenv("BRIEFML_MIN_BUDGET_SECONDS", "30")
    monkeypatch.setenv("BRIEFML_DEFAULT_BUDGET_SECONDS", "10")
    with pytest.raises(ValidationError, match="BRIEFML_DEFAULT_BUDGET_SECONDS .10. must lie between"):
        Settings()


def test_threads_are_unset_by_default_and_can_be_set(monkeypatch):
    assert Settings().threads is None
    monkeypatch.setenv("BRIEFML_THREADS", "3")
    assert Settings().threads == 3
