"""The shared co-occurrence counts: sparse cells, exact values, fading, baselines, pruning."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from streamml.partition import LabelODAC
from streamml.partition.counts import CoCounts, independent_jaccard, jaccard


def test_an_instance_touches_only_its_positive_pairs():
    counts = CoCounts()
    counts.grow(50)
    rng = np.random.default_rng(0)
    for _ in range(20):
        positive = np.sort(rng.choice(50, size=rng.integers(0, 8), replace=False))
        before = counts.block(np.arange(50)).copy()
        counts.update(positive)
        changed = np.argwhere(counts.block(np.arange(50)) != before)
        expected = {(int(i), int(j)) for i in positive for j in positive}
        assert {tuple(map(int, cell)) for cell in changed} == expected  # a² cells, no more


def test_counts_equal_the_dense_products():
    rng = np.random.default_rng(1)
    y = rng.random((300, 12)) < 0.3
    counts = CoCounts()
    counts.grow(12)
    for row in y:
        counts.update(np.flatnonzero(row))
    dense = y.T.astype(float) @ y.astype(float)
    assert np.array_equal(counts.block(np.arange(12)), dense)
    assert counts.n == 300
    assert counts.n_nonzero() == np.count_nonzero(dense)


def test_fading_weighs_recent_instances_more_and_survives_rescaling():
    fading = 0.9
    counts = CoCounts(fading)
    counts.grow(2)
    rng = np.random.default_rng(2)
    y = rng.random((3000, 2)) < 0.5  # fading**-3000 overflows without rescaling
    for row in y:
        counts.update(np.flatnonzero(row))
    weights = fading ** np.arange(len(y))[::-1]
    assert np.isclose(counts.n, weights.sum())
    expected = (y * weights[:, None]).sum(axis=0)
    assert np.allclose(counts.rates(), expected / weights.sum())


def test_counts_since_a_snapshot():
    counts = CoCounts(0.99)
    counts.grow(3)
    counts.update(np.array([0, 1]))
    counts.snapshot(7, np.arange(3))
    counts.update(np.array([1, 2]))
    counts.update(np.array([1, 2]))
    block, since, n = counts.since(7, np.arange(3))
    assert np.isclose(n, 1 + 0.99)
    d = jaccard(block)
    assert d[1, 2] == 0.0 and d[0, 1] == 1.0  # the pair before the snapshot is forgotten


def test_jaccard_and_independence():
    co = np.array([[4.0, 2.0, 0.0], [2.0, 3.0, 0.0], [0.0, 0.0, 0.0]])
    d = jaccard(co)
    assert np.isclose(d[0, 1], 1 - 2 / (4 + 3 - 2))
    assert d[0, 2] == 1.0 and d[2, 2] == 1.0
    independent = independent_jaccard(np.array([0.2, 0.5]))
    assert np.isclose(independent[0, 1], 1 - 0.1 / (0.7 - 0.1))


def test_pickled_counts_keep_counting():
    counts = CoCounts(0.95)
    counts.grow(4)
    counts.update(np.array([0, 1]))
    copy = pickle.loads(pickle.dumps(counts))
    for c in (counts, copy):
        c.update(np.array([1, 3]))
    assert np.array_equal(counts.block(np.arange(4)), copy.block(np.arange(4)))
    assert copy.block(np.arange(4))[1, 3] > 0


def test_label_odac_counts_match_a_naive_count():
    rng = np.random.default_rng(4)
    names = [f"l{i}" for i in range(15)]
    y = rng.random((900, 15)) < rng.uniform(0.05, 0.4, size=15)
    odac = LabelODAC(fading=1.0, n_min=50)
    for row in y:
        odac.learn_one(dict(zip(names, row.tolist())))
    assert odac.n_changes > 0  # positions were permuted by splits
    labels, dist = odac.distances()
    order = [names.index(label) for label in labels]
    co = (y.T.astype(float) @ y.astype(float))[np.ix_(order, order)]
    assert np.allclose(dist, jaccard(co))


def faded(y: np.ndarray, fading: float, start: int = 0) -> tuple[np.ndarray, float]:
    """Faded co-occurrence counts of the rows `start..` of `y`, the last row weighing 1."""
    weights = fading ** np.arange(len(y))[::-1]
    rows, w = y[start:].astype(float), weights[start:]
    return (rows * w[:, None]).T @ rows, w.sum()


def test_rescaling_keeps_counts_snapshots_and_distances_exact(monkeypatch):
    from streamml.partition import counts as module

    monkeypatch.setattr(module, "_RESCALE_AT", 50.0)  # rescale every ~40 instances
    fading = 0.9
    rng = np.random.default_rng(5)
    y = rng.random((400, 4)) < [0.5, 0.3, 0.6, 0.1]
    ids = np.arange(4)
    counts = CoCounts(fading)
    counts.grow(4)
    for t, row in enumerate(y):
        if t == 123:
            counts.snapshot(1, ids)
        counts.update(np.flatnonzero(row))
    co, n = faded(y, fading, 123)
    block, since, effective = counts.since(1, ids)
    assert np.isclose(effective, n)
    assert np.allclose(block / since * n, co)  # scaled counts, in instance units
    assert np.allclose(jaccard(block), jaccard(co))
    co, n = faded(y, fading)
    assert np.isclose(counts.n, n)
    assert np.allclose(counts.rates(), co.diagonal() / n)
    assert np.allclose(counts.distances(ids), jaccard(co))


def test_labels_added_one_at_a_time_count_like_all_at_once():
    rng = np.random.default_rng(6)
    y = rng.random((200, 20)) < 0.3
    one, every = CoCounts(), CoCounts()
    every.grow(20)
    for t, row in enumerate(y):
        if t < 20:
            one.grow(1)  # label t appears at instance t
            row = row.copy()
            row[t + 1 :] = False
        one.update(np.flatnonzero(row))
        every.update(np.flatnonzero(row))
    assert one.size == every.size == 20
    assert np.array_equal(one.block(np.arange(20)), every.block(np.arange(20)))


def test_rates_before_and_after_the_first_instance():
    counts = CoCounts()
    counts.grow(3)
    assert counts.rates().shape == (3,) and not counts.rates().any()
    counts.update(np.array([0, 2]))
    assert counts.rates().tolist() == [1.0, 0.0, 1.0]
    counts.update(np.array([2]))
    assert counts.rates().tolist() == [0.5, 0.0, 1.0]


def test_only_pairs_that_co_occurred_have_a_cell():
    counts = CoCounts()
    counts.grow(10_000)
    counts.update(np.array([3, 9_999, 17]))
    counts.update(np.array([3, 17]))
    assert counts.n_pairs == 3
    assert counts.block(np.array([3, 17, 9_999]))[0].tolist() == [2.0, 2.0, 1.0]
    assert counts.n_nonzero() == 3 + 2 * 3


def test_baselines_of_disjoint_nodes_are_independent():
    counts = CoCounts()
    counts.grow(4)
    counts.update(np.array([0, 1, 2, 3]))
    counts.snapshot(1, np.array([0, 1]))
    counts.update(np.array([0, 1, 2, 3]))
    counts.snapshot(2, np.array([2, 3]))
    counts.update(np.array([0, 1, 2, 3]))
    left, since_left, _ = counts.since(1, np.array([0, 1]))
    right, since_right, _ = counts.since(2, np.array([2, 3]))
    assert left.tolist() == [[2.0, 2.0], [2.0, 2.0]] and since_left == 2.0
    assert right.tolist() == [[1.0, 1.0], [1.0, 1.0]] and since_right == 1.0


def test_faded_pairs_are_pruned_and_the_others_kept():
    counts = CoCounts(0.99)
    counts.grow(6)
    counts.update(np.array([0, 1]))  # a pair that never comes back
    for _ in range(4000):  # 0.99 ** 4000: 1e-18 of an instance
        counts.update(np.array([2, 3]))
        counts.update(np.array([0, 4]))
        counts.update(np.array([1, 5]))
    a, b, _ = counts.pairs()
    assert {(int(i), int(j)) for i, j in zip(a, b)} == {(2, 3), (0, 4), (1, 5)}
    block = counts.block(np.arange(6))
    assert block[0, 1] == 0.0 and block[2, 3] > 0
    counts.update(np.array([0, 1]))  # it comes back: a new cell
    assert counts.block(np.arange(6))[0, 1] > 0


def test_the_dense_slot_table_and_the_dictionary_count_alike(monkeypatch):
    """Below 2,048 labels the pairs' slots are looked up in a dense table, above in a
    dictionary: the same cells, through growth, pruning and a pickle."""
    from streamml.partition import counts as counts_module

    def run(dense: bool) -> CoCounts:
        monkeypatch.setattr(counts_module, "_DENSE_UP_TO", 2048 if dense else 0)
        rng = np.random.default_rng(4)
        counts = CoCounts(fading=0.98)  # the pairs of the first 1,200 instances are pruned
        counts.grow(20)
        for t in range(3600):
            if t in (500, 1500):
                counts.grow(30)  # new labels: a bigger table
            if t == 2500:
                counts = pickle.loads(pickle.dumps(counts))
            size = counts.size
            if t < 1200 or t % 2:  # pairs among all the labels, then among the last 8 only
                hot = rng.choice(size, size=6, replace=False) if t < 1200 else np.arange(42, 50)
                counts.update(np.sort(rng.choice(hot, size=rng.integers(0, 6), replace=False)))
            else:  # every label still occurs, alone: its old pairs become negligible
                counts.update(np.array([t // 2 % size]))
        return counts

    with_table, with_dict = run(True), run(False)
    assert with_dict.n_pairs <= 28 + 6  # the 8 labels of the end (and a few older pairs)
    for got, expected in zip(with_table.pairs(), with_dict.pairs()):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(with_table.positives(), with_dict.positives())
    assert with_dict.prune() == 0 and with_table.n_pairs == with_dict.n_pairs


def test_counts_stay_exact_when_the_labels_outgrow_the_dense_table():
    """Past 2,048 labels the dense slot table gives way to the dictionary, rebuilt from the
    cells counted so far: the same counts as a dictionary all along."""
    from streamml.partition import counts as counts_module

    rng = np.random.default_rng(8)
    rows = [np.sort(rng.choice(40, size=rng.integers(0, 6), replace=False)) for _ in range(600)]
    late = [np.sort(rng.choice(2100, size=5, replace=False)) for _ in range(300)]

    def run(dense_up_to: int) -> CoCounts:
        counts_module_limit = counts_module._DENSE_UP_TO
        counts_module._DENSE_UP_TO = dense_up_to
        try:
            counts = CoCounts(fading=0.99)
            counts.grow(40)
            for row in rows:
                counts.update(row)
            counts.n_pairs  # read: the dense table has served
            counts.grow(2060)
            for row in late:
                counts.update(row)
            return counts
        finally:
            counts_module._DENSE_UP_TO = counts_module_limit

    switched, dictionary = run(2048), run(0)
    for got, expected in zip(switched.pairs(), dictionary.pairs()):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(switched.positives(), dictionary.positives())


def test_learning_the_positives_equals_learning_the_whole_label_dict():
    rng = np.random.default_rng(9)
    labels = [f"l{i}" for i in range(12)]
    full, positives = LabelODAC(n_min=30), LabelODAC(n_min=30)
    first = {label: False for label in labels}
    full.learn_one(first)
    positives.learn_one(first)
    for _ in range(900):
        y = {label: bool(v) for label, v in zip(labels, rng.random(12) < 0.3)}
        full.learn_one(y)
        positives.learn_positives([label for label, v in y.items() if v])
        assert full.structure_changed == positives.structure_changed
    assert full.partition == positives.partition
    with pytest.raises(ValueError, match="unknown labels"):
        positives.learn_positives(["l0", "new"])
    assert positives.partition == full.partition


def test_counts_pickled_before_the_batches_load_and_count():
    counts = CoCounts()
    counts.grow(3)
    counts.update(np.array([0, 1]))
    state = counts.__getstate__()
    del state["_pending"]  # an old pickle
    old = CoCounts.__new__(CoCounts)
    old.__setstate__(state)
    old.update(np.array([1, 2]))
    np.testing.assert_array_equal(
        old.block(np.arange(3)), [[1.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 1.0]]
    )


@pytest.mark.parametrize("dense_up_to", [0, 2048])
def test_the_dictionary_counts_equal_the_products_through_the_switch(dense_up_to, monkeypatch):
    """Counts read through the pair dictionary (all along, or rebuilt when the labels outgrow
    the dense table) equal the co-occurrence products, recurring pairs included."""
    from streamml.partition import counts as counts_module

    monkeypatch.setattr(counts_module, "_DENSE_UP_TO", dense_up_to)
    rng = np.random.default_rng(10)
    y = np.zeros((700, 2100), dtype=bool)
    y[:400, :12] = rng.random((400, 12)) < 0.4  # few labels: their pairs recur
    y[400:, :12] = rng.random((300, 12)) < 0.4
    y[400:, 2000:2010] = rng.random((300, 10)) < 0.4  # after the growth
    counts = CoCounts()
    counts.grow(12)
    for t, row in enumerate(y):
        if t == 400:
            counts.grow(2100 - 12)
        if t in (100, 250, 450):
            counts.n_pairs  # a read: the pending instances are added
        counts.update(np.flatnonzero(row))
    used = np.flatnonzero(y.any(axis=0))
    product = y[:, used].T.astype(float) @ y[:, used].astype(float)
    np.testing.assert_array_equal(counts.block(used), product)
    assert counts.n_pairs == np.count_nonzero(np.triu(product, 1))


def test_batched_instances_count_exactly_as_one_at_a_time():
    """The same cells in the same slots with the same bits, whether the instances are added
    one by one (a read after each) or in batches of mixed sizes."""
    rng = np.random.default_rng(11)
    # Two sizes per batch (pairs of 1 and 3 per instance), then many.
    sizes = [rng.choice([2, 3]) if t < 450 else rng.integers(0, 7) for t in range(900)]
    rows = [np.sort(rng.choice(30, size=k, replace=False)) for k in sizes]
    one, batched = CoCounts(fading=0.97), CoCounts(fading=0.97)
    one.grow(30)
    batched.grow(30)
    for t, row in enumerate(rows):
        one.update(row)
        one.n_pairs  # read: flushed at every instance
        batched.update(row)
        if t % 97 == 0:
            batched.n_pairs
    for got, expected in zip(batched.pairs(), one.pairs()):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(batched.positives(), one.positives())
