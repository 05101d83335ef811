"""Restricting an MLHAT to some labels, and the split test of a tree on some labels."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
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


def _separable(n, one_set_first=0, seed=0):
    """Label 0 ON iff feature a > 0.5 (ON always for the first `one_set_first`), and noise b."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        a = float(rng.random())
        yield {"a": a, "b": float(rng.random())}, (0,) if (k < one_set_first or a > 0.5) else ()


def _weak(n, seed=0):
    """Label 0 ON with probability 0.55 if feature a > 0.5, else 0.45."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        a = float(rng.random())
        on = rng.random() < (0.55 if a > 0.5 else 0.45)
        yield {"a": a, "b": float(rng.random())}, (0,) if on else ()


def _first_split(watch, stream, index):
    for k, (x, positives) in enumerate(stream, start=1):
        decision = watch.learn(index.encode(x), positives)
        if decision is not None:
            return k, decision
    return None


def test_split_watch_tests_every_grace_period_two_label_sets_included():
    index = FeatureIndex()
    k, (feature, threshold, _) = _first_split(
        SplitWatch(1, 50, 10, 0.01, 1e-7, 0.05), _separable(1000), index
    )
    assert (k, feature) == (50, index.column("a")) and 0.4 < threshold < 0.6
    # one label set at the first test (no test of the split): the next test comes a grace
    # period later, as the second label set appears
    k, (feature, _, _) = _first_split(
        SplitWatch(1, 50, 10, 0.01, 1e-7, 0.05), _separable(1000, one_set_first=60), index
    )
    assert (k, feature) == (100, index.column("a"))


def test_split_watch_waits_longer_while_the_lead_is_far_below_the_bound():
    """Between two rejected tests, the watch waits until the bound could pass the lead, at least
    one and at most `max_wait` (default 10) grace periods."""
    index, watch, tests = FeatureIndex(), SplitWatch(1, 50, 10, 0.01, 1e-7, 0.05), []
    for x, positives in _weak(20000):
        before = watch.next_test
        decision = watch.learn(index.encode(x), positives)
        if watch.next_test != before or decision is not None:
            tests.append(watch.n)
        if decision is not None:
            break
    assert decision is not None and decision[0] == index.column("a")
    gaps = np.diff(tests)
    assert gaps.min() >= 50 and gaps.max() == 500
    assert any(50 < gap < 500 for gap in gaps)  # waited for the bound, not for the cap


def test_a_pickled_split_watch_goes_on_as_the_original():
    index = FeatureIndex()
    stream = list(_weak(6000, seed=2))
    original = SplitWatch(1, 50, 10, 0.01, 1e-7, 0.05)
    for x, positives in stream[:1000]:
        original.learn(index.encode(x), positives)
    copy = pickle.loads(pickle.dumps(original))
    assert [copy.learn(index.encode(x), p) for x, p in stream[1000:]] == [
        original.learn(index.encode(x), p) for x, p in stream[1000:]
    ]
    assert copy.n == original.n == 6000


def _shared_log_and_alone(stream, start: int, extra_log: int = 0):
    """Decisions and test instants of a watch fed instance by instance and of one reading a
    caller's log that starts at instance `start` (the log holds up to `extra_log` instances
    more than the test reads)."""
    index = FeatureIndex()
    alone = SplitWatch(2, 50, 10, 0.01, 1e-7, 0.05)
    shared = SplitWatch(2, 50, 10, 0.01, 1e-7, 0.05)
    if start:
        shared.tested = start  # it starts at instance `start` of the caller's log
    encoded = [(index.encode(x), positives) for x, positives in stream]
    log, offset = [], start
    results = {"alone": [], "shared": []}
    for t, (v, positives) in enumerate(encoded, start=start):
        before = alone.next_test
        decision = alone.learn(v, positives)
        results["alone"].append((decision, alone.next_test != before))
        if len(log) + offset == t:
            log.append((v.indices, v.values))
        if positives:
            shared.note(t, positives)
        for i in range(len(log) + offset, min(t + 1 + extra_log, start + len(encoded))):
            log.append((encoded[i - start][0].indices, encoded[i - start][0].values))
        due = shared.due(t + 1)
        decision = shared.test_log(log, offset, t + 1, v.width) if due else None
        results["shared"].append((decision, due))
        if due:
            assert shared.n == alone.n  # instances seen
        if due:
            del log[: shared.tested - offset]
            offset = shared.tested
    assert shared.labelsets == alone.labelsets
    return results["shared"], results["alone"]


def _split_found(stream, labels):
    for x, y in stream:
        yield x, tuple(i for i, label in enumerate(labels) if y[label])


@pytest.mark.parametrize("start", [0, 7])
@pytest.mark.parametrize("extra_log", [0, 3])
def test_split_watch_reading_a_shared_log_decides_as_one_fed_instance_by_instance(start, extra_log):
    for stream in (
        _split_found(_two_concepts(1500, seed=3), ("z0", "z1")),  # splits at once
        ((x, p) for x, p in _weak(3000, seed=1)),  # tests many times first
        ((x, p or (1,)) for x, p in _weak(1000, seed=4)),  # never an empty label set
    ):
        shared, alone = _shared_log_and_alone(list(stream), start, extra_log)
        assert shared == alone


def test_notes_beyond_the_instances_tested_are_kept_for_the_next_test():
    index = FeatureIndex()
    stream = list(_separable(40, seed=5))
    log = [(v.indices, v.values) for v in (index.encode(x) for x, _ in stream)]
    first = next(t for t in range(20, 40) if stream[t][1])  # the next test starts ON
    on_time, early = (SplitWatch(1, 1000, 10, 0.01, 1e-7, 0.05) for _ in range(2))
    for start, t in ((0, first), (first, 40)):
        for i in range(start, t):
            if stream[i][1]:
                on_time.note(i, stream[i][1])
        on_time.test_log(log, 0, t, 2)
    for i, (_, positives) in enumerate(stream):  # all the notes before the first test
        if positives:
            early.note(i, positives)
    early.test_log(log, 0, first, 2)
    early.test_log(log, 0, 40, 2)
    assert early.stats.n.tolist() == on_time.stats.n.tolist()
    assert early.stats.n[2] == sum(1 for _, p in stream if p) > 0  # label 0 ON
    assert early.n == on_time.n == 40
