"""The statistics and assignments of a splitting leaf (`partition.split`) against their rules
written out pair by pair and label by label."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from streamml.partition.split import (
    assign_to_pivots,
    association_excess,
    gap_excess,
    leaf_statistics,
    pair_bounds,
)


def _matrix(rng, k, decimals=None):
    d = rng.random((k, k))
    if decimals is not None:
        d = np.round(d, decimals)  # ties
    d = np.triu(d, 1)
    return d + d.T


def _pairs(k):
    return list(itertools.combinations(range(k), 2))


@pytest.mark.parametrize(
    ("k", "decimals", "seed"), [(2, None, 0), (3, 1, 1), (7, None, 2), (9, 1, 3)]
)
def test_leaf_statistics_against_every_pair(k, decimals, seed):
    d = _matrix(np.random.default_rng(seed), k, decimals)
    before = d.copy()
    d1, pivots, d2, d0, avg = leaf_statistics(d)
    np.testing.assert_array_equal(d, before)  # restored
    values = {p: before[p] for p in _pairs(k)}
    top = max(values.values())
    first = next(
        p for p in itertools.product(range(k), repeat=2) if p[0] != p[1] and before[p] == top
    )
    assert d1 == top and pivots == (min(first), max(first))
    rest = [v for p, v in values.items() if p != pivots]
    assert d2 == (max(rest) if k >= 3 else None)
    assert d0 == min(values.values())
    assert avg == pytest.approx(sum(values.values()) / len(values), rel=1e-12)
    assert leaf_statistics(d, need_d2=False)[2] is None
    with pytest.raises(ValueError, match="^a distance matrix of at least two labels is needed$"):
        leaf_statistics(np.zeros((1, 1)))


def _assign(d, a, b, passes):
    """Closest pivot in index order (ties to the smaller side, side 0 on equal sizes), then
    passes moving each label to the side of smaller mean distance to its other members."""
    k = len(d)
    side, sizes = [0] * k, [1, 1]
    side[b] = 1
    for label in range(k):
        if label in (a, b):
            continue
        if d[label, a] < d[label, b] or (d[label, a] == d[label, b] and sizes[0] <= sizes[1]):
            side[label] = 0
        else:
            side[label] = 1
        sizes[side[label]] += 1
    if passes <= 0 or k <= 3:
        return side
    for _ in range(passes):
        moved = False
        for label in range(k):
            if label in (a, b):
                continue
            own, other = side[label], 1 - side[label]
            mine = [m for m in range(k) if m != label and side[m] == own]
            theirs = [m for m in range(k) if side[m] == other]
            mean_own = sum(d[label, m] for m in mine) / len(mine)
            mean_other = sum(d[label, m] for m in theirs) / len(theirs)
            if mean_other < mean_own or (mean_other == mean_own and len(theirs) < len(mine)):
                side[label] = other
                moved = True
        if not moved:
            break
    return side


@pytest.mark.parametrize("passes", [0, 1, 3])
@pytest.mark.parametrize(
    ("k", "decimals", "seed"), [(3, 1, 4), (6, 1, 5), (10, None, 6), (12, 1, 7)]
)
def test_assign_to_pivots_against_the_rule(passes, k, decimals, seed):
    rng = np.random.default_rng(seed)
    for _ in range(5):
        d = _matrix(rng, k, decimals)
        a, b = sorted(rng.choice(k, size=2, replace=False).tolist())
        side = assign_to_pivots(d, a, b, passes)
        assert side.dtype == np.int8
        got = side.tolist()
        assert got == _assign(d, a, b, passes)
        assert got[a] == 0 and got[b] == 1


def _gap(d, a, b, bounds):
    k = len(d)
    one = [m == b or (m != a and d[m, b] < d[m, a]) for m in range(k)]
    within = [p for p in _pairs(k) if one[p[0]] == one[p[1]]]
    across = [p for p in _pairs(k) if one[p[0]] != one[p[1]]]
    if not within:
        return -math.inf
    mean_across = sum(d[p] for p in across) / len(across)
    mean_within = sum(d[p] for p in within) / len(within)
    bound = sum(bounds[p] for p in across) / len(across)
    return mean_across - mean_within - bound


@pytest.mark.parametrize(("k", "seed"), [(2, 8), (3, 9), (5, 10), (9, 11)])
def test_gap_excess_against_every_pair(k, seed):
    rng = np.random.default_rng(seed)
    d = _matrix(rng, k)
    bounds = _matrix(rng, k) * 0.2
    a, b = 0, k - 1
    assert gap_excess(d, a, b, bounds) == pytest.approx(_gap(d, a, b, bounds), rel=1e-9, abs=1e-12)


def test_pair_bounds_and_association_excess_against_their_formulas():
    support = np.array([0.0, 1.0, 3.0, 50.0, 1e6])
    bounds = pair_bounds(support.copy(), 0.05)
    expected = [min(1.0, math.sqrt(math.log(1 / 0.05) / (2 * s))) if s else 1.0 for s in support]
    np.testing.assert_allclose(bounds, expected, rtol=1e-12)
    rng = np.random.default_rng(12)
    d, independent, b = _matrix(rng, 5), _matrix(rng, 5), _matrix(rng, 5) * 0.1
    best = max(independent[p] - d[p] - b[p] for p in itertools.permutations(range(5), 2))
    assert association_excess(d, independent, b) == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("passes", [0, 1, 4])
@pytest.mark.parametrize(
    ("k", "seed", "density"),
    [(3, 13, 0.5), (4, 18, 0.5), (8, 14, 0.5), (15, 15, 0.5), (12, 19, 0.12)],
)
def test_the_sparse_assignment_is_the_dense_one(passes, k, seed, density):
    # A leaf given by its co-occurring pairs only (the others at distance 1) splits as its
    # dense distance matrix does.
    from streamml.partition.sparse import PairDistances
    from streamml.partition.split import assign_sparse

    rng = np.random.default_rng(seed)
    for _ in range(4):
        pos = rng.integers(5, 30, size=k).astype(float)
        pairs = [p for p in _pairs(k) if rng.random() < density]  # labels with no pair too
        co = np.array([float(rng.integers(1, min(pos[i], pos[j]) + 1)) for i, j in pairs])
        i = np.array([p[0] for p in pairs], dtype=np.int64)
        j = np.array([p[1] for p in pairs], dtype=np.int64)
        sparse = PairDistances.from_counts(k, i, j, co, pos)
        d = np.ones((k, k))
        np.fill_diagonal(d, 0.0)
        for (a_, b_), c in zip(pairs, co):
            d[a_, b_] = d[b_, a_] = 1.0 - c / (pos[a_] + pos[b_] - c)
        a, b = sorted(rng.choice(k, size=2, replace=False).tolist())
        dense = assign_to_pivots(d, a, b, passes)
        got = assign_sparse(sparse, a, b, passes)
        assert got.dtype == np.int8 and got.tolist() == dense.tolist()
        assert dense.tolist() == _assign(d, a, b, passes)
