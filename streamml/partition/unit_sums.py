"""Sums of the pair statistics of `refine` over blocks of labels, from dense matrices or from
sparse co-occurrence counts, and merged as the blocks merge."""

from __future__ import annotations

import numpy as np

from ..bounds import hoeffding_bound
from .counts import independent_jaccard
from .split import pair_bounds

__all__ = ["UnitSums"]

#: Up to this many labels, the sums over all pairs of a function of the two labels' rates are
#: exact (rows in chunks, no matrix of the square of the labels); beyond, the rates are binned.
EXACT_UP_TO = 4096
_CHUNK = 256  # rows per chunk of the exact sums
_BINS = 512  # log-spaced bins of the positive rates


class UnitSums:
    """For k units (blocks of labels), k x k sums over the pairs of labels (i in one unit, j in
    the other, i != j, both orders) of their distance, the Hoeffding bound of their distance,
    and (with rates) their association (the distance independent labels would have minus
    theirs); the number of labels of each unit; which units are alive.

    Merging unit j into unit i adds j's rows and columns to i's: the sums stay exact.
    """

    def __init__(self, dist, bound, assoc, sizes):
        self.dist = dist
        self.bound = bound
        self.assoc = assoc
        self.sizes = np.asarray(sizes, dtype=float)
        self.alive = self.sizes > 0

    @property
    def matrices(self) -> list[np.ndarray]:
        return [m for m in (self.dist, self.bound, self.assoc) if m is not None]

    def merge(self, i: int, j: int) -> None:
        """Unit j joins unit i."""
        for sums in self.matrices:
            sums[i, :] += sums[j, :]
            sums[:, i] += sums[:, j]
            sums[j, :] = sums[:, j] = 0.0
        self.sizes[i] += self.sizes[j]
        self.sizes[j] = 0.0
        self.alive[j] = False

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def dense(cls, dist, unit_of, k, n, rates, delta) -> UnitSums:
        """From a dense matrix of distances (diagonal 0) between the labels; `unit_of` gives each
        label's unit."""
        onehot = _onehot(unit_of, k)
        if rates is None:
            bounds = np.full_like(dist, hoeffding_bound(n, delta))
            association = None
        else:
            association = independent_jaccard(rates) - dist
            bounds = pair_bounds(n * (rates[:, None] + rates[None, :]) / (2.0 - dist), delta)
        for matrix in (association, bounds):
            if matrix is not None:
                np.fill_diagonal(matrix, 0.0)

        def block(matrix):
            return None if matrix is None else onehot.T @ matrix @ onehot

        sizes = onehot.sum(axis=0)
        return cls(block(dist), block(bounds), block(association), sizes)

    @classmethod
    def sparse(cls, unit_of, k, a, b, co, positives, rates, n, delta) -> UnitSums:
        """From co-occurrence counts: pairs `a`, `b` (label indices, each pair once) positive
        together `co` times; `positives` of each label (on the same scale), its positive
        `rates`; `n` instances.

        Pairs that never co-occurred have distance 1: their sums come from the labels' rates
        alone, exactly up to `EXACT_UP_TO` labels and from binned rates beyond.
        """
        sizes = np.bincount(unit_of, minlength=k).astype(float)
        union = positives[a] + positives[b] - co
        sim = np.divide(co, union, out=np.zeros_like(co, dtype=float), where=union > 0)
        np.clip(sim, 0.0, 1.0, out=sim)
        ua, ub = unit_of[a], unit_of[b]

        forward, backward = ua * k + ub, ub * k + ua

        def pair_sums(values):
            out = np.bincount(forward, weights=values, minlength=k * k)
            out += np.bincount(backward, weights=values, minlength=k * k)
            return out.reshape(k, k)

        similar = pair_sums(sim)
        every = np.outer(sizes, sizes) - np.diag(sizes)  # pairs of labels, both orders
        dist = every - similar
        # Association: (1 - f) - d = J - f, f the similarity of independent labels.
        assoc = similar - _rate_sums(_independent, rates, unit_of, k, n)
        # Bounds: for a pair that never co-occurred (d = 1) the support is n (p + q); the
        # pairs that did are corrected with their own distance.
        bound = _rate_sums(_never_bound(n, delta), rates, unit_of, k, n)
        s = rates[a] + rates[b]
        own = np.minimum(hoeffding_bound(n * s / (1.0 + sim), delta), 1.0)
        bound += pair_sums(own - np.minimum(hoeffding_bound(n * s, delta), 1.0))
        return cls(dist, bound, assoc, sizes)


def _onehot(unit_of, k) -> np.ndarray:
    onehot = np.zeros((len(unit_of), k))
    onehot[np.arange(len(unit_of)), unit_of] = 1.0
    return onehot


def _independent(p, q) -> np.ndarray:
    """Jaccard similarity of independent labels with rates p and q (0 if both are 0)."""
    both = p * q
    union = p + q - both
    return np.divide(both, union, out=np.zeros_like(union), where=union > 0)


def _never_bound(n, delta):
    def bound(p, q):
        with np.errstate(divide="ignore"):
            return np.minimum(hoeffding_bound(n * (p + q), delta), 1.0)

    return bound


def _rate_sums(phi, rates, unit_of, k, n) -> np.ndarray:
    """k x k sums of phi(p_i, p_j) over the pairs i != j (both orders) of the units' labels."""
    size = len(rates)
    if size > EXACT_UP_TO:
        return _binned_sums(phi, rates, unit_of, k)
    onehot = _onehot(unit_of, k)
    out = np.zeros((k, k))
    for start in range(0, size, _CHUNK):
        rows = np.arange(start, min(size, start + _CHUNK))
        values = phi(rates[rows, None], rates[None, :])
        values[np.arange(len(rows)), rows] = 0.0
        out += onehot[rows].T @ (values @ onehot)
    return out


def _binned_sums(phi, rates, unit_of, k) -> np.ndarray:
    """As `_rate_sums`, each rate replaced by the mean of its bin (log-spaced bins, and one
    for the zero rates): the work grows with the labels, not with their square."""
    positive = rates > 0
    if not positive.any():
        sizes = np.bincount(unit_of, minlength=k).astype(float)
        return float(phi(np.zeros(1), np.zeros(1))[0]) * (np.outer(sizes, sizes) - np.diag(sizes))
    edges = np.geomspace(rates[positive].min(), rates.max() * (1 + 1e-9), _BINS + 1)
    bins = np.where(positive, np.searchsorted(edges, rates, side="right"), 0)
    n_bins = _BINS + 2
    counts = np.bincount(unit_of * n_bins + bins, minlength=k * n_bins).reshape(k, n_bins)
    counts = counts.astype(float)
    totals = np.bincount(bins, minlength=n_bins)
    means = np.bincount(bins, weights=rates, minlength=n_bins) / np.maximum(totals, 1)
    table = phi(means[:, None], means[None, :])
    out = counts @ table @ counts.T
    # The pairs of a label with itself are not pairs.
    self_terms = np.bincount(unit_of, weights=np.diag(table)[bins], minlength=k)
    out[np.diag_indices(k)] -= self_terms
    return out
