"""refine: always a valid partition; merges small and cut-up clusters as designed."""

from __future__ import annotations

import numpy as np
import pytest

from streamml.partition import TreeNode, refine


def random_tree(rng, labels):
    """A random binary tree over `labels` (as TreeNode records) and its leaves."""
    nodes, next_id = [], [0]

    def grow(members, parent, depth):
        node_id = next_id[0]
        next_id[0] += 1
        if len(members) > 1 and rng.random() < 0.75:
            cut = int(rng.integers(1, len(members)))
            members = list(rng.permutation(members))
            index = len(nodes)
            nodes.append(None)
            left = grow(members[:cut], node_id, depth + 1)
            right = grow(members[cut:], node_id, depth + 1)
            nodes[index] = TreeNode(
                node_id, depth, parent, frozenset(members), False, (left, right)
            )
        else:
            nodes.append(TreeNode(node_id, depth, parent, frozenset(members), True))
        return node_id

    grow(list(labels), None, 0)
    return nodes


def random_distances(rng, n):
    d = rng.random((n, n))
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0.0)
    return d


def test_always_a_valid_partition():
    rng = np.random.default_rng(0)
    for case in range(400):
        n = int(rng.integers(1, 40))
        labels = [f"x{i}" for i in range(n)]
        nodes = random_tree(rng, labels)
        rng.shuffle(nodes)  # any order
        dist = random_distances(rng, n)
        if case % 3 == 0:  # grouped distances: many merges
            groups = rng.integers(0, max(1, n // 4), size=n)
            dist = np.where(groups[:, None] == groups[None, :], dist * 0.2, 0.6 + 0.4 * dist)
            np.fill_diagonal(dist, 0.0)
        rates = rng.uniform(0, 0.6, size=n) if case % 2 else None
        min_size = int(rng.integers(1, 8))
        max_size = None if case % 4 == 0 else int(rng.integers(1, 12))
        n_seen = float(rng.choice([10, 500, 10_000]))
        result = refine(
            nodes, labels, dist, n_seen, rates=rates, min_size=min_size, max_size=max_size
        )
        assert sum(map(len, result)) == n
        assert frozenset().union(*result) == frozenset(labels)
        leaves = [node.members for node in nodes if node.is_leaf]
        for cluster in result:
            # clusters are unions of leaves
            assert cluster == frozenset().union(*(leaf for leaf in leaves if leaf <= cluster))
            if max_size is not None and len(cluster) > max_size:
                assert cluster in leaves  # only a leaf that was already too big
        if max_size is None:
            assert all(len(c) >= min_size for c in result) or len(result) == 1


def _tree():
    """root -> (A, B); A -> (a1={a,b}, a2={c}); B -> (b1={d,e}, b2={f})"""
    return [
        TreeNode(0, 0, None, frozenset("abcdef"), False, (1, 2)),
        TreeNode(1, 1, 0, frozenset("abc"), False, (3, 4)),
        TreeNode(2, 1, 0, frozenset("def"), False, (5, 6)),
        TreeNode(3, 2, 1, frozenset("ab"), True),
        TreeNode(4, 2, 1, frozenset("c"), True),
        TreeNode(5, 2, 2, frozenset("de"), True),
        TreeNode(6, 2, 2, frozenset("f"), True),
    ]


def _dist(close, far=0.9):
    labels = "abcdef"
    d = np.full((6, 6), far)
    for group in close:
        for x in group:
            for y in group:
                d[labels.index(x), labels.index(y)] = 0.2
    np.fill_diagonal(d, 0.0)
    return d


def test_small_clusters_merge_into_their_sibling_subtree():
    d = _dist(["ab", "de"])  # c and f belong nowhere
    result = refine(_tree(), "abcdef", d, 1000, min_size=2)
    assert sorted(map(sorted, result)) == [["a", "b", "c"], ["d", "e", "f"]]
    result = refine(_tree(), "abcdef", d, 1000, min_size=1)
    assert sorted(map(sorted, result)) == [["a", "b"], ["c"], ["d", "e"], ["f"]]


def test_max_size_is_respected_and_the_search_climbs_the_tree():
    d = _dist(["ab", "de"])
    result = refine(_tree(), "abcdef", d, 1000, min_size=2, max_size=2)
    # c cannot join {a, b} (3 > 2): it climbs to the root and joins f
    assert sorted(map(sorted, result)) == [["a", "b"], ["c", "f"], ["d", "e"]]


def test_a_group_cut_by_the_tree_is_merged_back():
    d = _dist(["abde"])  # {a, b} and {d, e} are one group, split at the root
    result = refine(_tree(), "abcdef", d, 1000, min_size=1)
    assert sorted(map(sorted, result)) == [["a", "b", "d", "e"], ["c"], ["f"]]
    # with little evidence the bound is wide; with a lot, a real gap keeps groups apart
    d2 = _dist(["ab", "de"], far=0.5)
    assert len(refine(_tree(), "abcdef", d2, 1_000_000)) == 4


def test_association_is_needed_to_merge_when_rates_are_known():
    labels = "abcdef"
    d = _dist(["ab", "de"], far=0.9)
    rates = np.full(6, 0.3)  # independent labels with rate 0.3 have distance ~0.82
    d[0, 3] = d[3, 0] = d[1, 4] = d[4, 1] = 0.22
    d[0, 4] = d[4, 0] = d[1, 3] = d[3, 1] = 0.22
    result = refine(_tree(), labels, d, 5000, rates=rates)
    assert sorted(map(sorted, result)) == [["a", "b", "d", "e"], ["c"], ["f"]]
    # two singletons merge only when associated
    d[2, 5] = d[5, 2] = 0.25
    result = refine(_tree(), labels, d, 5000, rates=rates)
    assert sorted(map(sorted, result)) == [["a", "b", "d", "e"], ["c", "f"]]
    d[2, 5] = d[5, 2] = 0.95
    result = refine(_tree(), labels, d, 5000, rates=rates)
    assert ["c"] in map(sorted, result)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t, names, d: (t[1:], names, d), "root"),
        (lambda t, names, d: (t, names[:-1], d[:-1, :-1]), "unknown"),
        (lambda t, names, d: (t, list(names) + ["z"], np.zeros((7, 7))), "cover"),
        (lambda t, names, d: (t, names, d[:5]), "distances"),
    ],
)
def test_bad_input_is_refused(change, message):
    nodes, labels, dist = change(_tree(), list("abcdef"), _dist(["ab"]))
    with pytest.raises(ValueError, match=message):
        refine(nodes, labels, dist, 100)


