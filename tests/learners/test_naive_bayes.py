from __future__ import annotations

import numpy as np
import pytest
from river import datasets
from sklearn.naive_bayes import GaussianNB

from streamml.learners import FeatureIndex, NaiveBayes
from streamml.learners.features import EncodedInstance

from ..continuation import assert_pickle_continues


def _data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[X < -0.5] = 0.0  # sparse-ish: a missing feature is a zero
    Y = X[:, :3] + rng.normal(size=(n, 3)) > 0.3
    xs = [{f"f{j}": v for j, v in enumerate(row) if v} for row in X]
    ys = [{f"l{k}": bool(b) for k, b in enumerate(row)} for row in Y]
    return X, Y, xs, ys


def test_matches_scikit_learn_per_label():
    X, Y, xs, ys = _data()
    model = NaiveBayes(prior_weight=0.0, refresh=0.0)
    for x, y in zip(xs, ys):
        model.learn_one(x, y)
    mine = np.array([[model.predict_proba_one(x)[f"l{k}"][True] for k in range(3)] for x in xs])
    for k in range(3):
        reference = GaussianNB(var_smoothing=1e-9).fit(X, Y[:, k])
        joint = reference.predict_joint_log_proba(X)
        n1 = Y[:, k].sum()
        n0 = len(Y) - n1
        # scikit-learn's priors are n1/n and n0/n; ours are Laplace-smoothed.
        log_odds = joint[:, 1] - joint[:, 0] - np.log(n1 / n0) + np.log((n1 + 1) / (n0 + 1))
        np.testing.assert_allclose(mine[:, k], 1 / (1 + np.exp(-log_odds)), atol=1e-9)


def test_learns_fast_on_a_gaussian_concept():
    _, _, xs, ys = _data(seed=1, n=600)
    model = NaiveBayes()
    hits = []
    for x, y in zip(xs, ys):
        hits.append(model.predict_one(x) == y if model.labels else False)
        model.learn_one(x, y)
    # exact match of 3 noisy labels, against always predicting the most frequent label set
    late = [tuple(sorted(y.items())) for y in ys[300:]]
    majority = max(late.count(s) for s in set(late)) / len(late)
    assert np.mean(hits[300:]) > majority + 0.1


def test_unknown_labels_and_features_and_empty_model():
    model = NaiveBayes()
    assert model.predict_one({"a": 1.0}) == {}
    model.learn_one({"a": 1.0}, {"x": True})
    model.learn_one({"a": -1.0}, {"x": False, "y": False})
    p = model.predict_proba_one({"a": 1.0, "unseen": 3.0})
    assert set(p) == {"x", "y"}
    assert p["y"][True] < 0.5  # never positive: the prior only
    assert p["x"][True] > 0.5
    assert "unseen" not in model.feature_index  # predictions do not grow the index


def test_shared_encoding_equals_own_encoding():
    _, _, xs, ys = _data(seed=2, n=100)
    own, shared, index = NaiveBayes(), NaiveBayes(), FeatureIndex()
    for x, y in zip(xs, ys):
        v = index.encode(x)
        assert np.allclose(
            own.predict_proba_vector(own._encode(x, grow=False)), shared.predict_proba_vector(v)
        )
        own.learn_one(x, y)
        shared.learn_encoded(v, y)


def test_pickle_continues_identically():
    stream = list(datasets.Yeast().take(200))
    assert_pickle_continues(NaiveBayes(), stream, 100, answer="predict_proba_one")


