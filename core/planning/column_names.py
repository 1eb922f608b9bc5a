"""Column names as words, and how well each word matches a brief.

A column name is split into words (snake_case, camelCase, dotted.names), glued compounds are
cut at words the brief or the outcome vocabulary knows (`marketvalue` → market value), and each
word is matched against the brief's outcome words: the same word, a word of the same meaning,
an abbreviation (a prefix such as `temp`, the letters in order such as `hwy` for highway), or
the initials of consecutive brief words (`gpa` for grade point average, `los` for length of stay).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise

from core.planning.brief import STOPWORDS, WORD, AnswerType, Brief, stem, words_of
from core.planning.semantic import is_known_word, is_typo_of
from core.spec import ColumnProfile

# Weights of one brief word matching one word of a column name.
EXACT, ABBREVIATION, INITIALS, ROOT, SYNONYM, PART = 1.0, 0.85, 0.9, 0.9, 0.7, 0.5
TYPO = 0.85  # a slip of the keyboard: as sure as an abbreviation
ANTONYM, KIND, RESIDUE, QUALIFIED, SHARED_START = 0.65, 0.4, 0.8, 0.9, 0.6
CONTEXT = 0.6  # a value said in passing counts (the weight of a context word)
NEGATED = 0.6  # "won't pay": the verb's own meaning counts less, its opposite fully
MIN_COMPOUND_PIECE = 3

# A modest vocabulary of outcome words: each line is one meaning. General words only, not
# one entry per brief.
OUTCOME_VOCABULARY = [
    (
        "quit leave left leaving attrition churn churned turnover resign resignation cancel "
        "cancelled canceled cancellation retention retain stay exit attrite"
    ),
    "debt balance owe owed outstanding",
    # a death and a life are opposites (`ANTONYM_PAIRS`), not one meaning: "how many
    # mothers die" does not ask for a life expectancy
    "survive survived survival alive live lived life",
    "die died death dead perish perished kill killed fatal fatality fatalities",
    "price worth value cost valuation expensive sell sold fetch pay",
    "late lateness delay delayed tardy",
    "arrive arrival arrived",
    "depart departure departed",
    "buy bought purchase purchased choose chose choice pick order",
    "fraud fraudulent scam",
    "default defaulted delinquent delinquency",
    "sales sell sold demand units revenue",
    "salary wage wages pay paid earn earns earned earnings compensation income",
    "spam junk",
    "click clicked clicks",
    "convert converted conversion signup subscribe subscribed",
    "approve approved approval accept accepted admit admitted admission",
    "readmit readmitted readmission",
    "diagnosis disease sick illness malignant benign",
    "satisfied satisfaction happy",
    "temperature temp",
    "fail failure failed broken breakdown defect defective",
    "win won winner victory",
    "pass passed success succeed",
    "sex gender",
    "female women woman",
    "male men man",
    "rating rate stars score grade evaluation",
    "quality grade",
    "count number quantity",
    "strength strong",
    "duration length time",
    "age old",
    "mpg mileage efficiency economy consumption",
    "weight heavy mass",
    "height tall",
    "length long",
    "speed fast",
    "size big large",
    "job occupation profession position",
    "work works working worked employed employment job participate participation labour labor workforce",
    "spend spending spent expenditure expense",
    "charge charged bill billed fee",
    "visit consultation appointment",
    "share fraction proportion percentage",
    "up rise increase gain higher",
    "down fall decrease drop decline lower",
    "deny denied denial reject rejected rejection refuse refused decline declined",
    "release released discharge discharged",
    "city town urban",
    "highway motorway freeway",
    "origin provenance",
    "pulse heartbeat heart",
    "education schooling school educated",
    "output produce produced production",
    "volume traded trade trading",
]
# Opposites name the same yes/no column: "who won't repay" asks for the default column.
ANTONYM_PAIRS = [
    ("pay paid repay repaid repayment", "default defaulted delinquent delinquency arrears"),
    (
        "approve approved approval accept accepted admit admitted grant granted",
        "deny denied denial reject rejected rejection refuse refused decline declined",
    ),
    ("release released free freed", "hold held detain detained jail jailed custody"),
    ("pass passed success succeed", "fail failed failure"),
    ("stay stayed retain retained renew renewed", "leave left quit churn churned cancel"),
    ("win won winner", "lose lost loss defeat"),
    ("survive survived survival alive live lived life", "die died death dead perish kill killed"),
    ("employed employment work working", "unemployed unemployment"),
]
# Broad kinds of outcome: weaker than a synonym, but enough when nothing closer matches
# ("what is a player worth" → the salary column, "where was it made" → origin).
OUTCOME_KINDS = [
    (
        "price cost value worth valuation salary wage pay paid earn earnings income "
        "compensation revenue charge fee bill spend spending expenditure expense rent tuition "
        "profit budget money dollar euro fare premium"
    ),
    "duration length time stay day hour minute week month tenure span",
    "count number frequency tally",  # not "times": its stem is that of a time
    "rate percentage percent share fraction proportion ratio",
    "origin location place region country state area continent city",
]
ABBREVIATIONS = {
    "arr": "arrival",
    "dep": "departure",
    "amt": "amount",
    "qty": "quantity",
    "num": "number",
    "nr": "number",
    "no": "number",
    "pct": "percent",
    "avg": "average",
    "cnt": "count",
    "prob": "probability",
    "yr": "year",
    "mo": "month",
    "dt": "date",
    "dob": "birth",
    "sal": "salary",
    "rev": "revenue",
    "mpg": "mileage",
    "hp": "horsepower",
    "wt": "weight",
    "med": "median",
    "tot": "total",
    "perc": "percentage",
    "cap": "capacity",
    "grad": "graduate",  # 'HS Grad': graduates, though it stems like 'grade'
    # acronyms data columns are commonly named by: each word of the phrase can match
    "los": "length of stay",
    "gpa": "grade point average",
    "bmi": "body mass index",
    "bp": "blood pressure",
    "hr": "heart rate",
    "ctr": "click through rate",
    "ltv": "lifetime value",
    "clv": "customer lifetime value",
    "roi": "return on investment",
    "aov": "average order value",
    "arpu": "average revenue per user",
    "gdp": "gross domestic product",
    "eps": "earnings per share",
    "smsa": "metropolitan statistical area",
    "msa": "metropolitan statistical area",
    "post": "after",
    "pre": "before",
    "rpm": "revolutions per minute",
    "sqft": "square feet",
    # units, as names carry them ('ecolbs': pounds of eco-labelled apples)
    "lbs": "pounds",
    "kg": "kilograms",
    "hrs": "hours",
    "wk": "week",
    "yrs": "years",
}
# Short forms of how a quantity is taken ('totemp', 'avgsal'): a brief asking for a number
# need not say them
SILENT_QUALIFIERS = frozenset({"total", "number", "average", "count", "amount", "percent",
                               "percentage", "median"})
# Kinds of cue a word match can be, for the confidence: `STRONG_CUES` say the word (or a
# form of it, or its initials); the others only look like it or belong to its broad kind.
STRONG_CUES = frozenset(
    {"exact", "synonym", "antonym", "abbreviation", "initials", "root", "typo"}
)
WEAK_CUES = frozenset(
    {"kind", "synonym_abbreviation", "qualifier", "said_qualifier", "glued", "start", "part"}
)
# Words about the modelling task, not the data: said in full they may name a column
# ('target'), but no column's short form stands for them
TASK_TALK = frozenset({"target", "targets", "label", "labels", "feature", "features",
                       "variable", "variables", "predictor", "predictors"})
RELATION_CUES = {
    "means much the same": "synonym",
    "is the opposite outcome": "antonym",
    "asks for the same kind of quantity": "kind",
}
ACRONYM_BONUS = 0.15  # each further word of the phrase that the brief says
_ARTICLES = {"the", "a", "an"}
_GLUE_WORDS = {"of", "per", "in", "to", "no", "is", "at", "on", "by", "and", "or"}
_VOWELS = set("aeiou")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _build_synonyms() -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for line in OUTCOME_VOCABULARY:
        stems = {stem(w) for w in line.split()}
        for s in stems:
            groups.setdefault(s, set()).update(stems - {s})
    return groups


def _build_relations() -> dict[str, list[tuple[float, str, frozenset[str]]]]:
    """stem → [(weight, how, stems related that way)]: synonyms, opposites, broad kinds."""
    relations: dict[str, list[tuple[float, str, frozenset[str]]]] = {}

    def link(weight: float, how: str, a: set[str], b: set[str]) -> None:
        for s in a:
            others = frozenset(b - {s})
            if others:
                relations.setdefault(s, []).append((weight, how, others))

    for line in OUTCOME_VOCABULARY:
        stems = {stem(w) for w in line.split()}
        link(SYNONYM, "means much the same", stems, stems)
    for one, other in ANTONYM_PAIRS:
        a, b = {stem(w) for w in one.split()}, {stem(w) for w in other.split()}
        link(ANTONYM, "is the opposite outcome", a, b)
        link(ANTONYM, "is the opposite outcome", b, a)
    for line in OUTCOME_KINDS:
        stems = {stem(w) for w in line.split()}
        link(KIND, "asks for the same kind of quantity", stems, stems)
    return relations


SYNONYMS = _build_synonyms()
RELATIONS = _build_relations()
VOCABULARY = frozenset(
    w for line in [*OUTCOME_VOCABULARY, *OUTCOME_KINDS, *(" ".join(p) for p in ANTONYM_PAIRS)]
    for w in line.split()
)


def name_words(name: str) -> list[str]:
    """Lowercased words of a column name: 'Sale_Price' → ['sale', 'price'], 'WeekofPurchase' →
    ['weekof', 'purchase'], 'crl.tot' → ['crl', 'tot'], 'inc86sq' → ['inc', 'sq']; digits
    dropped."""
    spaced = _DIGITS_INSIDE.sub(" ", _CAMEL.sub(" ", str(name)))
    words = [w.lower() for w in re.split(r"[\W_]+", spaced) if w]
    return [w for w in words if not w.isdigit() and w not in {"is", "has", "of", "the", "flag"}]


# a year glued to a word: 'inc86' is 'inc' of 1986, 'inc86sq' its square ('exam3' keeps its
# digit: it tells the third exam from the first)
_DIGITS_INSIDE = re.compile(r"(?<=[A-Za-z]{2})(?=\d{2})|(?<=\d{2})(?=[A-Za-z]{2})")


def name_tokens(name: str) -> list[str]:
    """Stemmed words of a column name (abbreviations are expanded when matching)."""
    return [stem(w) for w in name_words(name)]


def spoken_name(name: str) -> str:
    """The name as words a brief would write it: 'compressive_strength' → 'compressive strength'."""
    return " ".join(w for w in re.split(r"[\W_]+", _CAMEL.sub(" ", str(name)).lower()) if w)


def expand_word(word: str, brief: Brief) -> list[str]:
    """A glued compound cut into the words it is made of, when the brief or the vocabulary
    knows them: 'marketvalue' → ['market', 'value']; any other word as it is."""
    if len(word) < 2 * MIN_COMPOUND_PIECE or word in VOCABULARY or stem(word) in brief.weights:
        return [word]
    outcome = [w for w in brief.outcome_words if len(w) >= MIN_COMPOUND_PIECE]
    starts = {w[:n] for w in outcome for n in range(MIN_COMPOUND_PIECE, len(w) + 1)}
    known = frozenset(starts) | VOCABULARY
    pieces = _segment(word, known) or _known_end(word, known, outcome)
    return list(pieces) if pieces and len(pieces) > 1 else [word]


def _known_end(word: str, known: frozenset[str], outcome: list[str]) -> tuple[str, ...] | None:
    """'marketvalue' with only 'value' known: the known word and what is left of the name.
    A three-letter piece stands on its own only when the brief says it whole or it is the
    consonants of a brief's word: 'colgpa' → col + gpa, 'tothrs' → tot + hrs."""
    def stands(piece: str) -> bool:
        if len(piece) >= 4:
            return piece in known
        # a word's consonants ('hrs'), not its start: 'com' starts too many words
        return piece in outcome or piece[0] not in _VOWELS and any(
            not w.startswith(piece) and _abbreviates(piece, w) for w in outcome)

    for cut in range(MIN_COMPOUND_PIECE, len(word) - MIN_COMPOUND_PIECE + 1):
        head, tail = word[:cut], word[cut:]
        if stands(tail) or stands(head):
            return head, tail
    return None


