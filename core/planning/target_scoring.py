"""Which column a brief asks to predict: every column scored, how sure the best one is, and
the runner-up.

The evidence, strongest first: the brief names the column outright ("Predict wage.",
"'Sale_Price'"), which always wins; the outcome phrase's words match the column's name
(after expanding it, see `core.planning.column_names`); the outcome phrase spells the
column's values ("up or down"); the kind of answer asked for fits the column's values; and,
when nothing in the outcome phrase names a column, a column named like a target (`target`,
`class`, `y`, ...). A column the input phrases list ("from age and income") is an input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from core.planning.brief import (
    STOPWORDS,
    TASK_VERBS,
    WORD,
    AnswerType,
    Brief,
    ruling_out,
    split_outcome_and_inputs,
    stem,
    without_conditions,
    words_of,
)
from core.planning.column_names import (
    _CAMEL,
    _GLUE_WORDS,
    _NOT_A_LABEL,
    ABBREVIATIONS,
    ORDINALS,
    STRONG_CUES,
    VOCABULARY,
    _abbreviates,
    expand_word,
    index_words,
    initials,
    is_sibling_of,
    mentioned_values,
    name_words,
    offered_by_initials,
    same_root,
    spoken_name,
    word_cue,
)
from core.planning.semantic import is_known_word, similarity
from core.profile import ID_WORDS, is_id_like_name
from core.spec import ColumnProfile, ColumnRole, DataProfile, TargetCandidate

MIN_TARGET_SCORE = 0.45
# The best column must beat the runner-up clearly; at this ratio the confidence is 0.5.
AMBIGUITY_RATIO = 0.85
ASK_BELOW = 0.5  # confidence under which the planner asks instead of guessing
# Caps on the confidence by the kind of evidence (set from the dev half's reliability table,
# `python -m bench.brief_accuracy --reliability`): what the brief says outright may be
# certain; a likeness, or a prior, is a guess of known worth; a lone loose likeness is asked.
EVIDENCE_CAPS = {
    "named": 1.0,
    "all values": 1.0,
    "words, whole name": 1.0,
    "words, part of name": 0.8,
    "likeness, whole name": 0.8,
    "some values": 0.8,
    "prior": 0.7,  # a column named 'target' is a good guess, not a certainty
    "weak prior": 0.6,  # 'type', 'status', the only yes/no column
    "meaning": 0.6,  # only the word vectors' likeness (`core.planning.semantic`) carries it
    "likeness, part of name": 0.45,  # below ASK_BELOW: asked, never acted on
}
MAX_CANDIDATES = 5
NAMED_REASON = "the brief names the column"  # how a named column's reasons start

VALUE_MATCH, MAX_VALUE_BONUS, ALL_VALUES = 0.5, 0.8, 1.2
YES_NO_PRIOR = 0.5  # the only yes/no column, when the brief asks yes or no and names none
GENERIC_TARGET_SCORE = 0.55
ANSWER_FIT_BONUS, ANSWER_MISFIT = 0.15, 0.6
INPUT_PENALTY = 0.4  # a column the input phrases list is rarely the outcome
MISSING_TARGET_WEIGHT = 0.5
UNUSABLE_PENALTY = 0.3
# The word-vector cue (`core.planning.semantic`): a column whose name means what an outcome
# word says, without sharing it ("pregnancy" ~ 'gestation'), gains up to SEMANTIC_WEIGHT,
# linearly from cosine SEMANTIC_FLOOR to 1. Weak on purpose: where the rules found a column
# it only breaks ties; where it makes the candidate, that must lead its runner-up widely, or
# the planner asks. Measured on fresh dev batches (bench/briefs/README.md): a small gain, no
# more confidently wrong answers. SEMANTIC_CUE = False switches it off.
SEMANTIC_CUE = True
SEMANTIC_WEIGHT, SEMANTIC_FLOOR, SEMANTIC_TIE_SHARE = 0.9, 0.3, 0.1
SEMANTIC_VALUE_SHARE = 0.8  # a likeness to its values says less than one to its name
SEMANTIC_RATIO = 0.7  # the runner-up's share, at most, when the cue made the candidate

GENERIC_TARGET_NAMES = {
    "target",
    "label",
    "labels",
    "outcome",
    "y",
    "response",
    "dependent",
    "ground truth",
    "truth",
    "yesno",
    "yes no",
}
# Also names of real attributes (a vehicle's class): a prior only when the question asks for
# classes or yes/no.
WEAK_GENERIC_NAMES = {"class", "type", "result", "goal", "answer", "category", "status"}
_QUOTES = "'\"`‘’“”"
_NAMING_WORDS = r"(?:the |a |an |its |their |each |every |column |variable |field |target )*"


@dataclass
class Match:
    column: ColumnProfile
    score: float
    reasons: list[str] = field(default_factory=list)
    unpenalised: float = 0.0
    named: bool = False  # the brief names the column outright
    generic: bool = False  # only its target-like name speaks for it
    cues: set[str] = field(default_factory=set)  # kinds of cue behind it, see `evidence_of`
    coverage: float = 0.0  # share of the name's words the brief's outcome words match
    meaning: float = 0.0  # the word-vector cue's bonus (`_semantic_cue`), before weighing
    meaning_of: str = ""  # the brief's words it comes from
    by_meaning: bool = False  # the word-vector cue, not the rules, made it a candidate
    misfit: bool = False  # its values cannot answer the question ("how many?" of yes/no)

    def candidate(self) -> TargetCandidate:
        return TargetCandidate(
            column=self.column.name, score=self.score, why="; ".join(self.reasons)
        )


# --------------------------------------------------------------------------- named outright


def _normalised(text: str) -> str:
    """The brief spelled like `spoken_name` spells columns: 'Sale_Price' → 'sale price'."""
    return re.sub(r"(?<=\w)[_.\-](?=\w)", " ", _CAMEL.sub(" ", text)).lower()


def named_columns(brief: Brief, profile: DataProfile) -> list[str]:
    """Columns the brief names outright: quoted, or right after a verb such as predict /
    forecast / estimate ("Predict wage.", "estimate the Sale_Price of ..."), or "the X column".
    Of names that overlap ('price', 'sale price'), the longest counts."""
    text = _normalised(brief.text)
    verbs = "|".join(sorted(TASK_VERBS))
    spans: list[tuple[int, int, str]] = []
    for col in profile.column_profiles:
        spoken = spoken_name(col.name)
        if not spoken:
            continue
        name = r"\s+".join(re.escape(w) for w in spoken.split())
        quoted = rf"[{_QUOTES}]{name}[{_QUOTES}]"
        after_verb = rf"\b(?:{verbs})\s+{_NAMING_WORDS}({name})(?![\w])"
        as_column = (rf"\b(?:the\s+)?({name})\s+(?:column|variable|field)\b|\btarget\s*(?:is|:|=)\s*({name})\b"
                     # "use id as the target", "RootDryMass as the response"
                     rf"|\b({name})\s+as\s+(?:the\s+|our\s+)?(?:target|outcome|label|response)\b")
        formula = rf"(?:^|[\s(])({name})\s*~"  # R's 'visits ~ age + income'
        # "y from year, quarter and delay": a terse brief that opens with the name
        opening = rf"^\s*({name})\s+(?:from|given|using|based\s+on|vs\.?|versus|against)\s"
        for pattern in (quoted, after_verb, as_column, formula, opening):
            for found in re.finditer(pattern, text):
                start, end = found.span(found.lastindex or 0)
                if pattern is after_verb and not _ends_the_phrase(text[end:]):
                    continue  # "predict flight delays": 'flight' describes the delays
                spans.append((start, end, col.name))
    longest = [
        s
        for s in spans
        if not any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in spans)
    ]
    named = list(dict.fromkeys(name for _, _, name in longest))
    as_is = _written_as_is(brief, profile)
    # several names copied into the outcome are inputs listed without a marker ("mpg with
    # cyl_n and disp_cc"): then none is named by being copied
    return named or (as_is if len(as_is) == 1 else [])


_CODE_LIKE = re.compile(r"[a-z][A-Z]|[A-Za-z][_.][A-Za-z0-9]|[A-Za-z]\d|^[A-Z]{3,}$")


def _written_as_is(brief: Brief, profile: DataProfile) -> list[str]:
    """"RateBeds from NumHospitals and SSBRate", "RootDryMass as the response": a name that
    no sentence would spell that way (glued capitals, underscores, dots, digits), copied
    exactly into the outcome phrase, names its column."""
    # "the temperature in a year when the SOI is negative": a name in a condition picks rows
    outcome = without_conditions(split_outcome_and_inputs(brief.text)[0])
    # "whether a car is a Mazda6, an Accord or a Maxima": the name of a dummy that is also
    # another column's value is that value
    values = {str(v) for col in profile.column_profiles for v, _ in col.top_values}
    return [col.name for col in profile.column_profiles
            if _CODE_LIKE.search(str(col.name)) and str(col.name) not in values
            and re.search(rf"(?<![\w.]){re.escape(str(col.name))}(?![\w.])", outcome)]


def rivals_of_named(brief: Brief, named: str, profile: DataProfile) -> list[str]:
    """Columns the brief sets against the one it names ("predict income or balance",
    "Balance but not Balance"): then the brief is contradictory and the planner asks. Only
    the outcome phrases count: "given medication and headache type" lists two inputs."""
    text = _normalised(brief.outcome)
    spoken = {
        c.name: r"\s+".join(map(re.escape, spoken_name(c.name).split()))
        for c in profile.column_profiles
    }
    own = spoken.get(named)
    if not own:
        return []
    if re.search(rf"\b(?:not|never)\s+(?:the\s+)?{own}\b", text) or \
            _ruled_out_as_target(own, _normalised(brief.text)):
        return [named]
    joined = r"\s+(?:or|and|nor|but not|and also|or maybe)\s+(?:the\s+|a\s+|its\s+)?"
    return [
        other
        for other, name in spoken.items()
        if other != named
        and name
        and re.search(rf"\b{own}{joined}{name}\b|\b{name}{joined}{own}\b", text)
    ]


def _ruled_out_as_target(own: str, text: str) -> bool:
    """"Predict Price, but Price must not be the target, keep it as a feature", "I don't
    want trail_pe to be what the model predicts": the named column is also ruled out."""
    return bool(re.search(ruling_out(own), text) or re.search(
        rf"\b{own}\b.{{0,40}}\bkeep\s+(?:it|{own})\s+as\s+(?:a|an)\s+(?:feature|input|predictor)",
        text))


