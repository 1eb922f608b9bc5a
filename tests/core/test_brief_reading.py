"""The parts of the offline planner's target resolution: the brief parser, column-name
expansion and the confidence. Each test states a rule, not an item of the brief corpus."""

from __future__ import annotations

import pytest

from core.planning.brief import AnswerType, Brief, split_outcome_and_inputs, stem
from core.planning.column_names import expand_word, initials, name_words, same_root, word_match
from core.spec import TaskProposal


@pytest.mark.parametrize(
    ("brief", "outcome", "inputs"),
    [
        (
            "Estimate a worker's wage from schooling, experience, city and region",
            "Estimate a worker's wage ",
            " schooling, experience, city and region",
        ),
        ("Predict churn given their tenure and plan", "Predict churn ", " their tenure and plan"),
        (
            "Using education, experience and age, what does a worker earn?",
            " what does a worker earn",
            " education, experience and age",
        ),
        ("Predict the price based on size", "Predict the price ", " size"),
        # a place after 'from', not inputs: the outcome's verb comes after it
        (
            "How late will a flight from New York arrive?",
            "How late will a flight from New York arrive",
            "",
        ),
    ],
)
def test_outcome_and_input_phrases(brief, outcome, inputs):
    assert split_outcome_and_inputs(brief) == (outcome, inputs)


def test_input_words_do_not_weigh_as_outcome_words():
    brief = Brief.read("Estimate a worker's wage from schooling, experience, city and region")
    assert stem("wage") in brief.weights and stem("experience") not in brief.weights
    assert {stem(w) for w in ("schooling", "experience", "city", "region")} <= brief.input_stems
    assert brief.weights[stem("worker")] < 0.5  # who it is about, not what


@pytest.mark.parametrize(
    ("brief", "kind"),
    [
        ("How much will the house sell for?", AnswerType.NUMBER),
        ("how many bikes will be rented", AnswerType.NUMBER),
        ("How long will the patient stay?", AnswerType.NUMBER),
        ("Will the customer cancel?", AnswerType.TWO_VALUED),
        ("Predict whether the loan defaults", AnswerType.TWO_VALUED),
        ("Does this email look like spam?", AnswerType.TWO_VALUED),
        ("Which customers will churn", AnswerType.TWO_VALUED),
        ("What type of wine is it?", AnswerType.CLASSES),
        ("Which kind of weather tomorrow", AnswerType.CLASSES),
        ("Is it front-wheel, rear-wheel or 4wd?", AnswerType.CLASSES),
        ("Flag babies with low birth weight", AnswerType.TWO_VALUED),
        ("Predict the average math score", AnswerType.NUMBER),  # a quantity noun
        ("Who is working, given the number of kids?", AnswerType.TWO_VALUED),  # not the inputs
        ("do some machine learning please", AnswerType.UNKNOWN),
    ],
)
def test_answer_type_of_the_question(brief, kind):
    assert Brief.read(brief).answer is kind


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Sale_Price", ["sale", "price"]),
        ("MonthlyIncome", ["monthly", "income"]),
        ("Sepal.Length", ["sepal", "length"]),
        ("crl.tot", ["crl", "tot"]),
        ("arr_delay2", ["arr", "delay2"]),
    ],
)
def test_name_words_split_snake_camel_and_dotted_names(name, words):
    assert name_words(name) == words


def test_glued_compounds_are_cut_at_known_words():
    assert expand_word("marketvalue", Brief.read("Estimate the market value")) == [
        "market",
        "value",
    ]
    # only 'value' is known (from the outcome vocabulary): the rest stays one piece
    assert expand_word("marketvalue", Brief.read("What is it worth?")) == ["market", "value"]
    assert expand_word("aircon", Brief.read("Does it have air conditioning?")) == ["air", "con"]
    assert expand_word("smoker", Brief.read("Who smokes?")) == ["smoker"]


@pytest.mark.parametrize(
    ("word", "brief"),
    [
        ("hwy", "fuel use on the highway"),  # letters in order
        ("temp", "the temperature tomorrow"),  # a prefix
        ("gpa", "first year grade point average"),  # initials
        ("los", "the length of stay in hospital"),  # initials with 'of'
        ("medv", "the median value of homes"),  # starts of words
        ("bwt", "the baby's birth weight"),  # a start, then a word's consonants
    ],
)
def test_abbreviations_match_the_words_they_shorten(word, brief):
    score, why = word_match(word, Brief.read(brief))
    assert score >= 0.8, why


@pytest.mark.parametrize(
    ("word", "brief"),
    [
        ("fl", "predict fuel efficiency"),  # two letters abbreviate too much to tell
        ("male", "do some machine learning"),  # 'ma' + 'le' is not an abbreviation
        ("age", "the average grade"),  # vowels in it: not letters-in-order
        ("month", "How much ozone will there be?"),  # not the starts of 'much ozone will there'
    ],
)
def test_loose_abbreviations_do_not_match(word, brief):
    assert word_match(word, Brief.read(brief))[0] == 0.0


def test_how_adjective_means_its_noun():
    brief = Brief.read("How long will the teeth grow?")
    assert stem("length") in brief.weights
    score, why = word_match("len", brief)  # 'len' is short for the length 'how long' asks for
    assert score > 0.45 and "length" in why


def test_roots_and_initials_of_long_names():
    assert same_root("deny", "denial") and same_root("prestige", "prestigious")
    assert not same_root("card", "income")
    assert initials("Miles_per_Gallon") == "mpg" and initials("price") == ""


def test_saved_proposals_without_confidence_still_load():
    proposal = TaskProposal.model_validate({"spec": None, "message": "x"})
    assert proposal.confidence == 1.0 and proposal.runner_up is None
    with pytest.raises(ValueError):
        TaskProposal(confidence=1.5)
