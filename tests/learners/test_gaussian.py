from __future__ import annotations

import math

import numpy as np
from scipy import stats

from streamml.bounds import hoeffding_bound
from streamml.learners.gaussian import SplitStatistics, multilabel_entropy


def _rows(x: np.ndarray, y: np.ndarray):
    rows = []
    for xi, yi in zip(x, y):
        cols = np.flatnonzero(xi)
        rows.append((cols, xi[cols], np.flatnonzero(yi).tolist()))
    return rows


def _data(n=400, d=6, L=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.6)  # sparse-ish
    y = rng.random((n, L)) < 0.4
    return x, y


def test_statistics_match_a_direct_computation():
    x, y = _data()
    stats_ = SplitStatistics(n_labels=3, n_features=6)
    rows = _rows(x, y)
    stats_.update(rows[:150])
    stats_.update(rows[150:])
    member = np.column_stack([np.ones(len(y)), ~y.any(1), y]).astype(float)
    np.testing.assert_allclose(stats_.n, member.sum(0))
    np.testing.assert_allclose(stats_.nnz, member.T @ (x != 0))
    np.testing.assert_allclose(stats_.s1, member.T @ x)
    np.testing.assert_allclose(stats_.s2, member.T @ (x * x))
    nz = np.where(x != 0, x, np.nan)
    np.testing.assert_allclose(stats_.vmin, np.nanmin(nz, 0))
    np.testing.assert_allclose(stats_.vmax, np.nanmax(nz, 0))


def test_grow_keeps_statistics_and_adds_zeros():
    x, y = _data()
    s = SplitStatistics(3, 6)
    s.update(_rows(x, y))
    before = s.s1.copy()
    s.grow(5, 9)
    assert s.s1.shape == (7, 9)
    np.testing.assert_allclose(s.s1[:5, :6], before)
    assert not s.s1[5:].any() and not s.s1[:, 6:].any()


def test_child_weights_follow_the_zero_inflated_gaussian():
    rng = np.random.default_rng(1)
    n = 2000
    values = rng.normal(2.0, 0.5, size=n) * (rng.random(n) < 0.7)
    s = SplitStatistics(1, 1)
    s.update(_rows(values[:, None], np.zeros((n, 1), dtype=bool)))
    nz = values[values != 0]
    for t in (-0.5, 1.0, 2.0, 3.0):
        expected = (n - len(nz)) * (t >= 0) + len(nz) * stats.norm.cdf(t, nz.mean(), nz.std())
        left, right = s.child_weights(0, t)
        assert math.isclose(left, expected, rel_tol=1e-9)
        assert math.isclose(left + right, n)


def test_binary_features_split_exactly():
    rng = np.random.default_rng(2)
    n = 1000
    x = (rng.random((n, 1)) < 0.3).astype(float)
    y = np.column_stack([x[:, 0] > 0, rng.random(n) < 0.5])
    s = SplitStatistics(2, 1)
    s.update(_rows(x, y))
    merit, threshold = s.best_splits()
    assert threshold[0] == 0.5
    # Exact information gain of the split on x (label 0 becomes pure on both sides).
    p = y.mean(0)
    empty = ~y.any(1)
    parent = multilabel_entropy(np.append(y.sum(0), empty.sum()), n)
    left, right = x[:, 0] == 0, x[:, 0] == 1
    children = sum(
        side.sum()
        / n
        * multilabel_entropy(np.append(y[side].sum(0), empty[side].sum()), side.sum())
        for side in (left, right)
    )
    assert math.isclose(merit[0], parent - children, rel_tol=1e-9)
    assert p[0] > 0  # sanity


def test_information_gain_picks_the_informative_feature():
    rng = np.random.default_rng(3)
    n, d = 600, 8
    x = rng.normal(size=(n, d))
    y = np.column_stack([x[:, 5] > 0.2, x[:, 5] > -0.5, rng.random(n) < 0.3])
    s = SplitStatistics(3, d)
    s.update(_rows(x, y))
    merit, threshold = s.best_splits()
    assert int(np.argmax(merit)) == 5
    assert -0.6 < threshold[5] < 0.4
    assert merit[5] > 2 * np.delete(merit, 5).max()


def test_constant_and_unseen_features_cannot_split():
    s = SplitStatistics(1, 3)
    x = np.column_stack([np.full(50, 2.0), np.zeros(50), np.arange(50.0) + 1])
    y = (np.arange(50) < 25)[:, None]
    s.update(_rows(x, y))
    merit, _ = s.best_splits()
    assert merit[0] == -np.inf and merit[1] == -np.inf and merit[2] > 0


def test_entropy_and_bound():
    assert multilabel_entropy(np.array([0.0, 10.0]), 10) == 0.0
    assert math.isclose(multilabel_entropy(np.array([5.0, 5.0]), 10), 2.0)
    assert math.isclose(hoeffding_bound(100, 1e-7, 2.0), 2 * math.sqrt(math.log(1e7) / 200))