# glue words that can begin a name ('noshow', 'isalive'); 'totemp' is not 'to' + 'temp'
_LEADING_GLUE = {"no", "is"}


@lru_cache(maxsize=4096)
def _segment(word: str, known: frozenset[str], first: bool = True) -> tuple[str, ...] | None:
    """`word` as known words (glue words like 'of' allowed between them), or None."""
    if not word:
        return ()
    for end in range(len(word), 0, -1):
        head = word[:end]
        glue = head in _GLUE_WORDS and end < len(word) and (not first or head in _LEADING_GLUE)
        if head in known or glue:
            rest = _segment(word[end:], known, first=False)
            if rest is not None:
                return (head, *rest)
    return None


def word_match(col_word: str, brief: Brief) -> tuple[float, str]:
    """Best weight of one column-name word against the brief's outcome words, and why."""
    weight, why, _ = word_cue(col_word, brief)
    return weight, why


ORDINALS = {"1": ("first", "1st"), "2": ("second", "2nd"), "3": ("third", "3rd"),
            "4": ("fourth", "4th"), "5": ("fifth", "5th")}


def index_words(digit: str) -> tuple[str, ...]:
    """How a brief says the index a name ends in: 'exam3' is the third exam."""
    return (digit, *ORDINALS.get(digit, ()))


