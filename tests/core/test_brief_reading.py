"""The parts of the offline planner's target resolution: the brief parser, column-name
expansion and the confidence. Each test states a rule, not an item of the brief corpus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.checks import run_checks
from core.planning.brief import WORD, AnswerType, Brief, split_outcome_and_inputs, stem
from core.planning.column_names import (
    expand_word,
    initials,
    is_sibling_of,
    is_typo_of,
    name_words,
    same_root,
    word_cue,
    word_match,
)
from core.planning.target_scoring import ASK_BELOW, evidence_of, score_columns
from core.planning.task_rules import propose_task
from core.profile import profile_frame
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
        # a verb after the list is one of the inputs ('whether the law was in force')
        (
            "Predict drivers killed from distance driven, petrol price and whether the law was in force",
            "Predict drivers killed ",
            " distance driven, petrol price and whether the law was in force",
        ),
        # a sentence that only lists the inputs
        (
            "Will the patient die in hospital? Use age, gender and procedure.",
            "Will the patient die in hospital",
            "age, gender and procedure",
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
        ("vote", "predict the view of the economy"),  # 'the' gives no initial
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


# --------------------------------------------------------------------------- whole briefs
# Small made-up tables: each test states one structural rule of the resolver.


def _frame(**columns) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 80
    out = {}
    for name, kind in columns.items():
        if kind == "num":
            out[name] = rng.normal(50, 10, n).round(2)
        elif kind == "count":
            out[name] = rng.integers(0, 40, n)
        elif kind == "yesno":
            out[name] = rng.choice(["yes", "no"], n)
        else:  # a list of category values
            out[name] = rng.choice(kind, n)
    return pd.DataFrame(out)


def _resolve(brief: str, frame: pd.DataFrame) -> TaskProposal:
    profile = profile_frame(frame)
    return propose_task(brief, profile, run_checks(frame, profile))


def _target(brief: str, frame: pd.DataFrame) -> str | None:
    proposal = _resolve(brief, frame)
    return proposal.spec.target if proposal.spec is not None else None


def test_an_outcome_kind_finds_a_column_of_that_kind():
    frame = _frame(Hits="count", Years="count", Salary="num", League=["A", "N"])
    assert _target("What is a player worth on the market?", frame) == "Salary"


def test_a_negated_verb_points_at_the_opposite_outcome():
    frame = _frame(default="yesno", student="yesno", income="num", balance="num")
    assert _target("Who won't pay their credit card bill?", frame) == "default"


def test_a_phrasal_verb_means_its_one_word_outcome():
    frame = _frame(released="yesno", employed="yesno", citizen="yesno", age="count")
    assert _target("Will police let the arrested person go?", frame) == "released"


def test_a_known_acronym_matches_the_words_it_stands_for():
    frame = _frame(los="count", age="count", died="yesno", hmo="yesno")
    assert _target("How long will each patient stay in hospital?", frame) == "los"


def test_values_coded_by_initials_of_the_offered_answers():
    frame = _frame(drv=["f", "r", "4"], cyl="count", hwy="num", cty="num")
    assert _target("Is it front-wheel, rear-wheel or 4wd?", frame) == "drv"


def test_values_said_in_passing_point_at_their_column():
    frame = _frame(location=["Toronto", "Montreal", "other"], judge=["A", "B", "C"], success="num")
    assert _target("Which city was the claim filed in: Toronto, Montreal or elsewhere?", frame) == (
        "location"
    )


def test_the_final_verb_of_a_question_is_asked_not_its_subject():
    frame = _frame(subs="count", price="num", pages="count")
    assert _target("What does a library subscription to a journal cost?", frame) == "price"


def test_a_unit_of_something_asks_for_the_thing():
    frame = _frame(year="count", education="count", sex=["Male", "Female"])
    assert _target("How many years of schooling has the respondent had?", frame) == "education"


def test_a_glued_qualifier_letter_makes_siblings_that_the_planner_asks_about():
    frame = _frame(wagew="num", wageh="num", income="num", kids="count")
    proposal = _resolve("predict the wage", frame)
    assert proposal.spec is None and proposal.ambiguous
    assert {"wagew", "wageh"} <= {c.column for c in proposal.candidates}


def test_two_requests_in_one_brief_are_asked_about():
    frame = _frame(weight="num", lowbirthweight="yesno", weeks="count")
    proposal = _resolve("predict birth weight and tell us whether it's low", frame)
    assert proposal.spec is None and proposal.ambiguous
    assert [c.column for c in proposal.candidates] == ["weight", "lowbirthweight"]


def test_weak_words_behind_a_yes_no_column_beat_the_bare_prior():
    frame = _frame(survived="yesno", sex=["male", "female"], age="count")
    assert _target("Which passengers died in the sinking?", frame) == "survived"


def test_a_possessive_does_not_name_the_owner_as_the_target():
    frame = _frame(judge=["A", "B", "C"], decision="yesno", nation=["X", "Y", "Z"])
    assert _target("Predict the judge's decision from nation", frame) == "decision"


@pytest.mark.parametrize(
    ("word", "brief"),
    [
        ("repwt", "what weight will people report"),  # glued: rep(ort) + w(eigh)t
        ("tobgp", "each tobacco group"),
        ("hwt", "how heavy is the heart"),  # a first letter and a known abbreviation
        ("premie", "born premature"),  # a long shared start
        ("citations", "how often is it cited"),  # a stem and its derivation
        ("cty", "miles per gallon in town"),  # the abbreviation of a synonym
    ],
)
def test_more_ways_a_column_name_shortens_a_brief_word(word, brief):
    assert word_match(word, Brief.read(brief))[0] > 0


@pytest.mark.parametrize(
    "brief", ["", "   ", "do something useful", "make it work", "???", "predict the weather on Mars"]
)
def test_empty_vague_and_unrelated_briefs_ask_instead_of_guessing(brief):
    frame = _frame(Income="num", Limit="num", Married="yesno", Balance="num")
    proposal = _resolve(brief, frame)
    assert proposal.spec is None and proposal.message


def test_a_possessive_names_whose_view_not_the_column_to_predict():
    frame = _frame(vote=["Labour", "Conservative"], economy_national="count", economy_home="count")
    assert _resolve("Predict the voter's view of the economy", frame).spec is None


def test_how_many_months_until_asks_how_long():
    frame = _frame(durat="count", priors="count", drugs="yesno", married="yesno")
    assert _target("How many months until a released prisoner is arrested again?", frame) == "durat"


def test_a_time_unit_says_in_what_the_answer_comes_not_what_it_is():
    frame = _frame(tenure="count", monthly_charges="num", contract=["monthly", "yearly"])
    assert _target("how long has a customer been with us, in months", frame) != "monthly_charges"


# --------------------------------------------------------------------------- confidence


def _best(brief: str, frame: pd.DataFrame):
    return score_columns(Brief.read(brief), profile_frame(frame))[0]


@pytest.mark.parametrize(
    ("brief", "columns", "evidence"),
    [
        ("Predict balance.", {"balance": "num", "income": "num"}, "named"),
        ("Will the market go up or down?", {"direction": ["Up", "Down"], "lag": "num"}, "all values"),
        ("How much does the house sell for?", {"price": "num", "rooms": "count"}, "words, whole name"),
        ("Estimate the sale price", {"sale_price_usd": "num", "rooms": "count"}, "words, part of name"),
        ("predict disease progression", {"target": "num", "bmi": "num"}, "prior"),
        ("How much will a donor give this time?", {"weekslast": "num", "mails": "count"},
         "likeness, part of name"),
    ],
)
def test_each_match_says_what_kind_of_evidence_it_rests_on(brief, columns, evidence):
    assert evidence_of(_best(brief, _frame(**columns))) == evidence


def test_a_lone_loose_likeness_asks_while_the_same_column_named_is_certain():
    """'weekslast' matches "how much will a donor give this time" only by the kind of
    quantity 'time' is, on part of its name: too little to act on."""
    frame = _frame(weekslast="num", mailsyear="num", respond="yesno")
    loose = _resolve("How much will a donor give this time?", frame)
    assert loose.spec is None and loose.confidence < ASK_BELOW
    assert "only loosely" in loose.message and "'weekslast'" in loose.message
    offered = [c.column for c in loose.candidates]
    assert offered[0] == "weekslast" and len(offered) > 1  # the picker offers more than one
    named = _resolve("Predict weekslast.", frame)
    assert named.spec.target == "weekslast" and named.confidence == 1.0


def test_a_prior_is_a_guess_never_a_certainty():
    frame = _frame(target="num", bmi="num", age="count")
    proposal = _resolve("predict disease progression", frame)
    assert proposal.spec.target == "target" and ASK_BELOW <= proposal.confidence <= 0.7


# --------------------------------------------------------------------------- inputs named by others


def test_an_input_word_of_a_fuller_column_name_does_not_list_this_column():
    """'percent' in "urban percent" names 'urbanpercent'; 'blackpercent' is still asked."""
    frame = _frame(blackpercent="num", urbanpercent="num", medianincome="num", south="yesno")
    brief = "predict the black share of each district from median income and urban percent"
    assert _target(brief, frame) == "blackpercent"
    # said among the inputs and by no fuller name, the word lists the column as an input
    profile = profile_frame(frame)
    for brief, listed in [
        ("predict the black share from median income and urban percent", False),
        ("predict the black share from median income and percent", True),
    ]:
        matches = score_columns(Brief.read(brief), profile)
        (match,) = [m for m in matches if m.column.name == "blackpercent"]
        assert ("but the brief lists it among the inputs" in match.reasons) is listed


def test_an_input_word_that_qualifies_another_does_not_list_the_outcome_column():
    frame = _frame(headache="yesno", hatype=["Aura", "No Aura"], airq="num", sex=["f", "m"])
    brief = "Will the patient get a headache, given air quality, medication and headache type?"
    assert _target(brief, frame) == "headache"
    assert stem("headache") in Brief.read(brief).input_modifiers


def test_columns_joined_by_and_among_the_inputs_are_not_rivals_of_the_target():
    """"given medication and headache type" lists two inputs; it does not contradict the
    outcome the way "predict medication or headache" would."""
    frame = _frame(headache="yesno", medication=["none", "reduced", "continuing"], age="count")
    brief = "Will she get a headache, given age, medication and headache history?"
    assert _target(brief, frame) == "headache"
    assert _target("Predict medication or headache", frame) is None


def test_a_place_or_subject_after_get_in_is_context_not_the_outcome():
    frame = _frame(Course=["109", "117", "210"], Grade=["A", "B", "C", "D"], ACTM="count")
    brief = "What letter grade will a student get in their first math course?"
    assert _target(brief, frame) == "Grade"


@pytest.mark.parametrize(
    "brief",
    ["Which animal was it?", "Which A-level chemistry grade will a student get?"],
)
def test_which_noun_phrase_before_its_verb_asks_for_a_class(brief):
    assert Brief.read(brief).answer is AnswerType.CLASSES


def test_a_request_that_points_back_with_it_lists_only_inputs_after_from():
    outcome, inputs = split_outcome_and_inputs(
        "Was the letter sent back? Figure it out from where it was dropped and which address"
    )
    assert "address" in inputs and "address" not in outcome


def test_a_bare_yes_no_prior_does_not_outrank_a_column_the_words_name():
    """"which kids will end up in ... secondary education" asks yes or no of each kid, but
    'education' names 'school' (weakly): ask between them rather than take the only yes/no
    column."""
    frame = _frame(school=["Haupt", "Real", "Gymnasium"], gender=["female", "male"], income="num")
    proposal = _resolve("which kids will end up in the lowest track of secondary education", frame)
    assert proposal.spec is None
    assert "school" in [c.column for c in proposal.candidates]


def test_how_many_times_counts_events_and_is_no_duration():
    frame = _frame(tottime="count", narrests="count", age="count", black="yesno")
    brief = Brief.read("How many times was the young man arrested?")
    assert stem("times") not in brief.weights and brief.answer is AnswerType.NUMBER
    assert _target("How many times was the young man arrested?", frame) != "tottime"


def test_one_loosely_matched_word_of_an_acronym_is_a_part_not_the_acronym():
    """'gpa' is 'grade point average': "exam score" is near 'grade' only; "grade point
    average" said in full is the acronym."""
    frame = _frame(GPA="num", LSAT="count", studfac="num", salary="num")
    brief = Brief.read("Predict the median entrance exam score")
    loose = score_columns(brief, profile_frame(frame))
    (gpa,) = [m for m in loose if m.column.name == "GPA"]
    assert evidence_of(gpa).startswith("likeness")  # not the words of the name
    assert _target("Predict the median grade point average of the students", frame) == "GPA"


