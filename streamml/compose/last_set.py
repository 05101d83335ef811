"""The last true label set as a second opinion, mixed into probabilities label by label."""

from __future__ import annotations

import numpy as np

from ..learners.mixing import pair_weights

__all__ = ["LastSetMixture"]

_SMALL = 64  # labels: below, lists and Python loops; from here on, arrays


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
        # Below _SMALL labels the state is in lists, read and written in Python loops (array
        # calls cost more than the arithmetic); from _SMALL labels on, in arrays.
        self._last = []  # the last true set, 0/1 per label
        # Recent Brier scores per label: of the last set (row 0), of the model (row 1).
        self._scores = [[], []]
        self._w = []  # the last set's weights, from those scores
        self._n = 0  # instances learnt

    def _grow(self, n_labels: int) -> None:
        extra = n_labels - len(self._last)
        if extra <= 0:
            return
        if n_labels < _SMALL:
            self._last = self._last + [0.0] * extra
            self._scores = [row + [0.0] * extra for row in self._scores]
            self._w = self._w + [0.5] * extra  # no score on either side
            return
        pad = np.zeros(extra)
        self._last = np.concatenate([np.asarray(self._last, dtype=float), pad])
        scores = np.asarray(self._scores, dtype=float).reshape(2, -1)
        self._scores = np.hstack([scores, np.zeros((2, extra))])
        self._w = np.concatenate([np.asarray(self._w, dtype=float), pad + 0.5])

    @property
    def n_learnt(self) -> int:
        """Instances learnt (true sets seen)."""
        return self._n

    def weights(self, n_labels: int) -> np.ndarray:
        """The weight of the last set in each label's mixture (the model's: 1 minus it)."""
        if self._n < 2:
            return np.zeros(n_labels)
        self._grow(n_labels)
        return np.asarray(self._w[:n_labels], dtype=float)

    def mix(self, proba: np.ndarray) -> np.ndarray:
        """The mixture of these P(True) of the first labels with the last true set."""
        if self._n < 2:
            return proba
        n = len(proba)
        if n > len(self._w):
            self._grow(n)
        if isinstance(self._w, list):
            mixed = [q + w * (last - q) for q, w, last in zip(proba.tolist(), self._w, self._last)]
            return np.array(mixed)
        return proba + self._w[:n] * (self._last[:n] - proba)

    def learn(self, proba: np.ndarray, positives, n_labels: int) -> None:
        """Score the model's P(True) (given before learning) and the last set against the
        true set (`positives`: the positions of its labels, out of `n_labels` known, at least
        as many as `proba`), then remember it."""
        self._grow(n_labels)
        if isinstance(self._last, list):
            self._learn_small(proba.tolist(), positives)
        else:
            self._learn_large(proba, positives)
        self._n += 1

    def _learn_small(self, proba: list, positives) -> None:
        width = len(self._last)
        y = [0.0] * width
        for i in positives:
            y[i] = 1.0
        if self._n:
            proba += [0.0] * (width - len(proba))
            a, rate, w = self.decay, self.rate, self._w
            persist, model = self._scores
            for i, (on, before, q) in enumerate(zip(y, self._last, proba)):
                # The same operations as _learn_large and pair_weights, in the same order.
                e, f = before - on, q - on
                s = persist[i] + (e * e - persist[i]) * a
                m = model[i] + (f * f - model[i]) * a
                persist[i], model[i] = s, m
                s += 1e-300
                m += 1e-300
                top = s if s >= m else m
                s = (s / top) ** rate
                m = (m / top) ** rate
                w[i] = m / (s + m)
        self._last = y

    def _learn_large(self, proba: np.ndarray, positives) -> None:
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