def _ends_the_phrase(rest: str) -> bool:
    if re.match(r"['’]s\b", rest):
        return False  # "predict the judge's decision": the decision, not the judge
    following = WORD.findall(rest[:40])
    return (
        not following
        or not rest.lstrip()[:1].isalnum()
        or following[0] in STOPWORDS
        or (following[0] in {"given", "using", "based", "from", "with", "according"})
    )


# --------------------------------------------------------------------------- scoring


def score_columns(brief: Brief, profile: DataProfile) -> list[Match]:
    """Every column that could be the target, with its score against the brief, best first."""
    named = set(named_columns(brief, profile))
    words_of_columns = {col.name: _column_words(col, brief) for col in profile.column_profiles}
    listed = {col.name: _listed_words(words_of_columns, col.name, brief)
              for col in profile.column_profiles}
    # the input phrases list columns (not only the answers: "is the car from the USA, Europe
    # or Japan?")
    lists_columns = any(listed.values())
    scored = []
    for col in profile.column_profiles:
        match = _score(col, words_of_columns[col.name], listed[col.name], brief, lists_columns)
        if col.name in named:
            match.named = True
            match.score = max(match.score, 1.0) + 1.0
            match.reasons.insert(0, f"{NAMED_REASON} '{col.name}'")
        scored.append(match)
    matches = [m for m in scored if m.score]
    for match in matches:
        _finish(match, brief)
    if not any(m.score >= MIN_TARGET_SCORE and answer_fit(m.column, brief.answer) >= 1 for m in matches):
        # nothing that fits the question matches its words: the priors may speak
        generic = _generic_matches(brief, profile, {m.column.name for m in matches})
        for match in generic:
            _finish(match, brief)
        if generic and generic[0].reasons[0] == _YES_NO_REASON:
            _cap_yes_no_prior(generic, matches)
            # weak words behind a yes/no column add to the prior, so that column leads
            for match in matches:
                if _is_yes_no(match.column) and not _listed_as_input(match.column, brief):
                    match.score = round(match.score + YES_NO_PRIOR, 4)
                    match.reasons.append(_YES_NO_REASON)
        matches += generic
    matches += _weigh_meaning(scored, matches, brief)
    _prefer_the_said_qualifier(matches, words_of_columns)
    _prefer_the_said_year(matches, brief)
    for match in _numbers_said(profile, matches, brief):
        _finish(match, brief)
        matches.append(match)
    _avoid_the_listed_qualifier(matches, brief)
    _avoid_the_unsaid_lag(matches, brief)
    return sorted(matches, key=lambda m: (-m.named, -m.score))