def test_a_qualifier_that_starts_an_input_word_names_that_input():
    """'unrate' is 'rate' qualified by 'un': with "unemployment" among the inputs it is the
    unemployment rate, not the death rate the brief asks for."""
    frame = _frame(unrate="num", mrall="num", beertax="num", state=["a", "b", "c"])
    brief = "Predict the traffic death rate in each state from the beer tax and unemployment"
    assert _target(brief, frame) != "unrate"
    assert _target("Predict the rate in each state from the beer tax", frame) == "unrate"


def test_a_bill_is_an_amount():
    assert Brief.read("Predict the customer's bill").answer is AnswerType.NUMBER


def test_the_sibling_whose_qualifier_the_brief_says_wins():
    """'hhours' is the husband's hours, 'hours' the wife's: the brief says whose; with no
    qualifier said, the siblings are still asked about."""
    frame = _frame(hours="count", hhours="count", wage="num", kids="count")
    assert _target("How many hours does the husband work in a year?", frame) == "hhours"
    frame = _frame(mcollege="yesno", fcollege="yesno", score="num")
    assert _target("Does the student's mother have a college degree?", frame) == "mcollege"
    proposal = _resolve("predict the wage", _frame(wagew="num", wageh="num", kids="count"))
    assert proposal.spec is None
    frame = _frame(wage="num", lwage="num", educ="count")
    assert _target("Predict the log wage", frame) == "lwage"
    # a word that happens to start with the letter says nothing of whose wage it is
    assert _target("what is the hourly wage of a long-serving employee", frame) != "lwage"