def word_cue(col_word: str, brief: Brief, opposites: bool = True) -> tuple[float, str, str]:
    """As `word_match`, and which kind of cue it is (one of `STRONG_CUES` or `WEAK_CUES`), so that the
    confidence can tell a word said outright from a loose likeness."""
    token = stem(col_word)
    best, why, kind_of = 0.0, "", ""
    if col_word.isdigit():  # an index: said as itself or as an ordinal
        said = [w for w in map(stem, index_words(col_word)) if w in brief.weights]
        if said:
            return EXACT * brief.weights[said[0]], f"the brief says '{brief.originals[said[0]]}'", "exact"
        return best, why, kind_of

    def consider(score: float, reason: str, kind: str) -> None:
        nonlocal best, why, kind_of
        if score > best:
            best, why, kind_of = score, reason, kind

    if token in brief.weights:
        weight = EXACT * brief.weights[token]
        consider(weight, f"the brief says '{brief.originals[token]}'", "exact")
    if col_word in brief.periodic:  # 'monthly' when the brief asks for the bill each month
        consider(EXACT * CONTEXT, f"the brief's 'per ...' or 'each ...' says '{col_word}'", "exact")
    expanded = ABBREVIATIONS.get(col_word)

    if expanded and " " in expanded:
        consider(*_phrase_match(col_word, expanded, brief))
    elif expanded and stem(expanded) in brief.weights:
        consider(
            ABBREVIATION * brief.weights[stem(expanded)],
            f"'{col_word}' is short for '{brief.originals[stem(expanded)]}'",
            "abbreviation",
        )
    # a short form means what it is short for, not what its letters stem like
    own = None if expanded and stem(expanded) != token else token
    for meaning in (own, stem(expanded) if expanded and " " not in expanded else None):
        for weight, how, related in RELATIONS.get(meaning, ()):
            if how == "is the opposite outcome" and not opposites:
                continue  # a yes/no column names one of two outcomes; a number has none
            for synonym in related:
                for said in _said_like(synonym, brief):
                    negated = said in brief.negated
                    if negated and how == "is the opposite outcome":
                        weight = SYNONYM  # "won't repay" means the default
                    elif negated:
                        weight *= NEGATED
                    consider(
                        weight * brief.weights[said],
                        f"'{brief.originals[said]}' in the brief {how}",
                        RELATION_CUES[how],
                    )
    if best < ABBREVIATION:
        for stem_, original in brief.originals.items():
            if original in TASK_TALK:
                continue  # "use id as the target": 'trt' is no short form of it
            if _abbreviates(col_word, original) or _plural_abbreviates(col_word, original):
                consider(
                    ABBREVIATION * brief.weights[stem_],
                    f"'{col_word}' is short for '{original}'",
                    "abbreviation",
                )
    # 'cty' for city when the brief says town; a known short form ('grad' for graduates) is
    # short for no other word
    if best < ABBREVIATION * SYNONYM and not expanded:
        for stem_, original in brief.originals.items():
            for synonym in _synonym_words(stem_):
                if _abbreviates(col_word, synonym, slack=1):
                    consider(
                        ABBREVIATION * SYNONYM * brief.weights[stem_],
                        f"'{col_word}' is short for '{synonym}', which '{original}' means",
                        "synonym_abbreviation",
                    )
    if best < INITIALS:
        used = _initials_in(col_word, brief.outcome_words)
        if used:
            weights = [brief.weights.get(stem(w), 0.0) for w in used]
            # 'miles per gallon' says more than 'miles' alone: each further word counts
            weight = max(weights, default=0.0) * (1 + 0.15 * (sum(w > 0 for w in weights) - 1))
            consider(
                INITIALS * weight, f"'{col_word}' is the initials of '{' '.join(used)}'", "initials"
            )
    if best < ROOT:
        for stem_, original in brief.originals.items():
            if stem_ != token and same_root(token, stem_):
                consider(
                    ROOT * brief.weights[stem_],
                    f"'{original}' in the brief has the same root",
                    "root",
                )
    if best < TYPO:  # "was the speed limt on that day": no English word, one slip from 'limit'
        for stem_, original in brief.originals.items():
            if is_typo_of(original, col_word):
                consider(
                    TYPO * brief.weights[stem_],
                    f"'{original}' in the brief looks like a slip for '{col_word}'",
                    "typo",
                )
    if best < QUALIFIED:  # 'wagew' (the wife's wage), 'airco': a brief word and a letter or two
        for stem_, original in brief.originals.items():
            residue = _qualifier_of(col_word, original)
            if residue and _an_input_starts_with(residue, brief):
                continue  # 'unrate' when "unemployment" is an input: that input's rate
            if residue:
                # 'hhours' when the brief says the husband's hours: the letter is his
                said = any(
                    w[:1] == residue[0] for w in brief.outcome_words
                    if w != original and w not in STOPWORDS
                )
                whose = said and _says_whose(residue, original, brief)
                consider(
                    (QUALIFIED if said else RESIDUE) * brief.weights[stem_],
                    f"'{col_word}' is '{original}' with a qualifier"
                    + (" the brief says" if whose else ""),
                    "said_qualifier" if whose else "qualifier",
                )
    if best < ABBREVIATION and len(col_word) >= 5:  # 'cmrdrte': the *change* in the murder rate
        residue, core = col_word[:1], col_word[1:]
        pieces = _glued_abbreviation(core, brief)
        said = [w for w in brief.outcome_words if w[:1] == residue and w not in pieces
                and w not in STOPWORDS and brief.weights.get(stem(w), 0.0) >= 0.8]
        if pieces and said:
            weight = max(brief.weights.get(stem(w), 0.0) for w in pieces)
            consider(
                ABBREVIATION * weight * (1 + ACRONYM_BONUS * len(pieces)) * 0.9,
                f"'{col_word}' is '{' '.join(pieces)}' with the '{said[0]}' the brief says",
                "said_qualifier",
            )
    if best < ABBREVIATION and len(col_word) >= 3:
        pieces = _glued_abbreviation(col_word, brief)
        said = [brief.weights[stem(w)] for w in pieces if stem(w) in brief.weights]
        if pieces:
            consider(
                ABBREVIATION * max(said) * (1 + ACRONYM_BONUS * (len(said) - 1)) * 0.9,
                f"'{col_word}' is short for '{' '.join(pieces)}'",
                "glued",
            )
    if best < SHARED_START:  # 'premie' for premature: a long shared start
        for stem_, original in brief.originals.items():
            if _shares_a_long_start(col_word, original):
                consider(
                    SHARED_START * brief.weights[stem_],
                    f"'{col_word}' starts like '{original}'",
                    "start",
                )
    if best == 0.0 and len(token) >= 5:
        for stem_, weight in brief.weights.items():
            if len(stem_) >= 4 and stem_ in token:
                consider(PART * weight, f"the name contains '{brief.originals[stem_]}'", "part")
    return best, why, kind_of