def _with(nodes, index, **changes):
    """The tree with one node's record changed."""
    node = nodes[index]
    fields = {
        "id": node.id,
        "depth": node.depth,
        "parent": node.parent,
        "members": node.members,
        "is_leaf": node.is_leaf,
        "children": node.children,
        **changes,
    }
    return [*nodes[:index], TreeNode(**fields), *nodes[index + 1 :]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t, names, d: (t[1:], names, d), "the tree must have exactly one root, found 0"),
        (
            lambda t, names, d: (_with(t, 6, parent=9), names, d),
            "node 6 has an unknown parent 9",
        ),
        (
            lambda t, names, d: (_with(t, 0, parent=3), names, d),
            "the tree must have exactly one root, found 0",
        ),
        (
            lambda t, names, d: (
                [*t, TreeNode(7, 1, 8, frozenset(), True), TreeNode(8, 1, 7, frozenset(), True)],
                names,
                d,
            ),
            "some nodes are not under the root",
        ),
        (lambda t, names, d: ([*t, t[3]], names, d), "the tree has a cycle"),  # a node twice
        (lambda t, names, d: (t, [*names[:5], "a"], d), "labels must be distinct"),
        (lambda t, names, d: (t, names[:-1], d[:-1, :-1]), "label 'f' is unknown or in two leaves"),
        (
            lambda t, names, d: (t, [*names, "z"], np.zeros((7, 7))),
            "the leaves do not cover every label",
        ),
        (lambda t, names, d: (t, names, d[:5]), "distances must be 6 x 6, got (5, 6)"),
    ],
)
def test_bad_input_is_refused_with_its_reason(change, message):
    nodes, labels, dist = change(_tree(), list("abcdef"), _dist(["ab"]))
    with pytest.raises(ValueError) as raised:
        refine(nodes, labels, dist, 100)
    assert str(raised.value) == message