SIBLING_SHARE = 0.7  # a bare or otherwise-qualified sibling of the column whose qualifier is said


def _prefer_the_said_qualifier(matches: list[Match], words_of_columns: dict[str, list[str]]) -> None:
    """"How many hours does the husband work": of 'hours' (hers) and 'hhours' (his), the
    brief says whose, so the sibling it does not qualify weighs less; so does 'wage' when
    the brief asks for the log wage ('lwage')."""
    # the qualifier said, or the name as initials of the brief's words ('lwage' ← log wage)
    qualified = {"said_qualifier", "initials"}
    said = [m for m in matches if m.cues & qualified and not m.named]
    fuller = [m for m in matches if m.coverage >= 1 and not m.named]
    for sibling in matches:
        if sibling.named or sibling.cues & qualified:
            continue
        if any(is_sibling_of(m.column.name, sibling.column.name) for m in said):
            sibling.score = round(sibling.score * SIBLING_SHARE, 4)
            sibling.reasons.append("but a sibling carries the qualifier the brief says")
        elif any(_says_more_of(m, sibling, words_of_columns) for m in fuller):
            sibling.score = round(sibling.score * SIBLING_SHARE, 4)
            sibling.reasons.append("but a fuller name says more of what the brief asks")


_YEAR_IN_NAME = re.compile(r"(?<!\d)(?:\d{2}|(?:19|20)\d{2})(?!\d)")
YEAR_BONUS = 0.3


def _prefer_the_said_year(matches: list[Match], brief: Brief) -> None:
    """"What will a young man's log wage be in 1980": of 'lw' and 'lw80', which the brief's
    words match alike, the one carrying the year it says is asked; a sibling carrying
    another year, or none, weighs less."""
    if not brief.years:
        return
    def years_of(match: Match) -> set[str]:
        return {found[-2:] for found in _YEAR_IN_NAME.findall(match.column.name)}
    said = [m for m in matches if years_of(m) & brief.years]
    for match in said:
        match.score = round(match.score + YEAR_BONUS, 4)
        years = ", ".join(sorted(years_of(match) & brief.years))
        match.reasons.append(f"its name carries the year the brief says ({years})")
    for sibling in matches:
        if sibling in said or sibling.named:
            continue
        if any(name_words(m.column.name) == name_words(sibling.column.name) for m in said):
            sibling.score = round(sibling.score * SIBLING_SHARE, 4)
            sibling.reasons.append("but a sibling carries the year the brief says")