def test_refresh_recomputes_the_parameters_as_the_stream_grows():
    _, _, xs, ys = _data(seed=3, n=400)
    exact, lazy = NaiveBayes(refresh=0.0), NaiveBayes(refresh=0.1)
    gaps, flips = [], []
    for x, y in zip(xs, ys):
        a = exact.predict_proba_vector(exact._encode(x, grow=False)) if exact.labels else None
        b = lazy.predict_proba_vector(lazy._encode(x, grow=False)) if lazy.labels else None
        if a is not None:
            gaps.append(np.abs(a - b).max())
            flips.append(np.mean((a > 0.5) != (b > 0.5)))
        exact.learn_one(x, y)
        lazy.learn_one(x, y)
    assert max(gaps) > 0.0  # stale at times, but the decisions hardly differ
    assert np.mean(flips[100:]) < 0.02
    assert 0 < lazy._params_n <= lazy.n_learned < 1.1 * lazy._params_n + 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"var_smoothing": -1},
        {"prior_weight": "a"},
        {"refresh": -0.5},
        {"fading": 0.0},
        {"fading": 1.5},
        {"fading": True},
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        NaiveBayes(**kwargs)


def test_fading_weighs_the_instances_exponentially_through_rescaling():
    """The class means and the priors are those of the instances weighted fading ** age, also
    after the scaled weights were divided back down (0.5 ** -350 > 1e100)."""
    X, Y, xs, ys = _data(seed=3, n=2800)
    model = NaiveBayes(prior_weight=0.0, refresh=0.0, fading=0.5 ** (1 / 8))
    for x, y in zip(xs, ys):
        model.learn_one(x, y)
    assert model._w < 1e100 < 0.5 ** (-len(X) / 8)  # rescaled on the way
    weights = model.fading ** np.arange(len(X) - 1, -1, -1.0)
    params = model._parameters()
    assert params.rows.tolist() == [0, 1, 2]  # every label has both classes
    mean, bias = params.mean, params.bias
    cols = [model._index.column(f"f{j}") for j in range(6)]  # the model's order of the features
    for k in range(3):
        on = Y[:, k]
        expected = (weights[on, None] * X[on]).sum(axis=0) / weights[on].sum()
        np.testing.assert_allclose(mean[k, cols], expected, rtol=1e-9)
        prior = np.log((weights[on].sum() + 1) / (weights[~on].sum() + 1))
        assert np.isclose(bias[k] - _log_variance_term(model, k), prior)


def _log_variance_term(model, k):
    precision = model._parameters().precision
    m = len(precision) // 2
    return 0.5 * (np.log(precision[k]).sum() - np.log(precision[m + k]).sum())


def test_fading_follows_a_changed_concept():
    """Labels that follow the opposite of their features after 1,500 instances: 300 instances
    later a faded model predicts them far better than one that never forgets."""
    _, _, xs, ys = _data(seed=4, n=1800)
    flipped = [{k: not v for k, v in y.items()} for y in ys[1500:]]
    stream = list(zip(xs[:1500], ys[:1500])) + list(zip(xs[1500:], flipped))
    scores = {}
    for fading in (1.0, 0.99):
        model = NaiveBayes(fading=fading)
        hits = []
        for t, (x, y) in enumerate(stream):
            if t >= 1650:
                hits.append(model.predict_one(x) == y)
            model.learn_one(x, y)
        scores[fading] = np.mean(hits)
    assert scores[0.99] > scores[1.0] + 0.15


def test_without_fading_it_is_the_model_it_was():
    """fading=1 learns the sums as before, and a model pickled before fading loads as one."""
    _, _, xs, ys = _data(seed=5)
    model = NaiveBayes()
    for x, y in zip(xs, ys):
        model.learn_one(x, y)
    assert model._total == model.n_learned and model._w == 1.0
    state = model.__getstate__()
    for name in ("fading", "_w", "_total"):
        del state[name]
    old = NaiveBayes.__new__(NaiveBayes)
    old.__setstate__(state)
    assert old.fading == 1.0 and old._total == old.n_learned
    assert [old.predict_proba_one(x) for x in xs[:50]] == [
        model.predict_proba_one(x) for x in xs[:50]
    ]


