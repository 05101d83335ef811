"""ShardedIHOMER decides as IHOMER: seen label sets raced against a micro-F1 threshold."""

from __future__ import annotations

import pickle

import pytest

from streamml import IHOMER
from streamml.distributed import ShardedIHOMER

from .helpers import groups, yeast


def _sharded(**params):
    return ShardedIHOMER(shards=2, backend="local", seed=7, **params)


def _answers(model, data) -> list:
    """The label set predicted before learning each instance, instance by instance."""
    out = []
    for x, y in data:
        out.append(frozenset(k for k, v in model.predict_one(x).items() if v))
        model.learn_one(x, y)
    return out


@pytest.mark.parametrize("stream", [yeast, groups])
def test_instance_by_instance_it_decides_as_ihomer_without_sharing(stream):
    data = stream(1200)
    single = IHOMER(share=False, label_drift_delta=None, seed=7)
    sharded = _sharded()
    expected = _answers(single, data)
    assert _answers(sharded, data) == expected
    at_half = _sharded(seen_sets=None, threshold_strength=0.0, label_balance=False)
    plain = []
    for x, y in data:
        p = at_half.predict_proba_one(x)
        plain.append(frozenset(k for k, q in p.items() if q[True] > 0.5))
        assert at_half.predict_one(x) == {k: q[True] > 0.5 for k, q in p.items()}
        at_half.learn_one(x, y)
    assert sum(a != b for a, b in zip(expected, plain)) > 20  # the decision does decide


def test_a_batch_learned_without_being_predicted_first_scores_the_same_answers():
    # The decision learns from the answers given before learning: from the last prediction
    # when it was of the batch, else from one more call to the shards. Both give one model.
    data = yeast(900)
    asked, predicted = _sharded(), _sharded()
    for start in range(0, 600, 100):
        chunk = data[start : start + 100]
        xs, ys = [x for x, _ in chunk], [y for _, y in chunk]
        predicted.predict_batch(xs)
        predicted.learn_batch(xs, ys)
        asked.learn_batch(xs, ys)
    assert pickle.dumps(asked._decider) == pickle.dumps(predicted._decider)
    rest = [x for x, _ in data[600:]]
    assert asked.predict_batch(rest) == predicted.predict_batch(rest)
    assert asked.predict_batch(rest) != [
        {k: v[True] > 0.5 for k, v in asked.predict_proba_one(x).items()} for x in rest
    ]


def test_a_model_pickled_before_the_decision_decides_each_label_at_one_half():
    data = yeast(300)
    model = _sharded()
    model.learn_batch([x for x, _ in data], [y for _, y in data])
    state = model.__getstate__()
    for name in ("seen_sets", "threshold_strength", "_decider", "_last"):
        del state[name]
    state["_root_cache"] = None  # that version's cache of the last prediction
    old = ShardedIHOMER.__new__(ShardedIHOMER)
    old.__setstate__(state)
    assert old.seen_sets is None and old.threshold_strength == 0.0
    assert old._last is None and not hasattr(old, "_root_cache")
    for x, _ in yeast(360)[300:]:
        p = old.predict_proba_one(x)
        assert old.predict_one(x) == {k: q[True] > 0.5 for k, q in p.items()}


@pytest.mark.parametrize("params", [{"seen_sets": 0}, {"threshold_strength": 1.5}])
def test_bad_decision_parameters(params):
    with pytest.raises(ValueError):
        _sharded(**params)


def test_labels_that_appear_later_are_decided_as_ihomer_decides_them():
    # Only the positive labels in each y: labels keep appearing, and an instance with a new
    # label is scored by answers asked after the label's cluster was made, as IHOMER does.
    data = [(x, {k: v for k, v in y.items() if v}) for x, y in yeast(700)]
    single = IHOMER(share=False, label_drift_delta=None, seed=7)
    sharded = _sharded()
    assert _answers(sharded, data) == _answers(single, data)
    assert sharded.labels == single.labels and len(sharded.labels) == 14
