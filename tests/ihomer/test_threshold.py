"""IHOMER decides each label against a threshold learned for the micro-F1 (`threshold_strength`),
as the compose wrappers do."""

from __future__ import annotations

import pickle

import pytest
from river import datasets

from streamml import IHOMER
from streamml.compose import FMeasureThresholds, SeenLabelSets


def _plain(**kwargs) -> IHOMER:
    return IHOMER(seed=3, seen_sets=None, threshold_strength=0.0, **kwargs)


@pytest.mark.parametrize("strength", [0.2, 1.0])
def test_it_answers_as_the_micro_thresholds_wrapper(strength):
    inside = IHOMER(seed=3, seen_sets=None, threshold_strength=strength)
    outside = FMeasureThresholds(_plain(), average="micro", strength=strength)
    below_half = 0
    for x, y in datasets.Yeast().take(600):
        answer = inside.predict_one(x)
        assert answer == outside.predict_one(x)
        below_half += any(
            on and p[True] <= 0.5
            for (_, on), p in zip(answer.items(), inside.predict_proba_one(x).values())
        )
        inside.learn_one(x, y)
        outside.learn_one(x, y)
    assert below_half > 50  # the threshold went below 0.5 and changed answers


def test_the_default_answers_as_seen_sets_over_micro_thresholds():
    inside = IHOMER(seed=3)
    outside = SeenLabelSets(FMeasureThresholds(_plain(), average="micro", strength=0.2))
    for x, y in datasets.Yeast().take(800):
        assert inside.predict_one(x) == outside.predict_one(x)
        inside.learn_one(x, y)
        outside.learn_one(x, y)


def test_the_decision_changes_nothing_the_model_learns():
    a, b = IHOMER(seed=3), _plain()
    for x, y in datasets.Yeast().take(500):
        assert a.predict_proba_one(x) == b.predict_proba_one(x)
        a.predict_one(x)
        b.predict_one(x)
        a.learn_one(x, y)
        b.learn_one(x, y)


def test_thresholds_name_every_known_label():
    model, plain = IHOMER(seed=3, threshold_strength=1.0), _plain()
    assert model.thresholds == {}
    for x, y in datasets.Yeast().take(200):
        for m in (model, plain):
            m.predict_one(x)
            m.learn_one(x, y)
    assert set(model.thresholds) == set(y) == set(plain.thresholds)
    assert set(plain.thresholds.values()) == {0.5}
    (value,) = set(model.thresholds.values())
    assert 0.0 < value < 0.5  # F* / 2 of a micro-F1 below 1


def test_models_pickled_before_the_threshold_decide_at_one_half():
    stream = list(datasets.Yeast().take(400))
    # Built as older versions decided: each label at 0.5, before the decoding.
    old, reference = IHOMER(seed=3, threshold_strength=0.0), IHOMER(seed=3, threshold_strength=0.0)
    for x, y in stream[:200]:
        for model in (old, reference):
            model.predict_one(x)
            model.learn_one(x, y)
    for name in ("threshold_strength", "_threshold"):
        del old.__dict__[name]  # as an older version pickled it
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.threshold_strength == 0.0
    for x, y in stream[200:]:
        assert loaded.predict_one(x) == reference.predict_one(x)
        loaded.learn_one(x, y)
        reference.learn_one(x, y)


@pytest.mark.parametrize("value", [-0.1, 1.5, True, float("nan"), "0.2", None])
def test_bad_threshold_strength(value):
    with pytest.raises(ValueError, match="threshold_strength"):
        IHOMER(threshold_strength=value)
