"""What the service needs from every registered model for exact recovery after a crash.

The service answers predictions between learn events, snapshots the model with pickle, and
recovers by loading a snapshot and replaying the learn events only. So a model must learn the
same whatever it predicted in between, and learn on after a pickle round trip as before.
"""

from __future__ import annotations

import itertools
import pickle

import pytest
from river import datasets

from streamml import models


def stream(n, skip=0):
    return list(itertools.islice(datasets.Yeast(), skip, skip + n))


def answers(model, probes):
    return [model.predict_proba_one(x) for x in probes]


@pytest.mark.parametrize("name", models.names())
def test_predictions_do_not_change_what_a_model_learns(name):
    train, probes = stream(300), [x for x, _ in stream(20, skip=1000)]
    quiet, busy = models.make(name, seed=5), models.make(name, seed=5)
    for k, (x, y) in enumerate(train):
        quiet.learn_one(x, y)
        busy.learn_one(x, y)
        if k % 7 == 0:
            answers(busy, probes[k % 3 :: 3])  # other instances' predictions in between
    assert answers(busy, probes) == answers(quiet, probes)


@pytest.mark.parametrize("name", models.names())
def test_a_pickled_model_learns_on_like_the_original(name):
    train, probes = stream(300), [x for x, _ in stream(20, skip=1000)]
    original = models.make(name, seed=5)
    for x, y in train[:150]:
        original.learn_one(x, y)
    copy = pickle.loads(pickle.dumps(original))
    for x, y in train[150:]:
        original.learn_one(x, y)
        copy.learn_one(x, y)
    assert answers(copy, probes) == answers(original, probes)