def test_siblings_are_one_word_qualified_two_ways_or_bare():
    assert is_sibling_of("hhours", "hours") and is_sibling_of("hoursw", "hourspw")
    assert is_sibling_of("mcollege", "fcollege")
    assert not is_sibling_of("hours", "wage") and not is_sibling_of("income", "outcome")


def test_the_final_verb_of_a_how_many_question_says_which_of_the_noun_is_counted():
    """"How much weight does the mother put on": 'gained', not her 'weight'; "how many
    trials did the child get right": 'Correct', not 'Trials'. The noun alone still counts."""
    frame = _frame(weight="num", gained="num", weeks="count")
    assert _target("How much weight does the mother put on during pregnancy?", frame) == "gained"
    frame = _frame(Trials="count", Correct="count", Age="count")
    assert _target("How many trials did the child get right?", frame) == "Correct"
    frame = _frame(articles="count", mentor="count", kids="count")
    assert _target("How many articles will a student publish in the last three years?", frame) == (
        "articles"
    )


def test_the_subject_of_a_will_it_be_question_is_who_not_what():
    frame = _frame(car_truck=["car", "truck"], guzzler=["N", "Y"], mpg="num")
    assert _target("Will the car be hit with the gas guzzler tax?", frame) == "guzzler"


def test_a_hyphened_compound_keeps_its_noun_phrase_whole():
    """In "the average one-way price airlines charge" 'price' is in the phrase asked about,
    not context after a break at 'one'."""
    brief = Brief.read("Predict the average one-way price airlines charge between two cities")
    assert brief.weights[stem("price")] >= 0.8


def test_how_many_people_counts_the_people():
    """Who a brief is about weighs little ("which passengers died"), but "how many
    passengers fly" counts them: the column of passengers is asked."""
    frame = _frame(passen="count", fare="num", dist="num")
    assert _target("How many passengers fly the route per day?", frame) == "passen"
    assert Brief.read("Which passengers died?").weights[stem("passengers")] < 0.5


def test_values_with_an_order_number_are_said_by_their_words():
    """'1_Death' ... '6_Considerable_improvement': the number orders the levels; "from
    death through no change to considerable improvement" says the values."""
    levels = ["1_Death", "2_Much_worse", "4_No_change", "6_Considerable_improvement"]
    frame = _frame(outcome6m=levels, outcome_num="count", dose="num")
    brief = "Predict the outcome, from death through no change to considerable improvement"
    assert _target(brief, frame) == "outcome6m"


def test_a_how_many_question_is_never_answered_by_a_yes_no_column():
    """'smoker' shares a root with "smoke" and is close in meaning to "cigarettes", but a
    count is asked: the planner asks rather than predict yes or no (and when a column says
    cigarettes, it is that one)."""
    frame = _frame(q1="count", smoker="yesno", income="num")
    proposal = _resolve("How many cigarettes does a person smoke per day?", frame)
    assert proposal.spec is None and "q1" in [c.column for c in proposal.candidates]
    frame = _frame(cigs="count", smoker="yesno", income="num")
    assert _target("How many cigarettes does a person smoke per day?", frame) == "cigs"


def test_how_satisfied_with_their_job_is_about_the_job_not_an_input():
    """"with their" lists inputs ("predict churn with their tenure and plan"), but after
    'how satisfied' it says what the feeling is about."""
    outcome, inputs = split_outcome_and_inputs("How satisfied are employees with their job?")
    assert "job" in outcome and not inputs
    outcome, inputs = split_outcome_and_inputs("How likely is churn, with their tenure and plan?")
    assert "tenure" in inputs


def test_a_thing_that_comes_back_is_returned():
    frame = _frame(Returned="yesno", Peaceworks="yesno", Location=["town", "campus", "city"])
    assert _target("Was the letter sent back?", frame) == "Returned"
    assert _target("predict whether a letter comes back to us in the mail", frame) == "Returned"


def test_an_opposite_outcome_names_a_yes_no_column_not_a_number():
    """"who died" asks for 'survived' (its opposite outcome); "how many mothers die" does
    not ask for a life expectancy."""
    frame = _frame(survived="yesno", sex=["male", "female"], age="count")
    assert _target("Which passengers died in the sinking?", frame) == "survived"
    frame = _frame(life_exp_at_birth="num", death_rate="num", area="num")
    brief = Brief.read("how many mothers die giving birth in a country")
    matches = score_columns(brief, profile_frame(frame))
    (life,) = [m for m in matches if m.column.name == "life_exp_at_birth"]
    assert not any("'die'" in reason for reason in life.reasons)


def test_the_initials_of_a_long_name_must_be_said_not_only_look_like_a_word():
    frame = _frame(net_migration_rate="num", birth_rate="num", area="num")
    matches = score_columns(Brief.read("Estimate the number of births"), profile_frame(frame))
    assert "net_migration_rate" not in [m.column.name for m in matches]
    frame = _frame(Miles_per_Gallon="num", Weight="num", Horsepower="num")
    assert _target("Predict the mpg", frame) == "Miles_per_Gallon"


def test_what_a_feeling_is_about_is_context_and_a_colon_ends_the_inputs():
    frame = _frame(happy="count", salary="num", years="count", rank=["Asst", "Assoc", "Prof"])
    assert _target("How happy is the professor with their salary?", frame) == "happy"
    assert _target("Work it out from rank and years: what is the salary?", frame) == "salary"


