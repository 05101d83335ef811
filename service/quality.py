"""Online quality of the delayed labels: windowed subset accuracy, Hamming loss and micro-F1."""

from __future__ import annotations

import collections

__all__ = ["OnlineQuality"]


class OnlineQuality:
    """Scores stored predictions against the labels that arrive later, over a sliding window.

    Each scored prediction contributes whether its label set was exactly right, its Hamming loss
    over the label space known at that moment, and its true positive, false positive and false
    negative counts (micro-F1 = 2TP / (2TP + FP + FN) over the window, 1 when that is 0/0).
    The label cardinality is the mean number of ON labels over the last `window` learned
    instances, scored or not.

    Parameters
    ----------
    window
        Number of recent scored predictions (and of learned instances for the cardinality).

    Examples
    --------

    >>> q = OnlineQuality(window=2)
    >>> q.score(predicted={"a"}, truth={"a"}, n_labels=2)
    >>> q.score(predicted={"a"}, truth={"b"}, n_labels=2)
    >>> q.subset_accuracy, q.hamming_loss, round(q.micro_f1, 3)
    (0.5, 0.5, 0.5)
    >>> q.score(predicted=set(), truth={"b"}, n_labels=2)
    >>> q.subset_accuracy, q.hamming_loss, q.micro_f1
    (0.0, 0.75, 0.0)

    """

    def __init__(self, window: int = 1000):
        self.window = window
        self._scored: collections.deque[tuple[bool, float, int, int, int]] = collections.deque()
        self._exact = 0
        self._hamming = 0.0
        self._tp = self._fp = self._fn = 0
        self._cards: collections.deque[int] = collections.deque()
        self._card_sum = 0
        self.n_scored = 0

    def observe(self, n_on: int) -> None:
        """Count a learned instance with `n_on` labels ON (for the label cardinality)."""
        self._cards.append(n_on)
        self._card_sum += n_on
        while len(self._cards) > self.window:
            self._card_sum -= self._cards.popleft()

    def score(self, predicted: set[str], truth: set[str], n_labels: int) -> None:
        """Score one stored prediction against its labels, `n_labels` being the label space."""
        tp = len(predicted & truth)
        fp = len(predicted) - tp
        fn = len(truth) - tp
        exact = fp == 0 and fn == 0
        hamming = (fp + fn) / max(n_labels, 1)
        self._scored.append((exact, hamming, tp, fp, fn))
        self._add(exact, hamming, tp, fp, fn, +1)
        while len(self._scored) > self.window:
            self._add(*self._scored.popleft(), -1)
        self.n_scored += 1

    def _add(self, exact, hamming, tp, fp, fn, sign):
        self._exact += sign * exact
        self._hamming += sign * hamming
        self._tp += sign * tp
        self._fp += sign * fp
        self._fn += sign * fn

    @property
    def size(self) -> int:
        """Scored predictions in the window."""
        return len(self._scored)

    @property
    def subset_accuracy(self) -> float | None:
        return self._exact / len(self._scored) if self._scored else None

    @property
    def hamming_loss(self) -> float | None:
        if not self._scored:
            return None
        return max(self._hamming, 0.0) / len(self._scored)

    @property
    def micro_f1(self) -> float | None:
        if not self._scored:
            return None
        denominator = 2 * self._tp + self._fp + self._fn
        return 2 * self._tp / denominator if denominator else 1.0

    @property
    def label_cardinality(self) -> float | None:
        return self._card_sum / len(self._cards) if self._cards else None

    def to_dict(self) -> dict:
        return {
            "window": self.size,
            "subset_accuracy": self.subset_accuracy,
            "hamming_loss": self.hamming_loss,
            "micro_f1": self.micro_f1,
            "label_cardinality": self.label_cardinality,
        }