# 'grant_1', 'lagdemocrat', 'prev_sales': last period's value of another column
_LAG_MARK = re.compile(r"^(?:lag|prev|prior)_?(?=[^\W\d_])|(?:_?lag\d*|_l\d|_1|\.1|_prev)$",
                       re.IGNORECASE)
_SAYS_EARLIER = words_of("last previous prior lagged lag before earlier preceding")


def _avoid_the_unsaid_lag(matches: list[Match], brief: Brief) -> None:
    """"Which plants did not receive a grant?": of 'grant' and 'grant_1' (last year's), which
    the brief's words match alike, the current value is asked unless the outcome says last,
    previous or before; the lagged one weighs less."""
    if set(brief.outcome_words) & _SAYS_EARLIER:
        return
    names = {m.column.name.lower() for m in matches}
    for lagged in matches:
        current = _LAG_MARK.sub("", lagged.column.name).lower()
        if not lagged.named and current != lagged.column.name.lower() and current in names:
            lagged.score = round(lagged.score * SIBLING_SHARE, 4)
            lagged.reasons.append(f"but it is an earlier value of '{current}', and the brief "
                                  "asks for the current one")


def _numbers_said(profile: DataProfile, matches: list[Match], brief: Brief) -> list[Match]:
    """"How many days over 90 degrees in 2018": 'dx90_2018', whose name's words say nothing
    the brief does, carries every number the outcome says of it. A column not matched
    otherwise is a candidate when the outcome says all the numbers its name carries."""
    seen = {m.column.name for m in matches}
    said = brief.numbers | {n[-2:] for n in brief.numbers if len(n) == 4}
    found = []
    for col in profile.column_profiles:
        numbers = _YEAR_IN_NAME.findall(col.name)
        if col.name in seen or not numbers or not set(numbers) <= said:
            continue
        # one number alone ('sp90' when the brief says 1990) is a likeness, not a name
        match = Match(col, YEAR_BONUS * len(numbers), cues={"exact" if len(numbers) > 1 else "part"})
        match.reasons.append(f"its name carries the numbers the brief says ({', '.join(numbers)})")
        found.append(match)
    return found


def _avoid_the_listed_qualifier(matches: list[Match], brief: Brief) -> None:
    """"Predict the ALT reading after treatment from the baseline liver enzymes": of 'ALT.B'
    and 'ALT.M', which the brief's words match alike, the one whose short qualifier begins
    an input word ('b' of 'baseline') is that input, so it weighs less."""
    starts = {w[:3] for w in brief.input_words if len(w) >= 4}

    def split(name: str) -> tuple[tuple[str, ...], str] | None:
        words = name_words(name)
        return (tuple(words[:-1]), words[-1]) if len(words) > 1 and len(words[-1]) <= 2 else None

    def listed(qualifier: str) -> bool:
        return any(start.startswith(qualifier) for start in starts)

    parts = {m.column.name: split(m.column.name) for m in matches}
    for match in matches:
        mine = parts[match.column.name]
        if match.named or mine is None or not listed(mine[1]):
            continue
        if any(other is not None and other[0] == mine[0] and not listed(other[1])
               for name, other in parts.items() if name != match.column.name):
            match.score = round(match.score * SIBLING_SHARE, 4)
            match.reasons.append(f"but its '{mine[1]}' is what the brief lists as an input")


def _says_more_of(fuller: Match, bare: Match, words_of_columns: dict[str, list[str]]) -> bool:
    """"At what age did she become a mother for the first time": 'agefirstbirth' is 'age'
    and more, and the brief's words match every word of it (`fuller` covers its name), so
    the bare 'age' is not what it asks."""
    words = set(words_of_columns[fuller.column.name])
    return fuller is not bare and set(words_of_columns[bare.column.name]) < words


def _cap_yes_no_prior(priors: list[Match], matches: list[Match]) -> None:
    """"Which kids will end up in the lowest track of secondary education" asks yes or no of
    each kid, but its words name a column ('school', by 'education') too weakly to act on: a
    bare yes/no prior must not outrank a column the outcome's words name in full, even the
    word naming who ("which *crop* was planted" on a table with a 'crop' column)."""
    named_in_full = [
        m.score
        for m in matches
        if m.cues & STRONG_CUES and m.coverage >= 1 and m.score >= MIN_TARGET_SCORE / 3
        and not _is_yes_no(m.column)
    ]
    if named_in_full:
        for prior in priors:
            prior.score = min(prior.score, max(named_in_full))


_INDEXED = re.compile(r"([a-z]{3,})(\d)")  # 'exam3', 'attempt1': a word and its index


