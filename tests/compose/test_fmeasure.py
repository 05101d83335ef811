"""FMeasureThresholds: thresholds from the F-measure of past predictions, learned online."""

from __future__ import annotations

import numpy as np
import pytest
from river import datasets

from streamml import IHOMER
from streamml.compose import FMeasureThresholds

from ..continuation import assert_pickle_continues
from ..lockstep import assert_same_probabilities
from .fixed import Fixed


def test_the_threshold_of_a_label_is_its_true_positives_over_positives_and_predictions():
    rng = np.random.default_rng(0)
    inner = Fixed({"a": 0.4, "b": 0.7})
    model = FMeasureThresholds(inner, prior=2.0)
    hits = {"a": 2.0, "b": 2.0}
    total = {"a": 4.0, "b": 4.0}
    for _ in range(300):
        y = {"a": bool(rng.random() < 0.5), "b": bool(rng.random() < 0.2)}
        expected = {label: inner.proba[label] >= hits[label] / total[label] for label in y}
        assert model.predict_one({}) == {
            label: expected[label] if model.thresholds else inner.proba[label] >= 0.5 for label in y
        }
        model.learn_one({}, y)
        for label in y:
            hits[label] += y[label] and expected[label]
            total[label] += y[label] + expected[label]
    assert model.thresholds == pytest.approx({k: hits[k] / total[k] for k in hits})
    assert inner.learned == 300


def test_a_label_never_predicted_gets_predicted():
    # P(True) is 0.4, and right: at 0.5 the label is never predicted (F1 = 0). Always
    # predicting it has F1 = 0.8 / 1.4, whose half (0.29) is below 0.4: its threshold falls
    # there and stays.
    rng = np.random.default_rng(1)
    model = FMeasureThresholds(Fixed({"rare": 0.4}))
    predicted = []
    for _ in range(400):
        predicted.append(model.predict_one({})["rare"])
        model.learn_one({}, {"rare": bool(rng.random() < 0.4)})
    assert not predicted[0] and all(predicted[50:])
    assert model.thresholds["rare"] == pytest.approx(0.8 / 1.4 / 2, abs=0.03)


def test_micro_shares_one_threshold():
    rng = np.random.default_rng(2)
    model = FMeasureThresholds(Fixed({"a": 0.45, "b": 0.9, "c": 0.1}), average="micro")
    for _ in range(200):
        model.learn_one({}, {k: bool(rng.random() < 0.3) for k in "abc"})
    assert len(set(model.thresholds.values())) == 1


def test_the_wrapped_model_learns_and_answers_as_alone():
    alone, wrapped = IHOMER(seed=3), FMeasureThresholds(IHOMER(seed=3))
    assert_same_probabilities(wrapped, alone, datasets.Yeast().take(400))


def test_pickled_midstream_continues_identically():
    model = FMeasureThresholds(IHOMER(seed=4), average="macro")
    model, copy = assert_pickle_continues(model, list(datasets.Yeast().take(600)), 300)
    assert copy.thresholds == model.thresholds


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"average": "weighted"}, "average"),
        ({"prior": 0}, "prior"),
        ({"prior": True}, "prior"),
        ({"strength": 1.5}, "strength"),
        ({"strength": -0.1}, "strength"),
        ({"strength": float("nan")}, "strength"),
        ({"strength": True}, "strength"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        FMeasureThresholds(IHOMER(), **params)
