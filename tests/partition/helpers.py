"""Shared checks for the partition tests."""

from __future__ import annotations

import itertools

from streamml.partition import LabelODAC


def follow(odac: LabelODAC, stream, min_size: int = 1):
    """Feed `stream` to `odac`, recomputing the refined partition whenever it is due (as
    IHOMER does). Yields (index, refined partition as a set of frozensets) after each
    recomputation."""
    for t, y in enumerate(stream):
        odac.learn_one(y)
        if odac.refine_due:
            yield t, set(odac.refined_partition(min_size=min_size))


def first_match(odac: LabelODAC, stream, truth, min_size: int = 1):
    """Index of the first instance after which the refined partition equals `truth`."""
    truth = {frozenset(group) for group in truth}
    for t, refined in follow(odac, stream, min_size):
        if refined == truth:
            return t
    return None


def check_tree(odac: LabelODAC) -> None:
    """The invariants of the tree: children split their parent, leaves partition the labels."""
    nodes = {node.id: node for node in odac.tree()}
    roots = [node for node in nodes.values() if node.parent is None]
    assert len(roots) == 1
    assert roots[0].members == frozenset(odac.labels)
    for node in nodes.values():
        if node.is_leaf:
            assert node.children == ()
            continue
        left, right = (nodes[c] for c in node.children)
        assert left.parent == right.parent == node.id
        assert left.depth == right.depth == node.depth + 1
        assert not left.members & right.members
        assert left.members | right.members == node.members
    leaves = odac.partition
    assert sum(map(len, leaves)) == len(odac.labels)
    assert frozenset(itertools.chain.from_iterable(leaves)) == frozenset(odac.labels)
    assert leaves == [node.members for node in nodes.values() if node.is_leaf]