def _column_words(col: ColumnProfile, brief: Brief) -> list[str]:
    """The column's name as words, glued compounds cut at words the brief knows, and an
    index glued to a word apart ('exam3' → exam, 3)."""
    words = []
    for nw in name_words(col.name):
        indexed = _INDEXED.fullmatch(nw)
        # the index counts when the brief says one ("the third exam"), else it says nothing
        parts = ([indexed.group(1), indexed.group(2)] if _says_an_index(brief) else
                 [indexed.group(1)]) if indexed else [nw]
        words += [w for part in parts for w in expand_word(part, brief)]
    return list(dict.fromkeys(w for w in words if w not in _GLUE_WORDS)) or [str(col.name).lower()]


def _says_an_index(brief: Brief) -> bool:
    return any(stem(w) in brief.weights or stem(w) in brief.input_stems
               for digit in ORDINALS for w in index_words(digit))


def _listed_words(words_of_columns: dict[str, list[str]], name: str, brief: Brief) -> set[str]:
    """Stems of the column's words that the input phrases list as inputs of its own.

    A word the inputs say as part of another column's fuller name ('percent' in "urban
    percent" for a brief about 'blackpercent', when 'urbanpercent' is a column) names that
    column, not this one; so does a word that only qualifies the next one ("headache type")
    when the outcome phrase says it in full ("will the patient get a headache")."""
    said = {stem(w) for w in words_of_columns[name]} & brief.input_stems
    # "... and what kind of situation" lists 'situ' too
    said |= {stem(w) for w in words_of_columns[name] if w not in VOCABULARY
             and any(_abbreviates(w, said_word) for said_word in brief.input_words)}
    if not said:
        return said
    # "the third exam score from the first two exams": the outcome says which one
    for index in (w for w in words_of_columns[name] if w.isdigit()):
        spoken = {stem(w) for w in index_words(index)}
        if spoken & set(brief.weights) and not spoken & brief.input_stems:
            return set()
    for other, words in words_of_columns.items():
        theirs = {stem(w) for w in words}
        if other != name and len(theirs) > len(said) and said <= theirs <= brief.input_stems:
            return set()
    if said <= brief.input_modifiers and all(brief.weights.get(s, 0) >= 1 for s in said):
        return set()
    if all(brief.weights.get(s, 0) >= 1 for s in said) and \
            _said_of_another(said, name, words_of_columns, brief):
        return set()
    return said


def _said_of_another(said: set[str], name: str, words_of_columns: dict[str, list[str]],
                     brief: Brief) -> bool:
    """"predict pig weight ... from start weight, time and dose": each time the inputs say
    'weight', the word before it is another column's whole name ('Start'), so that column
    is the input, not 'Weight', which the outcome asks for."""
    others = {stem(words[0]) for other, words in words_of_columns.items()
              if other != name and len(words) == 1}
    words = [stem(w) for w in WORD.findall(brief.inputs.lower())]

    def claimed(said_word: str) -> bool:
        befores = [before for before, word in pairwise(words) if word == said_word]
        return bool(befores) and all(before in others for before in befores)

    return all(claimed(s) for s in said)


def _score(col: ColumnProfile, words: list[str], listed: set[str], brief: Brief,
           inputs_list_columns: bool = False) -> Match:
    match = _words_match(col, words, brief)
    short = initials(col.name)  # 'Miles_per_Gallon' is also 'mpg'
    if short:
        by_initials = _words_match(col, [short], brief)
        # the brief says the initials, or a known acronym's words; 'nmr' (net migration
        # rate) only looks like a shortening of "number"
        said = by_initials.cues <= {"exact", "initials"} or short in ABBREVIATIONS
        if said and by_initials.score > match.score:
            match = by_initials
    bonus, hits = _value_bonus(col, brief)
    # "based on race, ... and whether it was a traffic or a suspicious-person call": values
    # that only the input phrases say, among other inputs, describe an input, and list
    # that column as one
    among_inputs = inputs_list_columns and bool(hits) and all(
        _only_among_inputs(h, brief) for h in hits)
    if bonus and not among_inputs:
        match.score += bonus
        match.cues.add("all_values" if bonus == ALL_VALUES else "values")
        match.reasons.append(
            "its values " + ", ".join(f"'{h}'" for h in hits) + " appear in the brief"
        )
    listed_as_input = bool(listed) or among_inputs
    if match.score and listed_as_input:
        match.score *= INPUT_PENALTY
        match.reasons.append("but the brief lists it among the inputs")
    if SEMANTIC_CUE and not listed_as_input:
        match.meaning, match.meaning_of = _semantic_cue(col, words, brief)
    return match


def _only_among_inputs(value: str, brief: Brief) -> bool:
    words = WORD.findall(str(value).lower())

    def says(text: str) -> bool:
        return any(re.search(rf"\b{re.escape(w)}", text) for w in words)

    return bool(words) and says(brief.inputs) and not says(brief.outcome)


