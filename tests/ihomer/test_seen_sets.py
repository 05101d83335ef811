"""IHOMER decodes its answers into seen label sets (`seen_sets`), as the wrapper does."""

from __future__ import annotations

import pickle

import pytest
from river import datasets

from streamml import IHOMER
from streamml.compose import SeenLabelSets


def test_it_answers_as_the_wrapper_over_the_undecoded_model():
    # The wrapper (compose.SeenLabelSets) over IHOMER(seen_sets=None) is an independent
    # implementation of the same decision, on the probabilities IHOMER publishes.
    inside = IHOMER(seed=3, threshold_strength=0.0, last_set=False, label_balance=False)
    outside = SeenLabelSets(
        IHOMER(seed=3, seen_sets=None, threshold_strength=0.0, last_set=False, label_balance=False)
    )
    decoded = 0
    for x, y in datasets.Yeast().take(1000):
        answer = inside.predict_one(x)
        assert answer == outside.predict_one(x)
        decoded += inside._decider._decoder.decoding
        inside.learn_one(x, y)
        outside.learn_one(x, y)
    assert decoded > 500  # the decoded sets answered for most of the stream


def test_without_seen_sets_or_threshold_every_label_is_decided_at_one_half():
    model = IHOMER(seed=3, seen_sets=None, threshold_strength=0.0, label_balance=False)
    for x, y in datasets.Yeast().take(300):
        proba = model.predict_proba_one(x)
        assert model.predict_one(x) == {k: p[True] > 0.5 for k, p in proba.items()}
        model.learn_one(x, y)


def test_models_pickled_before_seen_sets_load_undecoded():
    stream = list(datasets.Yeast().take(400))
    at_half = {"seen_sets": None, "threshold_strength": 0.0, "last_set": False}
    old, reference = IHOMER(seed=3, **at_half), IHOMER(seed=3, label_balance=False, **at_half)
    for x, y in stream[:200]:
        for model in (old, reference):
            model.predict_one(x)
            model.learn_one(x, y)
    for name in ("seen_sets", "threshold_strength", "last_set", "label_balance", "_decider"):
        del old.__dict__[name]  # as an older version pickled it
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.seen_sets is None and loaded.label_balance is False
    for x, y in stream[200:]:
        assert loaded.predict_one(x) == reference.predict_one(x)
        loaded.learn_one(x, y)
        reference.learn_one(x, y)


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "5000"])
def test_bad_seen_sets(value):
    with pytest.raises(ValueError, match="seen_sets"):
        IHOMER(seen_sets=value)
