"""MLHAT's state around learning: the cache of leaf answers, the counters, the restricted
copies (with and without a split) and its pickles."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from river import drift

from streamml.learners import MLHAT
from streamml.learners.mlhat import _hamming
from streamml.learners.nodes import Branch, Leaf

from .trees import assert_root_split


def _stream(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = rng.random(3) * 0.98 + 0.01
        yield (
            {f"x{j}": float(x[j]) for j in range(3)},
            {"a": bool(x[0] > 0.5), "b": bool(x[1] > 0.5), "c": bool(x[0] + x[2] > 1.0)},
        )


@pytest.fixture
def counted(monkeypatch):
    """The leaves' answers computed (not taken from the cache), counted."""
    calls = []
    predict = Leaf.predict

    def counting(self, v, n_labels):
        calls.append(n_labels)
        return predict(self, v, n_labels)

    monkeypatch.setattr(Leaf, "predict", counting)
    return calls


def test_a_leaf_answer_is_reused_until_the_model_learns_or_the_labels_grow(counted):
    model = MLHAT(seed=0)
    data = list(_stream(60))
    for x, y in data[:50]:
        model.learn_one(x, y)
    x = data[50][0]
    first = model.predict_proba_one(x)
    assert model.predict_proba_one(x) == first and len(counted) == 1  # the same instance
    model.predict_proba_one(data[51][0])
    assert len(counted) == 2  # another instance
    model.predict_proba_one(x)
    assert len(counted) == 3  # the cache holds the latest instance only
    model.learn_one(*data[52])
    again = model.predict_proba_one(x)
    assert len(counted) == 4 and again != first  # learning changed the leaf
    model.learn_one(data[53][0], {**data[53][1], "d": True})  # a new label
    assert list(model.predict_proba_one(x)) == ["a", "b", "c", "d"]
    assert counted[-1] == 4


def test_each_instance_learnt_counts_once():
    model = MLHAT(seed=0)
    for k, (x, y) in enumerate(_stream(30), start=1):
        model.learn_one(x, y)
        assert model.summary["n_instances"] == k


def test_no_label_known_no_probability():
    model = MLHAT()
    v = model.feature_index.encode({"x": 1.0})
    answer = model.predict_proba_vector(v)
    assert answer.shape == (0,) and model.predict_proba_one({"x": 1.0}) == {}


def _grown(n: int = 400, **params) -> MLHAT:
    model = MLHAT(seed=0, grace_period=50, tie_threshold=0.5, **params)
    for x, y in _stream(n):
        model.learn_one(x, y)
    assert type(model._root) is Branch
    return model


def test_a_restricted_copy_keeps_the_branches_with_fresh_detectors():
    model = _grown(drift_delta=0.01)
    part = model.restricted(["c", "a"], seed=5)
    assert part.seed == 5 and part.labels == ["c", "a"] and model.seed == 0
    originals = [n for n in _nodes(model._root) if type(n) is Branch]
    copies = [n for n in _nodes(part._root) if type(n) is Branch]
    assert len(copies) == len(originals) >= 1
    for mine, theirs in zip(copies, originals):
        assert (mine.feature, mine.threshold, mine.depth) == (
            theirs.feature,
            theirs.threshold,
            theirs.depth,
        )
        assert mine.merit == theirs.merit
        assert type(mine.adwin) is drift.ADWIN and mine.adwin is not theirs.adwin
        assert mine.adwin.delta == 0.01 and mine.alt is None
    assert part.summary["n_leaves"] == model.summary["n_leaves"]
    x = next(_stream(1, seed=3))[0]
    full, mine = model.predict_proba_one(x), part.predict_proba_one(x)
    assert [mine[label][True] for label in ("c", "a")] == pytest.approx(
        [full[label][True] for label in ("c", "a")], abs=1e-6
    )


def test_a_restricted_copy_has_its_own_feature_index():
    model = _grown()
    part = model.restricted(["a"], seed=1)
    part.learn_one({"x0": 0.3, "new": 1.0}, {"a": True})
    assert "new" in part.feature_index and "new" not in model.feature_index


def test_a_restricted_root_leaf_splits_as_told():
    model = MLHAT(seed=0, grace_period=10**6, drift_delta=0.01)
    for x, y in _stream(120):
        model.learn_one(x, y)
    assert type(model._root) is Leaf
    part = model.restricted(["b"], seed=1, split=(1, 0.5, 0.25))
    assert_root_split(part, (1, 0.5, 0.25), drift_delta=0.01)
    assert part.summary["n_instances"] == 120
    left, right = part._root.left, part._root.right
    assert len(left.knn) + len(right.knn) == 120  # the kNN window, split between them
    assert len(left.knn) > 0 and len(right.knn) > 0
    # A split is only for a root leaf: a grown tree keeps its branches.
    grown = _grown()
    kept = grown.restricted(["b"], seed=1, split=(1, 0.5, 0.25))
    assert kept._root.feature == grown._root.feature and kept.summary["n_splits"] == 0


def test_restricting_to_unknown_labels_names_the_first_five():
    model = _grown()
    with pytest.raises(ValueError, match=r"unknown labels: \['u0', 'u1', 'u2', 'u3', 'u4'\]$"):
        model.restricted(["a", *(f"u{k}" for k in range(7))])


def test_a_pickle_leaves_the_caches_out_and_an_old_pickle_has_no_memory_limit():
    model = _grown()
    x = next(_stream(1, seed=9))[0]
    answer = model.predict_proba_one(x)
    state = model.__getstate__()
    for name in ("_last_x", "_last_x_copy", "_last_v", "_cache_v", "_cache_version"):
        assert name not in state
    assert "_cache_proba" not in state
    copy = pickle.loads(pickle.dumps(model))
    assert copy.predict_proba_one(x) == answer
    del state["knn_memory"]
    old = MLHAT.__new__(MLHAT)
    old.__setstate__(dict(state))
    assert old.knn_memory is None and old.predict_proba_one(x) == answer