def _weigh_meaning(scored: list[Match], matches: list[Match], brief: Brief) -> list[Match]:
    """Add the word-vector cue (in `scored`), the weakest evidence, last: where the rules or
    a prior found a column, only enough to break ties; where they found none, all of it, so
    that a column named in other words can lead. Returns the columns only the cue brings in."""
    found = any(m.score >= MIN_TARGET_SCORE for m in matches)
    listed = {m.column.name: m for m in matches}
    added = []
    for cue in scored:
        match = listed.get(cue.column.name)
        if not cue.meaning or (found and match is None):
            continue
        if match is None:
            match = cue
            match.score = match.meaning
            _finish(match, brief)
            added.append(match)
        else:
            share = SEMANTIC_TIE_SHARE if found else 1.0
            # as the rules' score: "how many cigarettes" is never answered by a yes/no column
            share *= min(1.0, answer_fit(match.column, brief.answer))
            match.score = round(match.score + share * cue.meaning, 4)
        match.by_meaning = not found  # the rules' words, if any, were too weak to act on
        match.reasons.append(
            f"'{cue.meaning_of}' in the brief is close in meaning to '{cue.column.name}'"
        )
    return added


def _semantic_cue(col: ColumnProfile, col_words: list[str], brief: Brief) -> tuple[float, str]:
    """The bonus for a column whose name (or, for a few categories, whose values) is close in
    meaning to an outcome word or pair of words that the rules do not already match, and
    those words. Each is weighted as the brief weighs it."""
    words = [*col_words, *(w for cw in col_words for w in ABBREVIATIONS.get(cw, "").split())]
    own = {stem(w) for w in words}
    values = _value_words(col)
    best, said = 0.0, ""
    for phrase, weight in _outcome_phrases(brief):
        if any(stem(w) in own or any(same_root(stem(w), o) for o in own) for w in phrase):
            continue  # the same word: the rules' evidence, not a second one
        close = similarity(phrase, words)
        if values:
            close = max(close, SEMANTIC_VALUE_SHARE * similarity(phrase, values))
        close *= min(1.0, weight)
        if close > best:
            best, said = close, " ".join(phrase)
    bonus = SEMANTIC_WEIGHT * max(0.0, best - SEMANTIC_FLOOR) / (1 - SEMANTIC_FLOOR)
    return round(bonus, 4), said


def _outcome_phrases(brief: Brief) -> list[tuple[list[str], float]]:
    """The outcome's words, and its pairs of neighbouring words ("junk mail", "fuel
    efficiency"), each with the brief's weight (of a pair: its heavier word)."""
    weight = {brief.originals[t]: w for t, w in brief.weights.items()}
    phrases = [([word], w) for word, w in weight.items()]
    for first, second in pairwise(brief.outcome_words):
        if first in weight and second in weight:
            phrases.append(([first, second], max(weight[first], weight[second])))
    return phrases


def _value_words(col: ColumnProfile) -> list[str]:
    if col.role not in (ColumnRole.CATEGORICAL, ColumnRole.BOOLEAN) or col.unique_count > 20:
        return []
    said = (str(v).strip().lower() for v, _ in col.top_values)
    return [w for v in said if v not in _NOT_A_LABEL for w in WORD.findall(v) if w.isalpha()]


def _words_match(col: ColumnProfile, words: list[str], brief: Brief) -> Match:
    match = Match(col, 0.0)
    matched = 0
    for word in words:
        weight, why, kind = word_cue(word, brief, opposites=col.unique_count <= 2)
        if weight:
            match.score += weight
            matched += 1
            match.reasons.append(why)
            match.cues.add(kind)
    if match.score:
        match.coverage = matched / len(words)
        match.score *= 0.5 + 0.5 * match.coverage
    return match


def _value_bonus(col: ColumnProfile, brief: Brief) -> tuple[float, list[str]]:
    coded = _coded_values_listed(col, brief)
    if coded:
        return ALL_VALUES, coded  # "fully, halfway or not at all (1, 0.5, 0)"
    if col.role not in (ColumnRole.CATEGORICAL, ColumnRole.BOOLEAN) or col.unique_count > 20:
        return 0.0, []
    hits = mentioned_values(col, brief) or offered_by_initials(col, brief)
    if len(hits) >= 2 and len(hits) == col.unique_count:
        return ALL_VALUES, hits  # "up or down", "USA or non-USA": the brief lists the answers
    return min(MAX_VALUE_BONUS, VALUE_MATCH * len(hits)), hits


# "(1, 0.5, 0)", "(0/1/2)": the codes of the answers, listed in brackets
_NUMBER_LIST = re.compile(r"\(\s*(-?\d+(?:\.\d+)?(?:\s*[,/]\s*(?:or\s+)?-?\d+(?:\.\d+)?)+)\s*\)")


