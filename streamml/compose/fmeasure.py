"""Decision thresholds learned online for the F-measure."""

from __future__ import annotations

import numpy as np
from river import base

from .base import Decision

__all__ = ["FMeasureThresholds", "shrunk_threshold"]


def shrunk_threshold(f, strength: float):
    """The threshold `strength` of the way from 0.5 to `f` (F* / 2, what the F-measure asks).

    >>> shrunk_threshold(0.3, 0.5)
    0.4

    """
    return f if strength == 1.0 else 0.5 - strength * (0.5 - f)


def check_prior(prior) -> None:
    """Refuse pseudo-counts that are not a number above 0."""
    if isinstance(prior, bool) or not isinstance(prior, (int, float)) or not prior > 0:
        raise ValueError(f"prior must be a number > 0, got {prior!r}")


def check_strength(strength) -> None:
    """Refuse a `shrunk_threshold` strength that is not a number in [0, 1]."""
    if (
        isinstance(strength, bool)
        or not isinstance(strength, (int, float))
        or not 0 <= strength <= 1
    ):
        raise ValueError(f"strength must be a number in [0, 1], got {strength!r}")


class FMeasureThresholds(Decision):
    """Predict a label when its probability reaches a threshold learned online for the F-measure.

    A classifier that predicts the labels whose probability reaches 0.5 maximises the expected
    Hamming accuracy, not the F-measure: on sparse label spaces it rarely predicts a rare label,
    whose F1 is then 0. The F-measure is maximised by the threshold F* / 2, where F* is the best
    F-measure reachable [^1]. Online, the threshold follows the F-measure of the predictions
    made so far: with `a` the true positives and `b` the positives plus the predicted positives
    (F = 2a / b), the threshold is a / b, learned from each prediction before the model learns
    the instance. A label whose positives are never predicted sees its threshold fall until they
    are; one predicted wrongly sees it rise towards 0.5.

    `average="macro"` keeps one threshold per label (for the macro-F1, rare labels), `"micro"`
    one for all labels (micro-F1). The counts start at `prior` true positives out of
    `2 prior`: a threshold of 0.5 until the stream moves it. `strength` moves the threshold
    only part of the way from 0.5 (what the Hamming loss and exact matches ask) to a / b (what
    the F-measure asks): 0.5 - strength (0.5 - a / b). The probabilities
    (`predict_proba_one`) are the wrapped classifier's, unchanged.

    Lower thresholds trade exact matches and Hamming loss for F-measure: the benchmark in the
    README reports the effect on each metric.

    Parameters
    ----------
    classifier
        A multi-label classifier with `predict_proba_one`.
    average
        "macro": a threshold per label; "micro": one shared by all labels.
    prior
        Pseudo-counts of the start (larger: the threshold leaves 0.5 more slowly).
    strength
        How far the threshold goes from 0.5 towards the F-measure's (0: not at all; 1: all the
        way).

    Examples
    --------
    >>> from river import datasets
    >>> from streamml import IHOMER
    >>> from streamml.compose import FMeasureThresholds
    >>> from streamml.evaluate import prequential
    >>> at_half = {"seen_sets": None, "threshold_strength": 0, "last_set": False}
    >>> plain = IHOMER(seed=42, label_balance=False, **at_half)  # p > 0.5
    >>> for model in (plain, FMeasureThresholds(plain.clone())):
    ...     r = prequential(model, datasets.Yeast().take(1000), progress=False)
    ...     print(f"macro-F1 {r.macro_f1:.3f}, subset {r.subset_accuracy:.3f}")
    macro-F1 0.366, subset 0.149
    macro-F1 0.457, subset 0.024

    References
    ----------
    [^1]: Busa-Fekete, R., Szörényi, B., Dembczyński, K. and Hüllermeier, E. (2015). Online
    F-measure optimization. Advances in Neural Information Processing Systems 28.

    """

    def __init__(
        self,
        classifier: base.MultiLabelClassifier,
        average: str = "macro",
        prior: float = 1.0,
        strength: float = 1.0,
    ):
        if average not in ("macro", "micro"):
            raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")
        check_prior(prior)
        check_strength(strength)
        self.classifier = classifier
        self.average = average
        self.prior = prior
        self.strength = strength
        self._index: dict = {}  # label -> position in the counts
        self._hits = np.zeros(0)  # a: true positives (plus the prior)
        self._total = np.zeros(0)  # b: positives plus predicted positives (plus 2 prior)

    @classmethod
    def _unit_test_params(cls):
        from streamml import IHOMER

        yield {"classifier": cls._checked_model()}
        yield {"classifier": IHOMER(seed=1), "average": "micro", "prior": 5.0, "strength": 0.5}

    @property
    def thresholds(self) -> dict:
        """The current threshold of every label seen so far."""
        return dict(zip(self._index, self._thresholds().tolist()))

    def _thresholds(self) -> np.ndarray:
        if self.average == "micro":
            f = np.full(len(self._index), self._hits.sum() / max(self._total.sum(), 1e-300))
        else:
            f = self._hits / self._total
        return shrunk_threshold(f, self.strength)

    def _grow(self, labels) -> None:
        new = [label for label in labels if label not in self._index]
        if new:
            for label in new:
                self._index[label] = len(self._index)
            self._hits = np.concatenate([self._hits, np.full(len(new), float(self.prior))])
            self._total = np.concatenate([self._total, np.full(len(new), 2.0 * self.prior)])

    def predict_one(self, x, **kwargs):
        proba = self.classifier.predict_proba_one(x, **kwargs)
        thresholds = self._thresholds()
        index = self._index
        out = {}
        for label, p in proba.items():
            i = index.get(label)
            out[label] = p[True] >= (thresholds[i] if i is not None else 0.5)
        return out

    def learn_one(self, x, y, **kwargs):
        predicted = self.predict_one(x)  # before learning, as it was (or would be) answered
        self._grow(y)
        index = self._index
        truth = np.zeros(len(index), dtype=bool)
        guess = np.zeros(len(index), dtype=bool)
        truth[[index[label] for label, v in y.items() if v]] = True
        guess[[index[label] for label, v in predicted.items() if v and label in index]] = True
        self._hits += truth & guess
        self._total += truth
        self._total += guess
        self.classifier.learn_one(x, y, **kwargs)
