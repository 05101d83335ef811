"""refine_counts: refine from sparse co-occurrence counts, without a matrix of the square of
the labels."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from streamml.partition import refine, refine_counts
from streamml.partition import unit_sums as unit_sums_module
from streamml.partition.counts import jaccard
from streamml.partition.unit_sums import UnitSums

from .test_refine import random_tree


def _counts(rng, n_labels, n_instances):
    """Label sets drawn in groups (and some labels never positive): exact positives, the
    pairs that co-occurred with their counts, and the dense block of the same counts."""
    groups = rng.integers(0, max(1, n_labels // 4), size=n_labels)
    silent = rng.random(n_labels) < 0.1
    block = np.zeros((n_labels, n_labels))
    for _ in range(n_instances):
        on = groups == rng.integers(0, groups.max() + 1)
        on = (on & (rng.random(n_labels) < 0.7)) | (rng.random(n_labels) < 0.05)
        on &= ~silent
        ids = np.flatnonzero(on)
        block[np.ix_(ids, ids)] += 1.0
    a, b = np.triu_indices(n_labels, 1)
    keep = block[a, b] > 0
    return block, (a[keep], b[keep], block[a, b][keep])


def _problem(seed, n_labels, n_instances, n_units):
    """Counts (`_counts`), the labels' positives and rates, and a random unit per label."""
    rng = np.random.default_rng(seed)
    block, (a, b, co) = _counts(rng, n_labels, n_instances)
    positives = block.diagonal().copy()
    unit_of = rng.integers(0, n_units, size=n_labels)
    return block, (a, b, co, positives, positives / n_instances), unit_of


@pytest.mark.parametrize("seed", range(8))
def test_equals_refine_on_the_dense_distances_of_the_same_counts(seed):
    rng = np.random.default_rng(seed)
    n_labels = int(rng.integers(2, 40))
    n_instances = int(rng.integers(20, 400))
    block, pairs = _counts(rng, n_labels, n_instances)
    labels = [f"l{i}" for i in range(n_labels)]
    positives = block.diagonal().copy()
    rates = positives / n_instances
    for min_size, max_size in itertools.product((1, 3), (None, 2, 6)):
        nodes = random_tree(rng, labels)
        dense = refine(
            nodes,
            labels,
            jaccard(block),
            n_instances,
            rates=rates,
            min_size=min_size,
            max_size=max_size,
        )
        sparse = refine_counts(
            nodes,
            labels,
            pairs,
            positives,
            rates,
            n_instances,
            min_size=min_size,
            max_size=max_size,
        )
        assert sorted(map(sorted, sparse)) == sorted(map(sorted, dense))


def test_binned_rates_give_sums_close_to_the_exact_ones(monkeypatch):
    _, counts, unit_of = _problem(3, 300, 2000, 12)
    args = (unit_of, 12, *counts, 2000, 0.05)
    exact = UnitSums.sparse(*args)
    monkeypatch.setattr(unit_sums_module, "EXACT_UP_TO", 10)
    binned = UnitSums.sparse(*args)
    for name in ("dist", "bound", "assoc"):
        e, b_ = getattr(exact, name), getattr(binned, name)
        scale = np.abs(e).max()
        assert np.abs(e - b_).max() <= 2e-3 * scale, name
    # The pairs' own distances are exact either way.
    np.testing.assert_allclose(binned.dist, exact.dist)


def test_dense_and_sparse_sums_agree():
    block, counts, unit_of = _problem(5, 60, 500, 7)
    dist = jaccard(block)
    np.fill_diagonal(dist, 0.0)
    dense = UnitSums.dense(dist, unit_of, 7, 500, counts[-1], 0.05)
    sparse = UnitSums.sparse(unit_of, 7, *counts, 500, 0.05)
    for name in ("dist", "bound", "assoc"):
        np.testing.assert_allclose(getattr(sparse, name), getattr(dense, name), atol=1e-9)
    np.testing.assert_array_equal(sparse.sizes, dense.sizes)


def test_merging_units_keeps_the_sums_of_their_labels():
    _, counts, unit_of = _problem(1, 30, 200, 5)
    sums = UnitSums.sparse(unit_of, 5, *counts, 200, 0.05)
    sums.merge(1, 3)
    joined = np.where(unit_of == 3, 1, unit_of)
    direct = UnitSums.sparse(joined, 5, *counts, 200, 0.05)
    for name in ("dist", "bound", "assoc"):
        np.testing.assert_allclose(getattr(sums, name), getattr(direct, name), atol=1e-9)
    assert not sums.alive[3] and sums.sizes[1] == np.sum(joined == 1)