def test_bad_sizes_and_rates_are_refused_with_their_reason():
    for sizes in ({"min_size": 0}, {"max_size": 0}, {"min_size": 0, "max_size": 3}):
        with pytest.raises(ValueError) as raised:
            refine(_tree(), "abcdef", _dist(["ab"]), 100, **sizes)
        assert str(raised.value) == "min_size and max_size must be at least 1"
    with pytest.raises(ValueError) as raised:
        refine(_tree(), "abcdef", _dist(["ab"]), 100, rates=np.full(5, 0.2))
    assert str(raised.value) == "rates must have 6 values, got shape (5,)"


@pytest.mark.parametrize(("max_size", "merged"), [(None, True), (4, True), (3, False)])
def test_a_cut_group_merges_back_only_within_max_size(max_size, merged):
    d = _dist(["abde"])  # {a, b} and {d, e}: one group of 4, cut at the root
    result = sorted(map(sorted, refine(_tree(), "abcdef", d, 1000, max_size=max_size)))
    assert (["a", "b", "d", "e"] in result) is merged
    if not merged:
        assert ["a", "b"] in result and ["d", "e"] in result


def test_a_unit_of_exactly_min_size_is_not_small():
    d = _dist(["ab", "de"])
    result = refine(_tree(), "abcdef", d, 1000, min_size=2)
    assert sorted(map(sorted, result)) == [["a", "b", "c"], ["d", "e", "f"]]
    # with max_size 2, c and f (size 1) cannot join a pair: they join each other
    result = refine(_tree(), "abcdef", d, 1000, min_size=2, max_size=2)
    assert sorted(map(sorted, result)) == [["a", "b"], ["c", "f"], ["d", "e"]]


def _deep_tree():
    """root -> (A={a,b,c,d}, e); A -> (x={a}, B={b,c,d}); B -> (y={b}, z={c,d})"""
    return [
        TreeNode(0, 0, None, frozenset("abcde"), False, (1, 2)),
        TreeNode(1, 1, 0, frozenset("abcd"), False, (3, 4)),
        TreeNode(2, 1, 0, frozenset("e"), True),
        TreeNode(3, 2, 1, frozenset("a"), True),
        TreeNode(4, 2, 1, frozenset("bcd"), False, (5, 6)),
        TreeNode(5, 3, 4, frozenset("b"), True),
        TreeNode(6, 3, 4, frozenset("cd"), True),
    ]


def test_the_deepest_small_unit_goes_first_and_climbs_the_tree_for_room():
    """No cut group (tight bounds, {c, d} close inside): b (depth 3) joins {c, d} first; a
    (depth 2) then finds {b, c, d} full under A (max_size 3) and climbs to the root, to e."""
    d = np.full((5, 5), 0.9)
    d[2, 3] = d[3, 2] = 0.2
    np.fill_diagonal(d, 0.0)
    result = refine(_deep_tree(), "abcde", d, 1e6, min_size=2, max_size=3)
    assert sorted(map(sorted, result)) == [["a", "e"], ["b", "c", "d"]]
    result = refine(_deep_tree(), "abcde", d, 1e6, min_size=2)
    assert sorted(map(sorted, result)) == [["a", "b", "c", "d", "e"]]
    result = refine(_deep_tree(), "abcde", d, 1e6, min_size=3, max_size=3)
    assert sorted(map(sorted, result)) == [["a", "e"], ["b", "c", "d"]]  # a, e stay small


def test_a_small_unit_joins_the_unit_of_smallest_mean_distance_not_sum():
    """e chooses between {a, b, g} (mean distance 0.3, sum 0.9) and {c, d} (mean 0.4, sum
    0.8), both under the root."""
    nodes = [
        TreeNode(0, 0, None, frozenset("abgcde"), False, (1, 2, 3)),
        TreeNode(1, 1, 0, frozenset("abg"), True),
        TreeNode(2, 1, 0, frozenset("cd"), True),
        TreeNode(3, 1, 0, frozenset("e"), True),
    ]
    labels = "abgcde"
    d = np.full((6, 6), 0.9)
    for group in ("abg", "cd"):
        for x in group:
            for y in group:
                d[labels.index(x), labels.index(y)] = 0.2
    for x, v in zip("abgcd", (0.3, 0.3, 0.3, 0.4, 0.4)):
        d[labels.index(x), 5] = d[5, labels.index(x)] = v
    np.fill_diagonal(d, 0.0)
    result = refine(nodes, labels, d, 1e6, min_size=2)
    assert sorted(map(sorted, result)) == [["a", "b", "e", "g"], ["c", "d"]]
