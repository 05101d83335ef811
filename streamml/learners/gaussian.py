"""Vectorised split statistics of a leaf: zero-inflated Gaussian estimators per label and feature.

For every class c (row 0 "total", row 1 "empty label set", row 2 + j label j, counting only the
instances where label j is positive) and every feature f, a leaf keeps the weight of the
instances of c, and over the instances of c where f is non-zero: their weight, the sum and the
sum of squares of the values. Zeros are counted, never summed: the zero mass of (c, f) is the
weight of c minus the non-zero weight, so an update costs the non-zeros of the instance times
its positive labels, and a sparse feature gets a point mass at zero plus a Gaussian over its
non-zero values (a plain Gaussian when the feature is never zero; an exact split for binary
features).

Updates are batched: a leaf hands over the instances it received since the last split attempt,
which are added with one sparse-dense product.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import special

from .sparse_rows import column_sums

__all__ = ["SplitStatistics", "multilabel_entropy"]

_LN2 = math.log(2.0)


def _binary_entropy(p: np.ndarray) -> np.ndarray:
    """Entropy in bits of Bernoulli variables with success probabilities `p` (clipped to [0, 1])."""
    p = np.clip(p, 0.0, 1.0)
    return (special.entr(p) + special.entr(1.0 - p)) / _LN2


def multilabel_entropy(counts: np.ndarray, total: float) -> float:
    """Sum of the binary entropies (bits) of labels with `counts` positives out of `total`.

    `counts` should include the "empty label set" pseudo-label.

    >>> multilabel_entropy(np.array([5.0, 10.0, 0.0]), 10.0)
    1.0

    """
    if total <= 0:
        return 0.0
    return float(_binary_entropy(counts / total).sum())


class SplitStatistics:
    """Split statistics of one leaf for all labels and features.

    Parameters
    ----------
    n_labels
        Number of labels (rows are added with `grow`).
    n_features
        Number of features (columns are added with `grow`).

    """

    def __init__(self, n_labels: int, n_features: int):
        c = n_labels + 2
        self.n = np.zeros(c)
        self.nnz = np.zeros((c, n_features))
        self.s1 = np.zeros((c, n_features))
        self.s2 = np.zeros((c, n_features))
        self.vmin = np.full(n_features, np.inf)
        self.vmax = np.full(n_features, -np.inf)

    @property
    def n_labels(self) -> int:
        return len(self.n) - 2

    @property
    def n_features(self) -> int:
        return self.nnz.shape[1]

    @property
    def weight(self) -> float:
        return float(self.n[0])

    def grow(self, n_labels: int, n_features: int):
        """Add zero statistics for new labels and features (both unseen so far, hence zero)."""
        c_old, d_old = self.nnz.shape
        c, d = max(n_labels + 2, c_old), max(n_features, d_old)
        if (c, d) == (c_old, d_old):
            return
        self.n = np.concatenate([self.n, np.zeros(c - c_old)])
        for name in ("nnz", "s1", "s2"):
            new = np.zeros((c, d))
            new[:c_old, :d_old] = getattr(self, name)
            setattr(self, name, new)
        self.vmin = np.concatenate([self.vmin, np.full(d - d_old, np.inf)])
        self.vmax = np.concatenate([self.vmax, np.full(d - d_old, -np.inf)])

    def update(self, rows: list[tuple[np.ndarray, np.ndarray, list[int]]]):
        """Add a batch of instances, each as (feature indices, values, positive label indices).

        Indices must be below `n_features` and label indices below `n_labels` (call `grow`).
        """
        if not rows:
            return
        c, d = self.nnz.shape
        b = len(rows)
        lens = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=b)
        cols = np.concatenate([r[0] for r in rows])
        vals = np.concatenate([r[1] for r in rows])
        indptr = np.zeros(b + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        # Class membership: total, empty, positive labels.
        member = np.zeros((b, c))
        member[:, 0] = 1.0
        n_pos = np.fromiter((len(r[2]) for r in rows), dtype=np.int64, count=b)
        labels = np.fromiter(itertools.chain.from_iterable(r[2] for r in rows), dtype=np.int64)
        member[np.repeat(np.arange(b), n_pos), labels + 2] = 1.0
        member[n_pos == 0, 1] = 1.0
        self.n += member.sum(axis=0)
        if len(cols) == 0:
            return
        # The counts, sums and sums of squares of every (class, feature): sparse products
        # of the instances (counts: their non-zero pattern) with the class membership.
        sums = column_sums(indptr, cols, member, d, np.ones(len(cols)), vals, vals * vals)
        for stat, add in zip((self.nnz, self.s1, self.s2), sums):
            stat += add
        np.minimum.at(self.vmin, cols, vals)
        np.maximum.at(self.vmax, cols, vals)

    def _left_weights(self, rows: np.ndarray, cols: np.ndarray, thresholds: np.ndarray):
        """Estimated weight of each class row with feature value <= threshold.

        Returns an array of shape (len(rows), len(cols), n_thresholds).
        """
        n = self.n[rows][:, None]
        nnz = self.nnz[np.ix_(rows, cols)]
        s1 = self.s1[np.ix_(rows, cols)]
        s2 = self.s2[np.ix_(rows, cols)]
        safe = np.maximum(nnz, 1e-300)
        mean = s1 / safe
        var = np.maximum(s2 / safe - mean * mean, 0.0)
        # A constant class (variance 0) gets a step: a tiny deviation relative to its value.
        std = np.maximum(np.sqrt(var), 1e-9 * (np.abs(mean) + 1e-9))
        t = thresholds[None, :, :]
        left = nnz[:, :, None] * special.ndtr((t - mean[:, :, None]) / std[:, :, None])
        left += ((n - nnz)[:, :, None]) * (t >= 0.0)
        return left

    def best_splits(self, n_candidates: int = 10, min_branch_fraction: float = 0.01):
        """Multi-label information gain of the best threshold of every feature.

        The entropy of a node is the sum over labels and the "empty" pseudo-label of the binary
        entropy of their positive rate; the gain is the entropy of the leaf minus the weighted
        entropy of the two children. Candidate thresholds are `n_candidates` evenly spaced
        points between the smallest and the largest value of the feature (one point halfway
        between 0 and the value for binary features). Children lighter than
        `min_branch_fraction` of the leaf are not allowed.

        Returns
        -------
        The gain of every feature (`-inf` where no split is possible) and its threshold.

        """
        d = self.n_features
        merit = np.full(d, -np.inf)
        threshold = np.zeros(d)
        total = self.n[0]
        if total <= 0 or d == 0:
            return merit, threshold
        nnz_t = self.nnz[0]
        has_zero = nnz_t < total
        seen = nnz_t > 0
        lo = np.where(has_zero, np.minimum(self.vmin, 0.0), self.vmin)
        hi = np.where(has_zero, np.maximum(self.vmax, 0.0), self.vmax)
        splittable = seen & (hi > lo)
        if not splittable.any():
            return merit, threshold
        # Binary-like: the non-zero values are all equal (and zeros occur).
        constant_nz = self.vmax <= self.vmin
        binary = np.flatnonzero(splittable & constant_nz)
        general = np.flatnonzero(splittable & ~constant_nz)
        rows = np.flatnonzero(self.n > 0)
        rows = rows[rows > 0]
        parent = float(_binary_entropy(self.n[rows] / total).sum())
        steps = np.arange(1, n_candidates + 1) / (n_candidates + 1)
        all_rows = np.concatenate([[0], rows])
        for cols, thr in (
            (general, lo[general, None] + (hi - lo)[general, None] * steps[None, :]),
            (binary, (0.5 * self.vmax[binary])[:, None]),
        ):
            if len(cols) == 0:
                continue
            if cols is binary:
                # Exact: the threshold separates the zeros from the (constant) non-zeros.
                nnz = self.nnz[np.ix_(all_rows, cols)]
                zeros = self.n[all_rows][:, None] - nnz
                left = np.where(self.vmax[cols] > 0, zeros, nnz)[:, :, None]
            else:
                left = self._left_weights(all_rows, cols, thr)
            left_t = left[0]
            right_t = total - left_t
            left_c = left[1:]
            right_c = self.n[rows][:, None, None] - left_c
            with np.errstate(divide="ignore", invalid="ignore"):
                h_left = _binary_entropy(left_c / left_t).sum(axis=0)
                h_right = _binary_entropy(right_c / right_t).sum(axis=0)
            gain = parent - (left_t * h_left + right_t * h_right) / total
            small = np.minimum(left_t, right_t) < min_branch_fraction * total
            gain[small | ~np.isfinite(gain)] = -np.inf
            best = np.argmax(gain, axis=1)
            merit[cols] = gain[np.arange(len(cols)), best]
            threshold[cols] = thr[np.arange(len(cols)), best]
        return merit, threshold

    def child_weights(self, feature: int, threshold: float) -> tuple[float, float]:
        """Estimated weights of the two children of a split (for reporting and tests)."""
        left = self._left_weights(np.array([0]), np.array([feature]), np.array([[threshold]]))
        w = float(left[0, 0, 0])
        return w, float(self.n[0]) - w