def _sparse_stream(seed=3, n=300, width=60):
    """Text-like data: a few non-zeros among `width` features, labels driven by some."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        cols = rng.choice(width, size=rng.integers(1, 6), replace=False)
        x = {f"w{j}": float(rng.integers(1, 4)) for j in cols}
        xs.append(x)
        ys.append({f"l{k}": f"w{k}" in x or f"w{k + 3}" in x for k in range(3)})
    return xs, ys


def test_sparse_instances_get_the_dense_distance():
    # A sparse instance is scored from the zero vector's distance, corrected on its
    # non-zeros; it must be the distance of the whole vector, computed here densely.
    xs, ys = _sparse_stream()
    model = NaiveBayes(refresh=0.0)
    for x, y in zip(xs[:200], ys[:200]):
        model.learn_one(x, y)
    params = model._parameters()
    mean, precision, bias, rows = params.mean, params.precision, params.bias, params.rows
    u = len(rows)
    for x in xs[200:]:
        v = model._encode(x, grow=False)
        assert 4 * len(v.indices) < mean.shape[1]  # the sparse route
        dense = np.zeros(mean.shape[1])
        dense[v.indices] = v.values
        q = (((dense - mean) ** 2) * precision).sum(axis=1)
        log_odds = bias.copy()
        log_odds[rows] += 0.5 * (q[u:] - q[:u])
        expected = 1 / (1 + np.exp(-np.clip(log_odds, -50.0, 50.0)))
        np.testing.assert_allclose(model.predict_proba_vector(v), expected, rtol=1e-9)


def test_a_label_without_both_classes_is_its_prior_and_costs_no_gaussians():
    # l0 is never positive, l2 always: only l1 has Gaussians; l0 and l2 answer their
    # Laplace-smoothed priors whatever x.
    rng = np.random.default_rng(8)
    model = NaiveBayes(refresh=0.0)
    xs = [{"a": float(rng.normal()), "b": float(rng.normal())} for _ in range(40)]
    for x in xs:
        model.learn_one(x, {"l0": False, "l1": x["a"] > 0, "l2": True})
    params = model._parameters()
    assert params.rows.tolist() == [1] and params.mean.shape == (2, 2)
    n = len(xs)
    for x in xs[:5]:
        p = model.predict_proba_one(x)
        assert np.isclose(p["l0"][True], 1 / (n + 2))  # odds (0 + 1) / (n + 1)
        assert np.isclose(p["l2"][True], (n + 1) / (n + 2))
    assert len({round(model.predict_proba_one(x)["l1"][True], 9) for x in xs}) > 5


def test_parameters_pickled_before_the_zero_distance_still_predict():
    xs, ys = _sparse_stream(seed=4)
    model = NaiveBayes()
    for x, y in zip(xs, ys):
        model.learn_one(x, y)
    model.learn_one({"w0": 1.0}, {"l3": False})  # a label never positive: not usable
    vs = [model._encode(x, grow=False) for x in xs[:20]]
    expected = [model.predict_proba_vector(v) for v in vs]
    # Older versions kept both classes of every label, usable or not (weight of x's evidence
    # 0.5 or 0), with (from some version) the distances of the zero vector.
    params, m = model._parameters(), len(model._parameters().bias)
    rows, u = params.rows, len(params.rows)
    assert u == m - 1
    mean = np.full((2 * m, params.mean.shape[1]), 7.0)  # unusable rows: ignored
    precision = np.full_like(mean, 3.0)
    mean[rows], mean[rows + m] = params.mean[:u], params.mean[u:]
    precision[rows], precision[rows + m] = params.precision[:u], params.precision[u:]
    half = np.zeros(m)
    half[rows] = 0.5
    at_zero = np.einsum("ij,ij->i", mean * mean, precision)
    for old in [
        (mean, precision, params.bias, half),
        (mean, precision, params.bias, half, at_zero),
    ]:
        state = model.__getstate__()
        state["_params"] = old
        loaded = NaiveBayes.__new__(NaiveBayes)
        loaded.__setstate__(state)
        for v, e in zip(vs, expected):
            np.testing.assert_allclose(loaded.predict_proba_vector(v), e, rtol=1e-12)


def _reference_log_odds(X, on, x, prior_weight, var_smoothing):
    """The model's log-odds for one label, written out from its definition: per class, each
    feature's variance shrunk towards its variance over all instances by `prior_weight`
    pseudo-instances, plus `var_smoothing` times the largest such variance."""
    n = len(X)
    var_all = X.var(axis=0)
    eps = var_smoothing * var_all.max() + 1e-12
    log_odds = np.log((on.sum() + 1) / (n - on.sum() + 1))
    for c, sign in ((on, 1.0), (~on, -1.0)):
        rows = X[c]
        count = len(rows)
        mean = rows.sum(axis=0) / max(count, 1)
        within = np.maximum((rows**2).sum(axis=0) / max(count, 1) - mean**2, 0.0)
        var = (count * within + prior_weight * var_all) / (count + prior_weight) + eps
        log_odds += sign * (-0.5 * np.log(var).sum() - 0.5 * ((x - mean) ** 2 / var).sum())
    return log_odds


def test_class_variances_shrink_towards_the_feature_variance():
    # l1 is positive once: its positive class is one instance, its variance all shrinkage.
    rng = np.random.default_rng(12)
    n, width = 150, 6
    X = np.where(rng.uniform(size=(n, width)) < 0.4, rng.normal(2.0, 1.5, size=(n, width)), 0.0)
    Y = np.zeros((n, 3), dtype=bool)
    Y[:, 0] = X[:, 0] + X[:, 1] > 1.0
    Y[17, 1] = True
    Y[:, 2] = rng.uniform(size=n) < 0.4
    model = NaiveBayes(prior_weight=2.5, var_smoothing=0.05, refresh=0.0)
    names = [f"f{j}" for j in range(width)]
    for row, labels in zip(X, Y):
        x = {f: v for f, v in zip(names, row) if v}
        model.learn_one(x, {f"l{k}": bool(b) for k, b in enumerate(labels)})
    checked = 0
    for row in np.vstack([X[:40], rng.normal(size=(10, width))]):
        v = model._encode({f: v for f, v in zip(names, row) if v}, grow=False)
        q = model.predict_proba_vector(v)
        for k in range(3):
            expected = _reference_log_odds(X, Y[:, k], row, 2.5, 0.05)
            if abs(expected) < 30:  # P(True) itself says little beyond
                checked += 1
                assert np.isclose(q[k], 1 / (1 + np.exp(-expected)), rtol=1e-9, atol=1e-12)
    assert checked > 100


def test_features_beyond_the_model_weigh_nothing_on_both_routes():
    xs, ys = _sparse_stream(seed=6, n=200, width=60)
    model = NaiveBayes(refresh=0.0)
    for x, y in zip(xs, ys):
        model.learn_one(x, y)
    width = len(model.feature_index)
    # Sparse route (few non-zeros): columns at and beyond the model's width are left out.
    known = EncodedInstance(np.array([3, 7]), np.array([2.0, 1.0]), width)
    for extra in (width, width + 9):
        wider = EncodedInstance(np.array([3, 7, extra]), np.array([2.0, 1.0, 5.0]), extra + 1)
        np.testing.assert_array_equal(
            model.predict_proba_vector(wider), model.predict_proba_vector(known)
        )
    # Dense route, with an instance narrower than the model: the missing columns are zeros.
    dense = NaiveBayes(refresh=0.0)
    X, Y, xs, ys = _data(seed=7, n=120)
    for x, y in zip(xs, ys):
        dense.learn_one(x, y)
    values = np.array([0.5, -1.0, 2.0])
    narrow = EncodedInstance(np.arange(3), values, 3)
    full = EncodedInstance(np.arange(3), values, len(dense.feature_index))
    assert 4 * 3 >= len(dense.feature_index)  # the dense route for both
    np.testing.assert_allclose(
        dense.predict_proba_vector(narrow), dense.predict_proba_vector(full), rtol=1e-12
    )
