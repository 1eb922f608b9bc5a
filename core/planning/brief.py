"""Reading a brief: which words describe the outcome, which describe the inputs, and what kind
of answer the question asks for.

"Estimate a worker's wage from schooling, experience and region" has one outcome phrase
("a worker's wage") and one input phrase (after *from*). Only the outcome phrase can name the
target; a column the input phrase names is an input. The brief is only ever read as words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise

from core.planning.semantic import is_typo_of

MAX_BRIEF_CHARS = 2_000
# Who or what a brief is about ("which customers will ...") is rarely the column to predict.
ENTITY_WEIGHT = 0.3
# In "first year grade point average" the last word is the head; the words before it qualify it.
MODIFIER_WEIGHT = 0.8
# Words outside the phrase the question is about ("a model of *mortgage denials* in Boston
# to audit for bias") are context; they weigh less than the words of that phrase.
CONTEXT_WEIGHT = 0.6
FOCUS_WEIGHT, FOCUS_MODIFIER_WEIGHT = 1.1, 0.9
# In "how much weight does the mother put on" the noun is what the answer counts in; the
# final verb ('gain') says which of it: when both name columns, the verb's column is asked.
COUNTED_WEIGHT, COUNTING_VERB_WEIGHT = 1.0, 1.3


def words_of(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = words_of(
    """
    a an the and or of to in on at for by with from into about over under is are was were
    be been being will would shall should can could may might must do does did has have had
    having it its this that these those their his her our your my me we you they them he
    she i who whom which what when where why how whether if then than so as not no yes very
    much many more most less least some any all each every per one two predict prediction
    predictions forecast estimate estimation identify tell guess model classify
    classification regression find show want need like please help make build learn data
    dataset table column columns row rows values going get give gets use using based
    next going kind type sort lot lots just also won't wouldn't isn't aren't wasn't don't
    we'd we're we've i'd i'm i've you'd you're let's it's that's there's whats hows
    doesn't didn't can't cannot couldn't during within since until via through without between
    against toward towards across
    hey hello dear thanks thank thx cheers regards fyi fwd pls plz asap
    """
)
ENTITY_WORDS = words_of(
    """
    customer customers client clients user users employee employees worker workers person
    people patient patients shopper shoppers passenger passengers applicant applicants
    member members household households individual individuals record records
    item items someone somebody respondent respondents women men woman man
    """
)
# Verbs that introduce the outcome: "predict X", "estimate the X".
TASK_VERBS = words_of(
    """
    predict predicting forecast forecasting estimate estimating classify classifying model regress
    modelling modeling guess determine target explain project score rank identify detect
    """
)
_DETERMINERS = words_of("the a an each every its their his her our this that these those")
_MODALS = words_of("will would is are was were can could does do did has have should may might")

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+")  # words in any alphabet
# a dash before a pronoun starts a clause of its own: "we have age and ploidy - they want to
# know who will progress" asks after the list
_SENTENCE_END = re.compile(r"[.;!?](?:\s+|$)|\n|\s[-\u2013\u2014]+\s+(?=(?:they|we|i|you)\s)",
                           re.IGNORECASE)
# Words after these describe inputs, not the outcome.
_BASE_IT_ON = r"base (?:it|this|that|them|the model|the predictions?|your answer) on"
_INPUT_MARKER = re.compile(  # not inside a hyphenated word: "graft-versus-host disease"
    # "at a given hour" is no input
    r"(?<!-)\b(?:(?<!\ba )(?<!\bany )(?<!\bthe )given|using|based on|according to|"
    # "Looking at how hot it got, ...", "... dry? Go by how long it took": opening a sentence
    r"by looking at|^\W*looking at|^\W*go by|with the help of|in terms of|"
    r"judg(?:e|ing) (?:by|from|off)|going (?:by|off)|go off|on the basis of|depending on|"
    r"as a function of|"
    + _BASE_IT_ON + r"|"
    r"with (?:their|its|his|her|the help of)|from|among|versus|vs|compared (?:to|with)|"
    # "for each package we know its authors, imports ...": what is known is an input
    r"we (?:already |also |still )?(?:know|have)(?! to\b)(?! (?:been|seen|had|a model)\b)|"
    r"we've got)\b(?!-)",
    re.IGNORECASE,
)
_SPANS_OF_TIME = r"(?:hours?|days?|weeks?|months?|quarters?|years?|decades?)\b"
_TIME_HORIZON = re.compile(
    r"\b(?:in |within |over |during )?(?:the )?(?:next|this|coming|following|last|past)\s+"
    r"(?:\d+\s+|few\s+|two\s+|three\s+|six\s+|twelve\s+)?" + _SPANS_OF_TIME + "|"
    # "over the two prior years", "over the decade"
    r"\b(?:in |within |over |during )?(?:the )?(?:\d+|two|three|four|five|few)\s+"
    r"(?:prior|previous|preceding|past|last|next|coming|following)\s+" + _SPANS_OF_TIME + "|"
    r"\b(?:over|during|in|within) the decade\b|"
    r"\b(?:today|tomorrow|yesterday|tonight|nowadays|currently)(?:'s)?\b|"
    # "we want to know ahead of time whether ...": when it is asked, not what
    r"\b(?:ahead of time|in advance|beforehand|in good time)\b|"
    # "sold in a month", "billed each month", "how long, in months": the unit, not the what
    r"\b(?:in|per|each|every|a|an)\s+(?:a\s+|an\s+|the\s+)?"
    r"(?:hours?|days?|weeks?|months?|quarters?|years?|minutes?)\b(?!\s+(?:of|old)\b)",
    re.IGNORECASE,
)
# "which emails are ...", "for each district": the word names who or what, not the outcome
_ENTITY_SLOT = re.compile(
    # "in which year was each artwork made" asks for the year: after a preposition, or
    # before a subject of its own, the word is what is asked
    r"(?<!\bin )(?<!\bon )(?<!\bat )(?<!\bby )(?<!\bduring )"
    r"\bwhich\s+((?:(?!(?:will|would|are|is|was|were|do|does|did|can)\b)[^\W\d_]+(?:-[^\W\d_]+)*\s+){0,2}?"
    r"(?!(?:will|would|are|is|was|were|do|does|did|can)\b)[^\W\d_]+)\s+"
    r"(?=(?:(?:will|would|are|is|was|were|do|does|did|can)\s+"
    r"(?!they\b|he\b|she\b|we\b|you\b|i\b|it\b|the\b|a\b|an\b|this\b|each\b|every\b|its\b|"
    r"their\b|his\b|her\b|our\b|my\b|these\b|those\b)|(?:in|from|on|at|who|that)\b))|"
    r"\b(?:each|every|(?:in|for|at|of|to) (?:each|every)|at an?)\s+(?!of\b)"
    # "of each city or state", "for every firm-year", "for each carrier and year"
    r"([^\W\d_]+(?:-[^\W\d_]+)*(?:\s+(?:or|and)\s+[^\W\d_]+)?)|"
    # "how heavy a pig gets": the one after 'how ... a' says who
    r"\bhow\s+[^\W\d_]+\s+(?:a|an|the|each|this|that)\s+([^\W\d_]+)"
    r"(?=\s+(?:gets?|got|grows?|becomes?|will|would|is|was|can|could)\b)|"
    # "how far ahead is *Obama* over his rival": a name after 'how ... is' says who
    r"\bhow\s+(?:[^\W\d_]+\s+){1,2}(?:is|are|was|were)\s+(?!(?:the|a|an|it|this|that|there|"
    r"they|he|she|we|you|i|each|every|their|his|her|its|our|my|across|in|on|at|for|from|with|"
    r"by|of|to|over|among)\b)([^\W\d_]+)(?=\s+[^\W\d_])|"
    # "how economically free is a country?": after 'how ... is a', who
    r"\bhow\s+(?:[^\W\d_]+\s+){1,2}(?:is|are|was|were)\s+(?:an?|each|every)\s+"
    r"([^\W\d_]+)(?=\s*(?:$|[?.!,|])|\s+(?:in|on|at|for|from|with|when|if|"
    r"after|before|during|compared)\b)|"
    # "is this plot the commercial soybean or the new strain?", "was the patient a smoker":
    # who, when the question says what it is
    r"\b(?:is|was|are|were)\s+(?:this|that|each|the)\s+([^\W\d_]+)\s+"
    r"(?=(?:the|an?|from|one|of|made|for)\s)|"
    # "the blood pressure for a smoker who is obese": who
    r"\bfor\s+(?:an?|each|every|any)\s+([^\W\d_]+)(?=\s+(?:who|that|with)\b)|"
    # "violent crime across the states": where, or among whom
    r"\bacross\s+(?:the\s+|all\s+|our\s+|many\s+|different\s+)?"
    r"((?:us\s+|u\.s\.\s+)?[^\W\d_]+)|"  # "across us states"
    # "what each of these used cars will sell for": who, up to its verb
    r"\b(?:each|every one|any) of (?:the |these |those |our |your |their )?"
    r"((?:[^\W\d_]+\s+){0,2}?[^\W\d_]+)(?=\s+(?:will|would|is|are|was|were|has|have|had|does|"
    r"do|did|can|could|in|that|who|gets?|got)\b|\s*[,.?!]|\s*$)|"
    # "per 10,000 residents", "per capita income"
    # "per state and year", "per location/date"
    r"\bper\s+(?:[\d,.]+k?\s+)?([^\W\d_]+(?:\s+(?:and|or)\s+[^\W\d_]+|\s*/\s*[^\W\d_]+|"
    r"\s+(?!(?:by|in|at|for|from|of|and|or)\b)[^\W\d_]+)?)|"
    # "killings by county and year": a grouping that ends the phrase ("covered by
    # insurance", "made by hand": an agent, asked)
    r"(?<!ed )(?<!\bmade )(?<!\bpaid )(?<!\bheld )(?<!\bsold )(?<!\bwon )(?<!\brun )"
    r"\bby\s+([^\W\d_]+(?:\s+(?:and|or)\s+[^\W\d_]+|\s+of\s+(?:the\s+)?[^\W\d_]+)?)"
    r"(?=\s*(?:$|[.?!|]))|"  # "by day of year"
    r"\b(?:classify|label|flag|mark|tag|sort)\s+(?:the |each |every |all |these |our )?"
    r"([^\W\d_]+)\s+(?=as\b|into\b)|"
    # "flag overweight children from their age": who is flagged, after what they are
    r"\b(?:flag|spot|pick out|single out)\s+(?:the |those |all |any )?[^\W\d_]+\s+"
    r"([^\W\d_]+)\b(?=\s*(?:$|[,.?!|])|\s+(?:from|given|using|based|by|with|in|at)\b)|"
    # "flag the eyes that are likely to go blind": who is flagged, not what
    r"\b(?:flag|identify|find|spot|pick out|single out)\s+(?:the |those |all |any )?"
    r"([^\W\d_]+)\s+(?=(?:that|who|which|likely|most likely|at risk)\b)",
    re.IGNORECASE,
)


# "how heavy" asks for a weight: the noun the question means without saying it.
HOW_ADJECTIVE_NOUNS = {
    "long": "length duration time",
    "old": "age",
    "heavy": "weight",
    "tall": "height",
    "wide": "width",
    "deep": "depth",
    "thick": "thickness",
    "far": "distance",
    "far ahead": "margin lead",  # "how far ahead is the candidate": by how much
    "far behind": "margin gap",
    "fast": "speed",
    "big": "size",
    "large": "size",
    "expensive": "price",
    "much": "amount",
    "many": "number count",
    "often": "frequency",
    "powerful": "power",
    "strong": "strength",
    "hot": "temperature",
    "cold": "temperature",
    "late": "delay",
    "happy": "satisfaction happiness rating",
    "satisfied": "satisfaction rating",
    "good": "quality rating",
    "likely": "probability chance",
    "risky": "risk",
    "costly": "cost",
    "profitable": "profit",
    "popular": "popularity",
}
IMPLIED_WEIGHT = 0.6
_HOW_MUCH_OF = re.compile(
    r"\bhow (?:much|many) (?!(?:will|would|does|do|did|is|are|was|were)\b)\w", re.IGNORECASE
)
# "how many times was he arrested" counts events, as "how often" does; its 'times' is no
# duration (a 'tottime' column), so it is read as "how often".
_COUNT_OF_TIMES = re.compile(r"\b(?:how many|the number of|number of) times\b", re.IGNORECASE)


def _how_often(found: re.Match) -> str:
    return "how often" if found.group(0).lower().startswith("how") else "frequency"


_HOW_ADJECTIVE = re.compile(  # longest first: "how far ahead" before "how far"
    r"\bhow (" + "|".join(sorted(HOW_ADJECTIVE_NOUNS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
# "how many months until ...", not "how many minutes late" (the lateness is asked)
_HOW_MANY_UNITS = re.compile(
    r"\bhow many (?:seconds|minutes|hours|days|weeks|months|years)\b"
    r"(?!\s+(?:late|early|old|ago)\b)",
    re.IGNORECASE,
)
# A question word asks for a kind of thing: "where was it made" asks for a place.
_WH_NOUNS = {
    "where": "origin location place region country",
    "when": "time date year",
}
_WH_QUESTION = re.compile(r"^\W*(where|when)\b", re.IGNORECASE)
# Phrasal verbs say in two words what one word of a column says: "let go" is a release.
PHRASAL_VERBS = [
    (re.compile(r"\blet(?:s|ting)?\s+(?:\w+\s+){0,3}?go\b", re.IGNORECASE), "release"),
    (re.compile(r"\bturn(?:s|ed|ing)?\s+(?:\w+\s+){0,2}?down\b", re.IGNORECASE), "reject"),
    (re.compile(r"\bpa(?:y|ys|id|ying)\s+(?:\w+\s+){0,2}?back\b", re.IGNORECASE), "repay"),
    (re.compile(r"\bdrop(?:s|ped|ping)?\s+out\b", re.IGNORECASE), "quit"),
    # "comes back", "was sent back", "brought back": a return ('Returned')
    (
        re.compile(
            r"\b(?:come|comes|came|coming|send|sends|sent|bring|brings|brought|mailed|handed)"
            r"\s+(?:\w+\s+){0,2}?back\b",
            re.IGNORECASE,
        ),
        "return",
    ),
    (re.compile(r"\bsho(?:w|ws|wed|wing)\s+up\b", re.IGNORECASE), "attend"),
    (re.compile(r"\bsells?\s+for\b|\bsold\s+for\b|\bgo(?:es)? for\b", re.IGNORECASE), "sell price"),
    # what one pays *for* something is its price; what one is paid is a wage
    (re.compile(r"\bpa(?:y|ys|id|ying)(?=\s+for\b)", re.IGNORECASE), "price"),
    (re.compile(r"\bmake\s+it\s+(?:out\s+)?alive\b|\bpull\s+through\b", re.IGNORECASE), "survive"),
    (re.compile(r"\bpass(?:es|ed)?\s+away\b", re.IGNORECASE), "die"),
    (re.compile(r"\bgive(?:s|n)?\s+up\b", re.IGNORECASE), "quit"),
    (re.compile(r"\b(?:get|gets|got|answer(?:s|ed)?)\s+(?:\w+\s+){0,2}?right\b", re.IGNORECASE), "correct"),
    (re.compile(r"\bsign(?:s|ed)?\s+up\b", re.IGNORECASE), "signup"),
    (re.compile(r"\bput(?:s|ting)?\s+on\b", re.IGNORECASE), "gain"),
    (re.compile(r"\b(?:left over|put(?:s|ting)? (?:aside|away)|set(?:s|ting)? aside)\b",
                re.IGNORECASE), "saving savings"),
    (re.compile(r"\b(?:respond|react|reply)(?:s|ed|ing)?(?=\s+to\b)", re.IGNORECASE), "answer"),
    # "how much does a contestant walk away with", "what do they take home": what they win
    (re.compile(r"\bwalk(?:s|ed|ing)? away with\b|\b(?:take|takes|took|taking) home\b|"
                r"\bgo(?:es)? home with\b", re.IGNORECASE), "earn win"),
    # what someone makes an hour, a year, or "how much do they make": what they earn
    (re.compile(r"\bma(?:ke|kes|de|king)\b(?=(?:\s+\w+){0,2}?\s+(?:an?|per|each|every)\s+"
                r"(?:hour|day|week|month|year)\b)", re.IGNORECASE), "earn"),
    (re.compile(r"(?<=\bhow much\b)(?:\s+[\w']+){1,6}?\s+ma(?:ke|kes|de)\b"
                r"(?=\s*(?:[?.!,;]|$|(?:next|this|last|per|an?|each|every|in)\s+\w+))",
                re.IGNORECASE), "earn"),
]
# "won't pay", "not repaid", "fail to survive": the negated verb points at its opposite.
_NEGATED = re.compile(
    r"\b(?:not|never|no longer|won't|wont|don't|doesn't|didn't|isn't|aren't|wasn't|can't|cannot|"
    r"couldn't|wouldn't|fail(?:s|ed)? to|unable to)\s+(?:\w+ly\s+)?(?:be\s+)?([^\W\d_]+)",
    re.IGNORECASE,
)
# "the raw close, not the adjusted one", "the index level -- not the inflation rate": what
# the brief sets aside after 'not' is no word of the outcome
_NOT_THIS = re.compile(
    r"(?:[,;:(]|\s[-–—]+|\bbut)\s*not\s+(?:the|an?|just|only|its|their)?\s*([^\W\d_][^,.;:?!|()]*)",
    re.IGNORECASE,
)
# "Predict the price, or maybe the bedrooms, no wait": the user is not sure; ask.
_HEDGE = re.compile(
    r"\bor maybe\b|\bor perhaps\b|\bor rather\b|\bno wait\b|\bnot sure\b|\bneither\b|"
    r"\bnot either\b|\bi don'?t know\b|\bwhatever\b",
    re.IGNORECASE,
)


# Verbs that end a noun phrase ("yearly income *goes* to ..."): a small list, not a grammar.
COMMON_VERBS = words_of(
    """
    go goes went gone get gets got take takes took come comes came become becomes became
    make makes made end ends ended turn turns turned happen happens happened look looks
    """
)
# Nouns that name an amount: a brief about one asks for a number.
QUANTITY_NOUNS = words_of(
    """
    score price cost value amount number count total sum rate level weight height length width
    age income salary wage revenue sales spending expenditure duration delay distance speed
    temperature percentage percent share fraction proportion ratio size volume mileage
    consumption balance debt profit strength concentration yield quantity demand charge fee
    worth cost money days hours minutes weeks months bill fare rent tuition premium budget
    earnings
    """
)


class AnswerType(StrEnum):
    """What kind of answer the question asks for, from its wording alone."""

    NUMBER = "a number"
    TWO_VALUED = "yes or no"
    CLASSES = "one of several classes"
    UNKNOWN = "unknown"


_ASKS_NUMBER = re.compile(
    r"\bhow (?:much|many|long|far|late|early|big|large|high|old|often|fast|heavy|tall|strong)\b|"
    r"\b(?:number|amount|count|quantity|level|size) of\b|\bwhat (?:price|amount)\b",
    re.IGNORECASE,
)
_ASKS_CLASSES = re.compile(
    r"\b(?:what|which)\s+(?:\w+\s+)?(?:kind|type|sort|class|category|variety|species|genre|"
    r"breed|group|brand)\b|\bcategori[sz]e\b|\bwhich of (?:the|several|many)\b|"
    # "which (A-level chemistry) grade will a student get", "which animal was it"
    r"\bwhich\s+(?:[^\W\d_]+(?:-[^\W\d_]+)*\s+){0,2}[^\W\d_]+\s+"
    r"(?:is|are|was|were|does|do|did|will|would)\s+"
    r"(?:the|a|an|this|that|its|their|his|her|each|it)\b",
    re.IGNORECASE,
)
# "front-wheel, rear-wheel or 4wd?": the brief lists more than two answers
_CHOICE_LIST = re.compile(
    r"^(?:is|are|was|were) (?:it|they|this|the \w+) [\w-]+,\s+[\w\s-]+?,?\s+or\s+[\w-]+\s*\??$|"
    r"[\w-]+,\s+[\w\s-]+?,?\s+or\s+[\w-]+\s*\?|"
    # "go to college, get a job, go to some other school or something else": no '?' needed
    # after three answers or more
    r"[\w-]+,\s+[\w\s-]+?,\s+[\w\s-]+?\s+or\s+[\w-]+(?:\s+[\w-]+)?\s*$",
    re.IGNORECASE)
# "1 = dengue present or 0 = absent", "CABG (1) or PTCA (0)": two answers coded 1 and 0
_CODED_PAIR = re.compile(
    r"\b([01])\s*=\s*[^\W\d_][^?;]*?\bor\s+(?!\1)[01]\s*=|"
    r"\(\s*([01])\s*\)\s*,?\s*or\s+[^\W\d_][\w\s-]{0,30}?\(\s*(?!\2)[01]\s*\)",
    re.IGNORECASE,
)
_ASKS_YES_NO = re.compile(
    r"^(?:will|would|does|do|did|is|are|was|were|can|could|has|have|should)\s+(?:the|a|an|this|"
    r"these|that|those|it|they|he|she|we|you|i|there|my|our|their|his|her|its|each|any)\b|"
    r"^(?:will|would|does|do|did|is|are|was|were|can|could|has|have|should)\b[^?]*\?|"
    r"\bwhether\b|\byes or no\b|\byes ?/ ?no\b|\bor not\b|\b(?:flag|detect|spot|screen for)\b|"
    r"\bthe (?:chance|probability|odds|risk|likelihood) (?:of|that)\b|"
    r"\bwhich (?:[^\W\d_]+ ){1,3}?[^\W\d_]{2,}ed\b",
    re.IGNORECASE,
)


# "who will default", "customers who stayed"; but "what is the blood pressure of a smoker
# who is obese" asks a value of them: not in a sentence that asks what or how
_WHO_YES_NO = re.compile(
    r"\bwho (?:will|would|is|was|did|does|has|won't|wouldn't|isn't|didn't|doesn't|can't)\b|"
    r"\bwho \w+ed\b", re.IGNORECASE)
_ASKS_WHAT = re.compile(r"^\W*(?:what|whats|how)\b", re.IGNORECASE)


def _asks_yes_no(sentence: str) -> bool:
    return bool(_ASKS_YES_NO.search(sentence)
                or (_WHO_YES_NO.search(sentence) and not _ASKS_WHAT.match(sentence)))


# weaker than the patterns above: "identify the species", "classify each digit"
_ASKS_A_CLASS = re.compile(r"\b(?:classify|recogni[sz]e|identify|categori[sz]e)\b", re.IGNORECASE)


# "Can we guess someone's height?", "could you predict ...": a request, not a yes/no question
_REQUEST = re.compile(
    r"^(?:can|could|would|will)\s+(?:we|you|i|u|someone|somebody|it|the model)\s+(?:please\s+)?"
    r"(?=(?:guess|predict|estimate|forecast|tell|figure|work|model|classify|find|say|determine|"
    r"build|train|learn|get|work out|calculate|compute|rank|score)\b)",
    re.IGNORECASE,
)


def answer_type(text: str) -> AnswerType:
    """How much / how many → a number; what type / which kind → classes; will / whether /
    does / is → yes or no. The first that applies, judged sentence by sentence (a request
    put as a question, "can we guess ...", is judged by what it requests)."""
    sentences = [_REQUEST.sub("", s.strip()) for s in re.findall(r"[^.;!?\n]+[.;!?]?", text)
                 if s.strip()]
    for asks, kind in (
        (_CODED_PAIR.search, AnswerType.TWO_VALUED),
        (_ASKS_NUMBER.search, AnswerType.NUMBER),
        (_ASKS_CLASSES.search, AnswerType.CLASSES),
        (_CHOICE_LIST.search, AnswerType.CLASSES),
        (_asks_yes_no, AnswerType.TWO_VALUED),
    ):
        if any(asks(s) for s in sentences):
            return kind
    if _ASKS_A_CLASS.search(text):
        return AnswerType.CLASSES
    if any(groups[0] for groups in _ENTITY_SLOT.findall(text)) or _people_who_end_up(text):
        return AnswerType.TWO_VALUED  # "which customers will cancel" asks yes or no of each
    return AnswerType.UNKNOWN


def stem(word: str) -> str:
    """A light stemmer: enough to match 'survived' with 'Survived' and 'sales' with 'sale'."""
    word = word.lower().strip("'")
    word = word.removesuffix("'s")
    for suffix, keep in (
        ("ies", "y"),
        ("ied", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
        ("e", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


_QUANTITY_STEMS = frozenset(stem(w) for w in QUANTITY_NOUNS)


@dataclass
class Brief:
    """The brief, read: outcome words as weighted stems, input words apart, the answer type."""

    text: str = ""
    outcome: str = ""  # the outcome phrases, lowercased, joined by " | "
    inputs: str = ""  # the input phrases, lowercased
    weights: dict[str, float] = field(default_factory=dict)  # outcome stem -> weight
    originals: dict[str, str] = field(default_factory=dict)  # stem -> the word as written
    input_stems: set[str] = field(default_factory=set)
    # input words that qualify the next word ('headache' in "headache type"): they name
    # another thing than themselves, so they do not list their own column as an input
    input_modifiers: set[str] = field(default_factory=set)
    # the input words as written, less those someone else owns ("his parents' education")
    input_words: list[str] = field(default_factory=list)
    outcome_words: list[str] = field(default_factory=list)  # in order, lowercased, all words
    acronyms: set[str] = field(default_factory=set)  # of capitalised words: 'Minute Maid' → mm
    word_initials: set[str] = field(default_factory=set)  # of any 2-3 words: 'orange juice' → oj
    negated: set[str] = field(default_factory=set)  # stems of verbs the brief negates
    answer: AnswerType = AnswerType.UNKNOWN
    years: set[str] = field(default_factory=set)  # years said, as two digits: "in 1980" → 80
    # "the bill each month": the adjectives of the periods a sum is taken over ('monthly');
    # a name's word, said exactly, and no root of the 'month' column
    periodic: set[str] = field(default_factory=set)
    # numbers of 2-4 digits the outcome says ("days over 90 degrees in 2018" → 90, 2018)
    numbers: set[str] = field(default_factory=set)
    hedged: bool = False  # "or maybe ..., no wait": the user is not sure what to predict

    _whole: Brief | None = field(default=None, repr=False)

    @classmethod
    def read(cls, brief: str, split: bool = True) -> Brief:
        text = _KEY_WORD.sub(_unslipped, " ".join(str(brief or "")[:MAX_BRIEF_CHARS].split()))
        # the verbs first: "makes a year" is what one earns before "a year" is set aside
        outcome, inputs = text, ""
        for pattern, meaning in PHRASAL_VERBS:
            outcome = pattern.sub(lambda found, m=meaning: f"{found.group(0)} {m}", outcome)
        # "the bill each month" asks the monthly bill, though "each month" is set aside below
        said = split_outcome_and_inputs(outcome)[0] if split else outcome
        periods = _PERIOD.findall(said)
        # "in a year when the SOI is negative", "if mom smokes": what a condition names is
        # known when predicting, an input (read before "in a year" is set aside as a time)
        conditions = [w for found in _condition_clauses(said)
                      for w in WORD.findall(found.group(0).lower())[1:]]
        # "next month" says when, not what: it must not point at a 'months' column
        outcome = _TIME_HORIZON.sub(" ", _COUNT_OF_TIMES.sub(_how_often, outcome))
        if split:
            outcome, inputs = split_outcome_and_inputs(outcome)
        out = cls(text=text, outcome=outcome.lower(), inputs=inputs.lower())
        entities = {
            w
            for groups in (_ENTITY_SLOT.findall(outcome) + _people_who_end_up(outcome)
                           + _places_in(outcome))
            for w in WORD.findall(" ".join(groups).lower())
            if not (len(w) >= 4 and w.endswith("ed"))  # "which passengers *died*": the outcome
        } - STOPWORDS
        heads, focus = _heads(outcome), _focus(outcome, entities)
        subject, verbs, tail = subject_and_verb(outcome)
        # "how many trials did the child get right": the verb says which trials are counted
        counted = verbs and _HOW_MUCH_OF.search(outcome)
        units, measures = _measure_words(outcome)
        compound_heads = _compound_heads(outcome, measures)
        counted_nouns = _counted_words(outcome)
        about = _feeling_object(outcome) | _stimulus(outcome)
        # words that say which table, under what condition, or set the scene: not the what
        set_aside = (_data_names(outcome) | _conditions(outcome) | _background(outcome)
                     | _events_after(outcome))
        # "the raw close, not the adjusted one": what is set aside weighs nothing
        ruled_out = _positions_within(outcome, _NOT_THIS.finditer(outcome), group=1)
        light = _ending_up(outcome) | ruled_out
        previous_weight = 0.0
        raw_words = WORD.findall(outcome)
        for i, raw in enumerate(raw_words):
            lowered = raw.lower().strip("'").removesuffix("'s")
            out.outcome_words.append(lowered)
            if lowered in STOPWORDS or len(lowered) < 2 or raw == "us" or i in light:
                continue  # 'leave us'; 'the US'
            key = stem(lowered)
            # "the voter's view": a possessive names whose, not what; "Tobin's q", "Cohen's
            # d": before a single letter, it is the name of the quantity asked
            possessive = raw.lower().endswith("'s")
            following = raw_words[i + 1] if i + 1 < len(raw_words) else ""
            named_by = possessive and len(following) == 1 and following.isalpha()
            entity = lowered in ENTITY_WORDS or lowered in entities or i in subject or possessive
            entity = entity and not (i in focus and i in counted_nouns) and not named_by
            weight = ENTITY_WEIGHT if entity else 1.0
            if i in verbs:
                # "what does a subscription *cost*": the verb is asked
                weight = COUNTING_VERB_WEIGHT if counted else FOCUS_WEIGHT
            elif i in tail:
                weight = CONTEXT_WEIGHT
            elif i in heads and i in focus and counted:
                weight *= COUNTED_WEIGHT
            elif i in heads:
                weight *= FOCUS_WEIGHT if i in focus else 1.0 if not focus else CONTEXT_WEIGHT
            elif i in focus:
                weight *= FOCUS_MODIFIER_WEIGHT
            else:  # a modifier outside the phrase asked about is context too
                weight *= MODIFIER_WEIGHT * (CONTEXT_WEIGHT if focus else 1.0)
            if i - 2 in measures or i - 2 in units:
                weight = max(weight, previous_weight)  # the thing measured weighs as much
            if i in compound_heads:
                # "the number of murder arrests" counts arrests, or murders: the compound's
                # last noun weighs as much as its first ("vacant seats" may be 'vac')
                weight = max(weight, previous_weight)
            if i in measures or i in units:
                previous_weight = weight
            if i in units:
                weight *= MEASURE_WEIGHT  # "years of schooling": schooling is the thing
            if i in about:
                weight = min(weight, CONTEXT_WEIGHT)  # "happy *with their salary*"
            if i in set_aside:
                weight = min(weight, ENTITY_WEIGHT)  # "in this *congress* table", "on *diet* 3"
            if named_by:
                weight = max(weight, 1.0)
            out.weights[key] = max(out.weights.get(key, 0.0), weight)
            out.originals.setdefault(key, lowered)
        out.input_stems = {
            stem(w) for w in WORD.findall(inputs.lower()) if w not in STOPWORDS and len(w) > 1
        }
        out.input_stems |= {stem(w) for w in conditions if w not in STOPWORDS and len(w) > 1}
        out.input_modifiers = _modifiers(inputs.lower()) & out.input_stems
        possessed = set(_POSSESSED.findall(out.inputs))
        out.input_words = [w for w in WORD.findall(out.inputs) if w not in STOPWORDS | possessed]
        implied = [HOW_ADJECTIVE_NOUNS[a.lower()] for a in _HOW_ADJECTIVE.findall(outcome)
                   # "how many seconds does it take" asks how long, not a count of things
                   if not (a.lower() == "many" and _HOW_MANY_UNITS.search(outcome))]
        wh = _WH_QUESTION.search(outcome)
        if wh:
            implied.append(_WH_NOUNS[wh.group(1).lower()])
        if _HOW_MANY_UNITS.search(outcome):
            implied.append(HOW_ADJECTIVE_NOUNS["long"])  # "how many months until ...": how long
        out.periodic = {a for p in periods for a in PERIOD_ADJECTIVES[p.lower()].split()}
        if _BY_HOW_MUCH.search(outcome):
            implied.append("margin difference")  # "by how many points did she win"
        if _PER_NUMBER.search(outcome):
            implied.append("rate")  # "killings per 10,000 residents" asks for a rate
        for noun in " ".join(implied).split():
            key = stem(noun)
            out.weights[key] = max(out.weights.get(key, 0.0), IMPLIED_WEIGHT)
            out.originals.setdefault(key, noun)
            out.outcome_words += ["|", noun]
        # "predict growth, but growth must not be the target": no word of it names the target
        for found in _RULED_OUT_WORD.finditer(text):
            key = stem((found.group(1) or found.group(2)).lower())
            out.weights.pop(key, None)
            out.originals.pop(key, None)
        out.negated = {stem(found) for found in _NEGATED.findall(outcome)} & set(out.weights)
        out.acronyms = _capital_acronyms(text)
        out.word_initials = _word_initials(text)
        # "growth from 1960 income": a year among the inputs says which input
        out.years = {found[-2:] for found in _YEAR.findall(outcome)}
        out.numbers = set(_NUMBER.findall(outcome))
        # "... given the number of kids" does not make the question a "how many"
        out.answer = answer_type(outcome.replace(" | ", ". ") + ("?" if text.endswith("?") else ""))
        out.hedged = bool(_HEDGE.search(text))
        focus_words = {stem(w.group(0)) for i, w in enumerate(WORD.finditer(outcome)) if i in focus}
        if out.answer is AnswerType.UNKNOWN and focus_words & _QUANTITY_STEMS:
            out.answer = AnswerType.NUMBER  # "predict the average math score" asks for a number
        return out

    @property
    def whole(self) -> Brief:
        """The brief with every phrase read as the outcome (values may be listed anywhere)."""
        if self._whole is None:
            whole = Brief.read(self.text.replace(",", " ,"), split=False) if self.inputs else self
            self._whole = whole
        return self._whole

    def __bool__(self) -> bool:
        return bool(self.weights)


# Words that end a noun phrase rather than continue it ("headache *and* sex").
_PHRASE_BREAKS = words_of(
    "and or nor but of in on at for by with from to as than the a an their his her its our "
    "your this that these those is are was were be will would whether"
)


def _modifiers(text: str) -> set[str]:
    """Stems of the words directly followed (no comma) by another word of the same noun
    phrase: 'headache' and 'air' in "air quality, medication and headache type"."""
    found = list(WORD.finditer(text))
    return {
        stem(word.group(0))
        for word, after in pairwise(found)
        if not text[word.end() : after.start()].strip()
        and after.group(0) not in _PHRASE_BREAKS
        and word.group(0) not in STOPWORDS
    }


def _heads(text: str) -> set[int]:
    """Positions (in `WORD.findall(text)`) of the last content word of each run of content
    words: the heads of the noun phrases, as in 'child car *seats*' or 'sale *price*'."""
    heads, previous = set(), None
    for i, found in enumerate(WORD.finditer(text)):
        word = found.group(0).lower().strip("'")
        gap = text[previous.end() : found.start()] if previous is not None else ""
        if (word in STOPWORDS or len(word) < 2) and not _hyphened(text, found):
            previous = None
            continue
        if previous is not None and not gap.strip(" -") and word not in COMMON_VERBS:
            heads.discard(i - 1)  # the run goes on: the word before qualifies this one
        heads.add(i)
        previous = None if word in COMMON_VERBS else found
    return heads


_POSSESSED = re.compile(r"\b[^\W\d_]+(?:'s|s')\s+([^\W\d_]+)")  # "parents' *education*"
# "this congress table", "our churn data": words that say which table, not what to predict
_DATA_NAME = re.compile(
    r"\b(?:this|the|our|my|that|your)\s+((?:[^\W\d_]+\s+){1,2}?)"
    r"(?:table|data|dataset|data set|file|spreadsheet|sheet|csv|extract)\b",
    re.IGNORECASE,
)


def _data_names(text: str) -> set[int]:
    """Positions (in `WORD.findall(text)`) of the words naming the table itself."""
    return _positions_within(text, _DATA_NAME.finditer(text), group=1)


# "by how many points did the Democrat win or lose": the margin
_BY_HOW_MUCH = re.compile(r"\bby how (?:many|much)\b(?=.*\b(?:w[oi]n|lose|lost|lead|beat|trail))",
                          re.IGNORECASE)
_PER_NUMBER = re.compile(r"\bper\s+\d[\d,.]*k?\b", re.IGNORECASE)
# "per month", "a year", "each week": how often a sum is taken ('monthly_charges')
_PERIOD = re.compile(r"\b(?:per|an?|each|every)\s+(hour|day|week|month|year)\b", re.IGNORECASE)
PERIOD_ADJECTIVES = {"hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly",
                     "year": "annual yearly"}
# a number a column name may carry ('dx90_2018'), not a decimal's parts nor a money sum
_NUMBER = re.compile(r"(?<![\w.,$£€])\d{2,4}(?![\d,]|\.\d)")
# "in 1980", "back in '78": a year, which a column name may carry as two digits ('lw80');
# not a decimal ("1985.5"), though a full stop may end the sentence ("in 1985.")
_YEAR = re.compile(r"(?<![\w.])(?:(?:19|20)\d{2}|'\d{2})(?!\w|\.\d)")


# A sentence with one of these words asks something; one without only sets the scene.
_ASKING = TASK_VERBS | words_of(
    "what how which where when who whether will would does did is are can could should "
    "predicts predicted model build train flag want need know tell"
)


def _background(text: str) -> set[int]:
    """Positions of the words of sentences that ask nothing ("Channing House is a retirement
    community in Palo Alto."), when another sentence asks: they set the scene."""
    parts = text.split(" | ")
    asks = [bool(set(WORD.findall(p.lower())) & _ASKING) or p.rstrip().endswith("?") for p in parts]
    if len(parts) < 2 or not any(asks):
        return set()
    out, start = set(), 0
    for part, asking in zip(parts, asks):
        count = len(WORD.findall(part))
        if not asking:
            out.update(range(start, start + count))
        start += count
    return out


_CONDITION_PREPOSITIONS = words_of("on at by in under after before during with for")


def _conditions(text: str) -> set[int]:
    """Positions of a word and the number after it that state a condition, not the outcome:
    "how heavy will a chick be by *day 21* on *diet 3*", and of the word after 'a given'."""
    found = [w.group(0).lower() for w in WORD.finditer(text)]
    numbered = {
        j for i in range(1, len(found) - 1)
        if found[i - 1] in _CONDITION_PREPOSITIONS and found[i + 1].isdigit()
        and not found[i].isdigit()
        for j in (i, i + 1)
    }
    # "by a given *week*", "patients of a given *age and sex*": whichever it is, not what
    chosen = _positions_within(text, _A_GIVEN.finditer(text), group=1)
    # "the chance a child wheezes *if mom smokes*": the condition, not the outcome ("predict
    # if each senator voted yea" asks whether)
    supposed = _positions_within(text, _condition_clauses(text), group=None)
    return numbered | chosen | supposed


_A_GIVEN = re.compile(  # "in a given country-year"
    r"\b(?:a|any|the)\s+given\s+([^\W\d_]+(?:-[^\W\d_]+)*(?:\s+(?:and|or)\s+[^\W\d_]+)*)",
    re.IGNORECASE)


_CONDITION_CLAUSE = re.compile(
    r"\b(?:if|unless|provided)\s+([^,.;?!|]+)|"
    # "the fatality rate for a state *that has an open container law*": which state
    r"\bfor\s+(?:an?|each|every|any)\s+[^\W\d_]+\s+(?:who|that|with)\s+([^,.;?!|]+)|"
    # "the average temperature in a year *when the SOI is strongly negative*": which years
    # ("how much will it hurt when the patient moves" says what is asked: no time before it)
    r"\b(?:year|day|month|week|season|night|quarter|period)s?\s+when\s+([^,.;?!|]+)",
    re.IGNORECASE)
_TOLD = words_of("me us him her them")
_TELLING = words_of("predict predicts tell know see check say determine guess out find ask "
                    "wonder decide estimate forecast classify flag show and or")


_AS_TARGET = r"(?:the\s+)?(?:target|outcome|label|what\s+(?:the\s+model|it|we)\s+predicts?)"


def ruling_out(name: str) -> str:
    """A pattern of a sentence that rules `name` (a pattern) out as the target: "growth
    must not be the target", "I don't want trail_pe to be what the model predicts"."""
    return (rf"\b{name}\s+(?:must|should|can|may|is)(?:\s+not|n't)\s+(?:be\s+)?{_AS_TARGET}|"
            rf"\b(?:do\s+not|don't|dont|never)\s+(?:want|let|make|have|use|pick|take)\s+"
            rf"(?:the\s+)?{name}\s+(?:column\s+)?(?:to\s+)?(?:be\s+|as\s+)?{_AS_TARGET}")


_RULED_OUT_WORD = re.compile(ruling_out(r"([^\W\d_]+)"), re.IGNORECASE)


def _condition_clauses(text: str) -> list[re.Match]:
    """The clauses that state a condition ("predict if each senator voted yea" asks whether)."""
    return [found for found in _CONDITION_CLAUSE.finditer(text)
            if found.group(1) is None or not _asks_whether(text[: found.start()])]


def without_conditions(text: str) -> str:
    """The text with its condition clauses blanked out ("in a year when the SOI is
    negative", "if mom smokes"): what they say picks the rows, not the outcome."""
    for found in reversed(_condition_clauses(text)):
        text = text[: found.start()] + " " * (found.end() - found.start()) + text[found.end():]
    return text


def _asks_whether(before: str) -> bool:
    """Whether an 'if' after this text means 'whether' ("predict if", "tell us if", "1 if")."""
    words = WORD.findall(before.lower())
    while words and words[-1] in _TOLD:  # "tell me if", "let us know if"
        words.pop()
    return not words or words[-1] in _TELLING or words[-1].isdigit()


_EVENT_AFTER = re.compile(
    r"\b(?:after|before|following)\s+(?:the\s+)?([^\W\d_]+)(?=\s*(?:[|?.!,]|$))", re.IGNORECASE)


def _events_after(text: str) -> set[int]:
    """Positions of the event a clause ends on, after "after" or "before": "the liver test
    results after *dosing*" says when, not what."""
    starts = [w.start() for w in WORD.finditer(text)]
    return {starts.index(found.start(1)) for found in _EVENT_AFTER.finditer(text)
            if found.start(1) in starts}


_ENDS_UP = re.compile(
    r"\bwhich\s+((?:[^\W\d_]+\s+){0,2}?([^\W\d_]+))\s+"
    r"(?:end|ends|ended|wind|winds|wound|turn|turns|turned|go|goes|went)\s+(?:up|out|on)\b"
    r"(?!\s+(?:in|at|on|as|the|a|an|top|first|last|winning)\b)",
    re.IGNORECASE,
)


_IN_A_PLACE = re.compile(r"\bin an?\s+([^\W\d_]+)(?!-)", re.IGNORECASE)
_IS_IT_IN = re.compile(r"^\W*(?:is|are|was|were|will)\b", re.IGNORECASE)


def _places_in(text: str) -> list[tuple[str]]:
    """"the unemployment rate in a state": where, not what; but "is the county in a metro
    area?" asks just that."""
    return [] if _IS_IT_IN.match(text) else [(w,) for w in _IN_A_PLACE.findall(text)]


_END_UP_WITH = re.compile(r"\b(?:end|ends|ended|ending|wind|winds|wound)\s+up\b"
                         r"(?=\s+(?:with|having|being|getting|as)\b)", re.IGNORECASE)


def _ending_up(text: str) -> set[int]:
    """Positions of "end up" in "which mothers end up with a serious adverse event": a way
    of saying 'have', not the outcome ('Preg.ended')."""
    return _positions_within(text, _END_UP_WITH.finditer(text))


def _positions_within(text: str, matches, group: int | None = 0) -> set[int]:
    """Word positions (as `WORD` counts them) inside these matches, or inside their `group`
    (None: whichever group of an alternation matched)."""
    spans = [found.span(found.lastindex if group is None else group) for found in matches]
    return {i for i, word in enumerate(WORD.finditer(text))
            if any(start <= word.start() < end for start, end in spans)}


def _people_who_end_up(text: str) -> list[tuple[str]]:
    """"Which transplant patients end up with ...", "which eyes end up going blind": who;
    "which brand ends up in the basket" asks for the brand."""
    return [(found.group(1),) for found in _ENDS_UP.finditer(text)]


# The words that carry a brief's structure; a slip in one ("wheter") would hide the question.
KEY_WORDS = ("whether", "which", "predict", "estimate", "forecast", "classify", "probability")
_KEY_WORD = re.compile(r"\b[^\W\d_]{4,}\b")


def _unslipped(found: re.Match) -> str:
    word = found.group(0)
    fixed = next((key for key in KEY_WORDS if is_typo_of(word.lower(), key)), None)
    return fixed or word


def _hyphened(text: str, found: re.Match) -> bool:
    """A word joined to the next by a hyphen ('*one*-way price', '*all*-star game') is part
    of a compound, even a word that alone says nothing."""
    after = text[found.end() : found.end() + 2]
    return len(after) == 2 and after[0] == "-" and after[1].isalnum()


_COUNTED_RUN = re.compile(r"\b(?:how many|number of)\s+(?=[^\W\d_])", re.IGNORECASE)


def _counted_words(text: str) -> set[int]:
    """Positions of the words counted: "how many *customers* will churn" counts customers,
    who are then what is asked; "in how many would *each respondent* say ..." counts
    something else, and the respondent stays who."""
    found = list(WORD.finditer(text))
    counted = set()
    for run in _COUNTED_RUN.finditer(text):
        first = next((i for i, w in enumerate(found) if w.start() >= run.end()), None)
        if first is None:
            continue
        counted.add(first)
        # the noun after its modifiers: "how many young *customers*"
        while first + 1 < len(found) and found[first + 1].group(0).lower() not in STOPWORDS \
                and not text[found[first].end():found[first + 1].start()].strip():
            first += 1
            counted.add(first)
    return counted


_FOCUS_TRIGGER = re.compile(
    r"\b(?:predict|forecast|estimate|classify|determine|model of|how (?:much|many)|"
    r"what(?:'s| is| are| will be| would be)?(?: the)?|which|number of|amount of)\b",
    re.IGNORECASE,
)


def _focus(text: str, entities: set[str]) -> set[int]:
    """Positions of the words of the first run of content words after 'predict', 'how many',
    'what is the', 'a model of', ...: the phrase the question is about. A run that only names
    who it is about ('which *customers* will churn') does not count."""
    found = list(WORD.finditer(text))
    runs: list[list[int]] = []
    for i, word in enumerate(found):
        lowered = word.group(0).lower().strip("'")
        if (lowered in STOPWORDS or len(lowered) < 2) and not _hyphened(text, word):
            continue
        gap = text[found[i - 1].end() : word.start()] if i else " x "
        if runs and runs[-1][-1] == i - 1 and not gap.strip(" -'"):
            runs[-1].append(i)
        else:
            runs.append([i])
    for trigger in _FOCUS_TRIGGER.finditer(text):
        for run in runs:
            if found[run[0]].start() < trigger.end():
                continue
            words = {found[i].group(0).lower().strip("'").removesuffix("'s") for i in run}
            counted = trigger.group(0).lower() in ("how many", "number of")
            if words <= (ENTITY_WORDS | entities) and not counted:
                continue  # "how many *passengers*" counts them: then they are asked
            return set(run)
    return set()


# "predict birth weight and tell us whether it's low": two requests in one brief
_SECOND_REQUEST = re.compile(
    r"\b(?:and|then|plus)\s+(?:also\s+)?(?:tell|predict|estimate|forecast|classify|say|"
    r"find out|work out|show)\b",
    re.IGNORECASE,
)


def requests_in(text: str) -> list[str]:
    """The brief cut where it starts a second request; one part when it makes one."""
    parts = [p for p in _SECOND_REQUEST.split(text) if p.strip()]
    return parts if len(parts) == 2 else [text]


_WH_WORDS = words_of("what how which where when who")
_DO_MODALS = words_of("will would does do did can could should")
_SUBJECT_DETERMINERS = words_of(
    "the a an each every this that these those its their his her your my our"
)
_VERB_STOPS = words_of("be have has had get gets own owns") | COMMON_VERBS
# a question may end in when or where: 'progress in a year', 'gain during pregnancy'
_TAIL_PREPOSITIONS = words_of("for in on at per during over by after before within of")
_GET = words_of("get gets got")
_POSSESSION = words_of("have has had own owns get gets")
MEASURE_WEIGHT = 0.4
# "a share of income" may be the share column; "years of schooling" is the schooling
_MEASURES = words_of(
    "number amount count level rate share percentage proportion fraction degree quantity total"
)
_UNITS = words_of("years months weeks days hours minutes times")


def subject_and_verb(text: str) -> tuple[set[int], set[int], set[int]]:
    """Word positions of the subject and the final verb of questions such as 'what does *a
    library subscription* cost?', 'how many units will *each store* sell?' and 'does *the
    house* have a garage?': the subject says who, the verb (or the object after 'have') what.
    Returns (subject, verbs, tail): the tail is what follows the verb ('*in a year*').
    """
    found = list(WORD.finditer(text))
    subject: set[int] = set()
    verbs: set[int] = set()
    tail: set[int] = set()  # "weigh *after treatment*": when, not what
    start = 0
    for end in [*_clause_breaks(text, found), len(found)]:
        clause = list(range(start, end))
        start = end
        words = [found[i].group(0).lower() for i in clause]
        if _copula_subject(words):
            # "is *the county* in a metro area?": who, then where or what it is
            subject.add(clause[2])
            continue
        for k, word in enumerate(words[:-2]):
            if word not in _DO_MODALS or words[k + 1] not in _SUBJECT_DETERMINERS:
                continue
            asked_wh = any(w in _WH_WORDS for w in words[:k])
            if not asked_wh and k > 0:
                break
            rest = list(range(k + 2, len(words)))
            stop = next((j for j in rest if words[j] in _VERB_STOPS), None)
            if stop is None and asked_wh:
                verb = _final_verb(words, k + 2)
                if verb is not None:
                    stop = verb
                    verbs.add(clause[stop])
                    tail.update(clause[j] for j in range(verb + 1, len(words)))
            elif stop is not None and asked_wh and words[stop] in _GET:
                after = range(stop + 1, len(words))
                if stop + 1 < len(words) and words[stop + 1] in _TAIL_PREPOSITIONS:
                    tail.update(clause[j] for j in after)  # "what grade will she get *in math*"
                else:
                    verbs.update(clause[j] for j in after)  # "get *right*"
            elif stop is not None and not asked_wh and words[stop] not in _POSSESSION | {"be"}:
                stop = None  # "did the firm get ...": no subject to set aside
            elif stop is None and not asked_wh and _subject_then_verb(words, k + 2):
                stop = k + 3  # "will *the eye* lose its sight": who, then what happens
            # "will *the car* be hit with the guzzler tax", "does *the house* have a garage":
            # the subject says who; what is asked comes after the verb
            if stop is not None:
                subject.update(clause[j] for j in range(k + 2, stop))
            break
    return subject, verbs, tail


def _subject_then_verb(words: list[str], first: int) -> bool:
    """'eye lose its sight': a one-word subject, then at least two more content words."""
    content = [w for w in words[first:] if w not in STOPWORDS and len(w) > 1]
    return len(content) >= 3 and words[first] == content[0] and words[first + 1] == content[1]


_COPULAS = words_of("is are was were")
_AFTER_A_SUBJECT = words_of("in from within on at near inside outside under a an")


def _copula_subject(words: list[str]) -> bool:
    """A yes/no question 'is the X in / from / a ...': its one-word subject X says who
    ("is the county in a metro area", "is the car from Japan"), not what is asked."""
    return (len(words) > 4 and words[0] in _COPULAS and words[1] in _SUBJECT_DETERMINERS
            and words[3] in _AFTER_A_SUBJECT)


def _final_verb(words: list[str], first: int) -> int | None:
    """The verb that ends a question's clause, before a trailing 'in a year', 'for',
    'during pregnancy' (a preposition and at most two content words)."""
    end = len(words)
    for j in range(len(words) - 1, first, -1):
        if words[j] in _TAIL_PREPOSITIONS:
            content = [w for w in words[j + 1 :] if w not in STOPWORDS and not w.isdigit()]
            if len(content) <= 2:
                end = j
            break
    verb = end - 1
    while verb > first and (words[verb] in STOPWORDS or words[verb].isdigit()):
        verb -= 1
    return verb if verb > first else None


def _clause_breaks(text: str, found: list) -> list[int]:
    """Positions of the first word after each '.', '?', ',', ';' or '|'."""
    return [
        i
        for i in range(1, len(found))
        if re.search(r"[.?!;,|:]", text[found[i - 1].end() : found[i].start()])
    ]


_PARTICIPLES = words_of("paid sold made held won given taken done seen spent lost")


def _ends_a_compound(word: str) -> bool:
    """A word no compound noun goes on with: a stopword or a past participle ("the amount
    of fuel *paid*")."""
    return word in STOPWORDS or word in _PARTICIPLES or (len(word) > 4 and word.endswith("ed"))


def _compound_heads(text: str, measures: set[int]) -> set[int]:
    """"the number of murder arrests": after a measure and 'of', a run of two or three
    content words is a compound; the positions of their last words, their heads."""
    found = list(WORD.finditer(text))
    heads = set()
    for measure in measures:
        first = end = measure + 2
        if first >= len(found) or _ends_a_compound(found[first].group(0).lower()):
            continue  # "the rate of each county": no compound
        while (end + 1 < len(found) and end + 1 - first < 3
               and not _ends_a_compound(found[end + 1].group(0).lower())
               and not text[found[end].end():found[end + 1].start()].strip()):
            end += 1
        if end > first:
            heads.add(end)
    return heads


def _measure_words(text: str) -> tuple[set[int], set[int]]:
    """Positions of units ('years of schooling') and of other measures ('the number of
    visits') followed by 'of': (units, measures)."""
    found = list(WORD.finditer(text))
    units, measures = set(), set()
    for i in range(len(found) - 2):
        word, after = found[i].group(0).lower(), found[i + 1].group(0).lower()
        if after == "of":
            if word in _UNITS:
                units.add(i)
            elif word in _MEASURES:
                measures.add(i)
    return units, measures


# "(age group + vaccine status as the inputs)": the inputs named before what they are for
_AS_INPUTS_ROLE = r"\s+as\s+(?:the\s+|our\s+)?(?:inputs?|features?|predictors?|covariates?)"
_AS_INPUTS = re.compile(
    rf"\(([^()]+?){_AS_INPUTS_ROLE}\s*\)|,\s*([^,.;:?!|()]+?){_AS_INPUTS_ROLE}\b", re.IGNORECASE)


def split_outcome_and_inputs(text: str) -> tuple[str, str]:
    """Per sentence: words before an input marker (from, given, using, ...) are the outcome,
    words after it, to the end of the sentence or a purpose ("..., so outreach can ..."), are
    inputs. A sentence that starts with the marker ("Using their age, predict churn") has its
    inputs up to the first comma."""
    outcome, inputs = [], []
    for sentence in _SENTENCE_END.split(text):
        named_inputs = [found.group(found.lastindex) for found in _AS_INPUTS.finditer(sentence)]
        sentence = _AS_INPUTS.sub(" ", sentence)
        head, tail = _split_sentence(sentence, after_the_question=any(p.strip() for p in outcome))
        outcome.append(head)
        listed = _PURPOSE.split(tail, maxsplit=1)[0]
        inputs.append(", ".join(p for p in (listed, *named_inputs) if p.strip())
                      if named_inputs else listed)
    return " | ".join(p for p in outcome if p.strip()), " | ".join(p for p in inputs if p.strip())


# "from their demographics, so outreach can go to ...": why, not more inputs
_PURPOSE = re.compile(
    r",?\s+(?:so that|so|because)\s+(?=\w+\s+(?:can|could|will|would|we|they|that)\b)|"
    r",?\s+in order to\b",
    re.IGNORECASE,
)
# "Use age, sex and income.", "We have their age and gender.": a sentence that only lists
# the inputs
_INPUTS_SENTENCE = re.compile(
    r"^\W*(?:use|inputs?|features?|available|we(?: also)? (?:have|know|record|collect)|"
    r"we(?:'ve| have)(?: also)? got|" + _BASE_IT_ON + r")\b\s*:?",
    re.IGNORECASE,
)


# "Fit TW on Seeded, Season and NC", "regress wage on educ", "model the approval rating on
# gas prices": a model's notation, the outcome first and its inputs after 'on'
_FIT_ON = re.compile(r"^\W*(?:fit|regress|model)\s+(?:[^\s,]+\s+){1,4}?on\s+(?=\S)", re.IGNORECASE)


def _split_sentence(sentence: str, after_the_question: bool = False) -> tuple[str, str]:
    """(outcome, inputs) of one sentence. `after_the_question`: an earlier sentence said
    something else, so one that opens with a marker ("Go off how heavy it is and its best
    sprint.") lists inputs, even with no comma or task verb."""
    fit = _FIT_ON.match(sentence)
    if fit:
        return sentence[: fit.end()].rstrip()[: -len("on")], sentence[fit.end():]
    listed = _INPUTS_SENTENCE.match(sentence)
    if listed and not words_of(sentence.lower()) & (TASK_VERBS | {"target", "to"}):
        return "", sentence[listed.end() :]
    for match in _INPUT_MARKER.finditer(sentence):
        before, after = sentence[: match.start()], sentence[match.end() :]
        if _PRONOUN_REQUEST.match(before) and after.strip():
            # "Figure it out from where it was dropped ...": inputs, to a colon at most
            listed, colon, rest = after.partition(":")
            return (before + rest if colon else before), listed
        content_before = [w for w in WORD.findall(before) if w.lower() not in STOPWORDS]
        if not content_before:
            if "," in after:  # "Given their age and income, will they default?"
                return _inputs_first(before, after)
            if words_of(before.lower()) & TASK_VERBS and after.strip():
                return before, after  # "... a park? Predict from their age and income."
            if after_the_question and not before.strip() and after.strip():
                return "", after  # "is it a hopper? go off how heavy it is"
            continue
        listed = _PURPOSE.split(after, 1)[0]  # "from demographics, so outreach can ...": listed
        if match.group(0).lower() == "from" and not (_lists_inputs(listed) or listed != after):
            continue  # "a flight from New York will arrive": a place, not inputs
        if match.group(0).lower() in ("vs", "versus") and not (_lists_inputs(listed) or "+" in listed):
            continue  # "lean democrat vs republican", "male vs female": a contrast, not inputs
        if match.group(0).lower().startswith("with ") and _feeling_about(before, after):
            continue  # "how satisfied are developers with their careers": what about
        return before, after
    return sentence, ""


# "Work it out from ...", "predict this using ...": the request points back at the outcome
_PRONOUN_REQUEST = re.compile(
    r"^\W*(?:[^\W\d_]+\s+){1,2}(?:it|this|that|them)(?:\s+out)?\s*$", re.IGNORECASE
)
# "how satisfied", "how happy": an adjective's "with their ..." is what the feeling is about
_HOW_SO = re.compile(r"\bhow (?!much\b|many\b|long\b|often\b)[^\W\d_]+\b", re.IGNORECASE)
_WITH_THEIR = re.compile(r"\bwith (?:their|its|his|her|the)\b", re.IGNORECASE)


def _feeling_object(text: str) -> set[int]:
    """Word positions of what a feeling is about, in "how happy is the professor *with their
    salary*": context to the feeling asked, not the thing asked."""
    found = list(WORD.finditer(text))
    out = set()
    for clause in re.finditer(r"[^.;!?,|]+", text):
        part = clause.group(0)
        with_their = _WITH_THEIR.search(part)
        if with_their and _HOW_SO.search(part[: with_their.start()]):
            start = clause.start() + with_their.end()
            out |= {i for i, w in enumerate(found) if start <= w.start() < clause.end()}
    return out


_RESPONDS_TO = re.compile(r"\b(?:respond|react|reply|answer)(?:s|ed|ing)?\s+(?:\w+\s+)?to\b",
                         re.IGNORECASE)


def _stimulus(text: str) -> set[int]:
    """Word positions of what someone responds to, in "how each visitor responds *to the two
    bids*": context to the answer asked, not the thing asked."""
    found = list(WORD.finditer(text))
    out = set()
    for clause in re.finditer(r"[^.;!?,|]+", text):
        responds = _RESPONDS_TO.search(clause.group(0))
        if responds:
            start = clause.start() + responds.end()
            out |= {i for i, w in enumerate(found) if start <= w.start() < clause.end()}
    return out


def _feeling_about(before: str, after: str) -> bool:
    """After 'how satisfied', 'how happy', one thing after "with their" (not a list of
    inputs) is what the feeling is about."""
    return bool(_HOW_SO.search(before)) and " and " not in after and after.count(",") < 2


_CLAUSE_WORDS = words_of(
    "what which who how whether will would is are does do did can could predict estimate "
    "forecast tell find identify classify guess"
)


_CLAUSE_START = re.compile(
    r"\b(?:" + "|".join(sorted(_CLAUSE_WORDS)) + r"|figure out|work out|flag)\b", re.IGNORECASE
)


def _inputs_first(before: str, after: str) -> tuple[str, str]:
    """'Using education, experience and age, what does a worker earn?': the input list runs
    over the commas until a part that starts a clause."""
    parts = after.split(",")
    for i, part in enumerate(parts[1:], start=1):
        clause = _CLAUSE_START.search(part)
        if clause and not part[: clause.start()].strip():
            return before + ",".join(parts[i:]), ",".join(parts[:i])
        if clause and _listed_whether(part, clause, parts[i + 1:]):
            continue  # "based on brand and whether it's NVMe, estimate ...": an input item
        if clause:
            # "from humidity, temperature and tree cover figure out whether ...": the
            # list's last item runs up to the clause
            inputs = ",".join([*parts[:i], part[: clause.start()]]).rstrip(" ,")
            return before + ",".join([part[clause.start():], *parts[i + 1:]]), inputs
    return before, after  # "Predict from the class, displacement and mileage."


def _listed_whether(part: str, clause: re.Match, rest: list[str]) -> bool:
    """'... form factor and whether it's NVMe' before a part that starts the request: the
    'whether' clause is the list's last item, not the question."""
    return (clause.group(0).lower() == "whether"
            and re.search(r"\b(?:and|or)\s*$", part[: clause.start()]) is not None
            and any(_CLAUSE_START.match(later.strip()) for later in rest))


def _lists_inputs(after: str) -> bool:
    """After a bare 'from': a determiner or a list of things, and no verb of the outcome
    before the list ('from distance, petrol price and whether the law was in force' lists
    inputs; 'from New York will arrive late' does not)."""
    words = [w.lower() for w in WORD.findall(after)]
    first_item = WORD.findall(after.split(",")[0].lower())
    if not words or any(w in _MODALS for w in first_item):
        return False
    return words[0] in _DETERMINERS or "," in after or " and " in f" {after.lower()} "


def _capital_acronyms(text: str) -> set[str]:
    """Initials of runs of capitalised words: 'Citrus Hill' → 'ch', 'Minute Maid' → 'mm'."""
    capitals = re.findall(r"[A-Za-z]+|[^A-Za-z\s]+", text)
    out = set()
    for size in (2, 3):
        for i in range(len(capitals) - size + 1):
            window = capitals[i : i + size]
            if all(w[:1].isupper() and w.isalpha() for w in window):
                out.add("".join(w[0] for w in window).lower())
    return out


def _word_initials(text: str) -> set[str]:
    """Initials of each run of two or three content words: 'orange juice' → 'oj'."""
    words = [w.lower() for w in WORD.findall(text)]
    out = set()
    for size in (2, 3):
        for i in range(len(words) - size + 1):
            window = words[i : i + size]
            if not any(w in STOPWORDS or w.isdigit() for w in window):
                out.add("".join(w[0] for w in window))
    return out
