"""MLHAT's drift machinery on hand-built trees: the votes of mature alternate subtrees, the
start of an alternate on an increase of a branch's loss, and the switch or prune of an
alternate, each checked against its rule written out (the slow drift test in test_mlhat.py
checks the whole on a stream)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from river import drift

from streamml.learners import MLHAT
from streamml.learners.nodes import Branch, Leaf

from .trees import assert_root_split

LABELS = ("y0", "y1", "y2")


def _stream(n: int, concept: int, seed: int):
    """Dense instances on four features; the labels are thresholds on feature `concept`."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = rng.random(4) * 0.98 + 0.01  # no zero: every key is present in every instance
        v = x[concept]
        yield (
            {f"x{j}": float(x[j]) for j in range(4)},
            {"y0": bool(v > 0.5), "y1": bool(v > 0.25), "y2": bool(v > 0.75)},
        )


def _leaf(concept: int, seed: int, n: int = 80) -> Leaf:
    """A leaf trained on `n` instances of a concept (the root of a tree that never splits)."""
    model = MLHAT(grace_period=10**6, seed=seed)
    for x, y in _stream(n, concept, seed):
        model.learn_one(x, y)
    return model._root


def _host(drift_window: int = 5, **params) -> MLHAT:
    """A tree knowing the features x0..x3 (columns 0..3) and the labels y0..y2, in order."""
    model = MLHAT(**{"grace_period": 10**6, "drift_window": drift_window, "seed": 0, **params})
    for x, y in _stream(20, 0, 99):
        model.learn_one(x, y)
    assert model.feature_index.names == ["x0", "x1", "x2", "x3"]
    assert model.labels == list(LABELS)
    return model


def _alone(model: MLHAT, leaf: Leaf, x: dict) -> np.ndarray:
    """The model's probabilities if `leaf` were its whole tree."""
    solo = copy.deepcopy(model)
    solo._root = copy.deepcopy(leaf)
    return _proba(solo, x)


def _proba(model: MLHAT, x: dict) -> np.ndarray:
    answer = model.predict_proba_one(x)
    return np.array([answer[label][True] for label in LABELS])


def _close(got: np.ndarray, expected: np.ndarray) -> bool:
    return np.allclose(got, expected, rtol=1e-6, atol=1e-9)  # leaves answer in float32


def _hamming(p: np.ndarray, y: dict) -> float:
    return sum((q > 0.5) != y[label] for q, label in zip(p.tolist(), LABELS)) / len(LABELS)


def _branch(feature: int, left, right, depth: int, main: bool = True) -> Branch:
    adwin = drift.ADWIN() if main else None
    return Branch(feature, 0.5, left, right, depth, adwin, 0.1)


def _mature(branch: Branch, alt, n: int, alt_mean: float, main_mean: float):
    branch.alt, branch.alt_n = alt, n
    branch.alt_loss, branch.main_loss = alt_mean * n, main_mean * n


def _queries(seed: int = 5, n: int = 12) -> list[dict]:
    return [x for x, _ in _stream(n, 0, seed)]


def test_an_immature_alternate_does_not_vote():
    model = _host(drift_window=5)
    a, b, c = _leaf(0, 1), _leaf(1, 2), _leaf(2, 3)
    model._root = root = _branch(0, a, b, 0)
    _mature(root, c, 4, 0.1, 0.4)  # one instance short of drift_window
    for x in _queries():
        main = a if x["x0"] <= 0.5 else b
        assert np.array_equal(_proba(model, x), _alone(model, main, x))


@pytest.mark.parametrize(
    ("alt_mean", "main_mean"), [(0.2, 0.4), (0.3, 0.1), (0.0, 0.25), (0.5, 0.0)]
)
def test_a_mature_alternate_votes_by_the_inverse_square_of_its_loss(alt_mean, main_mean):
    model = _host(drift_window=5)
    a, b, c = _leaf(0, 1), _leaf(1, 2), _leaf(2, 3)
    model._root = root = _branch(0, a, b, 0)
    _mature(root, c, 5, alt_mean, main_mean)
    w_main = 1.0 / max(main_mean, 1e-3) ** 2  # a loss of 0 weighs as 0.001
    w_alt = 1.0 / max(alt_mean, 1e-3) ** 2
    sides = set()
    for x in _queries():
        main = a if x["x0"] <= 0.5 else b
        sides.add(main is a)
        mixed = w_main * _alone(model, main, x) + w_alt * _alone(model, c, x)
        expected = mixed / (w_main + w_alt)
        assert _close(_proba(model, x), expected)
    assert sides == {True, False}


