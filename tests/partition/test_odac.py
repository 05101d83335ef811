"""LabelODAC's interface: input checks, pickling, views, the two ways of testing leaves."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from river import datasets

from streamml.partition import LabelODAC
from streamml.partition.checks import _support, check_large_leaf, check_leaf, check_small_leaves
from streamml.partition.counts import independent_jaccard, jaccard
from streamml.partition.sparse import gap_excess_sparse, sparse_statistics, unrelated_sparse
from streamml.partition.split import (
    assign_sparse,
    assign_to_pivots,
    association_excess,
    gap_excess,
    leaf_statistics,
    pair_bounds,
)

from .helpers import check_tree
from .streams import group_stream, random_groups, regroup


def _data(seed=0, n=3000, n_groups=4):
    rng = np.random.default_rng(seed)
    groups = random_groups(rng, n_groups)
    later = regroup(rng, groups)
    return list(group_stream(rng, groups, n // 2)) + list(group_stream(rng, later, n // 2))


@pytest.mark.parametrize(
    "params",
    [
        {"n_min": 0},
        {"delta": 1.5},
        {"fading": 0.0},
        {"fading": 1.2},
        {"window": 0},
        {"settle": -1},
        {"refine_every": -5},
    ],
)
def test_bad_parameters_are_refused(params):
    with pytest.raises(ValueError):
        LabelODAC(**params)


def test_bad_input_is_refused_and_changes_nothing():
    odac = LabelODAC()
    odac.learn_one({"a": True, "b": False})
    state = pickle.dumps(odac)
    with pytest.raises(TypeError):
        odac.learn_one([("a", True)])
    with pytest.raises(ValueError):
        odac.learn_one({"a": np.array([True, False]), "new": True})
    assert pickle.dumps(odac) == state
    assert odac.labels == ["a", "b"] and odac.n_instances == 1


def test_no_labels_yet():
    odac = LabelODAC(n_min=10)
    for _ in range(25):
        odac.learn_one({})
    assert odac.partition == [] and odac.tree() == [] and odac.refined_partition() == []
    assert odac.labels == [] and odac.n_instances == 25
    assert "0 labels" in odac.summary()


def test_pickle_mid_stream_continues_identically():
    data = _data(1)
    odac = LabelODAC()
    for y in data[:1234]:
        odac.learn_one(y)
    copy = pickle.loads(pickle.dumps(odac))
    for y in data[1234:]:
        odac.learn_one(y)
        copy.learn_one(y)
        assert odac.structure_changed == copy.structure_changed
        assert odac.refine_due == copy.refine_due
    assert odac.n_changes == copy.n_changes > 0
    assert odac.tree() == copy.tree()
    assert odac.last_change == copy.last_change
    assert odac.refined_partition() == copy.refined_partition()


def test_clone_has_the_parameters_and_no_state():
    odac = LabelODAC(n_min=50, fading=0.99, delta=0.01)
    for y in _data(2, 500):
        odac.learn_one(y)
    fresh = odac.clone()
    assert fresh.n_min == 50 and fresh.fading == 0.99 and fresh.delta == 0.01
    assert fresh.labels == [] and fresh.partition == [] and fresh.n_changes == 0


def test_refine_due_follows_changes_and_the_clock():
    odac = LabelODAC(n_min=100, settle=300, refine_every=1000)
    due, changes = [], []
    for t, y in enumerate(_data(3, 6000)):
        odac.learn_one(y)
        if odac.refine_due:
            due.append(t)
        if odac.structure_changed:
            changes.append(t)
    assert set(changes) <= set(due)
    assert 0 in due  # the labels arrived
    for t in due:
        n = t + 1
        assert (
            t == 0
            or t in changes
            or (n % 100 == 0 and any(0 <= n - (c + 1) <= 300 for c in changes))
            or n % 1000 == 0
        )
    assert set(range(999, 6000, 1000)) <= set(due)  # every refine_every instances


def test_views_agree():
    odac = LabelODAC()
    for _, y in datasets.Yeast().take(1500):
        odac.learn_one(y)
    check_tree(odac)
    nodes = odac.tree()
    assert nodes == odac.nodes
    assert nodes[0].parent is None and nodes[0].depth == 0
    text = odac.summary()
    for node in nodes:
        assert f"#{node.id} [{len(node.members)}]" in text
    assert "Class1" in text
    assert odac.cardinality_mode == max(
        range(15),
        key=lambda c: (sum(sum(y.values()) == c for _, y in datasets.Yeast().take(1500)), -c),
    )
    labels, dist = odac.distances()
    assert sorted(labels) == sorted(odac.labels)
    assert np.allclose(dist, dist.T) and dist.min() >= 0 and dist.max() <= 1
    refined = odac.refined_partition()
    assert frozenset().union(*refined) == frozenset(odac.labels)


def _three_ways(odac: LabelODAC, nodes: list):
    """Each leaf checked by the vectorised small-leaf path, the sparse large-leaf path and the
    dense one-leaf check on the leaf's counts since its creation."""
    tree = odac._tree
    cells, _ = odac._gather(nodes, [])
    totals = [tree.counts.since_totals(node.id) for node in nodes]
    args = (odac.delta, odac.tau, True, True)
    batch = check_small_leaves(cells, [node.size for node in nodes], *zip(*totals), *args)
    _, groups = odac._gather([], nodes)
    for i, node in enumerate(nodes):
        counts, since, n = tree.counts.since(node.id, tree.ids(node))
        dense = check_leaf(counts, since, n, *args)
        sparse = check_large_leaf(groups[i], since, n, *args)
        yield batch.result(i), sparse, dense


