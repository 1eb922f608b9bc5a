"""Greedy ensemble selection (Caruana et al., 2004) over out-of-fold predictions, bagged.

One selection: start from the best single model; repeatedly add (with replacement) the model
whose addition gives the best validation score of the averaged output; keep the best mixture
seen. Weights are how often each model was picked.

On small data one selection overfits its rows: a model that happens to be best on a few
hundred out-of-fold rows (often an over-confident linear model) takes most of the weight.
So the selection is repeated on bootstrap samples of the rows and the weights averaged
(Caruana et al., 2006, "bagged ensemble selection"), as time allows. The mixture is used only
if it beats the best single model on all out-of-fold rows.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from core import metrics


class GreedyEnsemble:
    """Ensemble selection (scikit-learn shape).

    Parameters: metric name, n_classes (0 for regression), max_models (candidates kept,
    by score), rounds (selection steps), bags (bootstrap repetitions of the selection),
    max_seconds (bagging stops when it would exceed this), seed, min_weight (members
    with a smaller averaged weight are dropped).
    Learned: `weights_` (trial id → weight, summing to 1), `score_` (higher is better),
    `best_single_id_`, `best_single_score_`, `improves_` (True if the mixture is better),
    `bags_used_`; the build sets `floor_` (how the choice fared against the plan's first
    trials alone, or None).
    """

    def __init__(self, metric: str, n_classes: int = 0, *, max_models: int = 10, rounds: int = 25,
                 min_gain: float = 1e-6, bags: int = 20, max_seconds: float = 5.0, seed: int = 0,
                 min_weight: float = 0.05):
        self.metric = metric
        self.n_classes = n_classes
        self.max_models = max_models
        self.rounds = rounds
        self.min_gain = min_gain
        self.bags = bags
        self.max_seconds = max_seconds
        self.seed = seed
        self.min_weight = min_weight

    def _score(self, y: np.ndarray, output: np.ndarray) -> float:
        try:
            return metrics.score(self.metric, y, output, self.n_classes)
        except ValueError:
            return -np.inf

    def _select(self, predictions: dict[str, np.ndarray], ranked: list[str],
                y: np.ndarray) -> Counter:
        """One greedy selection on the given rows; returns how often each model was picked."""
        first = max(ranked, key=lambda k: (self._score(y, predictions[k]), -ranked.index(k)))
        picks: list[str] = [first]
        total = predictions[first].astype("float64").copy()
        best_score, best_picks = self._score(y, total), list(picks)
        for _ in range(self.rounds):
            trial_scores = {k: self._score(y, (total + predictions[k]) / (len(picks) + 1)) for k in ranked}
            choice = max(ranked, key=lambda k: (trial_scores[k], -ranked.index(k)))
            picks.append(choice)
            total += predictions[choice]
            if trial_scores[choice] > best_score + self.min_gain:
                best_score, best_picks = trial_scores[choice], list(picks)
        return Counter(best_picks)

    def _bagged_weights(self, predictions: dict[str, np.ndarray], ranked: list[str],
                        y: np.ndarray) -> dict[str, float]:
        """Average the selection's weights over bootstrap samples of the rows, as time allows."""
        start = time.monotonic()
        counts = self._select(predictions, ranked, y)  # the plain selection counts as one bag
        weights = Counter({k: c / sum(counts.values()) for k, c in counts.items()})
        one_bag = time.monotonic() - start
        rng = np.random.default_rng(self.seed)
        bags = 1
        while bags < self.bags and time.monotonic() - start + one_bag <= self.max_seconds:
            rows = rng.integers(0, len(y), len(y))
            if self.n_classes and len(np.unique(y[rows])) < 2:
                continue
            counts = self._select({k: p[rows] for k, p in predictions.items()}, ranked, y[rows])
            weights.update({k: c / sum(counts.values()) for k, c in counts.items()})
            bags += 1
        self.bags_used_ = bags
        return self._pruned({k: weights[k] / bags for k in ranked if weights[k] > 0})

    def _pruned(self, weights: dict[str, float]) -> dict[str, float]:
        """Drop members that only a few bags picked: they barely change the output but each
        costs a refit, explanation time and bundle size."""
        kept = {k: w for k, w in weights.items() if w >= self.min_weight}
        if not kept:  # cannot happen with <= 1/min_weight models; kept for safety
            kept = {max(weights, key=weights.get): 1.0}
        total = sum(kept.values())
        return {k: w / total for k, w in kept.items()}

    def fit(self, predictions: dict[str, np.ndarray], scores: dict[str, float],
            y: np.ndarray) -> "GreedyEnsemble":
        """predictions: trial id → out-of-fold output on the rows of `y`."""
        if not predictions:
            raise ValueError("Ensemble selection needs at least one model's predictions.")
        ranked = sorted(predictions, key=lambda k: -scores[k])[: self.max_models]
        self.best_single_id_ = ranked[0]
        self.best_single_score_ = self._score(y, predictions[ranked[0]])
        self.bags_used_ = 0
        self.weights_ = {self.best_single_id_: 1.0}
        self.score_ = self.best_single_score_
        if self.rounds > 0 and len(ranked) > 1:
            self.weights_ = self._bagged_weights(predictions, ranked, y)
            self.score_ = self._score(y, self.blend(predictions))
        self.improves_ = len(self.weights_) > 1 and self.score_ > self.best_single_score_ + self.min_gain
        if not self.improves_:
            self.weights_ = {self.best_single_id_: 1.0}
            self.score_ = self.best_single_score_
        return self

    def blend(self, outputs: dict[str, np.ndarray]) -> np.ndarray:
        """Weighted average of the chosen models' outputs."""
        return sum(outputs[k] * w for k, w in self.weights_.items())


def paired_win_share(metric: str, n_classes: int, y: np.ndarray, a: np.ndarray, b: np.ndarray, *,
                     seed: int = 0, samples: int = 200, max_seconds: float = 1.0) -> float:
    """The share of bootstrap samples of the rows on which output `a` scores better than
    output `b` (ties count half): how sure one can be that `a` is better on rows like these,
    not only on these rows. Both are scored on the same sample each time (paired), so what
    the rows have in common cancels out. At least 20 samples are drawn, more as time allows."""
    rng = np.random.default_rng(seed)
    start, wins, drawn = time.monotonic(), 0.0, 0
    for _ in range(5 * samples):  # a sample with a single class cannot be scored; redraw it
        if drawn >= samples or (drawn >= 20 and time.monotonic() - start >= max_seconds):
            break
        rows = rng.integers(0, len(y), len(y))
        if n_classes and len(np.unique(y[rows])) < 2:
            continue
        score_a = metrics.score(metric, y[rows], a[rows], n_classes)
        score_b = metrics.score(metric, y[rows], b[rows], n_classes)
        wins += 1.0 if score_a > score_b else 0.5 if score_a == score_b else 0.0
        drawn += 1
    return wins / drawn if drawn else 0.5