def _phrase_match(short: str, phrase: str, brief: Brief) -> tuple[float, str, str]:
    """'los' for 'length of stay': the best word of the phrase the brief matches, more for
    each further one ('how long ... stay' matches two). One word of the phrase matched only
    loosely ("exam score" ~ the 'grade' of 'grade point average') is a part, not the acronym."""
    cues = [word_cue(w, brief) for w in phrase.split() if w not in STOPWORDS]
    hits = [(weight, kind) for weight, _, kind in cues if weight > 0]
    if not hits:
        return 0.0, "", ""
    weight = ABBREVIATION * max(w for w, _ in hits) * (1 + ACRONYM_BONUS * (len(hits) - 1))
    if len(hits) == 1 and hits[0][1] not in ("exact", "root", "abbreviation"):
        why = f"'{short}' is short for '{phrase}', one word of which is near"
        return PART * weight, why, "part"
    return weight, f"'{short}' is short for '{phrase}'", "initials"


_SYNONYM_WORDS: dict[str, set[str]] = {}
for _line in OUTCOME_VOCABULARY:
    for _word in _line.split():
        _SYNONYM_WORDS.setdefault(stem(_word), set()).update(set(_line.split()) - {_word})


def _synonym_words(stem_: str) -> set[str]:
    """The written words of the same meaning as a brief stem (for abbreviations of them)."""
    return _SYNONYM_WORDS.get(stem_, set())


