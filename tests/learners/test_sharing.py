"""Restricting an MLHAT to some labels, and the split test of a tree on some labels."""

from __future__ import annotations

import pickle

import numpy as np
from river import datasets

from streamml.learners import MLHAT, FeatureIndex, SplitWatch


def _probas(model, x, labels):
    p = model.predict_proba_one(x)
    return np.array([p[label][True] for label in labels])


def _two_concepts(n, seed=0):
    """y0, y1 follow feature a (y0 also b); z0, z1 follow feature c only."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        a, b, c = rng.random(3)
        x = {"a": float(a), "b": float(b), "c": float(c), "noise": float(rng.random())}
        y = {
            "y0": bool(a > 0.5 and b > 0.3),
            "y1": bool(a > 0.5),
            "z0": bool(c > 0.6),
            "z1": bool(c > 0.6 and rng.random() < 0.9),
        }
        yield x, y


def test_restricted_learner_predicts_its_labels_as_the_original_and_leaves_it_unchanged():
    stream = list(datasets.Yeast().take(700))
    params = {"grace_period": 50, "tie_threshold": 10.0, "seed": 3}
    model, twin = MLHAT(**params), MLHAT(**params)
    for x, y in stream[:500]:
        model.learn_one(x, y)
        twin.learn_one(x, y)
    assert model.summary["n_splits"] >= 1  # a tree, not only a leaf
    labels = [model.labels[i] for i in (5, 0, 9)]
    part = model.restricted(labels, seed=11)
    assert part.labels == labels and part.summary["n_leaves"] == model.summary["n_leaves"]
    for x, _ in stream[500:540]:
        np.testing.assert_allclose(_probas(part, x, labels), _probas(model, x, labels), atol=1e-6)
    # The original goes on exactly as an untouched twin; the copy learns on its own.
    for x, y in stream[500:]:
        assert model.predict_proba_one(x) == twin.predict_proba_one(x)
        model.learn_one(x, y)
        twin.learn_one(x, y)
        part.learn_one(x, {label: y[label] for label in labels})
    assert set(part.predict_one(stream[0][0])) == set(labels)
    clone = pickle.loads(pickle.dumps(part))
    assert clone.predict_proba_one(stream[0][0]) == part.predict_proba_one(stream[0][0])


def test_restricted_learner_with_a_split_starts_as_a_two_leaf_tree():
    model = MLHAT(seed=0)
    for x, y in _two_concepts(300):
        model.learn_one(x, y)
    c = model.feature_index.column("c")
    part = model.restricted(["z0", "z1"], seed=1, split=(c, 0.6, 0.5))
    assert part.summary["n_leaves"] == 2 and part._root.feature == c
    try:
        model.restricted(["z0", "unknown"])
    except ValueError as error:
        assert "unknown" in str(error)
    else:
        raise AssertionError("restricting to an unknown label must fail")


def test_split_watch_finds_the_feature_of_its_labels():
    index = FeatureIndex()
    watches = {
        "y": SplitWatch(2, 200, 10, 0.01, 1e-7, 0.05),
        "z": SplitWatch(2, 200, 10, 0.01, 1e-7, 0.05),
    }
    found = {}
    for x, y in _two_concepts(3000, seed=1):
        v = index.encode(x)
        for name, watch in watches.items():
            positives = tuple(i for i, label in enumerate((f"{name}0", f"{name}1")) if y[label])
            decision = watch.learn(v, positives)
            if decision is not None and name not in found:
                found[name] = decision
    assert index.column("a") == found["y"][0]
    assert index.column("c") == found["z"][0]
    assert 0.5 < found["z"][1] < 0.7


def test_split_watch_never_splits_a_single_label_set():
    index = FeatureIndex()
    watch = SplitWatch(3, 50, 10, 0.01, 1e-7, 0.05)
    rng = np.random.default_rng(0)
    for _ in range(500):
        assert watch.learn(index.encode({"a": float(rng.random())}), (1,)) is None


def test_split_watch_waits_while_the_bound_cannot_pass():
    index = FeatureIndex()
    rng = np.random.default_rng(0)
    watch = SplitWatch(2, 50, 10, 0.01, 1e-7, 0.05, max_wait=4)
    tests = []
    for _ in range(2000):  # labels independent of the features: no split, rarer tests
        before = watch.next_test
        positives = tuple(i for i in range(2) if rng.random() < 0.4)
        assert watch.learn(index.encode({"a": float(rng.random())}), positives) is None
        if watch.next_test != before:
            tests.append(watch.n)
    gaps = np.diff(tests)
    assert gaps.min() >= 50 and gaps.max() <= 200 and gaps[-5:].mean() > 50


def test_split_watch_reading_a_shared_log_decides_as_one_fed_instance_by_instance():
    index = FeatureIndex()
    alone = SplitWatch(2, 50, 10, 0.01, 1e-7, 0.05)
    shared = SplitWatch(2, 50, 10, 0.01, 1e-7, 0.05)
    shared.tested = 7  # it starts at instance 7 of the caller's log
    log, offset = [], 7
    decisions_alone, decisions_shared = [], []
    for t, (x, y) in enumerate(_two_concepts(1500, seed=3), start=7):
        v = index.encode(x)
        positives = tuple(i for i, label in enumerate(("z0", "z1")) if y[label])
        decisions_alone.append(alone.learn(v, positives))
        log.append((v.indices, v.values))
        if positives:
            shared.note(t, positives)
        decision = None
        if shared.due(t + 1):
            decision = shared.test_log(log, offset, t + 1, v.width)
            del log[: shared.tested - offset]
            offset = shared.tested
        decisions_shared.append(decision)
    assert decisions_shared == decisions_alone
    assert any(d is not None for d in decisions_alone)
    assert shared.labelsets == alone.labelsets and len(log) < 1500
