"""The split tests of the leaves: one large leaf at a time, or many small leaves at once.

A leaf should split when one of these tests fires, tried in this order:

* `"odac"`, the test of the design: (d1 - d2 > eps or tau > eps) and
  (d1 - d0) |d1 + d0 - 2 avg| > eps, with eps the Hoeffding bound over the leaf's n instances;
* `"gap"` (same first condition): the two sides of the closest-pivot assignment are farther
  apart than they are wide, by more than the bound of the distances across (ODAC's test misses
  a leaf of two groups of similar size: the mean distance then sits half way between d0 and
  d1, and the test's second factor vanishes; it also misses one label that left a group of
  three or four);
* `"unrelated"`: no pair of the leaf is significantly closer than it would be if its two
  labels were independent. This lets clusters of two labels split too, when their labels no
  longer go together (after a regrouping, ODAC would otherwise keep them forever).

With hundreds of small leaves, a few numpy calls per leaf would cost more than the counting
itself, so the cells of all the small leaves are laid end to end in flat arrays (leaf by leaf,
row by row) and every statistic is a segment reduction (`np.maximum.reduceat`, ...). Both paths
give the same results (a test checks it).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..bounds import hoeffding_bound
from .counts import independent_jaccard, jaccard
from .sparse import PairDistances, gap_excess_sparse, sparse_statistics, unrelated_sparse
from .split import association_excess, gap_excess, leaf_statistics, pair_bounds

__all__ = ["LeafResult", "SmallLeaves", "check_large_leaf", "check_leaf", "check_small_leaves"]


_TESTS = (None, "odac", "gap", "unrelated")


@dataclasses.dataclass
class SmallLeaves:
    """The outcome of the checks of many small leaves, as arrays (one entry per leaf)."""

    d1: np.ndarray
    piv_i: np.ndarray
    piv_j: np.ndarray
    eps: np.ndarray
    n: np.ndarray
    code: np.ndarray  # index into _TESTS
    dist: np.ndarray  # the distances of all cells, leaf after leaf
    starts: np.ndarray
    ks: np.ndarray

    def result(self, i: int) -> LeafResult:
        """The outcome of leaf i, with its distance matrix if it should split."""
        test = _TESTS[int(self.code[i])]
        matrix = None
        if test is not None:
            k = int(self.ks[i])
            start = int(self.starts[i])
            matrix = self.dist[start : start + k * k].reshape(k, k).copy()
            np.fill_diagonal(matrix, 0.0)
        pivots = (int(self.piv_i[i]), int(self.piv_j[i]))
        return LeafResult(
            float(self.d1[i]), pivots, float(self.eps[i]), float(self.n[i]), test, matrix
        )


@dataclasses.dataclass
class LeafResult:
    """The outcome of one leaf's check."""

    d1: float
    pivots: tuple[int, int]
    eps: float
    n: float
    test: str | None  # the split test that fired, if any
    dist: np.ndarray | None = None  # the leaf's distance matrix when it should split
    pairs: PairDistances | None = None  # or its distances as pairs (large leaves)


def check_leaf(
    counts: np.ndarray,
    since: float,
    n: float,
    delta: float,
    tau: float,
    gap_test: bool,
    split_unrelated: bool,
) -> LeafResult:
    """Check one leaf from its counts since its creation.

    Parameters
    ----------
    counts
        The leaf's co-occurrence block (positives on the diagonal), in any scale.
    since
        The number of instances in the same scale (diagonal / since are positive rates).
    n
        The effective number of instances (for the bounds).

    """
    size = counts.shape[0]
    dist = jaccard(counts)
    d1, pivots, _, d0, avg = leaf_statistics(dist, need_d2=False)
    eps = hoeffding_bound(n, delta)
    test = None
    if size >= 3:
        confident = tau > eps or d1 - leaf_statistics(dist, need_d2=True)[2] > eps
        if confident:
            if (d1 - d0) * abs(d1 + d0 - 2.0 * avg) > eps:
                test = "odac"
            elif gap_test:
                # the pivots are the most extreme pair of the leaf: the test is one of about
                # `size` possible ones, hence delta / size
                bounds = pair_bounds(_support(counts, since, n), delta / size)
                if gap_excess(dist, *pivots, bounds) > 0:
                    test = "gap"
    if test is None and split_unrelated and since > 0:
        bounds = pair_bounds(_support(counts, since, n), delta)
        independent = independent_jaccard(counts.diagonal() / since)
        if association_excess(dist, independent, bounds) <= 0:
            test = "unrelated"
    return LeafResult(d1, pivots, eps, n, test, dist if test is not None else None)


def check_large_leaf(
    pairs: PairDistances,
    since: float,
    n: float,
    delta: float,
    tau: float,
    gap_test: bool,
    split_unrelated: bool,
) -> LeafResult:
    """`check_leaf` from the pairs of the leaf that co-occurred (see `partition.sparse`)."""
    size = pairs.k
    d1, pivots, _, d0, avg = sparse_statistics(pairs, need_d2=False)
    eps = hoeffding_bound(n, delta)
    test = None
    if size >= 3:
        confident = tau > eps or d1 - sparse_statistics(pairs, need_d2=True)[2] > eps
        if confident:
            if (d1 - d0) * abs(d1 + d0 - 2.0 * avg) > eps:
                test = "odac"
            elif gap_test and gap_excess_sparse(pairs, *pivots, since, n, delta / size) > 0:
                test = "gap"
    if test is None and split_unrelated and since > 0:
        if unrelated_sparse(pairs, since, n, delta):
            test = "unrelated"
    return LeafResult(d1, pivots, eps, n, test, None, pairs if test is not None else None)


