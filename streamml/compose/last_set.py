"""The last true label set as a second opinion, mixed into probabilities label by label."""

from __future__ import annotations

import numpy as np

from ..learners.mixing import pair_weights

__all__ = ["LastSetMixture"]


class LastSetMixture:
    """A model's P(True) mixed, label by label, with the last true label set.

    Many streams are ordered: an instance often has the label set of the one before it (a
    stream stored sorted by label set, a topic that lasts, a sensor in one state). Predicting
    the last true label set, the no-change classifier of data streams[^1], is then hard to
    beat, while on other streams it is poor. Each label mixes the model's probability and
    the last set's 0/1 by their recent Brier scores on that label (squared errors faded with
    weight `decay` on the latest instance): the last set weighs its score to the power
    -`rate`, the model likewise (`learners.mixing`), so it takes a label over as soon as, and
    as much as, it has lately predicted that label better. Before two instances are known
    the model's probabilities are returned unchanged.

    Labels are positions in the caller's order; their number may grow (new labels start
    with no score).

    Parameters
    ----------
    rate
        How sharply the weights follow the ratio of the two recent Brier scores.
    decay
        Weight of the latest instance in the recent Brier scores.

    Examples
    --------
    >>> mixture = LastSetMixture(rate=4.0, decay=0.5)
    >>> mixture.learn(np.array([0.2, 0.6]), [0], n_labels=2)  # label 0 is on, label 1 off
    >>> mixture.learn(np.array([0.3, 0.4]), [0], n_labels=2)  # the same set again
    >>> mixture.mix(np.array([0.3, 0.4])).round(3).tolist()
    [1.0, 0.0]

    References
    ----------
    [^1]: Žliobaitė, I., Bifet, A., Read, J., Pfahringer, B. and Holmes, G., 2015.
        Evaluation methods and decision theory for classification of streaming data with
        temporal dependence. Machine Learning, 98(3), pp.455-482.

    """

    def __init__(self, rate: float, decay: float):
        self.rate = rate
        self.decay = decay
        self._last = np.zeros(0)  # the last true set, 0/1 per label
        # Recent Brier scores per label: of the last set (row 0), of the model (row 1).
        self._scores = np.zeros((2, 0))
        self._w = np.zeros(0)  # the last set's weights, from those scores
        self._n = 0  # instances learnt

    def _grow(self, n_labels: int) -> None:
        extra = n_labels - len(self._last)
        if extra > 0:
            pad = np.zeros(extra)
            self._last = np.concatenate([self._last, pad])
            self._scores = np.hstack([self._scores, np.zeros((2, extra))])
            self._w = np.concatenate([self._w, pad + 0.5])  # no score on either side

    @property
    def n_learnt(self) -> int:
        """Instances learnt (true sets seen)."""
        return self._n

    def weights(self, n_labels: int) -> np.ndarray:
        """The weight of the last set in each label's mixture (the model's: 1 minus it)."""
        if self._n < 2:
            return np.zeros(n_labels)
        self._grow(n_labels)
        return self._w[:n_labels]

    def mix(self, proba: np.ndarray) -> np.ndarray:
        """The mixture of these P(True) of the first labels with the last true set."""
        if self._n < 2:
            return proba
        n = len(proba)
        if n > len(self._w):
            self._grow(n)
        return proba + self._w[:n] * (self._last[:n] - proba)

    def learn(self, proba: np.ndarray, positives, n_labels: int) -> None:
        """Score the model's P(True) (given before learning) and the last set against the
        true set (`positives`: the positions of its labels, out of `n_labels` known, at least
        as many as `proba`), then remember it."""
        self._grow(n_labels)
        width = len(self._last)
        y = np.zeros(width)
        y[list(positives)] = 1.0
        if self._n:
            if len(proba) < width:
                proba = np.concatenate([proba, np.zeros(width - len(proba))])
            scores = self._scores
            errors = np.array((self._last, proba))
            errors -= y
            errors *= errors
            errors -= scores
            errors *= self.decay
            scores += errors
            self._w = pair_weights(scores, self.rate)
        self._last = y
        self._n += 1
