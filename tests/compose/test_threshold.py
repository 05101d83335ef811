"""MicroFThreshold, and SeenLabelSets scoring the seen sets against a classifier's thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streamml.compose import LabelSetDecoder, MicroFThreshold, SeenLabelSets, Thresholded

from .fixed import Fixed


def test_the_threshold_moves_strength_of_the_way_to_true_positives_over_positives():
    threshold = MicroFThreshold(strength=1.0, prior=2.0)
    assert threshold.value(n_labels=3) == 0.5  # prior 6 of 12
    threshold.learn(hits=1, n_true=4, n_predicted=2)
    threshold.learn(hits=0, n_true=1, n_predicted=3)
    a, b = 6 + 1, 12 + 4 + 2 + 1 + 3
    assert math.isclose(threshold.value(n_labels=3), a / b)
    # The prior grows with the labels known: 10 of 20 with 5 labels.
    assert math.isclose(threshold.value(n_labels=5), (10 + 1) / (20 + 10))
    half = MicroFThreshold(strength=0.25, prior=2.0)
    half.learn(hits=1, n_true=4, n_predicted=2)
    half.learn(hits=0, n_true=1, n_predicted=3)
    assert math.isclose(half.value(n_labels=3), 0.5 - 0.25 * (0.5 - a / b))


def test_strength_zero_stays_at_one_half():
    threshold = MicroFThreshold(strength=0.0)
    threshold.learn(hits=0, n_true=10, n_predicted=0)
    assert threshold.value(n_labels=4) == 0.5
    assert MicroFThreshold(strength=1.0).value(n_labels=0) == 0.5  # nothing known yet


class Thresholds(Fixed):
    """Fixed probabilities, decided against fixed thresholds."""

    def __init__(self, proba: dict, thresholds: dict):
        super().__init__(proba)
        self.fixed_thresholds = thresholds

    @property
    def thresholds(self) -> dict:
        return dict(self.fixed_thresholds)

    def predict_one(self, x, **kwargs):
        return {label: p >= self.fixed_thresholds[label] for label, p in self.proba.items()}


def test_seen_sets_are_scored_against_the_wrapped_thresholds():
    # Seen sets {}, {a}, {a, b}. At 0.5, P(a) = 0.4 and P(b) = 0.3 make {} the best (both
    # log-odds negative). Against thresholds of 0.35, a counts logit(0.4) - logit(0.35) > 0 and
    # b logit(0.3) - logit(0.35) < 0: {a} is the best, the wrapped answer itself.
    proba = {"a": 0.4, "b": 0.3}
    stream = [{"a": False, "b": False}, {"a": True, "b": False}, {"a": True, "b": True}]
    answers = {}
    for name, inner in (
        ("at one half", Fixed(proba)),
        ("thresholded", Thresholds(proba, {"a": 0.35, "b": 0.35})),
    ):
        model = SeenLabelSets(inner, decay=1.0)
        for y in stream:
            model.learn_one({}, y)
        model._decoder._race._loss = [1.0, 0.0]  # make the decoded set answer, whatever it is
        model._decoder._race._f1_loss = [1.0, 0.0]
        answers[name] = model.predict_one({})
    assert isinstance(Thresholds(proba, {}), Thresholded)
    assert not isinstance(Fixed(proba), Thresholded)
    assert answers == {
        "at one half": {"a": False, "b": False},
        "thresholded": {"a": True, "b": False},
    }


@pytest.mark.parametrize("threshold", [0.3, np.array([0.2, 0.5, 0.7, 0.45])])
def test_the_decoded_set_is_the_best_seen_against_the_threshold(threshold):
    rng = np.random.default_rng(4)
    decoder = LabelSetDecoder(max_sets=50)
    sets = [
        tuple(sorted(rng.choice(4, size=rng.integers(0, 4), replace=False).tolist()))
        for _ in range(30)
    ]
    for labels in sets:
        decoder.learn((), labels, ())
    t = np.broadcast_to(threshold, (4,))
    for _ in range(50):
        p = rng.uniform(0.01, 0.99, size=4)
        w = np.log(p / (1 - p)) - np.log(t / (1 - t))
        best = decoder.best(p, threshold=threshold)
        assert np.isclose(w[list(best)].sum(), max(w[list(s)].sum() for s in set(sets)))
