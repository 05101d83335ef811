"""The label tree: nodes over contiguous ranges of label positions, and their counts."""

from __future__ import annotations

import numpy as np

from .counts import CoCounts
from .records import TreeNode

__all__ = ["LabelTree", "Node"]


class Node:
    """A node of the label tree; its labels are the positions lo..hi-1."""

    __slots__ = ("id", "parent", "children", "lo", "hi", "depth", "born", "d1", "eps", "n", "last")

    def __init__(self, id: int, parent: int | None, lo: int, hi: int, depth: int, born: int):
        self.id = id
        self.parent = parent
        self.children: tuple[int, int] | None = None
        self.lo = lo
        self.hi = hi
        self.depth = depth
        self.born = born  # instance count when its statistics started
        self.d1: float | None = None  # at split time (inner nodes)
        self.eps: float | None = None
        self.n = 0.0
        self.last: tuple[float, float, float] | None = None  # (n, d1, eps) at the last check

    @property
    def size(self) -> int:
        return self.hi - self.lo


class LabelTree:
    """Labels, their positions, the nodes, and the shared counts.

    Every node covers a contiguous range of positions. A split reorders the positions of the
    leaf so that each child is again contiguous; nothing outside the leaf's range moves. The
    counts are kept by label id (`CoCounts`); every leaf takes a baseline of the counts among
    its labels when it is created: its statistics are the counts since then.

    Parameters
    ----------
    fading
        Fading factor of the counts.

    """

    def __init__(self, fading: float):
        self.labels: list = []  # by label id (order of arrival)
        self.index: dict = {}  # label -> id
        self.known: set = set()
        self.pos = np.zeros(0, dtype=np.intp)  # label id -> position
        self.order = np.zeros(0, dtype=np.intp)  # position -> label id
        self.counts = CoCounts(fading)
        self.nodes: dict[int, Node] = {}
        self.root: int | None = None
        self._next_id = 0

    def count(self, positives: list) -> None:
        """Count one instance given its positive labels (all known)."""
        index = self.index
        self.counts.update([index[label] for label in positives])

    def ids(self, node: Node) -> np.ndarray:
        """The ids of the labels of a node, in the order of their positions."""
        return self.order[node.lo : node.hi]

    def add_labels(self, new: list, now: int) -> None:
        """New labels: into the root while it is a leaf, else as one new leaf beside the root."""
        start = len(self.labels)
        for label in new:
            self.index[label] = len(self.labels)
            self.labels.append(label)
            self.known.add(label)
        size = len(self.labels)
        self.pos = np.concatenate([self.pos, np.arange(start, size, dtype=np.intp)])
        self.order = np.concatenate([self.order, np.arange(start, size, dtype=np.intp)])
        self.counts.grow(len(new))
        if self.root is None:
            self.root = self._new_node(None, 0, size, 0, now).id
            return
        root = self.nodes[self.root]
        if root.children is None:
            root.hi = size  # the new labels have no counts: the root's baseline holds
            return
        for node in self.nodes.values():
            node.depth += 1
        leaf = self._new_node(None, start, size, 1, now)
        top = self._new_node(None, 0, size, 0, now, snapshot=False)
        top.children = (root.id, leaf.id)
        root.parent = leaf.parent = top.id
        self.root = top.id

    def _new_node(self, parent, lo, hi, depth, now, snapshot=True) -> Node:
        node = Node(self._next_id, parent, lo, hi, depth, now)
        self._next_id += 1
        self.nodes[node.id] = node
        if snapshot:
            self.counts.snapshot(node.id, self.order[lo:hi])
        return node

    def split(self, node: Node, side: np.ndarray, now: int) -> tuple[Node, Node]:
        """Split a leaf: labels with side 0 go left, side 1 right; fresh statistics."""
        order = np.concatenate([np.flatnonzero(side == 0), np.flatnonzero(side == 1)])
        lo, hi = node.lo, node.hi
        self.order[lo:hi] = self.order[lo:hi][order]
        self.pos[self.order[lo:hi]] = np.arange(lo, hi)
        mid = lo + int(np.count_nonzero(side == 0))
        left = self._new_node(node.id, lo, mid, node.depth + 1, now)
        right = self._new_node(node.id, mid, hi, node.depth + 1, now)
        self.counts.drop(node.id)
        node.children = (left.id, right.id)
        return left, right

    def collapse(self, node: Node, now: int) -> list[frozenset]:
        """Make an inner node a leaf again with fresh statistics; the former leaves under it."""
        parts = []
        stack = list(node.children)
        while stack:
            child = self.nodes.pop(stack.pop())
            self.counts.drop(child.id)
            if child.children is None:
                parts.append(self.members(child))
            else:
                stack.extend(child.children)
        node.children = None
        node.d1 = node.eps = None
        node.born = now
        node.last = None
        self.counts.snapshot(node.id, self.ids(node))
        parts.sort(key=lambda part: min(self.index[label] for label in part))
        return parts

    def members(self, node: Node) -> frozenset:
        labels = self.labels
        return frozenset(labels[i] for i in self.order[node.lo : node.hi])

    def leaves(self) -> list[Node]:
        """The leaves, left to right."""
        if self.root is None:
            return []
        leaves, stack = [], [self.root]
        while stack:
            node = self.nodes[stack.pop()]
            if node.children is None:
                leaves.append(node)
            else:
                stack.extend(reversed(node.children))
        return leaves

    def view(self) -> list[TreeNode]:
        """The nodes as records, depth first, left child first."""
        if self.root is None:
            return []
        out, stack = [], [self.root]
        while stack:
            node = self.nodes[stack.pop()]
            leaf = node.children is None
            if leaf:
                n, d1, eps = node.last if node.last is not None else (node.n, None, None)
            else:
                n, d1, eps = node.n, node.d1, node.eps
                stack.extend(reversed(node.children))
            out.append(
                TreeNode(
                    id=node.id,
                    depth=node.depth,
                    parent=node.parent,
                    members=self.members(node),
                    is_leaf=leaf,
                    children=() if leaf else node.children,
                    n=float(n),
                    d1=None if d1 is None else float(d1),
                    eps=None if eps is None else float(eps),
                )
            )
        return out

    def labels_by_position(self) -> list:
        return [self.labels[i] for i in self.order]