def test_which_noun_was_it_asks_for_that_column_when_the_table_has_it():
    frame = _frame(crop=["wheat", "corn", "soy"], irrigated="yesno", rainfall="num")
    assert _target("Which crop was planted?", frame) != "irrigated"


def test_what_one_pays_for_is_a_price_not_a_wage():
    frame = _frame(price="num", income="num", catch="num")
    assert _target("what did the angler pay for the trip they took", frame) == "price"
    assert _target("How much is a worker paid per hour?", frame) == "income"


def test_words_naming_the_table_itself_are_not_the_outcome():
    brief = Brief.read("what is the price in this housing table")
    assert brief.weights["hous"] < brief.weights["pric"] / 2
    frame = _frame(housing_units="count", region=["N", "S"], money_con="num")
    # a word that only says which table it is ('congress' ~ 'con') proposes no target
    assert _target("just give me something interesting out of this congress table lol", frame) is None


def test_a_year_said_picks_the_sibling_whose_name_carries_it():
    frame = _frame(lw="num", lw80="num", school="count")
    assert _target("What will a young man's log wage be in 1980?", frame) == "lw80"
    # no year said: the two are the same words, so the planner asks which
    assert _target("model their log wage", frame) is None


def test_a_column_word_with_a_number_after_a_preposition_is_a_condition():
    frame = _frame(weight="num", Time="count", Diet=[1, 2, 3, 4], Chick="count")
    assert _target("how heavy will a chick be by day 21 on diet 3", frame) == "weight"


def test_inputs_listed_first_run_up_to_the_request_even_without_a_comma():
    outcome, inputs = split_outcome_and_inputs(
        "from humidity, temperature and tree cover figure out whether a region has the disease")
    assert outcome.strip() == "figure out whether a region has the disease"
    assert "tree cover" in inputs


@pytest.mark.parametrize(("said", "word", "slip"), [
    ("limt", "limit", True), ("weigth", "weight", True), ("salery", "salary", True),
    ("hosptial", "hospital", True),
    ("rate", "rater", False),  # an English word is no slip
    ("prize", "price", False),
    ("kimit", "limit", False),  # another first letter
])
def test_a_brief_word_one_keyboard_slip_from_a_column_word(said, word, slip):
    assert is_typo_of(said, word) is slip


def test_a_misspelt_column_word_still_names_the_column():
    frame = _frame(limit="yesno", day="count", y="count")
    assert _target("was the speed limt on that day, yes or no", frame) == "limit"


@pytest.mark.parametrize("brief", [
    "classify each region as 1 = dengue present or 0 = absent",
    "which operation did the patient get, CABG (1) or PTCA (0)?",
])
def test_two_answers_coded_one_and_zero_ask_yes_or_no(brief):
    assert Brief.read(brief).answer is AnswerType.TWO_VALUED


def test_who_ends_up_names_people_not_a_column_by_their_initials():
    frame = _frame(tp="count", dc=[0, 1], age="num")
    brief = "which transplant patients end up with chronic graft-versus-host disease?"
    assert Brief.read(brief).weights["transplant"] < 0.5
    assert _target(brief, frame) != "tp"


@pytest.mark.parametrize(("brief", "inputs"), [
    ("Flag who gets aggressive. We have their trait anger, gender and the situation.",
     "their trait anger, gender and the situation"),
    ("estimate health from demographics, so outreach can go to the people in poor health",
     " demographics"),
    ("predict churn from age and plan so we can call them", " age and plan"),
    ("For each R package we know authors, imports and tests. Estimate the runtime",
     " authors, imports and tests"),
    ("For our panel we have to forecast headcount for each company", ""),
])
def test_sentences_that_list_what_we_have_are_inputs_and_a_purpose_is_not(brief, inputs):
    assert split_outcome_and_inputs(brief)[1] == inputs


def test_a_column_abbreviating_an_input_word_is_listed_as_an_input():
    frame = _frame(situ=["self", "other"], resp=["no", "perhaps", "yes"], Anger="count")
    brief = ("A simple flag for whether someone would get aggressive in a frustrating situation "
             "(we count 'perhaps' as a yes). We have their anger and what kind of situation it is.")
    scored = {m.column.name: m for m in score_columns(Brief.read(brief), profile_frame(frame))}
    assert "but the brief lists it among the inputs" in scored["situ"].reasons
    assert _target(brief, frame) != "situ"


def test_a_qualifier_said_as_initials_picks_its_sibling():
    frame = _frame(futime="count", crtime="count", txtime="count", trt=["A", "B"])
    assert _target("How many days does it take a patient to reach complete remission?",
                   frame) == "crtime"


def test_the_subject_of_a_yes_no_question_says_who():
    brief = Brief.read("Will the eye lose its sight?")
    assert brief.weights["eye"] < 0.5 <= brief.weights["sight"]
    # "will the stock price go up": the first word alone is set aside
    assert Brief.read("Will the stock price go up?").weights["pric"] >= 1


def test_who_is_flagged_is_not_the_outcome():
    brief = Brief.read("flag the eyes that are likely to go blind")
    assert brief.weights["eye"] < 0.5 and brief.answer is AnswerType.TWO_VALUED


def test_a_product_code_is_never_proposed_as_the_target():
    frame = _frame(textbook_isbn="count", bookstore_new="num", amazon_new="num")
    assert _target("predict textbook price", frame) != "textbook_isbn"


def test_how_many_seconds_asks_how_long_not_a_count():
    brief = Brief.read("how many seconds does a pkg take to get through CRAN testing")
    assert "count" not in brief.weights and "duration" in brief.weights


def test_what_someone_responds_to_is_context():
    frame = _frame(answers=["yy", "yn", "ny", "nn"], bid1="count", bid2="count", age="num")
    brief = "Forecast how each visitor responds to the two willingness-to-pay bids for the park."
    assert _target(brief, frame) == "answers"


def test_each_of_these_cars_says_who_and_sell_for_asks_the_price():
    frame = _frame(CarType=["Focus", "Camry", "Mazda3"], Price="num", Mileage="num")
    assert _target("Estimate what each of these used cars will sell for.", frame) == "Price"


@pytest.mark.parametrize("brief", [
    "which eyes end up going blind?", "which transplant patients end up with chronic disease?",
])
def test_which_things_end_up_names_who(brief):
    head = WORD.findall(brief)[1]
    assert Brief.read(brief).weights[stem(head)] < 0.5
    assert Brief.read(brief).answer is AnswerType.TWO_VALUED
    # "which brand ends up in the basket" asks for the brand
    assert Brief.read("which brand ends up in the basket").answer is AnswerType.CLASSES


