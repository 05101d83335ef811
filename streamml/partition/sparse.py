"""The split tests of a large leaf from the pairs of its labels that co-occurred.

In a leaf of k labels, most of the k(k-1)/2 pairs never co-occurred since the leaf was made:
their Jaccard distance is 1. The statistics of `streamml.partition.checks` (d1, d2, d0, the
mean distance, the pivots, the gap and association tests) are computed here from the pairs
that did co-occur and the count of the others, in time and memory linear in the stored pairs
(the gap test's bound also costs the product of the sizes of its two sides, the smaller of
which holds only labels that co-occurred with a pivot). They are those of the dense
computation, up to the order of floating-point sums (the mean distance and the gap test's
sums; a test agrees on every leaf of the test suite).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..bounds import hoeffding_bound

__all__ = ["PairDistances", "sparse_statistics", "gap_excess_sparse", "unrelated_sparse"]

# Elements per block of the gap test's bound (pairs of labels across the two sides).
_BLOCK = 1 << 20


@dataclasses.dataclass
class PairDistances:
    """Distances of the pairs of a leaf that co-occurred; every other pair is at distance 1.

    `i < j` are local indices (0..k-1, the order of the leaf's positions), `co` the pair
    counts and `pos` the positives of the k labels, in the units of `since` instances.
    """

    k: int
    i: np.ndarray
    j: np.ndarray
    d: np.ndarray
    co: np.ndarray
    pos: np.ndarray

    @classmethod
    def from_counts(cls, k, i, j, co, pos) -> PairDistances:
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        union = pos[lo] + pos[hi]
        union -= co
        sim = np.divide(co, union, out=np.zeros_like(union), where=union > 0)
        d = np.clip(1.0 - sim, 0.0, 1.0)
        return cls(k, lo, hi, d, co, pos)

    @property
    def missing(self) -> int:
        """Pairs with no cell (distance 1)."""
        return self.k * (self.k - 1) // 2 - len(self.d)

    def dense(self) -> np.ndarray:
        """The k x k distance matrix (diagonal 0)."""
        out = np.ones((self.k, self.k))
        out[self.i, self.j] = out[self.j, self.i] = self.d
        np.fill_diagonal(out, 0.0)
        return out

    def neighbours(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stored pairs of each label, compressed: label l's are `others[start[l]:start[l
        + 1]]`, with 1 - their distance in `weights`."""
        ends = np.concatenate([self.i, self.j])
        order = np.argsort(ends, kind="stable")
        others = np.concatenate([self.j, self.i])[order]
        weights = np.tile(1.0 - self.d, 2)[order]
        start = np.searchsorted(ends[order], np.arange(self.k + 1))
        return start, others, weights

    def to_pivot(self, pivot: int) -> np.ndarray:
        """Distance of every label to `pivot` (0 to itself)."""
        near = np.ones(self.k)
        touch = np.flatnonzero((self.i == pivot) | (self.j == pivot))
        other = np.where(self.i[touch] == pivot, self.j[touch], self.i[touch])
        near[other] = self.d[touch]
        near[pivot] = 0.0
        return near


def _first_missing(pairs: PairDistances) -> int:
    """Flat index (i k + j) of the first pair in row order, i < j, closer than 1 in none of
    the stored pairs (a pair with no cell, or a stored one at distance 1)."""
    k = pairs.k
    close = pairs.d < 1.0
    rows, cols = pairs.i[close], pairs.j[close]
    per_row = np.bincount(rows, minlength=k)
    open_rows = np.flatnonzero(per_row < k - 1 - np.arange(k))
    r = int(open_rows[0])
    taken = np.sort(cols[rows == r])
    gaps = np.flatnonzero(taken != np.arange(r + 1, r + 1 + len(taken)))
    c = r + 1 + (int(gaps[0]) if len(gaps) else len(taken))
    return r * k + c


def sparse_statistics(pairs: PairDistances, need_d2: bool = True):
    """d1, pivots, d2, d0 and the mean over the pairs, as `split.leaf_statistics` gives them
    for the dense matrix (same pivots: the first pair in row order among the farthest)."""
    k, d = pairs.k, pairs.d
    if k < 2:
        raise ValueError("a leaf of at least two labels is needed")
    missing = pairs.missing
    d1 = float(d.max()) if len(d) else -np.inf
    if missing:
        d1 = 1.0
    at_d1 = np.flatnonzero(d == d1)
    flat = (pairs.i[at_d1] * k + pairs.j[at_d1]).min() if len(at_d1) else k * k
    if d1 == 1.0 and (missing or len(at_d1)):
        flat = min(int(flat), _first_missing(pairs))
    i, j = divmod(int(flat), k)
    d2 = None
    if need_d2 and k >= 3:
        if len(at_d1) + (missing if d1 == 1.0 else 0) >= 2:
            d2 = d1
        else:
            below = d[d < d1]
            d2 = float(below.max()) if len(below) else d1
    d0 = float(d.min()) if len(d) else 1.0
    if missing:
        d0 = min(d0, 1.0)
    avg = 2.0 * (missing + float(d.sum())) / (k * (k - 1))
    return d1, (i, j), d2, d0, avg


def _bounds(pos_sum, co, scale, delta) -> np.ndarray:
    support = pos_sum - co
    support *= scale
    return np.minimum(hoeffding_bound(support, delta), 1.0)


def gap_excess_sparse(pairs: PairDistances, a: int, b: int, since: float, n: float, delta):
    """`split.gap_excess` of the leaf with pivots a and b, its pair bounds at `delta`."""
    k = pairs.k
    side = pairs.to_pivot(b) < pairs.to_pivot(a)
    side[a], side[b] = False, True
    n1 = int(np.count_nonzero(side))
    n0 = k - n1
    n_pairs = n0 * (n0 - 1) / 2.0 + n1 * (n1 - 1) / 2.0
    if n_pairs == 0:
        return -np.inf
    across = side[pairs.i] != side[pairs.j]
    closer = 1.0 - pairs.d
    across_sum = n0 * n1 - float(closer[across].sum())
    inside_sum = n_pairs - float(closer[~across].sum())
    scale = n / since
    pos = pairs.pos
    ones, zeros = pos[side], pos[~side]
    small, large = (ones, zeros) if len(ones) <= len(zeros) else (zeros, ones)
    bound = 0.0
    step = max(1, _BLOCK // max(1, len(large)))
    for start in range(0, len(small), step):
        block = small[start : start + step, None] + large[None, :]
        bound += float(_bounds(block, 0.0, scale, delta).sum())
    if across.any():
        pos_sum = pos[pairs.i[across]] + pos[pairs.j[across]]
        with_co = _bounds(pos_sum, pairs.co[across], scale, delta)
        without = _bounds(pos_sum, 0.0, scale, delta)
        bound += float((with_co - without).sum())
    return across_sum / (n0 * n1) - inside_sum / n_pairs - bound / (n0 * n1)


def unrelated_sparse(pairs: PairDistances, since: float, n: float, delta: float) -> bool:
    """Whether no pair of the leaf is significantly associated (`split.association_excess`
    <= 0): only pairs that co-occurred can be, a pair that never did being at distance 1."""
    if not len(pairs.d):
        return True
    rates = pairs.pos / since
    p, q = rates[pairs.i], rates[pairs.j]
    both = p * q
    union = p + q
    union -= both
    sim = np.divide(both, union, out=np.zeros_like(union), where=union > 0)
    independent = 1.0 - sim
    bounds = _bounds(pairs.pos[pairs.i] + pairs.pos[pairs.j], pairs.co, n / since, delta)
    excess = independent - pairs.d - bounds
    return float(excess.max()) <= 0
