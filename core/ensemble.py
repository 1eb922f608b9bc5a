"""Greedy ensemble selection (Caruana et al., 2004) over out-of-fold predictions.

Start from the best single model; repeatedly add (with replacement) the model whose
addition gives the best validation score of the averaged output; keep the best mixture
seen. Weights are how often each model was picked. It is used only if it beats the best
single model on the same out-of-fold rows.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from core import metrics


class GreedyEnsemble:
    """Ensemble selection (scikit-learn shape).

    Parameters: metric name, n_classes (0 for regression), max_models (candidates kept,
    by score), rounds (selection steps).
    Learned: `weights_` (trial id → weight, summing to 1), `score_` (higher is better),
    `best_single_id_`, `best_single_score_`, `improves_` (True if the mixture is better).
    """

    def __init__(self, metric: str, n_classes: int = 0, *, max_models: int = 10, rounds: int = 25,
                 min_gain: float = 1e-6):
        self.metric = metric
        self.n_classes = n_classes
        self.max_models = max_models
        self.rounds = rounds
        self.min_gain = min_gain

    def _score(self, y: np.ndarray, output: np.ndarray) -> float:
        try:
            return metrics.score(self.metric, y, output, self.n_classes)
        except ValueError:
            return -np.inf

    def fit(self, predictions: dict[str, np.ndarray], scores: dict[str, float],
            y: np.ndarray) -> "GreedyEnsemble":
        """predictions: trial id → out-of-fold output on the rows of `y`."""
        if not predictions:
            raise ValueError("Ensemble selection needs at least one model's predictions.")
        ranked = sorted(predictions, key=lambda k: -scores[k])[: self.max_models]
        self.best_single_id_ = ranked[0]
        self.best_single_score_ = self._score(y, predictions[ranked[0]])
        picks: list[str] = [ranked[0]]
        total = predictions[ranked[0]].astype("float64").copy()
        best_score, best_picks = self.best_single_score_, list(picks)
        for _ in range(self.rounds):
            trial_scores = {k: self._score(y, (total + predictions[k]) / (len(picks) + 1)) for k in ranked}
            choice = max(ranked, key=lambda k: (trial_scores[k], -ranked.index(k)))
            picks.append(choice)
            total += predictions[choice]
            if trial_scores[choice] > best_score + self.min_gain:
                best_score, best_picks = trial_scores[choice], list(picks)
        counts = Counter(best_picks)
        self.weights_ = {k: counts[k] / len(best_picks) for k in ranked if counts[k]}
        self.score_ = best_score
        self.improves_ = len(self.weights_) > 1 and best_score > self.best_single_score_ + self.min_gain
        if not self.improves_:
            self.weights_ = {self.best_single_id_: 1.0}
            self.score_ = self.best_single_score_
        return self

    def blend(self, outputs: dict[str, np.ndarray]) -> np.ndarray:
        """Weighted average of the chosen models' outputs."""
        return sum(outputs[k] * w for k, w in self.weights_.items())