def test_how_far_ahead_asks_the_margin_and_left_over_the_savings():
    frame = _frame(WinMargin="num", Points="count", OppPoints="count")
    assert _target("how far ahead or behind will I finish a game?", frame) == "WinMargin"
    frame = _frame(sav="num", inc="num", size="count")
    assert _target("whats left over at year end after a family pays for everything", frame) == "sav"


def test_a_name_after_how_far_ahead_is_says_who():
    frame = _frame(Margin="num", Obama="num", McCain="num", Days="count")
    assert _target("how far ahead is obama over his rival in each survey", frame) == "Margin"


def test_ahead_of_time_says_when_not_what():
    frame = _frame(time_of_day=["Day", "Night", "Dawn"], effect=["None", "Landing", "Abort"])
    brief = "we want to know ahead of time whether the crew will abort or land"
    assert "tim" not in Brief.read(brief).weights and _target(brief, frame) != "time_of_day"


def test_at_a_site_says_where_not_what():
    brief = Brief.read("how many fish at a site given how deep it is")
    assert brief.weights["sit"] < 0.5 <= brief.weights["fish"]


def test_base_it_on_lists_the_inputs():
    assert split_outcome_and_inputs(
        "how many people moved between provinces? base it on the distance and the populations"
    )[1] == "the distance and the populations"


@pytest.mark.parametrize(("typed", "read"), [
    ("predict wheter it rains", "predict whether it rains"),
    ("predcit the price", "predict the price"),
    ("estimte income", "estimate income"),
    ("predict the weather", "predict the weather"),  # an English word is left alone
])
def test_a_slip_in_a_word_that_carries_the_question_is_read_through(typed, read):
    assert Brief.read(typed).text == read


def test_a_sentence_that_asks_nothing_sets_the_scene():
    brief = Brief.read("Post-harvest trial: apples infested with codling moth were treated. "
                       "Predict the proportion of insects killed from dose.")
    assert brief.weights["moth"] <= 0.3 < brief.weights["proportion"]
    # one sentence alone is never background
    assert Brief.read("apples infested with codling moth").weights["moth"] > 0.3


def test_the_codes_of_the_answers_listed_in_brackets_name_their_column():
    frame = _frame(Support=[0, 0.5, 1], Participation=[0, 1], Age="num")
    brief = "Does the respondent back the government fully, halfway, or not at all (1, 0.5, 0)?"
    assert _target(brief, frame) == "Support"
    # the codes of another column do not count
    assert _target("Does the respondent back it (1, 2, 3)?", frame) != "Support"


def test_a_dash_before_a_pronoun_ends_the_list_of_inputs():
    outcome, inputs = split_outcome_and_inputs(
        "For each patient we have age, ploidy and gleason score - they want to know who will "
        "see their cancer progress")
    assert "progress" in outcome and "progress" not in inputs and "ploidy" in inputs
    # a dash inside the list is no break
    assert "ploidy" in split_outcome_and_inputs("Predict grade from age - ploidy and stage")[1]


def test_go_off_lists_the_inputs():
    assert split_outcome_and_inputs(
        "how often does a batter strike out? go off his at bats, walks and hits"
    )[1] == " his at bats, walks and hits"


def test_the_sibling_whose_qualifier_begins_a_listed_input_is_that_input():
    frame = _frame(**{"ALT.B": "num", "ALT.M": "num", "dose": ["A", "B", "C"]})
    brief = "Predict the ALT reading after treatment from the baseline liver enzymes and the dose."
    assert _target(brief, frame) == "ALT.M"
    # with no input to say which, the two are alike and it asks
    assert _target("Predict the ALT reading.", frame) is None


def test_the_event_a_clause_ends_on_after_after_says_when():
    brief = Brief.read("model the liver function test results after dosing")
    assert brief.weights["dos"] < 0.5 <= brief.weights["result"]
    # 'after' in the middle of a clause is no event: "how long after surgery until discharge"
    assert Brief.read("how long after surgery until discharge").weights["surgery"] >= 0.5


def test_a_word_that_names_another_column_before_an_input_claims_it():
    frame = _frame(Pig=list(range(4601, 4611)), Start="num", Weight="num", Time="count")
    brief = "predict pig weight each week from start weight, time and copper dose"
    assert _target(brief, frame) == "Weight"
    # said bare among the inputs, the word is an input
    assert _target("predict pig weight from weight and time", frame) != "Weight"


def test_an_input_marker_inside_a_hyphenated_word_is_no_marker():
    outcome, inputs = split_outcome_and_inputs(
        "will the patient develop chronic graft-versus-host disease, yes or no")
    assert "disease" in outcome and not inputs.strip()


def test_a_given_is_no_input_marker_and_what_follows_it_is_a_condition():
    outcome, inputs = split_outcome_and_inputs(
        "how much of the drug is in the blood at a given hour after dosing, given birth weight")
    assert "drug" in outcome and "hour" in outcome and inputs.strip() == "birth weight"
    brief = Brief.read("how thick is a tumour likely to be for patients of a given age and sex")
    assert max(brief.weights["age"], brief.weights["sex"]) < 0.5 <= brief.weights["thick"]


def test_each_x_or_y_and_how_heavy_a_pig_gets_say_who():
    assert Brief.read("estimate the net undercount of each city or state").weights["stat"] < 0.5
    assert Brief.read("how heavy a pig gets from its feed").weights["pig"] < 0.5


def test_a_code_like_name_copied_into_the_outcome_names_its_column():
    frame = _frame(RateBeds="num", RateMDs="num", NumHospitals="count", SSBRate="num")
    assert _target("RateBeds from NumHospitals and SSBRate", frame) == "RateBeds"
    # two names copied into the outcome are inputs listed without a marker
    assert _target("RateBeds with RateMDs", frame) is None
    # a dummy's name that is also another column's value is that value
    cars = _frame(CarType=["Mazda6", "Accord", "Maxima"], Mazda6=[0, 1], Age="num")
    assert _target("tell whether a car is a Mazda6, an Accord or a Maxima", cars) == "CarType"


def test_a_letter_before_a_glued_name_is_a_qualifier_the_brief_says():
    frame = _frame(mrdrte="num", cmrdrte="num", exec="count", unem="num")
    assert _target("change in the murder rate from executions and unemployment", frame) == "cmrdrte"
    assert _target("what is the murder rate of each county, from executions", frame) == "mrdrte"


def test_who_is_flagged_comes_after_what_they_are():
    brief = Brief.read("flag overweight children from their sex and age")
    assert brief.weights["children"] < 0.5 <= brief.weights["overweight"]
    # "flag the eyes that ..." is read as before
    assert Brief.read("flag the eyes that are likely to go blind").weights["eye"] < 0.5


