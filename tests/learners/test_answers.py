from __future__ import annotations

import pickle

import numpy as np
import pytest

from streamml.learners._answers import LabelSets


@pytest.mark.parametrize("n", [3, 63, 64, 500])
def test_label_sets_equal_zipping_every_label(n):
    rng = np.random.default_rng(n)
    labels = [f"l{i}" for i in range(n)]
    sets = LabelSets()
    for _ in range(5):
        mask = rng.random(n) < 0.1
        out = sets(labels, mask)
        assert out == dict(zip(labels, mask.tolist()))
        assert list(out) == labels  # in the model's order
        assert all(type(v) is bool for v in out.values())


def test_label_sets_follow_labels_that_grow_or_are_replaced():
    sets = LabelSets()
    labels = {f"l{i}": i for i in range(100)}
    mask = np.zeros(100, dtype=bool)
    mask[[3, 70]] = True
    first = sets(labels, mask)
    first["l3"] = False  # the caller owns what it got
    assert sets(labels, mask)["l3"] is True
    labels["new"] = 100  # grown in place
    grown = sets(labels, np.append(mask, True))
    assert len(grown) == 101 and grown["new"] is True
    other = {f"m{i}": i for i in range(101)}  # replaced by as many other labels
    assert set(sets(other, np.zeros(101, dtype=bool))) == set(other)


def test_label_sets_are_a_cache_left_out_of_pickles():
    sets = LabelSets()
    labels = [f"l{i}" for i in range(200)]
    sets(labels, np.zeros(200, dtype=bool))
    copy = pickle.loads(pickle.dumps(sets))
    assert copy._false == {} and copy._source is None
    assert copy(labels, np.ones(200, dtype=bool)) == dict.fromkeys(labels, True)


@pytest.mark.parametrize("n", [3, 63, 64, 500])
def test_label_sets_of_positions_equal_those_of_a_mask(n):
    rng = np.random.default_rng(n)
    labels = {f"l{i}": i for i in range(n)}
    sets = LabelSets()
    for _ in range(5):
        mask = rng.random(n) < 0.2
        out = sets.of_positions(labels, np.flatnonzero(mask).tolist())
        assert out == sets(labels, mask) and list(out) == list(labels)