def _shares_a_long_start(a: str, b: str) -> bool:
    """Four letters or more in common at the start, two thirds of the shorter word."""
    if not (a.isalpha() and b.isalpha()) or min(len(a), len(b)) < 5:
        return False
    common = 0
    for x, y in zip(a.lower(), b.lower()):
        if x != y:
            break
        common += 1
    return common >= 4 and common >= 2 / 3 * min(len(a), len(b))


def _skeleton_of(piece: str, word: str) -> bool:
    """'crm' for crime, 'rte' for rate: the word's first letter and all its consonants, in
    order (its vowels dropped)."""
    if len(piece) < 2 or piece[0] != word[0] or not word.isalpha():
        return False
    consonants = [c for c in word[1:] if c not in _VOWELS]
    letters = iter(word[1:])
    in_order = all(c in letters for c in piece[1:])
    return in_order and all(c in piece[1:] for c in consonants) and len(piece) < len(word)


WHO_WEIGHT = 0.35  # at most what a word naming who weighs in the brief (`ENTITY_WEIGHT`)


def _says_whose(letters: str, word: str, brief: Brief) -> bool:
    """The brief says whose `word` it is, by a word starting with the qualifier's letters:
    one naming who the question is about ("does *the husband* work", "the student's
    *mother*") or right before it ("the *log* wage"). 'long' in "the wage of a long-serving
    employee" says nothing of whose wage."""
    words = brief.outcome_words
    content = [w for w in words if w not in STOPWORDS and w != word]
    if len(letters) >= 2 and any(  # 'bmprison': the prison count of *black men*
            "".join(w[:1] for w in content[i : i + len(letters)]) == letters
            for i in range(len(content) - len(letters) + 1)):
        return True
    before = {words[i - 1] for i in range(1, len(words)) if words[i] == word}
    return any(
        w.startswith(letters[0]) and w != word and w not in STOPWORDS
        and (w in before or 0 < brief.weights.get(stem(w), 1.0) <= WHO_WEIGHT)
        for w in words
    )


