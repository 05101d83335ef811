"""LabelODAC's grace period for new leaves, its leaves' last checks, the options of
`refined_partition` and the label limit of `summary`."""

from __future__ import annotations

import numpy as np
import pytest

from streamml.partition import LabelODAC
from streamml.partition import odac as odac_module

from .streams import group_stream, random_groups, regroup


def pairs_stream(n: int, seed: int = 0, p_pair: float = 0.15):
    """Eight rare labels (rate 0.1), l1 after l0 (and l3 after l2, ...) with probability
    `p_pair`: weakly associated pairs, every label mostly off (cardinality mode 0)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        on = rng.random(8) < 0.1
        for a in (0, 2, 4, 6):
            if on[a] and rng.random() < p_pair:
                on[a + 1] = True
        yield {f"l{i}": bool(v) for i, v in enumerate(on)}


def sizes(partition) -> list[int]:
    return sorted(len(c) for c in partition)


def test_a_leaf_of_new_labels_waits_n_min_instances_before_its_first_check():
    """New labels arriving at instance 150 form a leaf beside the root; with n_min=100 it is
    first checked at instance 300 (checks run every 100 instances), not at 200."""
    rng = np.random.default_rng(0)
    odac = LabelODAC(n_min=100)
    changes = []
    for t in range(400):
        g = bool(rng.random() < 0.5)
        y = {"a": g, "b": not g}
        if t >= 150:  # c and d never together, e independent of both: c | d, e splits
            h = bool(rng.random() < 0.5)
            y.update(c=h, d=not h, e=bool(rng.random() < 0.5))
        odac.learn_one(y)
        if odac.structure_changed:
            changes.append((t, odac.last_change.kind, sorted(odac.last_change.labels)))
    assert changes[0] == (99, "split", ["a", "b"])
    assert changes[1] == (299, "split", ["c", "d", "e"])


def test_leaves_show_their_last_check():
    """A leaf shows the n, d1 and eps of its last check: a small one (checked with the other
    small leaves) and a large one (checked alone) alike."""
    rng = np.random.default_rng(0)
    for n_labels in (5, 60):  # labels on together half of the time: one leaf, never split
        odac = LabelODAC(n_min=100)
        for t in range(250):
            on = bool(rng.random() < 0.5)
            odac.learn_one({f"x{i}": on for i in range(n_labels)})
            if t == 0:
                (root,) = odac.tree()
                assert root.d1 is None and root.eps is None  # not checked yet
        (root,) = odac.tree()
        assert root.is_leaf and len(root.members) == n_labels
        assert odac.n_changes == 0
        assert 50.0 < root.n < 200.0 and root.d1 == 0.0 and 0.0 < root.eps < 0.2, root


def test_refined_partition_options():
    odac = LabelODAC(n_min=100)  # delta 0.05
    for y in pairs_stream(2000):
        odac.learn_one(y)
    assert odac.cardinality_mode == 0 and sizes(odac.partition) == [1] * 8
    # min_size defaults to max(1, cardinality mode): the singletons stay
    assert sizes(odac.refined_partition()) == [1] * 8
    assert all(len(c) >= 2 for c in odac.refined_partition(min_size=2))
    assert sizes(odac.refined_partition(min_size=2, max_size=1)) == [1] * 8
    # a looser merge test (delta 0.5 instead of the partitioner's 0.05) groups the pairs
    assert set(odac.refined_partition(min_size=1, delta=0.5)) == {
        frozenset({f"l{a}", f"l{a + 1}"}) for a in (0, 2, 4, 6)
    }
    assert odac.refined_partition(min_size=1) == odac.refined_partition(min_size=1, delta=0.05)


def test_summary_shows_up_to_max_labels_per_leaf():
    odac = LabelODAC()
    odac.learn_one({f"l{i}": True for i in range(10)})
    assert "l0, l1, l2, l3, l4, l5, l6, l7, ... (+2)" in odac.summary()
    assert "l0, l1, l2, l3, l4, l5, l6, l7, l8, l9" in odac.summary(max_labels=10)
    assert "l0, l1, ... (+8)" in odac.summary(max_labels=2)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_same_changes_whichever_way_the_leaves_are_checked(seed, monkeypatch):
    """Every leaf checked alone (the large-leaf path) or all together (the vectorised path):
    the same splits and aggregations, in the same order, through a regrouping."""
    rng = np.random.default_rng(seed)
    groups = random_groups(rng, 4)
    data = list(group_stream(rng, groups, 2000)) + list(
        group_stream(rng, regroup(rng, groups), 2000)
    )
    runs = {}
    for small in (0, 10**9):
        monkeypatch.setattr(odac_module, "_SMALL", small)
        odac, changes = LabelODAC(n_min=100), []
        for y in data:
            odac.learn_one(y)
            if odac.structure_changed:
                changes.append(odac.last_change)
        runs[small] = changes, odac.tree()
    (alone, tree), (together, _) = runs.values()
    assert {c.kind for c in alone} == {"split", "aggregate"}
    assert len(alone) == len(together)
    for a, b in zip(alone, together):
        assert (a.index, a.kind, a.node, a.labels, a.parts, a.test) == (
            b.index,
            b.kind,
            b.node,
            b.labels,
            b.parts,
            b.test,
        )
        assert a.d1 == pytest.approx(b.d1) and a.eps == pytest.approx(b.eps)
    assert [(n.id, n.members, n.is_leaf) for n in tree] == [
        (n.id, n.members, n.is_leaf) for n in runs[10**9][1]
    ]