def test_what_someone_makes_an_hour_is_what_they_earn():
    frame = _frame(wage="num", educ="count", exper="count", south="yesno")
    assert _target("what do these guys make an hour? use schooling and experience", frame) == "wage"
    assert Brief.read("estimate what the household makes a year").weights["earn"] >= 1.0
    # "make" of anything else is no pay
    assert "earn" not in Brief.read("make a model of the price").weights


def test_a_plural_short_form_abbreviates_its_singular():
    frame = _frame(cigs="count", cigpric="num", income="num", educ="count")
    assert _target("How many cigarettes does a person smoke per day, given income", frame) == "cigs"
    # a name that is an English word is not a short form of a longer one ('outs', output)
    assert word_match("outs", Brief.read("predict a player's offensive output"))[0] == 0.0


def test_a_count_asked_for_needs_no_word_for_its_total():
    frame = _frame(prate="num", totpart="count", totemp="count", age="count", sole="yesno")
    assert _target("How many employees does the firm have?", frame) == "totemp"
    # a leading 'to' is no glue word: 'totemp' is not 'to' + 'temp'
    assert expand_word("totemp", Brief.read("what temperature is it")) == ["totemp"]
    # only when a number is asked for, and only beside pieces of three letters or more
    assert word_match("belavg", Brief.read("whether a worker belongs to a union"))[0] == 0.0
    assert word_match("hsperc", Brief.read("how many credit hours has each student"))[0] == 0.0


def test_a_year_ending_the_sentence_is_said():
    assert Brief.read("Predict GDP per person in 1985.").years == {"85"}
    assert Brief.read("a ratio of 1985.5 to one").years == set()  # a decimal
    frame = _frame(gdp60="num", gdp85="num", oil="yesno", invest="num")
    assert _target("Predict each country's GDP per working-age person in 1985.", frame) == "gdp85"


def test_last_periods_value_is_not_asked_unless_said():
    frame = _frame(grant="yesno", grant_1="yesno", employ="count", sales="num")
    assert _target("Which plants received a job training grant? Use employment and sales",
                   frame) == "grant"
    assert _target("Had the plant received a grant the previous year?", frame) is None


def test_fit_y_on_x_lists_the_inputs_after_on():
    assert split_outcome_and_inputs("Fit TW on Seeded, Season and NC") == ("Fit TW ", "Seeded, Season and NC")
    assert split_outcome_and_inputs("Predict the effect on sales") == ("Predict the effect on sales", "")
    frame = _frame(TW="num", NC="num", SC="num", Seeded=["S", "U"], Season=["Winter", "Summer"])
    assert _target("Fit TW on Seeded, Season, NC and SC", frame) == "TW"


def test_a_name_carrying_every_number_the_outcome_says_is_a_candidate():
    frame = _frame(station=["a", "b", "c"], latitude="num", dx70_1948="count", dx70_2018="count",
                   dx90_1948="count", dx90_2018="count")
    assert _target("Estimate the number of days over 90 degrees in 2018 from the station's "
                   "latitude and its 1948 count", frame) == "dx90_2018"
    assert _target("how many days topped 70F back in 1948", frame) == "dx70_1948"
    # a number said among the inputs is not the outcome's
    assert _target("how many days from the 1948 count", frame) is None


def test_for_every_firm_year_says_who_and_when():
    brief = Brief.read("Forecast the innovation output for every firm-year")
    assert max(brief.weights["firm"], brief.weights["year"]) < 0.5


def test_a_possessive_before_a_single_letter_names_the_quantity():
    assert Brief.read("Forecast Tobin's q for each company").weights["tobin"] >= 1.0
    assert Brief.read("predict the voter's view").weights["voter"] < 0.5  # as before
    frame = _frame(tobinq="num", year="count", sales="num", patents="count")
    assert _target("Forecast Tobin's q for every firm-year.", frame) == "tobinq"


def test_the_bill_each_month_is_the_monthly_one():
    frame = _frame(monthly_charges="num", total_charges="num", tenure="count", month="count")
    assert _target("Predict the customer's bill each month", frame) == "monthly_charges"
    # the period's adjective is said exactly; it is no root of a 'month' or 'year' column
    assert word_match("month", Brief.read("Predict the bill each month"))[0] == 0.0


def test_in_a_state_and_by_county_and_year_say_where_and_when():
    assert Brief.read("what will the unemployment rate be in a state").weights["stat"] < 0.5
    brief = Brief.read("killings per 10,000 residents by county and year")
    assert max(brief.weights["county"], brief.weights["year"], brief.weights["resident"]) < 0.5
    assert brief.weights["rat"] >= 0.6  # "per 10,000" asks for a rate
    # ... but "is it in a metro area?" asks that, and "covered by insurance" names the agent
    assert Brief.read("is the county in a metro area or not?").weights["area"] >= 1.0
    assert Brief.read("will it go by air, sea or road?").weights["air"] >= 1.0
    assert Brief.read("Predict whether someone is covered by insurance").weights["insuranc"] >= 0.5
    frame = _frame(state=["OH", "PA", "NY"], year="count", unemp="num", pcap="num", emp="num")
    assert _target("whats the unemployment rate going to be in a state given its capital stock "
                   "and payroll jobs?", frame) == "unemp"


def test_the_last_noun_of_a_counted_compound_weighs_as_much_as_the_first():
    brief = Brief.read("predict the number of murder arrests")
    assert brief.weights["arrest"] == brief.weights["murder"] >= 1.0
    # a participle ends the compound: "the amount of fuel paid" does not ask for 'paid'
    assert Brief.read("predict the amount of fuel price paid").weights["paid"] < 1.0
    frame = _frame(murders="count", arrests="count", popul="count", percblack="num")
    assert _target("Predict the number of murder arrests from county population", frame) is None


def test_by_how_many_points_a_side_won_asks_the_margin():
    frame = _frame(state=["OH", "PA", "NY"], vote="num", margin="num", year="count")
    assert _target("By how many points did the Democrat win or lose the Senate race?", frame) == "margin"
    # no winning or losing: a count
    assert "margin" not in Brief.read("by how many units will sales grow").weights


def test_a_single_number_in_a_name_is_a_likeness_not_a_name():
    frame = _frame(sp90="num", roe="num", eps="num", dkr="num", salary="num")
    assert _target("how much did each company's stock gain or lose between 1990 and 1994, from "
                   "roe, debt and earnings per share", frame) is None