def _coded_values_listed(col: ColumnProfile, brief: Brief) -> list[str]:
    """The values of a column of a few numbers, when the brief lists exactly those."""
    if col.role is not ColumnRole.NUMERIC or not 2 <= col.unique_count <= 6:
        return []
    try:
        values = {float(v) for v, _ in col.top_values}
    except ValueError:
        return []
    for found in _NUMBER_LIST.finditer(brief.text):
        listed = {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", found.group(1))}
        if listed == values:
            return [str(v) for v, _ in col.top_values]
    return []


def _generic_matches(brief: Brief, profile: DataProfile, seen: set[str]) -> list[Match]:
    """When nothing in the outcome phrase names a column: columns named like a target, or
    else, when the brief asks yes or no, the yes/no columns it does not list as inputs."""
    if not brief:
        return []
    free = [
        col
        for col in profile.column_profiles
        if col.name not in seen and not _listed_as_input(col, brief)
    ]
    single_letters = {str(c.name).lower() for c in profile.column_profiles if len(str(c.name)) == 1}
    generic = [
        Match(
            col,
            GENERIC_TARGET_SCORE,
            [f"no column matches the brief's words, and '{col.name}' is named like a target"],
            generic=True,
            cues={"prior" if strong else "weak_prior"},
        )
        for col in free
        for strong in [is_generic_name(col.name) and not _coordinate(col.name, single_letters)]
        if strong
        or (
            is_generic_name(col.name, weak=True)
            and brief.answer in (AnswerType.CLASSES, AnswerType.TWO_VALUED)
            and answer_fit(col, brief.answer) >= 1
            and col.role is not ColumnRole.NUMERIC
        )
    ]
    if generic or brief.answer is not AnswerType.TWO_VALUED:
        return generic
    return [
        Match(col, YES_NO_PRIOR, [_YES_NO_REASON], generic=True, cues={"weak_prior"})
        for col in free
        if _is_yes_no(col)
    ]


_YES_NO_REASON = "the brief asks yes or no, and it is a yes/no column"


def _is_yes_no(col: ColumnProfile) -> bool:
    return col.unique_count == 2 and not unusable_target(col) and _yes_no_like(col)


def _listed_as_input(col: ColumnProfile, brief: Brief) -> bool:
    return bool({stem(w) for w in name_words(col.name)} & brief.input_stems)


def _yes_no_like(col: ColumnProfile) -> bool:
    """Two words or 0/1, not two numbers such as the years 1999 and 2008."""
    if col.role is not ColumnRole.NUMERIC:
        return True
    return {str(v) for v, _ in col.top_values} <= {"0", "1", "0.0", "1.0"}


def _coordinate(name: str, single_letters: set[str]) -> bool:
    """'y' next to 'x' and 'z' (a diamond's dimensions) is a coordinate, not a target."""
    return len(str(name)) == 1 and len(single_letters) > 1


def is_generic_name(name: str, weak: bool = False) -> bool:
    """Named like a target ('target', 'label', 'y'); with `weak`, also 'class', 'yesno', ..."""
    names = WEAK_GENERIC_NAMES if weak else GENERIC_TARGET_NAMES
    return spoken_name(name) in names or str(name).strip().lower() in names


def _finish(match: Match, brief: Brief) -> None:
    """Answer fit, then the penalties for mostly-empty and unusable columns."""
    col = match.column
    if not match.named:
        fit = answer_fit(col, brief.answer)
        match.score = match.score * fit if fit < 1 else match.score + fit - 1
        match.misfit = fit <= ANSWER_MISFIT * ANSWER_MISFIT
        if fit > 1:
            match.reasons.append(f"the brief asks for {brief.answer.value}, which fits its values")
        # unless named outright, a column empty in most rows is rarely what a brief asks for
        # (e.g. a reason filled in only after the event the brief is about)
        match.score *= 1.0 - MISSING_TARGET_WEIGHT * col.missing_share
    match.unpenalised = round(match.score, 4)
    if unusable_target(col):
        match.score *= UNUSABLE_PENALTY
        kind = "empty" if col.missing_share >= 1 else f"a {col.role.value} column"
        match.reasons.append(f"but it is {kind}")
    elif not match.named and ID_WORDS & set(name_words(col.name)):
        match.score *= UNUSABLE_PENALTY  # 'prof_id' names who, even when its values repeat
        match.reasons.append("but it is named like an ID")
    match.score = round(match.score, 4)


def answer_fit(col: ColumnProfile, answer: AnswerType) -> float:
    """1 + bonus when the column's values are the kind of answer asked for, < 1 when not."""
    if answer is AnswerType.UNKNOWN:
        return 1.0
    two = col.unique_count == 2
    numeric = col.role is ColumnRole.NUMERIC
    classes = col.role in (ColumnRole.CATEGORICAL, ColumnRole.BOOLEAN) or (
        numeric and col.unique_count <= 10
    )
    if answer is AnswerType.NUMBER:
        if two:
            return ANSWER_MISFIT * ANSWER_MISFIT  # "how heavy?" is never answered yes or no
        return 1 + ANSWER_FIT_BONUS if numeric else ANSWER_MISFIT
    if answer is AnswerType.TWO_VALUED:
        if two:
            return 1 + ANSWER_FIT_BONUS
        return ANSWER_MISFIT if numeric and col.unique_count > 10 else 1.0
    if classes and not two:
        return 1 + ANSWER_FIT_BONUS
    return ANSWER_MISFIT if numeric and col.unique_count > 10 else 1.0


def confidence(best: Match, runner_up: Match | None) -> float:
    """How sure the planner is of `best`: 1 when named outright; otherwise the weakest of its
    strength (0.5 at the minimum score), its lead (0.5 when the runner-up scores 85%) and
    what its kind of evidence is worth (`evidence_cap`)."""
    if best.named:
        return 0.5 if runner_up is not None and runner_up.named else 1.0
    strength = min(1.0, best.score / (2 * MIN_TARGET_SCORE))
    ratio = runner_up.score / best.score if runner_up is not None and best.score else 0.0
    lead = min(1.0, max(0.0, (1 - ratio) / (2 * (1 - AMBIGUITY_RATIO))))
    sure = min(strength, lead, evidence_cap(best))
    if best.by_meaning and ratio > SEMANTIC_RATIO:
        sure = min(sure, ASK_BELOW - 0.01)  # a likeness of meaning alone needs a wide lead
    if best.misfit:
        sure = min(sure, ASK_BELOW - 0.01)  # unless named, "how many?" is never yes or no
    return round(sure, 3)


def evidence_cap(match: Match) -> float:
    """The most a match's kind of evidence (`evidence_of`) lets the planner be sure of it."""
    return EVIDENCE_CAPS[evidence_of(match)]


def evidence_of(match: Match) -> str:
    """The kind of evidence for a match, strongest first (the keys of `EVIDENCE_CAPS`).

    Certain: the brief names the column, lists every value, or says the name's words (the
    same word, a synonym, an opposite, a root, an abbreviation, initials) for all of the
    name. A guess of known worth: those words for part of the name, a loose likeness (a
    broad kind, a shared start, a qualifier letter) for all of it, some of its values, or a
    prior, or only the word vectors' likeness of meaning. Not enough to act on: loose likenesses on part of the name and nothing else
    ('weekslast' for "how much will a donor give" only by the kind of quantity)."""
    if match.named:
        return "named"
    if "all_values" in match.cues:
        return "all values"
    if match.generic:
        return "prior" if "prior" in match.cues else "weak prior"
    if match.by_meaning:
        return "meaning"
    strong = bool(match.cues & STRONG_CUES)
    whole = match.coverage >= 1
    if strong:
        return "words, whole name" if whole else "words, part of name"
    if whole:
        return "likeness, whole name"
    return "some values" if "values" in match.cues else "likeness, part of name"


# --------------------------------------------------------------------------- usable targets


def unusable_target(col: ColumnProfile) -> str:
    """Why `col` cannot be a target, in words; '' when it can."""
    if col.missing_share >= 1:
        return (
            f"Column '{col.name}' is empty (every value is missing), so there is nothing to "
            "learn from; pick another column to predict or fill it in."
        )
    if col.unique_count < 2:
        value = col.top_values[0][0] if col.top_values else "?"
        return (
            f"Column '{col.name}' has only one value ('{value}') in the uploaded file; a model "
            "needs at least two different values to learn from."
        )
    if col.role is ColumnRole.IDENTIFIER:
        return (
            f"Column '{col.name}' is different on almost every row, like an ID, so it cannot "
            "be predicted; pick another column."
        )
    if col.role is ColumnRole.TEXT:
        return (
            f"Column '{col.name}' holds free text, which cannot be predicted as a category or a "
            "number; pick another column, or add a column that labels each text."
        )
    if col.role is ColumnRole.DATETIME:
        return (
            f"Column '{col.name}' holds dates, which cannot be predicted directly; add a column "
            "such as the number of days until the date and predict that."
        )
    return ""


def named_like_an_id(col: ColumnProfile) -> str:
    """Why a column named outright cannot be the target although its values would let it:
    'id', 'patient_id', or a glued name ending in 'id' that is no English word ('childid',
    'PID', 'caseid'; not 'paid' or 'acid') names who a row is about. '' otherwise."""
    name = str(col.name)
    glued = len(name) >= 3 and name.lower().endswith("id") and not is_known_word(name.lower())
    # an ID is whole numbers or text: 'carotid' holding 41.7, 63.2 ... is a measurement
    measured = str(col.dtype).startswith("float")
    if col.unique_count <= 2 or measured or not (glued or is_id_like_name(name)):
        return ""
    return (f"Column '{name}' is named like an ID: it says which row or whose row it is, "
            "which a model cannot predict. Pick another column to predict.")


def plausible_targets(profile: DataProfile) -> list[TargetCandidate]:
    """Columns a user would likely want to predict, when the brief names none."""
    ranked = []
    last = profile.column_profiles[-1].name if profile.column_profiles else None
    for col in profile.column_profiles:
        if unusable_target(col) or named_like_an_id(col):
            continue  # not offered: 'childid' names whose row it is
        score, why = 0.1, f"a {col.role.value} column"
        if is_generic_name(col.name) or is_generic_name(col.name, weak=True):
            score, why = 0.5, "named like a target"
        elif col.role in (ColumnRole.BOOLEAN,):
            score, why = 0.3, "a yes/no column"
        elif col.name == last:
            score, why = 0.25, "the last column, where targets often are"
        ranked.append(TargetCandidate(column=col.name, score=score, why=why))
    return sorted(ranked, key=lambda c: -c.score)[:MAX_CANDIDATES]
