"""IHOMER's `last_set`: the last true label set as a second opinion, raced against the
model's own decision."""

from __future__ import annotations

import pickle

import numpy as np
from river import datasets

from streamml import IHOMER
from streamml.evaluate import prequential

LABELS = [f"l{j}" for j in range(5)]


def _x(rng) -> dict:
    return {f"f{i}": float(v) for i, v in enumerate(rng.normal(size=4))}


def ordered(n: int, seed: int) -> list:
    """Runs of 3 to 10 instances with one label set each; features are noise."""
    rng = np.random.default_rng(seed)
    pool = [rng.random(len(LABELS)) < 0.4 for _ in range(6)]
    out = []
    while len(out) < n:
        labels = pool[rng.integers(len(pool))]
        for _ in range(rng.integers(3, 11)):
            out.append((_x(rng), dict(zip(LABELS, labels.tolist()))))
    return out[:n]


def never_repeated(n: int, seed: int) -> list:
    """Each label is its feature's sign; no instance has the label set of the one before."""
    rng = np.random.default_rng(seed)
    out, last = [], None
    while len(out) < n:
        x = _x(rng)
        y = {label: x[f"f{j % 4}"] > (0.0 if j < 4 else 0.5) for j, label in enumerate(LABELS)}
        if y != last:
            out.append((x, y))
            last = y
    return out


def _answers(model, stream) -> list:
    out = []
    for x, y in stream:
        out.append(model.predict_one(x))
        model.learn_one(x, y)
    return out


def test_on_an_ordered_stream_the_last_set_answers():
    stream = ordered(1500, seed=0)
    with_it = prequential(IHOMER(seed=0), stream)
    without = prequential(IHOMER(seed=0, last_set=False, label_balance=False), stream)
    # The features say nothing, only the order does: the last set is right on about 85%
    # of the instances (runs of 6.5 on average); the trees' recent neighbours lag behind.
    assert with_it.subset_accuracy > 0.8
    assert with_it.subset_accuracy > without.subset_accuracy + 0.3


def test_the_summary_says_which_probabilities_are_decided():
    model = IHOMER(seed=0)
    assert "Decided: the model's P(True)" in model.summary()
    for x, y in ordered(300, seed=0):
        model.predict_one(x)
        model.learn_one(x, y)
    assert "Decided: P(True) mixed with the last true label set" in model.summary()
    assert "Decided" not in IHOMER(last_set=False, label_balance=False).summary()


def test_without_repeats_the_model_decides_alone():
    stream = never_repeated(1500, seed=1)
    a = _answers(IHOMER(seed=1), stream)
    b = _answers(IHOMER(seed=1, last_set=False, label_balance=False), stream)
    differ = sum(p != q for p, q in zip(a, b))
    assert differ < 0.05 * len(stream)


def test_the_probabilities_are_those_of_the_answering_decision():
    # Without seen sets nor threshold, each decision takes the labels above 0.5 of its own
    # probabilities: the published ones must give the answer.
    model = IHOMER(seed=2, seen_sets=None, threshold_strength=0.0, label_balance=False)
    mixed = 0
    for x, y in ordered(600, seed=2):
        proba = model.predict_proba_one(x)
        assert model.predict_one(x) == {k: p[True] > 0.5 for k, p in proba.items()}
        mixed += model._decider.mixing
        model.learn_one(x, y)
    assert mixed > 300


def test_it_changes_nothing_the_model_learns():
    stream = list(datasets.Yeast().take(800))
    a, b = IHOMER(seed=3), IHOMER(seed=3, last_set=False, label_balance=False)
    for x, y in stream:
        for m in (a, b):
            m.predict_one(x)
            m.learn_one(x, y)
    assert a.drift_events == b.drift_events
    assert a.partition == b.partition and a.n_restructurings == b.n_restructurings
    x = stream[0][0]
    assert a._answers(x).tolist() == b._answers(x).tolist()


def test_a_pickled_model_decides_as_the_original():
    stream = ordered(700, seed=4)
    model = IHOMER(seed=4)
    _answers(model, stream[:500])
    copy = pickle.loads(pickle.dumps(model))
    assert _answers(copy, stream[500:]) == _answers(model, stream[500:])