def test_who_is_counted_is_asked_but_not_who_does_the_counting():
    assert Brief.read("how many customers will churn").weights["customer"] >= 1.0
    brief = Brief.read("Out of seven scenarios, in how many would each respondent say abortion "
                       "should be allowed?")
    assert brief.weights["respondent"] < 0.5


def test_what_someone_walks_away_with_is_what_they_win():
    brief = Brief.read("how much money does a contestant walk away with?")
    assert brief.weights["win"] >= 1.0
    assert Brief.read("what do nurses take home each month").weights["earn"] >= 0.5


def test_a_given_country_year_says_who_and_when():
    frame = _frame(country=["A", "B", "C"], year="count", labsh="num", emp="num", pop="num")
    brief = Brief.read("What share of national income goes to labour in a given country-year?")
    assert brief.weights["year"] < 0.5
    assert _target("What share of national income goes to labour in a given country-year?",
                   frame) != "year"


def test_model_y_on_x_lists_the_inputs_after_on():
    brief = Brief.read("Model the president's approval rating on gas prices, unemployment and the S&P 500.")
    assert "gas" in brief.input_stems and "gas" not in brief.weights
    frame = _frame(approve="num", gasprice="num", rgasprice="num", unemploy="num", sp500="num")
    assert _target("Model the president's approval rating on gas prices, unemployment and the "
                   "S&P 500.", frame) == "approve"


def test_how_free_is_a_country_asks_the_freedom_not_the_country():
    brief = Brief.read("how economically free is a country?")
    assert brief.weights["country"] < 0.5
    # a measure after 'how long is the ...' is still what is asked
    assert Brief.read("how long is the hospital stay").weights["stay"] >= 1.0


def test_across_the_states_says_where():
    brief = Brief.read("what drives violent crime across the states")
    assert "across" not in brief.weights
    assert brief.weights["stat"] < 0.5


def test_a_year_among_the_inputs_does_not_pick_the_outcome():
    brief = Brief.read("predict average annual GDP growth from 1960 income, trade share and schooling")
    assert not brief.years
    frame = _frame(growth="num", rgdp60="num", tradeshare="num", yearsschool="num")
    assert _target("predict average annual GDP growth from 1960 income, trade share and "
                   "schooling", frame) == "growth"
    assert Brief.read("What will a young man's log wage be in 1980?").years == {"80"}


def test_ending_up_with_something_is_having_it():
    brief = Brief.read("which mothers end up with a serious adverse event during pregnancy")
    assert "end" not in brief.weights and "up" not in brief.weights
    assert Brief.read("how did the case end").weights["end"] >= 1.0


def test_a_contrast_of_two_words_is_no_list_of_inputs():
    brief = Brief.read("how far does a state lean democrat vs republican in party identification?")
    assert not brief.inputs.strip() and "republican" in brief.weights
    assert "recip" in Brief.read("model breakage angle vs recipe + temp").input_stems


def test_whether_as_the_last_item_of_an_input_list_is_an_input():
    brief = Brief.read("based on brand, form factor and whether it's NVMe, estimate the "
                       "sequential read speed")
    assert "nvm" in brief.input_stems and brief.weights["read"] >= 0.5
    frame = _frame(brand=["A", "B"], form=["M2", "SATA"], nvme="yesno", read="num", write="num")
    assert _target("based on brand, form factor and whether it's NVMe, estimate the "
                   "sequential read speed", frame) == "read"


def test_for_each_carrier_and_year_says_who_and_when():
    assert Brief.read("how full are the planes, on average, for each carrier and year").weights["year"] < 0.5


def test_no_short_form_stands_for_the_word_target():
    frame = _frame(id=list(range(20)), trt="yesno", y=["1", "2", "3", "4", "5"], time="count")
    proposal = _resolve("ignore the column list and just use id as the target, its fine", frame)
    assert proposal.spec is None and "named like an ID" in proposal.message
    # 'trt' has the letters of 'target' in order, but names a treatment
    assert word_cue("trt", Brief.read("which column should be the target?"))[0] == 0
    assert word_cue("trt", Brief.read("which treatment did they get?"))[0] > 0


def test_a_column_named_like_an_id_is_refused_as_the_target():
    frame = _frame(childid=list(range(40)), retained="yesno", math="num", year="count")
    proposal = _resolve("set childid as the target", frame)
    assert proposal.spec is None and "'childid' is named like an ID" in proposal.message
    # an English word that ends in 'id' is no ID
    assert _target("predict paid", _frame(paid="num", hours="count", grade=["A", "B"])) == "paid"


def test_a_named_column_also_ruled_out_as_the_target_is_asked():
    frame = _frame(Price="num", Lot="num", Beds="count", Baths="count")
    assert _target("Predict Price, but Price must not be the target - keep it as a feature", frame) is None
    assert _target("forecast Price, but I don't want Price to be what the model predicts", frame) is None
    assert _target("Predict Price.", frame) == "Price"


def test_a_value_asked_of_someone_who_is_so_is_no_yes_no_question():
    brief = Brief.read("whats the top blood pressure number likely to be for a smoker who is obese?")
    assert brief.answer is not AnswerType.TWO_VALUED and brief.weights["smoker"] < 0.5
    frame = _frame(SystolicBP="num", Smoke="yesno", Overwt=["Normal", "Over", "Obese"])
    assert _target("whats the top blood pressure number likely to be for a smoker who is obese?",
                   frame) == "SystolicBP"
    assert Brief.read("predict the customers who will churn").answer is AnswerType.TWO_VALUED


def test_a_measurement_whose_name_ends_in_id_is_no_id():
    frame = _frame(carotid="num", age="count", sex=["F", "M"])
    assert _target("predict carotid from age and sex", frame) == "carotid"


def test_an_if_clause_states_a_condition_unless_it_means_whether():
    brief = Brief.read("what's the chance a 10 year old wheezes if mom smokes?")
    assert brief.weights["smok"] < 0.5
    frame = _frame(resp="yesno", smoke="yesno", age=["7", "8", "9", "10"])
    assert _target("what's the chance a 10 year old wheezes if mom smokes?", frame) != "smoke"
    # "predict if" asks whether
    assert Brief.read("predict if each senator voted yea or nay").weights["vot"] >= 0.5


def test_across_us_states_says_where_after_how_healthy_are():
    brief = Brief.read("we want to explain how healthy babies are across us states in 87 and 90")
    assert brief.weights["stat"] < 0.5


def test_a_list_of_several_answers_asks_for_classes_without_a_question_mark():
    brief = Brief.read("will the graduate go to college, get a job, go to some other school or something else")
    assert brief.answer is AnswerType.CLASSES
    # a yes-or-no tag is no list of classes
    assert Brief.read("is the company in the S&P 500 index, yes or no").answer is not AnswerType.CLASSES