def test_nested_alternates_vote_and_the_main_path_weighs_by_the_deepest_ones_main_loss():
    model = _host(drift_window=5)
    a, b, c, d, e = (_leaf(k % 4, 10 + k) for k in range(5))
    inner = _branch(1, a, d, 1)
    model._root = root = _branch(0, inner, b, 0)
    _mature(root, c, 8, 0.2, 0.4)
    _mature(inner, e, 6, 0.1, 0.3)
    routes = set()
    for x in _queries(n=30):
        if x["x0"] > 0.5:  # beside the inner branch: only the root's alternate votes
            parts = [(_alone(model, b, x), 0.4), (_alone(model, c, x), 0.2)]
        else:
            main = a if x["x1"] <= 0.5 else d
            parts = [(_alone(model, main, x), 0.3), (_alone(model, c, x), 0.2)]
            parts.append((_alone(model, e, x), 0.1))
        routes.add(len(parts))
        weights = [1.0 / loss**2 for _, loss in parts]
        expected = sum(w * p for w, (p, _) in zip(weights, parts)) / sum(weights)
        assert _close(_proba(model, x), expected)
    assert routes == {2, 3}


def test_an_alternate_subtree_votes_with_the_leaf_its_tests_lead_to():
    model = _host(drift_window=5)
    a, b, c, e = _leaf(0, 1), _leaf(1, 2), _leaf(2, 3), _leaf(3, 4)
    model._root = root = _branch(0, a, b, 0)
    _mature(root, _branch(2, c, e, 0, main=False), 5, 0.25, 0.5)
    for x in _queries(n=20):
        main = a if x["x0"] <= 0.5 else b
        alt = c if x["x2"] <= 0.5 else e
        expected = (4.0 * _alone(model, main, x) + 16.0 * _alone(model, alt, x)) / 20.0
        assert _close(_proba(model, x), expected)


class _Scripted:
    """A stand-in for a branch's ADWIN: each update sets (drift_detected, estimation) from the
    script, and the losses it was given are kept."""

    def __init__(self, script, estimation: float = 0.5):
        self.script = list(script)
        self.estimation = estimation
        self.drift_detected = False
        self.losses: list[float] = []

    def update(self, loss):
        self.losses.append(loss)
        self.drift_detected, self.estimation = self.script.pop(0)


def _two_level(model: MLHAT, inner_left: bool = True):
    """root (x0) -> inner (x1, depth 1) on one side, a leaf on the other."""
    a, b, d = _leaf(0, 1), _leaf(1, 2), _leaf(2, 3)
    inner = _branch(1, a, d, 1)
    model._root = root = _branch(0, inner, b, 0) if inner_left else _branch(0, b, inner, 0)
    return root, inner, a


def _instance_at(left_of_x0: bool, seed: int = 7):
    """An instance (and labels) on the given side of x0 = 0.5 and left of x1 = 0.5."""
    for x, y in _stream(200, 0, seed):
        if (x["x0"] <= 0.5) == left_of_x0 and x["x1"] <= 0.5:
            return x, y
    raise AssertionError("no such instance")


@pytest.mark.parametrize("inner_left", [True, False])
def test_an_increase_seen_by_a_branch_starts_an_alternate_leaf_that_learns_the_instance(inner_left):
    model = _host()
    root, inner, a = _two_level(model, inner_left)
    root.adwin = _Scripted([(False, 0.5)])
    inner.adwin = _Scripted([(True, 0.6)])  # an increase: 0.5 -> 0.6
    x, y = _instance_at(left_of_x0=inner_left)
    loss = _hamming(_alone(model, a, x), y)
    n_a = a.n
    model.learn_one(x, y)
    assert root.adwin.losses == inner.adwin.losses == [loss]
    assert root.alt is None
    alt = inner.alt
    assert type(alt) is Leaf and alt.depth == inner.depth == 1
    assert alt.n == 1 and a.n == n_a + 1  # both learn the instance
    assert inner.alt_n == 1 and inner.main_loss == loss
    assert inner.alt_loss == sum(y.values()) / 3  # a new leaf answers no label
    summary = model.summary
    assert summary["n_alternates_created"] == summary["n_current_alternates"] == 1
    event = model.drift_events[-1]
    assert (event.detector, event.labels, event.level) == ("MLHAT.ADWIN", LABELS, "tree")


@pytest.mark.parametrize("script", [(True, 0.4), (False, 0.9)])
def test_a_decrease_or_no_drift_starts_no_alternate(script):
    model = _host()
    root, inner, a = _two_level(model)
    root.adwin, inner.adwin = _Scripted([(False, 0.5)]), _Scripted([script])
    x, y = _instance_at(left_of_x0=True)
    model.learn_one(x, y)
    assert root.alt is None and inner.alt is None
    assert model.summary["n_alternates_created"] == 0 and not model.drift_events