def is_sibling_of(qualified: str, other: str) -> bool:
    """'hhours' (the husband's) and 'hours', or 'hhours' and 'whours': the same word, one
    qualified by a letter or two, the other bare or qualified otherwise."""
    words, others = name_words(qualified), name_words(other)
    return any(
        _qualifier_of(w, o) or (_qualifier_of(w, base) and _qualifier_of(o, base))
        for w in words
        for o in others
        for base in [_common_core(w, o)]
        if w != o
    )


def _common_core(a: str, b: str) -> str:
    """The longest shared end or start of two name words: 'hours' of 'hhours' and 'whours'."""
    end = 0
    while end < min(len(a), len(b)) and a[-1 - end] == b[-1 - end]:
        end += 1
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    return a[len(a) - end :] if end >= start else a[:start]


def _qualifier_of(name_word: str, word: str) -> str:
    """'wagew' is 'wage' + 'w', 'hhours' is 'h' + 'hours', 'ncases' is 'n' + 'case(s)': a
    whole word of three letters or more, and one or two letters before or after it; returns
    those letters ('' if the name is not made so)."""
    if len(word) < 3 or not word.isalpha():
        return ""
    rest = len(name_word) - len(word)
    if 1 <= rest <= 2 and name_word.startswith(word):
        return name_word[len(word) :]
    # a letter before the word, in any of its forms: 'ncases' for 'case counts'
    name, said = stem(name_word), stem(word)
    rest = len(name) - len(said)
    if 1 <= rest <= 2 and len(said) >= 3 and name.endswith(said):
        return name[:rest]
    return ""


def _an_input_starts_with(letters: str, brief: Brief) -> bool:
    """A qualifier of two letters or more ('un') that starts an input word ('unemployment')
    says which input's variant the name is."""
    return len(letters) >= 2 and any(s.startswith(letters) for s in brief.input_stems)


def _glued_abbreviation(name_word: str, brief: Brief) -> list[str]:
    """'repwt' ← reported weight, 'tobgp' ← tobacco group: the name cut into two or three
    pieces, each the start (3+ letters) or the consonants of a different brief word. One
    piece may be a short form of a quantity the brief does not say ('totemp' ← total
    employees, when the brief asks how many employees): it qualifies the words that are
    said, and is returned as the word it is short for."""
    words = [w for w in dict.fromkeys(brief.originals.values()) if len(w) >= 3]
    quantity_asked = brief.answer is AnswerType.NUMBER

    def cut(rest: str, used: tuple[str, ...]) -> list[str] | None:
        if not rest:
            said = [w for w in used if w in words]
            # beside an unsaid piece, each said one is a word's start or consonants of 3+
            # letters: 'hsperc' is no 'hours percentage'
            clear = len(said) == len(used) or min(cut_lengths, default=0) >= 3
            return list(used) if len(used) >= 2 and said and clear else None
        if len(used) == 3:
            return None
        unsaid = [w for w in used if w not in words]
        for n in range(min(len(rest), 4), 2, -1):
            short_for = ABBREVIATIONS.get(rest[:n], "") if quantity_asked else ""
            if not unsaid and short_for in SILENT_QUALIFIERS and short_for not in words:
                found = cut(rest[n:], (*used, short_for))
                if found:
                    return found
        # one letter only first and before more ('Hwt' ← heart weight)
        shortest = 1 if not used and len(rest) >= 3 else 2
        after_a_letter = len(used) == 1 and len(cut_lengths) == 1 and cut_lengths[0] == 1
        for n in range(len(rest), shortest - 1, -1):
            piece = rest[:n]
            for w in words:
                if w in used:
                    continue
                short_for = ABBREVIATIONS.get(piece, "")
                known = bool(short_for) and (short_for == w or same_root(stem(short_for), stem(w)))
                if after_a_letter:  # 'H' + 'wt': after one letter, only a known short form
                    fits = known or piece == w
                else:
                    # two letters only first, before a longer piece ('smstat' ← smoking status)
                    two_first = n == 2 and not used and len(rest) - n >= 4
                    prefix = (n >= 3 or n == 1 or two_first) and w.startswith(piece)
                    consonants = n > 1 and _consonants_in_order(piece, w) and piece[-1] == w[-1]
                    fits = prefix or consonants or known or _skeleton_of(piece, w)
                if fits:
                    cut_lengths.append(n)
                    found = cut(rest[n:], (*used, w))
                    cut_lengths.pop()
                    if found:
                        return found
        return None

    cut_lengths: list[int] = []

    return cut(name_word, ()) or []