def _support(counts, since, n) -> np.ndarray:
    """Effective number of instances in which either label of each pair is positive."""
    pos = counts.diagonal()
    support = pos[:, None] + pos[None, :]
    support -= counts
    support *= n / since
    return support


def check_small_leaves(
    co: np.ndarray,
    ks: np.ndarray,
    since: np.ndarray,
    n: np.ndarray,
    delta: float,
    tau: float,
    gap_test: bool,
    split_unrelated: bool,
) -> SmallLeaves:
    """Check leaves of `ks` labels whose counts since their creation are laid end to end in
    `co` (leaf after leaf, each a k x k block in row order, positives on the diagonal), with
    their instances since creation (`since`, in the units of the counts) and their effective
    numbers of instances (`n`)."""
    ks = np.asarray(ks, dtype=np.intp)
    since = np.asarray(since, dtype=float)
    n = np.asarray(n, dtype=float)
    m = len(ks)
    cells = ks * ks
    starts = np.r_[0, np.cumsum(cells)[:-1]]
    total = int(cells.sum())
    leaf_of = np.repeat(np.arange(m), cells)
    k_of = ks[leaf_of]
    offset = np.arange(total) - starts[leaf_of]
    row, col = np.divmod(offset, k_of)
    diag = row == col
    first_cell = starts[leaf_of]
    pos_row = co[first_cell + row * k_of + row]
    pos_col = co[first_cell + col * k_of + col]
    union = pos_row + pos_col - co
    sim = np.divide(co, union, out=np.zeros_like(union), where=union > 0)
    dist = np.clip(1.0 - sim, 0.0, 1.0)

    masked = np.where(diag, -1.0, dist)
    d1 = np.maximum.reduceat(masked, starts)
    index = np.arange(total)
    first = np.minimum.reduceat(np.where(masked == d1[leaf_of], index, total), starts)
    piv_i, piv_j = np.divmod(first - starts, ks)
    masked[first] = -1.0
    masked[starts + piv_j * ks + piv_i] = -1.0
    d2 = np.maximum.reduceat(masked, starts)
    d0 = np.minimum.reduceat(np.where(diag, 2.0, dist), starts)
    avg = np.add.reduceat(np.where(diag, 0.0, dist), starts) / (ks * (ks - 1))
    eps = hoeffding_bound(n, delta)
    big_enough = ks >= 3
    confident = big_enough & ((tau > eps) | (d1 - d2 > eps))
    odac = confident & ((d1 - d0) * np.abs(d1 + d0 - 2.0 * avg) > eps)

    with np.errstate(divide="ignore", invalid="ignore"):
        support = union * (n / since)[leaf_of]
        bounds = np.minimum(hoeffding_bound(support, delta), 1.0)
    gap = np.zeros(m, dtype=bool)
    if gap_test and confident.any():
        label_start = np.r_[0, np.cumsum(ks)[:-1]]
        label_leaf = np.repeat(np.arange(m), ks)
        local = np.arange(int(ks.sum())) - label_start[label_leaf]
        base = starts[label_leaf] + local * ks[label_leaf]
        side = dist[base + piv_j[label_leaf]] < dist[base + piv_i[label_leaf]]
        side[label_start + piv_i] = False
        side[label_start + piv_j] = True
        side_row = side[label_start[leaf_of] + row]
        side_col = side[label_start[leaf_of] + col]
        across = side_row != side_col
        n1 = np.add.reduceat(side.astype(float), label_start)
        n0 = ks - n1
        pairs = n0 * (n0 - 1) / 2.0 + n1 * (n1 - 1) / 2.0
        inside = ~across & ~diag
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_across = np.add.reduceat(np.where(across, dist, 0.0), starts) / (2 * n0 * n1)
            mean_inside = np.add.reduceat(np.where(inside, dist, 0.0), starts) / (2 * pairs)
            # the pivots are the most extreme pair of the leaf: the test is one of about k
            # possible ones, hence delta / k
            wide = np.minimum(hoeffding_bound(support, delta / k_of), 1.0)
            bound = np.add.reduceat(np.where(across, wide, 0.0), starts) / (2 * n0 * n1)
            gap = confident & ~odac & (pairs > 0) & (mean_across - mean_inside - bound > 0)

    unrelated = np.zeros(m, dtype=bool)
    if split_unrelated:
        with np.errstate(divide="ignore", invalid="ignore"):
            rates_row = pos_row / since[leaf_of]
            rates_col = pos_col / since[leaf_of]
            both = rates_row * rates_col
            either = rates_row + rates_col - both
            independent = 1.0 - np.divide(both, either, out=np.zeros_like(both), where=either > 0)
        excess = np.where(diag, -np.inf, independent - dist - bounds)
        unrelated = (since > 0) & (np.maximum.reduceat(excess, starts) <= 0)

    code = np.where(odac, 1, np.where(gap, 2, np.where(unrelated, 3, 0)))
    return SmallLeaves(d1, piv_i, piv_j, eps, n, code, dist, starts, ks)
