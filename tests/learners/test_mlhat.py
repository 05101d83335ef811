from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
import river.checks
from river import datasets

from streamml.learners import MLHAT, FeatureIndex, MajorityLabelset
from streamml.learners.nodes import Leaf


def _offline_datasets(model, scale=1):
    # river's default multi-label dataset (Music) is downloaded; Yeast ships with river.
    yield datasets.Yeast().take(50 * scale)


@pytest.mark.parametrize("params", list(MLHAT._unit_test_params()))
def test_river_estimator_checks(monkeypatch, params):
    monkeypatch.setattr(river.checks, "_yield_datasets", _offline_datasets)
    model = MLHAT(**params)
    for check in river.checks.yield_checks(model):
        if check.__name__ not in model._unit_test_skips():
            check(model.clone())


def _axis_stream(n, change=None, seed=0, dense_zeros=False):
    """Labels given by thresholds on two features (other features on a concept change)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        x = rng.random(4) * (rng.random(4) < 0.9)
        a, b = (0, 1) if change is None or i < change else (2, 3)
        y = {"y0": bool(x[a] > 0.5), "y1": bool(x[a] > 0.25), "y2": bool(x[b] > 0.5)}
        row = {f"x{j}": float(x[j]) for j in range(4)}
        if not dense_zeros:
            row = {k: v for k, v in row.items() if v}
        yield row, y


def _subset_hits(model, stream):
    hits = []
    for x, y in stream:
        p = model.predict_one(x)
        hits.append(all(p.get(k, False) == v for k, v in y.items()))
        model.learn_one(x, y)
    return np.array(hits)


def test_tree_splits_on_the_informative_feature_and_beats_the_majority():
    model = MLHAT(seed=1)
    hits = _subset_hits(model, _axis_stream(3000))
    majority = _subset_hits(MajorityLabelset(), _axis_stream(3000))
    assert model.summary["n_splits"] >= 1
    assert model._root.feature in (model.feature_index.column("x0"),)
    assert hits[-1000:].mean() > majority[-1000:].mean() + 0.3
    assert hits[-1000:].mean() > 0.85


def test_drift_fires_adwin_and_the_tree_recovers():
    model = MLHAT(seed=3)
    hits = _subset_hits(model, _axis_stream(8000, change=4000))
    detectors = [e.detector for e in model.drift_events]
    assert "MLHAT.ADWIN" in detectors
    first = next(e.index for e in model.drift_events if e.detector == "MLHAT.ADWIN")
    assert 4000 <= first < 4500
    assert model.summary["n_alternates_switched"] >= 1
    assert hits[3500:4000].mean() > 0.85  # before the change
    assert hits[4000:4200].mean() < 0.8  # the change hurts
    assert hits[-1000:].mean() > 0.85  # and the tree recovers


def test_sparse_and_dense_dicts_give_identical_results():
    sparse, dense = MLHAT(seed=5, grace_period=100), MLHAT(seed=5, grace_period=100)
    pairs = zip(_axis_stream(1500, seed=2), _axis_stream(1500, seed=2, dense_zeros=True))
    for (xs, y), (xd, _) in pairs:
        assert sparse.predict_proba_one(xs) == dense.predict_proba_one(xd)
        sparse.learn_one(xs, y)
        dense.learn_one(xd, y)
    assert sparse.summary == dense.summary


def test_same_seed_same_results_and_pickling_mid_stream():
    stream = list(datasets.Yeast().take(700))
    a, b = MLHAT(seed=7, grace_period=100), MLHAT(seed=7, grace_period=100)
    for x, y in stream[:400]:
        assert a.predict_proba_one(x) == b.predict_proba_one(x)
        a.learn_one(x, y)
        b.learn_one(x, y)
    c = pickle.loads(pickle.dumps(a))
    for x, y in stream[400:]:
        pa = a.predict_proba_one(x)
        assert pa == b.predict_proba_one(x) == c.predict_proba_one(x)
        for model in (a, b, c):
            model.learn_one(x, y)


def test_new_features_and_labels_mid_stream():
    model = MLHAT(seed=0, grace_period=50)
    rng = np.random.default_rng(0)
    hits = []
    for i in range(700):
        x = {"a": rng.random()}
        y = {"l0": x["a"] > 0.5}
        if i >= 300:
            x["b"] = rng.random()  # a new feature
            y["l1"] = x["b"] > 0.5  # and a new label
        if i >= 450:
            del y["l0"]  # a known label missing from y counts as False
        p = model.predict_one(x)
        assert set(p) == set(model.labels)
        if i >= 600:
            hits.append(p["l1"] == y["l1"] and p["l0"] is False)
        model.learn_one(x, y)
    assert model.labels == ["l0", "l1"]
    assert np.mean(hits) > 0.8


def test_encoded_instances_shared_by_several_learners():
    stream = list(datasets.Yeast().take(400))
    own = MLHAT(seed=2)
    shared_index = FeatureIndex()
    first, late = MLHAT(seed=2), MLHAT(seed=2)
    for i, (x, y) in enumerate(stream):
        v = shared_index.encode({**x, f"extra{i % 7}": 1.0})  # features the others never see
        w = shared_index.encode(x)
        assert own.predict_proba_one(x) == {
            k: {False: 1 - p, True: p} for k, p in first.predict_proba_encoded(w).items()
        }
        own.learn_one(x, y)
        first.learn_encoded(w, y)
        if i >= 200:  # joins late, with an index wider than its arrays
            late.predict_proba_encoded(v)
            late.learn_encoded(v, y)
    assert set(late.predict_proba_encoded(v)) == set(y)


def test_bad_input_raises_and_changes_nothing():
    model = MLHAT(seed=0)
    for x, y in itertools.islice(datasets.Yeast(), 50):
        model.learn_one(x, y)
    before = pickle.dumps(model)
    with pytest.raises(TypeError):
        model.learn_one(x, [True])
    with pytest.raises(ValueError):
        model.learn_one({**x, "bad": float("inf")}, y)
    with pytest.raises(TypeError):
        model.learn_one([1.0], y)
    assert pickle.dumps(model) == before


def test_invalid_parameters():
    for params in (
        {"grace_period": 0},
        {"split_delta": 1.5},
        {"learning_rates": (0.5,), "bias_learning_rates": (0.1, 1.0)},
        {"max_leaves": 0},
        {"knn_memory": 0},
        {"knn_memory": -1.0},
        {"knn_memory": True},
        {"knn_memory": "16"},
        {"knn_memory": float("inf")},
    ):
        with pytest.raises(ValueError):
            MLHAT(**params)


def _leaves(model):
    """The leaves of the main tree (alternates aside)."""
    nodes, leaves = [model._root], []
    while nodes:
        node = nodes.pop()
        if isinstance(node, Leaf):
            leaves.append(node)
        else:
            nodes += [node.left, node.right]
    return leaves


def test_knn_memory_bounds_the_leaves_windows():
    """200 features in 0.1 MiB: 131 instances per window instead of 2,000; without the
    bound, the same model keeps all it saw; a model pickled before the bound keeps none."""
    rng = np.random.default_rng(0)
    stream = [
        ({f"f{j}": float(v) for j, v in enumerate(rng.normal(size=200))}, {"a": bool(i % 2)})
        for i in range(400)
    ]
    bounded, unbounded = MLHAT(seed=0, knn_memory=0.1), MLHAT(seed=0, knn_memory=None)
    for x, y in stream:
        for model in (bounded, unbounded):
            model.learn_one(x, y)
    windows = [leaf.knn for leaf in _leaves(bounded)]
    assert windows and all(len(w) <= 131 for w in windows)
    assert sum(len(w) for w in windows) >= 131
    assert sum(len(leaf.knn) for leaf in _leaves(unbounded)) == 400
    state = unbounded.__getstate__()
    del state["knn_memory"]
    old = MLHAT.__new__(MLHAT)
    old.__setstate__(state)
    assert old.knn_memory is None
    old.learn_one(*stream[0])


def test_max_leaves_bounds_the_tree():
    model = MLHAT(seed=0, grace_period=50, max_leaves=3)
    _subset_hits(model, _axis_stream(4000))
    assert model.n_leaves <= 3


def test_empty_instances_and_label_sets():
    model = MLHAT(seed=0, grace_period=20)
    assert model.predict_one({}) == {} and model.predict_proba_one({"a": 1.0}) == {}
    model.learn_one({}, {})  # no features, no labels yet
    model.learn_one({"a": 1.0}, {})
    model.learn_one({"a": 1.0, "c": "red"}, {"x": True})
    model.learn_one({}, {"x": False, "y": True})
    for i in range(200):
        model.learn_one({"a": float(i % 2), "c": "red"}, {"x": bool(i % 2)})
    proba = model.predict_proba_one({})
    assert set(proba) == {"x", "y"}
    assert all(0.0 <= p[True] <= 1.0 and abs(p[True] + p[False] - 1) < 1e-9 for p in proba.values())
    assert model.predict_one({"a": 1.0, "c": "red"}) == {"x": True, "y": False}


# Published MLHAT row (../shared/docs/anchors.md): subset accuracy, micro F1.
PUBLISHED_MLHAT = {
    "yeast": (0.131, 0.598),
    "emotions": (0.136, 0.445),
    "scene": (0.887, 0.936),
    "medical": (0.435, 0.584),
    "slashdot": (0.311, 0.458),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PUBLISHED_MLHAT))
def test_real_streams_beat_the_published_mlhat(shared_data, name):
    from streamml.datasets import ARFF
    from streamml.evaluate import prequential

    result = prequential(MLHAT(seed=42), ARFF(shared_data / f"{name}.arff"))
    subset, micro = PUBLISHED_MLHAT[name]
    assert result.subset_accuracy >= subset
    assert result.micro_f1 >= micro
    if name == "yeast":
        assert result.subset_accuracy >= 0.14


def test_many_methods_match_the_one_methods():
    import pandas as pd

    stream = list(datasets.Yeast().take(300))
    X = pd.DataFrame([x for x, _ in stream])
    Y = pd.DataFrame([y for _, y in stream])
    one, many = MLHAT(seed=4), MLHAT(seed=4)
    for x, y in stream[:200]:
        one.learn_one(x, y)
    many.learn_many(X.iloc[:200], Y.iloc[:200])
    proba = many.predict_proba_many(X.iloc[200:])
    assert list(proba.columns) == one.labels and list(proba.index) == list(X.index[200:])
    for (_, row), (x, _) in zip(proba.iterrows(), stream[200:]):
        assert row.to_dict() == {k: p[True] for k, p in one.predict_proba_one(x).items()}
    predicted = many.predict_many(X.iloc[200:])
    assert predicted.dtypes.unique().tolist() == [bool]
    assert (predicted == (proba > 0.5)).all().all()
    # Numpy input: features and labels named by their position.
    arrays = MLHAT(seed=4)
    arrays.learn_many(X.to_numpy()[:50], Y.to_numpy()[:50])
    assert arrays.labels == list(range(Y.shape[1]))
    with pytest.raises(ValueError):
        arrays.learn_many(X.to_numpy()[:5], Y.to_numpy()[:4])


def test_learn_many_checks_every_row_first():
    model = MLHAT(seed=0)
    X = np.array([[1.0, 2.0], [np.inf, 1.0]])
    Y = np.array([[True], [False]])
    with pytest.raises(ValueError):
        model.learn_many(X, Y)
    assert model.labels == [] and model.summary["n_instances"] == 0