def _said_like(word: str, brief: Brief) -> list[str]:
    """Brief stems that are `word` or share its root ('efficient' for 'efficiency')."""
    if word in brief.weights:
        return [word]
    return [s for s in brief.weights if same_root(word, s)]


_DERIVED_ENDINGS = ("y", "ly", "ed", "ing", "ness", "s")


def _plural_abbreviates(short: str, word: str) -> bool:
    """'cigs' for cigarettes: a short form with a plural 's', when the name is no English
    word ('outs' is one, and not short for output)."""
    return (short.endswith("s") and not short.endswith("ss") and not is_known_word(short)
            and _abbreviates(short[:-1], word))


def _abbreviates(short: str, word: str, slack: int = 2) -> bool:
    """'temp' for temperature (a prefix), 'hwy' for highway (consonants in order, ending
    where the word ends, as 'wt', 'qty' and 'amt' do; 'ftc' is not short for 'fetch')."""
    if len(short) < 3 or len(word) < len(short) + slack or not short.isalpha():
        return False  # two letters ('fl', 'ss') abbreviate too many words to tell
    if word.startswith(short):
        return True
    # ending where the word ends, or where its root does ('hlth' for healthy)
    ends = {word[-1], *(word[-len(s) - 1] for s in _DERIVED_ENDINGS if word.endswith(s))}
    return _consonants_in_order(short, word) and short[-1] in ends


def _initials_in(short: str, words: list[str]) -> list[str]:
    """The brief words whose starts make the word: 'gpa' ← grade point average, 'los' ←
    length of stay, 'medv' ← median (home) value, 'bwt' ← birth weight; [] if none."""
    if len(short) == 2 and short.isalpha():  # 'ui' ← unemployment insurance: two whole words
        return next(
            (
                [a, b]
                for a, b in pairwise(words)
                if a[:1] + b[:1] == short and min(len(a), len(b)) >= 3 and not {a, b} & STOPWORDS
            ),
            [],
        )
    if not 3 <= len(short) <= 12 or not short.isalpha():
        return []
    for i in range(len(words)):
        span = _starts_of(short, words, i, 0, False)
        if span:
            return words[i : i + span]
    return []


def _starts_of(short: str, words: list[str], i: int, used: int, skipped: bool) -> int | None:
    """How many words from `i` on make `short`, each by its start ('med' of median) or its
    consonants ('wt' of weight), at least two of them, one word skipped at most; None if not."""
    if not short:
        return 0 if used >= 2 else None
    if i >= len(words):
        return None
    word = words[i]
    for n in _piece_lengths(short, word):
        rest = _starts_of(short[n:], words, i + 1, used + 1, skipped)
        if rest is not None:
            return rest + 1
    return None


def _piece_lengths(short: str, word: str) -> list[int]:
    """Lengths n such that short[:n] starts `word` (one letter, three or more, or all of a
    short word: 'ma' + 'le' of 'machine learning' is not 'male'), or is its consonants."""
    if not word or word[0] != short[0] or word in _ARTICLES:
        return []  # 'the' gives no initial: 'vote' is not 'view of the economy'
    lengths = [
        n
        for n in range(min(len(word), len(short)), 0, -1)
        if word[:n] == short[:n] and (n != 2 or len(word) == 2)
    ]
    # the last piece may be a content word's consonants: 'b' + 'wt' of 'birth weight'
    n = len(short)
    last_piece = 2 <= n <= 4 and n not in lengths and word not in STOPWORDS
    ends_alike = short[-1] == word[-1]  # 'wt' of weight; not 'er' of earn
    if last_piece and ends_alike and len(word) >= n + 2 and _consonants_in_order(short, word):
        lengths.append(n)
    return lengths


def _consonants_in_order(short: str, word: str) -> bool:
    if short[0] != word[0] or set(short[1:]) & _VOWELS:
        return False
    rest = iter(word[1:])
    return all(letter in rest for letter in short[1:])


def initials(name: str) -> str:
    """'Miles_per_Gallon' → 'mpg': names of three words or more are often known by these."""
    words = [w for w in re.split(r"[\W_]+", _CAMEL.sub(" ", str(name)).lower()) if w]
    return "".join(w[0] for w in words) if len(words) >= 3 else ""