def _nodes(node):
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        if type(node) is Branch:
            stack += [node.right, node.left]


def test_learning_invalidates_the_answer_of_the_same_encoded_instance(counted):
    model = MLHAT(seed=0)
    data = list(_stream(40))
    for x, y in data[:30]:
        model.learn_one(x, y)
    for x, y in data[30:]:
        v = model.feature_index.encode(x)
        before = model.predict_proba_vector(v).copy()
        calls = len(counted)
        model.learn_encoded(v, y)
        after = model.predict_proba_vector(v)
        assert len(counted) == calls + 1  # asked again after learning: computed again
        assert not np.array_equal(before, after)


def test_a_restricted_copy_split_at_its_root_goes_on_learning():
    model = MLHAT(seed=0, grace_period=10**6)
    for x, y in _stream(120):
        model.learn_one(x, y)
    part = model.restricted(["a", "b"], seed=1, split=(0, 0.5, 0.2))
    for x, y in _stream(60, seed=1):
        part.learn_one(x, {"a": y["a"], "b": y["b"]})
    assert part.summary["n_instances"] == 180 and sorted(part.predict_one(x)) == ["a", "b"]


def test_the_hamming_loss_of_a_drift_detector():
    assert _hamming(np.array([0.5, 0.51, 0.2]), np.array([1.0, 1.0, 0.0])) == pytest.approx(1 / 3)
    assert _hamming(np.array([0.7]), np.array([0.0])) == 1.0  # one label
    assert _hamming(np.array([0.7]), np.array([1.0])) == 0.0
    assert _hamming(np.zeros(0), np.zeros(0)) == 0.0


def test_tree_events_say_when_they_happened():
    model = _grown()
    model._record("MLHAT.test")
    event = model.drift_events[-1]
    assert (event.index, event.level, event.detector) == (400, "tree", "MLHAT.test")
    assert event.labels == ("a", "b", "c")
    for _ in range(1005):
        model._record("MLHAT.test")
    assert len(model.drift_events) == 1000  # the latest thousand


_BAD = [
    *(
        (name, value, f"{name} must be a positive integer, got {value!r}")
        for name in ("grace_period", "max_wait", "n_split_points", "knn_neighbours")
        + ("knn_window", "n_bags", "batch_size", "drift_window")
        for value in (0, 2.0)
    ),
    *(
        (name, value, f"{name} must be in (0, 1), got {value!r}")
        for name in ("split_delta", "switch_significance", "drift_delta")
        for value in (0.0, 1.0)
    ),
    ("knn_recent_window", -1, "knn_recent_window must be a non-negative integer"),
    ("knn_recent_window", 1.0, "knn_recent_window must be a non-negative integer"),
    ("min_branch_fraction", -0.01, "min_branch_fraction must be in [0, 0.5)"),
    ("min_branch_fraction", 0.5, "min_branch_fraction must be in [0, 0.5)"),
    ("mixing_rate", -1.0, "mixing_rate must be None or a finite non-negative number"),
    ("mixing_rate", float("inf"), "mixing_rate must be None or a finite non-negative number"),
    ("mixing_rate", "10", "mixing_rate must be None or a finite non-negative number"),
    ("knn_memory", 0, "knn_memory must be None or a number > 0, got 0"),
    ("max_leaves", 0, "max_leaves must be None or at least 1"),
]


@pytest.mark.parametrize(("name", "value", "message"), _BAD)
def test_a_bad_parameter_is_named_with_its_value(name, value, message):
    with pytest.raises(ValueError) as raised:
        MLHAT(**{name: value})
    assert str(raised.value) == message


_RATES = "learning_rates and bias_learning_rates need one rate per group"


@pytest.mark.parametrize(
    ("rates", "bias", "n_bags", "message"),
    [
        ((0.5,), (0.1, 1.0), 10, _RATES),
        ((), (), 10, _RATES),
        ((0.5, 1.0, 2.0), (0.1, 0.1, 0.1), 2, _RATES),
        ((0.0, 1.0), (0.1, 0.1), 10, "learning rates must be positive"),
        ((0.5, 1.0), (-0.1, 0.1), 10, "learning rates must be positive"),
    ],
)
def test_bad_learning_rates_are_refused(rates, bias, n_bags, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        MLHAT(learning_rates=rates, bias_learning_rates=bias, n_bags=n_bags)


@pytest.mark.parametrize(
    "params",
    [
        {name: 1 for name in ("grace_period", "max_wait", "n_split_points", "knn_neighbours")},
        {name: 1 for name in ("knn_window", "batch_size", "drift_window")},
        {"n_bags": 1, "learning_rates": (0.5,), "bias_learning_rates": (0.0,)},
        {"n_bags": 2, "learning_rates": (0.5, 1.0), "bias_learning_rates": (0.0, 1.0)},
        {"split_delta": 1e-9, "switch_significance": 0.999, "drift_delta": 0.5},
        {"knn_recent_window": 0, "min_branch_fraction": 0.0, "max_leaves": 1},
        {"mixing_rate": 0.0, "knn_memory": 0.01},
        {"mixing_rate": None, "knn_memory": None, "max_leaves": None},
    ],
)
def test_parameters_at_their_limits_are_accepted_and_learn(params):
    model = MLHAT(seed=0, **params)
    for x, y in _stream(30):
        model.learn_one(x, y)
    assert model.summary["n_instances"] == 30
