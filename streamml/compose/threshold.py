"""One decision threshold for all labels, learned online for the micro-F1."""

from __future__ import annotations

from .fmeasure import shrunk_threshold

__all__ = ["MicroFThreshold"]


class MicroFThreshold:
    """The threshold of `FMeasureThresholds(average="micro")`, for a model that decides its
    own labels (vector level, as `LabelSetDecoder`).

    With `a` the true positives and `b` the positives plus the predicted positives of the
    answers given so far (plus `prior` and `2 prior` per known label), the threshold is
    `strength` of the way from 0.5 to a / b.

    Parameters
    ----------
    strength
        How far the threshold goes from 0.5 towards the micro-F1's (0: it stays at 0.5).
    prior
        Pseudo-counts per label of the start (a threshold of 0.5).

    Examples
    --------
    >>> threshold = MicroFThreshold(strength=0.5)
    >>> threshold.value(n_labels=2)
    0.5
    >>> threshold.learn(hits=0, n_true=3, n_predicted=1)  # a = 2, b = 8: F* / 2 = 0.25
    >>> threshold.value(n_labels=2)
    0.375

    """

    def __init__(self, strength: float, prior: float = 1.0):
        self.strength = strength
        self.prior = prior
        self._hits = 0.0
        self._total = 0.0

    def value(self, n_labels: int) -> float:
        """The threshold now, with `n_labels` labels known."""
        prior = self.prior * n_labels
        if self.strength == 0.0 or prior + self._total == 0.0:
            return 0.5
        return shrunk_threshold((prior + self._hits) / (2.0 * prior + self._total), self.strength)

    def learn(self, hits: int, n_true: int, n_predicted: int) -> None:
        """Count an answer: its true positives, the true set's size and the answer's."""
        self._hits += hits
        self._total += n_true + n_predicted
