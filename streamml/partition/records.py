"""Read-only records describing the label tree and its changes."""

from __future__ import annotations

import dataclasses

__all__ = ["TreeNode", "StructureChange"]


@dataclasses.dataclass(frozen=True)
class TreeNode:
    """One node of the label tree, as seen from outside.

    Parameters
    ----------
    id
        Node id, unique over the life of the tree (ids of removed nodes are not reused).
    depth
        0 for the root.
    parent
        Parent id, None for the root.
    members
        The labels under this node.
    is_leaf
        Whether the node is a leaf (a cluster of the partition).
    children
        Ids of the two children, empty for a leaf.
    n
        Effective (faded) number of instances the leaf's statistics hold; for an inner node the
        number it held when it was split.
    d1
        For a leaf, its largest pair distance at the last check (None if never checked); for an
        inner node, its largest pair distance when it was split (None for a root that was made
        by attaching new labels).
    eps
        The Hoeffding bound that goes with `d1`.

    """

    id: int
    depth: int
    parent: int | None
    members: frozenset
    is_leaf: bool
    children: tuple[int, ...] = ()
    n: float = 0.0
    d1: float | None = None
    eps: float | None = None


@dataclasses.dataclass(frozen=True)
class StructureChange:
    """A change of the label tree.

    Parameters
    ----------
    index
        0-based index of the instance whose arrival triggered the change.
    kind
        `"split"` or `"aggregate"`.
    node
        Id of the node that was split, or of the parent that became a leaf again.
    labels
        The labels under that node.
    parts
        The leaves involved: the two new leaves of a split, the former leaves under the node
        for an aggregation.
    d1
        The node's largest pair distance (a split), or the child's that triggered an
        aggregation.
    eps
        The Hoeffding bound of the test that fired.
    test
        The test that fired: `"odac"`, `"gap"` or `"unrelated"` for a split, `"aggregate"`.

    """

    index: int
    kind: str
    node: int
    labels: frozenset
    parts: tuple[frozenset, ...]
    d1: float
    eps: float
    test: str = ""