def test_a_branch_with_an_alternate_starts_no_second_one_and_both_keep_learning():
    model = _host(drift_window=50)
    root, inner, a = _two_level(model)
    c = _leaf(3, 4)
    inner.alt = c
    root.adwin = _Scripted([(False, 0.5)] * 2)
    inner.adwin = _Scripted([(True, 0.6), (True, 0.7)])
    n_c = c.n
    losses = []
    for x, y in [_instance_at(True, seed) for seed in (7, 8)]:
        losses.append((_hamming(_alone(model, a, x), y), _hamming(_alone(model, c, x), y)))
        model.learn_one(x, y)
    assert inner.alt is c and c.n == n_c + 2
    assert inner.alt_n == 2
    assert inner.main_loss == pytest.approx(sum(m for m, _ in losses))
    assert inner.alt_loss == pytest.approx(sum(v for _, v in losses))
    assert model.summary["n_alternates_created"] == 0


@pytest.mark.parametrize("where", ["root", "left", "right"])
def test_a_significantly_better_alternate_replaces_its_subtree(where):
    model = _host(drift_window=50)
    root, inner, a = _two_level(model, inner_left=where != "right")
    branch = root if where == "root" else inner
    alt = _branch(3, _leaf(3, 4), _leaf(2, 5), branch.depth, main=False)
    _mature(branch, alt, 49, 0.0, 1.0)
    root.adwin = _Scripted([(False, 0.5)])
    inner.adwin = _Scripted([(False, 0.5)])
    x, y = _instance_at(left_of_x0=where != "right")
    n_a = a.n
    model.learn_one(x, y)
    if where == "root":
        assert model._root is alt
    else:
        assert (root.left if where == "left" else root.right) is alt
        assert root.alt is None
    assert a.n == n_a  # the replaced subtree did not learn the instance
    assert type(alt.adwin) is drift.ADWIN and alt.adwin.delta == model.drift_delta
    summary = model.summary
    assert summary["n_alternates_switched"] == 1 and summary["n_alternates_pruned"] == 0
    assert model.n_leaves == (2 if where == "root" else 3)
    assert summary["n_leaves"] == model.n_leaves == model._n_leaves
    assert model.drift_events[-1].detector == "MLHAT.switch"


def test_a_significantly_worse_alternate_is_dropped_and_the_subtree_learns_on():
    model = _host(drift_window=50)
    root, inner, a = _two_level(model)
    _mature(inner, _leaf(3, 4), 49, 1.0, 0.0)
    root.adwin, inner.adwin = _Scripted([(False, 0.5)]), _Scripted([(False, 0.5)])
    x, y = _instance_at(left_of_x0=True)
    n_a = a.n
    model.learn_one(x, y)
    assert inner.alt is None and model._root is root and root.left is inner
    assert a.n == n_a + 1
    summary = model.summary
    assert summary["n_alternates_pruned"] == 1 and summary["n_alternates_switched"] == 0
    assert model.drift_events[-1].detector == "MLHAT.prune"


@pytest.mark.parametrize(("age", "dropped"), [(99, True), (98, False)])
def test_an_undecided_alternate_is_dropped_at_ten_times_the_drift_window(age, dropped):
    model = _host(drift_window=10)
    root, inner, a = _two_level(model)
    c = _leaf(3, 4)
    x, y = _instance_at(left_of_x0=True)
    # Equal mean losses after this instance: never significant.
    main, alt = _hamming(_alone(model, a, x), y), _hamming(_alone(model, c, x), y)
    inner.alt, inner.alt_n = c, age
    inner.main_loss, inner.alt_loss = 0.5 * (age + 1) - main, 0.5 * (age + 1) - alt
    root.adwin, inner.adwin = _Scripted([(False, 0.5)]), _Scripted([(False, 0.5)])
    model.learn_one(x, y)
    assert (inner.alt is None) is dropped
    assert model.summary["n_alternates_pruned"] == int(dropped)


def test_an_alternate_is_not_compared_before_the_drift_window():
    model = _host(drift_window=50)
    root, inner, a = _two_level(model)
    c = _leaf(3, 4)
    _mature(inner, c, 48, 0.0, 1.0)  # would switch at once if compared
    root.adwin, inner.adwin = _Scripted([(False, 0.5)]), _Scripted([(False, 0.5)])
    x, y = _instance_at(left_of_x0=True)
    model.learn_one(x, y)
    assert inner.alt is c and root.left is inner
    assert model.summary["n_alternates_switched"] == 0