def test_not_using_the_named_column_as_the_target_is_asked():
    frame = _frame(Deaths="count", Species=["A", "B"], Exposure="count", Temp="num")
    assert _target("predict how many snails died but don't use the Deaths column as the target",
                   frame) is None


def test_a_column_named_like_an_id_is_not_offered_as_a_candidate():
    frame = _frame(childid=list(range(40)), retained="yesno", math="num", year="count")
    proposal = _resolve("set childid as the target", frame)
    assert "childid" not in {c.column for c in proposal.candidates}
    assert "retained" in {c.column for c in proposal.candidates}


def test_what_is_said_of_a_state_that_has_a_law_is_which_state():
    brief = Brief.read("whats the traffic fatality rate going to be in 1990 for a state that "
                       "has an open container law?")
    assert brief.weights["open"] < 0.5 and brief.weights["rat"] >= 1.0


def test_the_two_prior_years_say_when():
    brief = Brief.read("whats the avg clearance percentage over the two prior years in each district?")
    assert "year" not in brief.weights


def test_per_state_and_year_and_by_day_of_year_say_who_and_when():
    assert Brief.read("how many killings got ruled self defence, per state and year").weights["year"] < 0.5
    assert Brief.read("predict the NOx levels by day of year").weights["year"] < 0.5


def test_over_the_decade_says_when():
    brief = Brief.read("How fast will a country's economy grow per head over the decade?")
    assert "decad" not in brief.weights
    frame = _frame(grow="num", decade=["1960s", "1970s", "1980s"], privo="num", country=["A", "B"])
    assert _target("How fast will a country's economy grow per head over the decade, given "
                   "private credit?", frame) == "grow"


def test_what_a_year_when_clause_names_is_an_input():
    frame = _frame(SOI="num", ausAVt="num", ausRain="num", Year="count")
    brief = ("What's the average temp gonna be across Australia in a year when the SOI is "
             "strongly negative?")
    assert "soi" in Brief.read(brief).input_stems
    assert _target(brief, frame) != "SOI"
    # no time before it: the 'when' says what is asked, not which rows
    assert "patient" not in Brief.read("how much will it hurt when the patient moves").input_stems


def test_tell_me_if_asks_whether():
    assert "oil" not in Brief.read("Tell me if a country is an oil producer or not").input_stems


def test_a_word_ruled_out_as_the_target_names_no_column():
    brief = Brief.read("Predict growth, but growth must not be the target, and leave every other "
                       "column alone too.")
    assert "growth" not in brief.weights
    frame = _frame(grow="num", decade=["1960s", "1970s"], levine="num", country=["A", "B"])
    assert _target("Predict growth, but growth must not be the target.", frame) is None


def test_a_value_sharing_only_a_start_with_a_brief_word_is_not_said():
    frame = _frame(shape=["needle", "round", "oval"], width="num", length="num")
    assert _target("do the needful with this leaf data", frame) is None


def test_what_follows_not_is_no_word_of_the_outcome():
    brief = Brief.read("Predict the closing price - the raw close, not the adjusted one")
    assert "adjust" not in brief.weights and "clos" in brief.weights
    frame = _frame(close="num", adj_close="num", volume="count", high="num")
    assert _target("Predict the closing price - the raw close, not the adjusted one", frame) == "close"
    # "whether or not" rules nothing out
    assert "default" in Brief.read("predict whether or not a customer will default").weights


def test_a_terse_brief_opening_with_a_name_names_it():
    frame = _frame(y="count", year="count", quarter="count", delay="count")
    assert _target("y from year, quarter and delay", frame) == "y"


def test_a_short_form_means_what_it_is_short_for():
    from core.planning.column_names import word_cue

    # 'grad' stems like 'grade', which "rate" means; as short for graduates it is neither
    assert word_cue("grad", Brief.read("predict the homicide rate"))[0] == 0.0
    assert word_cue("grad", Brief.read("predict how many graduates"))[0] > 0.0
    frame = _frame(**{"HS Grad": "num", "Murder": "num", "Income": "num", "Frost": "count"})
    assert _target("based on income and frost days, predict the homicide rate", frame) != "HS Grad"


def test_a_later_sentence_opening_with_go_by_lists_inputs():
    brief = Brief.read("were the objects sitting in water or were they dry? go by how long the "
                       "transfer took and the state of the person's fingers")
    assert "finger" in brief.input_stems and "finger" not in brief.weights
    brief = Brief.read("which of the sprays was in this cell? judge by how much syrup the bees took")
    assert "syrup" in brief.input_stems
    # the brief's only sentence is the question itself
    assert "finger" in Brief.read("go by the fingers").weights


def test_is_this_x_the_a_or_the_b_says_who():
    frame = _frame(Plot=[f"1988F{i}" for i in range(8)], Variety=["F", "P"], weight="num",
                   Time="count")
    assert _target("is this plot the commercial Forrest soybean or the experimental strain?",
                   frame) != "Plot"


def test_what_we_still_have_are_inputs():
    brief = Brief.read("Some records lost that field, though we still have pH, age and cause of "
                       "death on file. We need to predict whether each donor was a man or a woman.")
    assert "ph" in brief.input_stems and "ph" not in brief.weights


def test_a_sentence_opening_with_looking_at_lists_inputs():
    brief = Brief.read("Looking at how much power the city drew and how hot it got, was it a "
                       "working day or a weekend?")
    assert "power" in brief.input_stems and "power" not in brief.weights
    # 'looking at' inside a sentence is no marker
    assert "churn" in Brief.read("we are looking at churn next quarter").weights


def test_columns_named_as_the_inputs_are_inputs():
    brief = Brief.read("predict Outcomes per patient (age group + vaccine status as the inputs)")
    assert "vaccin" in brief.input_stems and "vaccin" not in brief.weights
    brief = Brief.read("predict the outcome, with vaccine status as features")
    assert "vaccin" in brief.input_stems


def test_per_location_slash_date_says_who_and_when():
    assert Brief.read("build a model for the counts per location/date").weights["dat"] < 0.5


def test_a_greeting_is_no_content_before_an_input_marker():
    brief = Brief.read("hey, using days of sleep deprivation and subject, can we predict average "
                       "reaction time in milliseconds? thx")
    assert brief.weights["reaction"] >= 0.6 and "deprivation" in brief.input_stems
    # 'Hi' may be a value ("Hi or Lo status"): it stays a word
    assert "hi" in Brief.read("classify kindergarteners as Hi or Lo status").weights