_DERIVATIONS = ("ation", "ion", "al", "ment", "ance", "ence", "ing", "er", "or")


def same_root(a: str, b: str) -> bool:
    """'denial' and 'deny', 'prestigious' and 'prestige', 'efficient' and 'efficiency';
    'cit' (cited) and 'citation', 'approv' and 'approval': a stem and its derivation."""
    short, long_ = sorted((a.lower(), b.lower()), key=len)
    if len(short) >= 3 and any(long_ == short + ending for ending in _DERIVATIONS):
        return True
    return _same_root(a, b)


def _same_root(a: str, b: str) -> bool:
    a, b = (
        a.lower().removesuffix("y") + "i" * a.endswith("y"),
        b.lower().removesuffix("y") + "i" * b.endswith("y"),
    )
    shorter = min(len(a), len(b))
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    if shorter < 4 or common < 4 or common < 0.8 * shorter:
        return False
    if shorter < 5 and not any(w[common:] in _ENDINGS or w[common:] in _DERIVATIONS for w in (a, b) if len(w) > common):
        return False  # 'stat' (state) and 'status': too short to tell without a real ending
    # what is left must be an ending ('-ial', '-ious'), not a word ('health' + 'care')
    return all(len(w) - common <= 2 or w[common:] in _ENDINGS for w in (a, b))


_ENDINGS = words_of(
    "ial ical ion ions ation ious ous ity ive ness ment able ible ant ent ence ance ency ancy "
    "ing ings ian ist ism ise ize ally"
)
_NOT_A_LABEL = {"yes", "no", "true", "false", "0", "1", "other", "others", "none", "nan", "na"}


_ORDER_PREFIX = re.compile(r"^\d{1,2}[_.):-]\s*(?=[^\W\d_])")


def _says_value_word(word: str, whole: Brief) -> bool:
    """A value's word said, or meant closely; a shared start is no saying ('needle' is not
    "do the needful")."""
    weight, _, kind = word_cue(word, whole)
    return weight >= SYNONYM * CONTEXT and kind != "start"


def mentioned_values(col: ColumnProfile, brief: Brief) -> list[str]:
    """Values of `col` the brief spells out, anywhere in it: 'up or down' → 'Up', 'Down';
    'rise or fall' → the same; 'blue collar or professional' → 'bc', 'prof'."""
    whole = brief.whole
    hits = []
    for value, _ in col.top_values:
        # '6_Considerable_improvement', '1_yes': the number only orders the levels
        lowered = _ORDER_PREFIX.sub("", str(value).strip().lower()) or str(value).strip().lower()
        words = [w for w in WORD.findall(lowered) if w not in STOPWORDS]
        if lowered in _NOT_A_LABEL or not words or any(len(w) < 2 for w in words):
            continue
        # said anywhere, even in passing ('filed in Toronto or Montreal'), or meant closely
        named = all(_says_value_word(w, whole) for w in words)
        short = len(lowered) <= 4 and lowered.isalpha()
        # 'OJ' for orange juice: an upper-case code spelled by the initials of brief words
        acronym = short and (lowered in brief.acronyms or (
            str(value).strip().isupper() and lowered in brief.word_initials))
        if named or acronym:
            hits.append(str(value))
    return hits


# "front-wheel, rear-wheel or 4wd?", "male or female": the answers the brief offers
_CHOICES = re.compile(
    r"((?:[\w-]+(?: [\w-]+)?, )+[\w-]+(?: [\w-]+)?,? or (?:the |an? )?[\w-]+|"
    r"[\w-]+ or (?:the |an? )?[\w-]+)",
    re.IGNORECASE,
)


def offered_by_initials(col: ColumnProfile, brief: Brief) -> list[str]:
    """Values coded by one letter ('f', 'r', '4') that are the first letters of the answers
    the brief offers ('front-wheel, rear-wheel or 4wd'); [] unless every value is offered."""
    values = [str(v).strip() for v, _ in col.top_values]
    if not values or len(values) != col.unique_count or any(len(v) != 1 for v in values):
        return []
    for found in _CHOICES.finditer(brief.text):
        options = [o.strip() for o in re.split(r",|\bor\b", found.group(1)) if o.strip()]
        last = len(options) - 1  # the answer after 'or' is its first word: 'or the orange one'
        words = [o.split()[-1] if i < last else _without_article(o).split()[0] for i, o in enumerate(options)]
        letters = sorted(w[0].lower() for w in words)
        if len(options) == len(values) and letters == sorted(v.lower() for v in values):
            return [str(v) for v, _ in col.top_values]
    return []


def _without_article(option: str) -> str:
    return re.sub(r"^(?:the|an?)\s+", "", option, flags=re.IGNORECASE) or option