class _SplitTest:
    """A stand-in for `split_test`: records its arguments and answers as told."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list = []
        self.widths: list = []  # the features of the statistics of each call

    def __call__(self, stats, n_labelsets, *params):
        self.calls.append((stats.weight, n_labelsets, params))
        self.widths.append(stats.n_features)
        return self.answer


_PARAMS = dict(n_split_points=7, min_branch_fraction=0.05, split_delta=0.01, tie_threshold=0.2)


def _learn(model: MLHAT, n: int, concept: int = 0, seed: int = 21):
    for x, y in _stream(n, concept, seed):
        model.learn_one(x, y)


@pytest.mark.parametrize(("needed", "wait"), [(10.0, 20), (55.0, 35), (10**6, 60)])
def test_a_rejected_split_waits_for_the_weight_the_bound_needs_within_limits(
    monkeypatch, needed, wait
):
    test = _SplitTest((None, needed))
    monkeypatch.setattr("streamml.learners.mlhat.split_test", test)
    model = MLHAT(grace_period=20, max_wait=3, seed=0, **_PARAMS)
    _learn(model, 19)
    assert test.calls == []
    _learn(model, 1, seed=22)
    leaf = model._root
    assert len(test.calls) == 1
    weight, n_labelsets, params = test.calls[0]
    assert weight == 20 and n_labelsets == len(leaf.labelsets) > 1
    assert params == (7, 0.05, 0.01, 0.2)
    # The leaf waits until the bound could fall below the lead: `needed` instances in all,
    # at least a grace period and at most max_wait of them.
    assert leaf.wait == int(min(max(needed - 20, 20), 60)) == wait
    assert leaf.last_attempt == 20
    _learn(model, wait - 1, seed=23)
    assert len(test.calls) == 1
    _learn(model, 1, seed=24)
    assert len(test.calls) == 2 and test.calls[1][0] == 20 + wait


def test_an_accepted_split_makes_a_branch_with_a_detector_and_children_one_level_down(monkeypatch):
    test = _SplitTest(((2, 0.4, 0.3), 0.0))
    monkeypatch.setattr("streamml.learners.mlhat.split_test", test)
    model = MLHAT(grace_period=20, seed=0, drift_delta=0.01, **_PARAMS)
    _learn(model, 20)
    assert_root_split(model, (2, 0.4, 0.3), drift_delta=0.01)


def test_a_leaf_of_one_label_set_is_not_tested(monkeypatch):
    test = _SplitTest((None, 0.0))
    monkeypatch.setattr("streamml.learners.mlhat.split_test", test)
    model = MLHAT(grace_period=10, seed=0)
    for x, _ in _stream(25, 0, 3):
        model.learn_one(x, {"y0": True})
    leaf = model._root
    assert test.calls == [] and leaf.last_attempt == 20
    assert len(leaf.pending) == 5  # flushed at the attempt


@pytest.mark.parametrize(
    ("params", "tested"),
    [({"max_depth": 0}, False), ({"max_depth": 1}, True), ({"max_leaves": 1}, False)],
)
def test_depth_and_leaf_limits_stop_the_main_tree_from_testing(monkeypatch, params, tested):
    test = _SplitTest((None, 0.0))
    monkeypatch.setattr("streamml.learners.mlhat.split_test", test)
    model = MLHAT(grace_period=20, seed=0, **params)
    _learn(model, 20)
    assert bool(test.calls) is tested
    assert (model._root.pending is None) is not tested  # a leaf that may not split stops counting


def test_an_alternate_subtree_grows_beyond_max_leaves_without_a_detector(monkeypatch):
    test = _SplitTest(((1, 0.5, 0.2), 0.0))
    monkeypatch.setattr("streamml.learners.mlhat.split_test", test)
    model = _host(drift_window=10**6, max_leaves=2, grace_period=20)
    root, inner, a = _two_level(model)
    alt = model._new_leaf(inner.depth, 4)
    inner.alt = alt
    root.adwin = _Scripted([(False, 0.5)] * 20)
    inner.adwin = _Scripted([(False, 0.5)] * 20)
    splits, leaves = model.summary["n_splits"], model._n_leaves
    assert leaves >= 2  # the main tree may not split
    routed = [(x, y) for x, y in _stream(400, 0, 8) if x["x0"] <= 0.5 and x["x1"] <= 0.5]
    for x, y in routed[:20]:
        model.learn_one(x, y)
    grown = inner.alt
    assert type(grown) is Branch and grown.adwin is None and grown.depth == inner.depth
    assert model.summary["n_splits"] == splits + 1 and model._n_leaves == leaves
    assert a.pending is None  # the main leaf was stopped by max_leaves


def test_a_split_watch_takes_the_trees_split_parameters():
    model = MLHAT(grace_period=33, max_wait=4, **_PARAMS)
    watch = model.split_watch(5)
    assert (watch.n_labels, watch.grace_period, watch.max_wait) == (5, 33, 4)
    assert (watch.n_split_points, watch.min_branch_fraction) == (7, 0.05)
    assert (watch.split_delta, watch.tie_threshold) == (0.01, 0.2)


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_leaf_that_splits_takes_its_own_place_in_the_main_tree(monkeypatch, side):
    model = _host(drift_window=10**6, grace_period=20)
    a, b = _leaf(0, 1), _leaf(1, 2)
    model._root = root = _branch(0, a, b, 0)
    root.adwin = _Scripted([(False, 0.5)] * 20)
    monkeypatch.setattr("streamml.learners.mlhat.split_test", _SplitTest(((2, 0.5, 0.1), 0.0)))
    for leaf in (a, b):
        leaf.last_attempt, leaf.wait = leaf.n, 0  # the next attempt after a grace period
    routed = [(x, y) for x, y in _stream(200, 0, 8) if (x["x0"] <= 0.5) == (side == "left")]
    for x, y in routed[:20]:
        model.learn_one(x, y)
    grown, kept = (root.left, root.right) if side == "left" else (root.right, root.left)
    assert type(grown) is Branch and grown.feature == 2 and grown.depth == a.depth
    assert kept is (b if side == "left" else a) and model._root is root


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_leaf_of_an_alternate_subtree_that_splits_takes_its_own_place(monkeypatch, side):
    model = _host(drift_window=10**6, grace_period=20)
    root, inner, a = _two_level(model)
    c, e = model._new_leaf(1, 4), model._new_leaf(1, 4)
    inner.alt = alt = _branch(2, c, e, 1, main=False)
    root.adwin = _Scripted([(False, 0.5)] * 20)
    inner.adwin = _Scripted([(False, 0.5)] * 20)
    monkeypatch.setattr("streamml.learners.mlhat.split_test", _SplitTest(((3, 0.5, 0.1), 0.0)))
    routed = [
        (x, y)
        for x, y in _stream(800, 0, 8)
        if x["x0"] <= 0.5 and x["x1"] <= 0.5 and (x["x2"] <= 0.5) == (side == "left")
    ]
    for x, y in routed[:20]:
        model.learn_one(x, y)
    grown, kept = (alt.left, alt.right) if side == "left" else (alt.right, alt.left)
    assert type(grown) is Branch and grown.feature == 3 and grown.adwin is None
    assert kept is (e if side == "left" else c) and inner.alt is alt


def test_the_counts_of_alternates_switches_and_prunes_add_up():
    model = _host(drift_window=50)
    root, inner, a = _two_level(model)
    model._n_alternates, model._n_switches, model._n_prunes = 4, 2, 7
    root.adwin = _Scripted([(True, 0.9), (False, 0.5)])
    inner.adwin = _Scripted([(False, 0.5), (False, 0.5)])
    x, y = _instance_at(left_of_x0=True)
    model.learn_one(x, y)  # the root starts an alternate
    assert model.summary["n_alternates_created"] == 5
    _mature(inner, _leaf(3, 4), 49, 1.0, 0.0)  # about to be pruned
    model.learn_one(x, y)
    summary = model.summary
    assert summary["n_alternates_pruned"] == 8 and summary["n_alternates_switched"] == 2


def test_switches_are_counted_on():
    model = _host(drift_window=50)
    root, inner, a = _two_level(model)
    model._n_switches = 2
    _mature(inner, _leaf(3, 4), 49, 0.0, 1.0)
    root.adwin, inner.adwin = _Scripted([(False, 0.5)]), _Scripted([(False, 0.5)])
    model.learn_one(*_instance_at(left_of_x0=True))
    assert model.summary["n_alternates_switched"] == 3


def test_a_split_attempt_reads_every_feature_of_wide_instances(monkeypatch):
    """More features than the window has slots: the split statistics cover the features."""
    test = _SplitTest((None, 0.0))
    monkeypatch.setattr("streamml.learners.mlhat.split_test", test)
    model = MLHAT(grace_period=20, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = {f"f{j:03d}": float(v) for j, v in enumerate(rng.random(100) + 0.01)}
        model.learn_one(x, {"a": bool(x["f099"] > 0.5), "b": bool(x["f000"] > 0.5)})
    assert model._root.knn._x.shape[1] < 100  # slots allocated so far
    assert len(test.widths) == 1 and test.widths[0] >= 100
