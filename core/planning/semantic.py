"""How close in meaning two short phrases are, from static English word vectors.

The target scorer uses it as a weak cue: "pregnancy" is close to 'gestation', "transport
mode" to the values 'car', 'bus', 'train', though they share no word. The vectors
(`data/word_vectors.npz`, made once by `scripts/make_word_vectors.py` from all-MiniLM-L6-v2,
Apache-2.0, see `data/README.md`) hold 30,000 whole English words, each a float16 unit row;
a phrase is the mean of its words' rows and two phrases are compared by cosine. numpy alone:
no model runs here, and nothing is fetched.

The same 30,000 words tell an English word from a keyboard slip: `is_typo_of` reads 'limt' as
'limit' (for a column word) and 'wheter' as 'whether' (for the words that carry a question).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

WORD_VECTORS = Path(__file__).parent / "data" / "word_vectors.npz"


@lru_cache(maxsize=1)
def _vectors() -> tuple[dict[str, int], np.ndarray]:
    """The vocabulary (word → row) and the rows, loaded once per process."""
    with np.load(WORD_VECTORS, allow_pickle=False) as data:
        words, rows = data["words"].tolist(), data["vectors"].astype(np.float32)
    return {word: i for i, word in enumerate(words)}, rows


def is_known_word(word: str) -> bool:
    """Whether `word` is one of the vectors' English words ('limit' is, 'limt' is not)."""
    return str(word).lower() in _vectors()[0]


def phrase_vector(words: Iterable[str]) -> np.ndarray | None:
    """The mean of the known words' vectors; None when no word is known."""
    index, rows = _vectors()
    known = [index[w] for w in (str(w).lower() for w in words) if w in index]
    return rows[known].mean(axis=0) if known else None


def similarity(phrase_words: Iterable[str], column_words: Iterable[str]) -> float:
    """Cosine between the mean vectors of two phrases, in [-1, 1]; 0.0 when either has no
    known word (an abbreviation such as 'narr86' is no word)."""
    a, b = phrase_vector(phrase_words), phrase_vector(column_words)
    if a is None or b is None:
        return 0.0
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm else 0.0


def is_typo_of(said: str, word: str) -> bool:
    """'limt' for 'limit', 'weigth' for 'weight', 'salery' for 'salary': a brief word that is
    no English word, one letter dropped, added, swapped with the next or changed away from
    an English word of five letters or more that starts with the same letter."""
    if len(word) < 5 or said == word or said[:1] != word[:1] or not said.isalpha():
        return False
    if abs(len(said) - len(word)) > 1 or not is_known_word(word) or is_known_word(said):
        return False
    if len(said) != len(word):
        short, long_ = sorted((said, word), key=len)
        return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
    differ = [i for i, (a, b) in enumerate(zip(said, word)) if a != b]
    swapped = len(differ) == 2 and differ[1] == differ[0] + 1 and (
        said[differ[0]] == word[differ[1]] and said[differ[1]] == word[differ[0]])
    return len(differ) == 1 or swapped
