"""The leaves' online standardisation, against its rules written out on dense arrays."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from streamml.learners.standardise import Standardiser

D = 8


class _Reference:
    """Every row kept as a dense vector; the transform recomputed from all of them."""

    def __init__(self, width: int, clip: float):
        self.width, self.clip = width, clip
        self.rows: list[np.ndarray] = []

    def update(self, rows):
        for cols, vals, _ in rows:
            x = np.zeros(self.width)
            keep = cols < self.width
            x[cols[keep]] = vals[keep]
            self.rows.append(x)

    def transform(self, cols, vals):
        X = np.array(self.rows) if self.rows else np.zeros((0, self.width))
        n = len(X)
        nnz = (X != 0).sum(axis=0)
        mean = X.sum(axis=0) / n if n else np.zeros(self.width)
        square = (X * X).sum(axis=0) / n if n else np.zeros(self.width)
        centred = nnz >= 0.5 * n if n else np.zeros(self.width, dtype=bool)  # dense features
        var = np.where(centred, square - mean * mean, square)  # sparse: the mean square
        shift = np.where(centred, mean, 0.0)
        scale = np.where(nnz > 0, 1.0 / np.sqrt(np.maximum(var, 0.0) + 1e-12), 1.0)
        x = np.zeros(self.width)
        keep = cols < self.width
        x[cols[keep]] = vals[keep]
        out = sorted(set(cols[keep].tolist()) | set(np.flatnonzero(centred).tolist()))
        z = np.clip((x[out] - shift[out]) * scale[out], -self.clip, self.clip)
        return np.array(out, dtype=np.int64), z


def _rows(rng, n: int, width: int):
    """Dense rows (all columns), and sparse ones: columns 0-2 often non-zero, 3-7 rarely."""
    rows = []
    for _ in range(n):
        if rng.random() < 0.4:
            x = rng.normal(size=width) * np.arange(1, width + 1) + 2.0
            rows.append((np.arange(width), x, True))
        else:
            often = np.flatnonzero(rng.random(3) < 0.8)
            rare = 3 + np.flatnonzero(rng.random(width - 3) < 0.1)
            cols = np.concatenate([often, rare]).astype(np.int64)
            rows.append((cols, rng.normal(size=len(cols)) * 5.0 + 1.0, False))
    return rows


def _check(std: Standardiser, ref: _Reference, rng):
    queries = _rows(rng, 20, D) + [
        (np.arange(D + 3), rng.normal(size=D + 3), True),  # longer than the width
        (np.array([1, 4, D + 2], dtype=np.int64), np.array([3.0, -2.0, 7.0]), False),
        (np.array([0, D], dtype=np.int64), np.array([3.0, 7.0]), False),  # just beyond
        (np.arange(D - 1), rng.normal(size=D - 1), True),  # shorter than the width
        (np.zeros(0, dtype=np.int64), np.zeros(0), True),  # all zeros
    ]
    for cols, vals, full in queries:
        got_cols, got, got_full = std.transform(cols, vals.copy(), full)
        want_cols, want = ref.transform(cols, vals)
        assert np.array_equal(got_cols, want_cols)
        assert got.dtype == np.float64 and np.allclose(got, want, rtol=1e-9, atol=1e-12)
        # `full` says that the columns are 0, 1, ..., n - 1 (a sparse instance may not say it)
        is_range = len(want_cols) == 0 or int(want_cols[-1]) == len(want_cols) - 1
        extended = len(want_cols) > np.count_nonzero(cols < D)  # zeros of centred features
        assert got_full == is_range if full or extended else not got_full


@pytest.mark.parametrize("clip", [3.0, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_standardisation_follows_its_rules(seed, clip):
    rng = np.random.default_rng(seed)
    std, ref = Standardiser(D, clip=clip), _Reference(D, clip)
    _check(std, ref, rng)  # nothing learnt: the identity, clipped
    for size in (1, 3, 8, 2, 16, 5):
        batch = _rows(rng, size, D)
        # Columns beyond the width (features the leaf does not know yet) are left out.
        batch.append((np.array([2, D, D + 4], dtype=np.int64), np.array([1.0, 5.0, 6.0]), False))
        std.update(batch)
        ref.update(batch)
        assert std.n == len(ref.rows)
        _check(std, ref, rng)


def test_a_feature_non_zero_in_exactly_half_of_the_instances_is_centred():
    std = Standardiser(2)
    std.update([(np.array([0, 1]), np.array([1.0, 4.0]), True), (np.array([1]), [2.0], False)])
    assert std.is_centred.tolist() == [True, True]
    std.update([(np.array([1]), np.array([2.0]), False)])  # feature 0: 1 of 3
    assert std.is_centred.tolist() == [False, True]
    cols, z, full = std.transform(np.array([0]), np.array([1.0]), False)
    assert cols.tolist() == [0, 1] and full  # feature 1's zero is not zero once centred
    assert z[0] == pytest.approx(1.0 / np.sqrt(1.0 / 3.0))  # scaled by the root mean square


def test_sparse_and_dense_rows_give_the_same_statistics():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(10, D))
    x[x < -0.5] = 0.0
    dense, sparse = Standardiser(D), Standardiser(D)
    dense.update([(np.arange(D), row, True) for row in x])
    sparse.update([(np.flatnonzero(row), row[row != 0], False) for row in x])
    for name in ("nnz", "s1", "s2", "shift", "scale", "zero", "is_centred", "centred"):
        assert np.allclose(getattr(dense, name), getattr(sparse, name)), name


def test_new_features_start_unscaled_and_copies_are_independent():
    rng = np.random.default_rng(5)
    std, ref = Standardiser(3), _Reference(3, 3.0)
    batch = [(np.arange(3), rng.normal(size=3) + 1.0, True) for _ in range(6)]
    std.update(batch)
    ref.update(batch)
    copy = std.copy()
    std.grow(D)
    assert std.width >= D and copy.width == 3
    cols, z, _ = std.transform(np.array([5]), np.array([2.5]), False)
    assert 5 in cols.tolist() and z[cols.tolist().index(5)] == 2.5  # unseen: as it is
    copy.update([(np.arange(3), np.full(3, 9.0), True)])
    assert std.n == 6 and copy.n == 7
    std.update([(np.arange(3), np.full(3, 9.0), True)])
    assert np.allclose(std.scale[:3], copy.scale) and np.allclose(std.shift[:3], copy.shift)
    again = pickle.loads(pickle.dumps(std))
    query = (np.arange(3), np.array([0.5, 1.0, -1.0]), True)
    assert all(np.array_equal(a, b) for a, b in zip(again.transform(*query), std.transform(*query)))


def test_values_are_clipped_at_three_by_default():
    std = Standardiser(1)
    std.update([(np.array([0]), np.array([v]), True) for v in (-1.0, 1.0, -1.0, 1.0)])
    assert std.transform(np.array([0]), np.array([100.0]), True)[1].tolist() == [3.0]
    assert std.transform(np.array([0]), np.array([-0.5]), True)[1][0] == pytest.approx(-0.5)


def test_new_features_are_not_centred_until_the_next_update():
    """A sparse query with a new feature still gets the zeros of the centred ones."""
    std = Standardiser(3)
    rows = [(np.array([0]), np.array([2.0 + i]), False) for i in range(4)]
    rows.append((np.array([0, 1]), np.array([1.0, 4.0]), False))
    std.update(rows)
    assert std.centred.tolist() == [0]
    std.grow(8)
    cols, z, _ = std.transform(np.array([1, 5]), np.array([4.0, 2.0]), False)
    assert cols.tolist() == [0, 1, 5] and z[0] == std.zero[0] != 0.0


def test_a_dense_instance_shorter_than_the_centred_features_gets_their_zeros():
    std = Standardiser(3)
    std.update([(np.arange(3), np.array([1.0, 2.0, 3.0 + i]), True) for i in range(4)])
    assert std.centred.tolist() == [0, 1, 2]
    cols, z, full = std.transform(np.arange(2), np.array([1.0, 2.0]), True)
    assert cols.tolist() == [0, 1, 2] and full and z[2] == std.zero[2] != 0.0


def test_the_zero_of_a_centred_feature_is_clipped_too():
    std = Standardiser(2)
    std.update([(np.arange(2), np.array([-10.0 + (i % 2), 1.0 + i]), True) for i in range(6)])
    cols, z, _ = std.transform(np.array([1]), np.array([2.0]), False)
    assert cols.tolist() == [0, 1] and z[0] == 3.0  # (0 - mean) / std is about 19