def _same(one, other):
    assert one.test == other.test and one.pivots == other.pivots
    assert np.isclose(one.d1, other.d1) and np.isclose(one.eps, other.eps)
    if one.test is not None:
        dense = lambda r: r.dist if r.dist is not None else r.pairs.dense()  # noqa: E731
        assert np.allclose(dense(one), dense(other))


def test_small_large_and_dense_checks_agree():
    """The vectorised checks of small leaves and the sparse checks of large leaves give what
    the dense one-leaf check gives."""
    data = _data(4, 4000, n_groups=5)
    odac = LabelODAC(n_min=50)
    compared = 0
    tests = set()
    for t, y in enumerate(data):
        odac.learn_one(y)
        if t % 97:
            continue
        nodes = [node for node in odac._tree.nodes.values() if node.children is None]
        nodes = [node for node in nodes if node.size > 1]
        for batch, sparse, dense in _three_ways(odac, nodes):
            _same(batch, dense)
            _same(sparse, dense)
            tests.add(dense.test)
            compared += 1
    assert compared > 100
    assert {"odac", "unrelated", None} <= tests


@pytest.mark.parametrize("seed", range(4))
def test_sparse_statistics_of_large_leaves_equal_the_dense_ones(seed):
    """Leaves of up to 200 labels, most pairs never co-occurring: the statistics, the gap and
    association tests and the assignment at a split, sparse and dense."""
    rng = np.random.default_rng(seed)
    groups = random_groups(rng, int(rng.integers(20, 50)), 2, 6)
    odac = LabelODAC(n_min=100)
    tree = odac._tree
    compared = 0
    for t, y in enumerate(group_stream(rng, groups, 1200, p_off=0.002)):
        odac.learn_one(y)
        if t % 50 or t < 100:
            continue
        nodes = [node for node in tree.nodes.values() if node.children is None]
        nodes = [node for node in nodes if node.size > 2]
        _, groups_of = odac._gather([], nodes)
        for node, pairs in zip(nodes, groups_of):
            counts, since, n = tree.counts.since(node.id, tree.ids(node))
            dist = jaccard(counts)
            d1, pivots, d2, d0, avg = leaf_statistics(dist)
            assert np.array_equal(pairs.dense(), dist)
            sd1, spivots, sd2, sd0, savg = sparse_statistics(pairs)
            assert (sd1, spivots, sd2, sd0) == (d1, pivots, d2, d0)
            assert np.isclose(savg, avg, rtol=0, atol=1e-12)
            delta = 0.05 / node.size
            bounds = pair_bounds(_support(counts, since, n), delta)
            dense_gap = gap_excess(dist, *pivots, bounds)
            sparse_gap = gap_excess_sparse(pairs, *pivots, since, n, delta)
            assert np.isclose(sparse_gap, dense_gap, rtol=0, atol=1e-9)
            independent = independent_jaccard(counts.diagonal() / since)
            bounds = pair_bounds(_support(counts, since, n), 0.05)
            dense_unrelated = association_excess(dist, independent, bounds) <= 0
            assert unrelated_sparse(pairs, since, n, 0.05) == dense_unrelated
            for passes in (0, 5):
                side = assign_to_pivots(dist, *pivots, passes)
                assert np.array_equal(assign_sparse(pairs, *pivots, passes), side)
            compared += 1
    assert compared > 20


def test_many_labels_use_the_large_leaf_path():
    rng = np.random.default_rng(5)
    groups = random_groups(rng, 20)  # 40 to 120 labels: the root is a large leaf
    odac = LabelODAC()
    data = list(group_stream(rng, groups, 3000))
    for y in data:
        odac.learn_one(y)
    assert len(odac.labels) > 48
    assert odac.n_changes >= 10
    check_tree(odac)
    assert set(odac.refined_partition(min_size=1)) == {frozenset(g) for g in groups}
