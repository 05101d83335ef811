"""Refinement of the leaves of a label tree into a partition with no tiny or cut-up clusters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .records import TreeNode
from .unit_sums import UnitSums

__all__ = ["refine", "refine_counts"]


class _Tree:
    """Parent links, depths and descendant tests (Euler intervals) of a node list."""

    def __init__(self, nodes: Sequence[TreeNode]):
        self.parent = {node.id: node.parent for node in nodes}
        self.depth = {node.id: node.depth for node in nodes}
        roots = [node.id for node in nodes if node.parent is None]
        if len(roots) != 1:
            raise ValueError(f"the tree must have exactly one root, found {len(roots)}")
        self.root = roots[0]
        children = {node.id: [] for node in nodes}
        for node in nodes:
            if node.parent is not None:
                if node.parent not in children:
                    raise ValueError(f"node {node.id} has an unknown parent {node.parent}")
                children[node.parent].append(node.id)
        self.enter, self.leave = {}, {}
        clock, stack = 0, [(self.root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                self.leave[node] = clock
                continue
            if node in self.enter:
                raise ValueError("the tree has a cycle")
            self.enter[node] = clock
            clock += 1
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children[node]))
        if len(self.enter) != len(children):
            raise ValueError("some nodes are not under the root")

    def within(self, node: int, ancestor: int) -> bool:
        """Whether `node` is `ancestor` or below it."""
        return self.enter[ancestor] <= self.enter[node] < self.leave[ancestor]

    def common(self, a: int, b: int) -> int:
        while not self.within(b, a):
            a = self.parent[a]
        return a


def refine(
    nodes: Sequence[TreeNode],
    labels: Sequence,
    distances: np.ndarray,
    n: float,
    *,
    rates: np.ndarray | None = None,
    min_size: int = 1,
    max_size: int | None = None,
    delta: float = 0.05,
) -> list[frozenset]:
    """Merge the leaves of a label tree into a valid partition of the labels.

    Units start as the leaves. Two kinds of greedy, deterministic merges:

    * cut groups: across the whole tree, merge the two units whose mean cross distance exceeds
      the mean distance inside them (over the pairs inside either unit) by the least, as long
      as that excess is within its Hoeffding bound: they are one correlated group that a split
      cut in two. With `rates`, the units must also be associated (their mean cross distance
      significantly below that of independent labels with the same rates), which keeps two
      unrelated clusters apart even when both are loose; two single labels, which have no
      inside distance, then merge on association alone (without rates, never).
    * small units: while some unit has fewer than `min_size` labels, take the smallest one
      (the deepest on ties), and merge it into the unit with the smallest mean distance to it
      among the units nearest in the tree: first those inside the subtree the unit spans, then
      inside its parent's subtree, and so on up to the root (in the plain case, the units of
      the sibling subtree). A merge that would exceed `max_size` is not a candidate; a unit
      with no candidate up to the root stays small.

    The design runs the small units first; here the cut groups are merged first as well, so
    that a small unit that belongs to a group anywhere in the tree joins it rather than a tree
    neighbour (after a regrouping, the tree still has the old shape), then the small units,
    then the cut groups again.

    Bounds: with `rates`, each pair's bound uses the pair's support, the instances in which
    either label is positive, n (p + q) / (2 - d) (a Jaccard distance is a mean over those),
    and a unit pair's bound is the mean over its cross pairs; without, all use n.

    Parameters
    ----------
    nodes
        The tree, as `TreeNode` records (any order); its leaves must partition `labels`.
    labels
        The labels, in the order of the rows of `distances`.
    distances
        Symmetric matrix of distances in [0, 1] between the labels (e.g. Jaccard).
    n
        Number of instances behind the distances (for the Hoeffding bounds).
    rates
        Positive rate of each label (same order as `labels`), if known.
    min_size
        Smallest wanted cluster size (1: no merge in the first phase).
    max_size
        Largest allowed size of a merged cluster (None: no limit). Leaves larger than this
        are left as they are.
    delta
        Confidence of the second phase's test.

    Returns
    -------
    The clusters, ordered by their first label in `labels`. Always disjoint and covering every
    label (asserted).

    Examples
    --------

    >>> import numpy as np
    >>> from streamml.partition.records import TreeNode
    >>> from streamml.partition import refine
    >>> nodes = [
    ...     TreeNode(0, 0, None, frozenset("abcd"), False, (1, 2)),
    ...     TreeNode(1, 1, 0, frozenset("abc"), False, (3, 4)),
    ...     TreeNode(2, 1, 0, frozenset("d"), True),
    ...     TreeNode(3, 2, 1, frozenset("ab"), True),
    ...     TreeNode(4, 2, 1, frozenset("c"), True),
    ... ]
    >>> d = np.array([[0, .2, .22, .9], [.2, 0, .25, .9], [.22, .25, 0, .8], [.9, .9, .8, 0]])
    >>> [sorted(c) for c in refine(nodes, "abcd", d, n=500)]
    [['a', 'b', 'c'], ['d']]
    >>> [sorted(c) for c in refine(nodes, "abcd", d, n=500, min_size=2)]
    [['a', 'b', 'c', 'd']]

    """
    labels = list(labels)
    dist = np.array(distances, dtype=float)
    if dist.shape != (len(labels), len(labels)):
        raise ValueError(f"distances must be {len(labels)} x {len(labels)}, got {dist.shape}")
    if rates is not None:
        rates = np.asarray(rates, dtype=float)
        if rates.shape != (len(labels),):
            raise ValueError(f"rates must have {len(labels)} values, got shape {rates.shape}")
    leaves = _Leaves(nodes, labels, min_size, max_size)
    if leaves.tree is None:
        return []
    np.fill_diagonal(dist, 0.0)
    sums = UnitSums.dense(dist, leaves.unit_of, len(leaves.anchors), n, rates, delta)
    return leaves.merged(sums, min_size, max_size)


def refine_counts(
    nodes: Sequence[TreeNode],
    labels: Sequence,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    positives: np.ndarray,
    rates: np.ndarray,
    n: float,
    *,
    min_size: int = 1,
    max_size: int | None = None,
    delta: float = 0.05,
) -> list[frozenset]:
    """`refine` with the distances given by sparse co-occurrence counts instead of a matrix.

    The result is `refine`'s with the Jaccard distances of these counts and these `rates`
    (up to rounding, and up to the binning of the rates beyond
    `unit_sums.EXACT_UP_TO` labels), at a cost that grows with the labels and the pairs that
    co-occurred, not with the square of the labels.

    Parameters
    ----------
    pairs
        Three arrays: the indices (in `labels`) of the two labels of each pair that co-occurred
        (each pair once), and how often (faded counts, on the scale of `positives`).
    positives
        Positives of each label, on the scale of the pair counts.
    rates
        Positive rate of each label.

    """
    labels = list(labels)
    leaves = _Leaves(nodes, labels, min_size, max_size)
    if leaves.tree is None:
        return []
    a, b, co = (np.asarray(array) for array in pairs)
    sums = UnitSums.sparse(
        leaves.unit_of,
        len(leaves.anchors),
        a,
        b,
        np.asarray(co, dtype=float),
        np.asarray(positives, dtype=float),
        np.asarray(rates, dtype=float),
        n,
        delta,
    )
    return leaves.merged(sums, min_size, max_size)


class _Leaves:
    """The leaves of a label tree as the first units: each label's leaf, each leaf's node."""

    def __init__(self, nodes, labels, min_size, max_size):
        index = {label: i for i, label in enumerate(labels)}
        if len(index) != len(labels):
            raise ValueError("labels must be distinct")
        if min_size < 1 or (max_size is not None and max_size < 1):
            raise ValueError("min_size and max_size must be at least 1")
        self.labels = labels
        self.tree = None
        if not labels and not nodes:
            return
        self.tree = _Tree(nodes)
        unit_of = np.full(len(labels), -1, dtype=np.intp)
        anchors: list[int] = []
        for node in nodes:
            if node.is_leaf:
                for label in node.members:
                    i = index.get(label)
                    if i is None or unit_of[i] >= 0:
                        raise ValueError(f"label {label!r} is unknown or in two leaves")
                    unit_of[i] = len(anchors)
                anchors.append(node.id)
        if (unit_of < 0).any():
            raise ValueError("the leaves do not cover every label")
        self.unit_of, self.anchors = unit_of, anchors

    def merged(self, sums: UnitSums, min_size: int, max_size: int | None) -> list[frozenset]:
        """The merges of `refine` on the leaves' sums: cut groups, small units, cut groups."""
        owner = np.arange(len(self.anchors))  # leaf -> unit
        first = np.full(len(self.anchors), len(self.unit_of))
        np.minimum.at(first, self.unit_of, np.arange(len(self.unit_of)))
        _merge_cut(sums, owner, first, max_size)
        _merge_small(self.tree, sums, owner, list(self.anchors), first, min_size, max_size)
        _merge_cut(sums, owner, first, max_size)
        groups: dict[int, list] = {}
        for i, leaf in enumerate(self.unit_of):
            groups.setdefault(int(owner[leaf]), []).append(self.labels[i])
        partition = [frozenset(group) for group in groups.values()]
        assert sum(map(len, partition)) == len(self.labels), "clusters overlap or miss labels"
        assert frozenset().union(*partition) == frozenset(self.labels), "clusters miss labels"
        return partition


def _merge_small(tree, sums, owner, anchors, first, min_size, max_size) -> None:
    """Phase 1, in place on `sums`, `owner` (leaf -> unit) and `anchors` (unit -> tree node);
    `first` is each unit's first label."""
    if min_size <= 1:
        return
    sizes, alive = sums.sizes, sums.alive
    stuck = np.zeros(len(anchors), dtype=bool)
    while True:
        small = np.flatnonzero(alive & ~stuck & (sizes < min_size))
        if not len(small):
            return
        s = min(small, key=lambda u: (sizes[u], -tree.depth[anchors[u]], first[u]))
        cross = sums.dist[s]
        target, level = -1, anchors[s]
        while True:
            best = None
            for u in np.flatnonzero(alive):
                if u == s or not tree.within(anchors[u], level):
                    continue
                if max_size is not None and sizes[u] + sizes[s] > max_size:
                    continue
                key = (cross[u] / sizes[u], first[u])
                if best is None or key < best[0]:
                    best = (key, u)
            if best is not None:
                target = best[1]
                break
            if level == tree.root:
                break
            level = tree.parent[level]
        if target < 0:
            stuck[s] = True
            continue
        owner[owner == s] = target
        anchors[target] = tree.common(anchors[target], anchors[s])
        first[target] = min(first[target], first[s])
        sums.merge(target, s)
        stuck[:] = False  # a bigger unit may now take a stuck one


def _merge_cut(sums, owner, first, max_size) -> None:
    """Phase 2, in place on `sums`, `owner` (leaf -> unit) and `first` (unit -> its first
    label)."""
    alive, sizes = sums.alive, sums.sizes
    if alive.sum() < 2:
        return
    k = len(sizes)
    cross, bound, assoc = sums.dist, sums.bound, sums.assoc

    def scores(rows):
        """Excess of cross over inside distance of units `rows` against every unit; inf where
        a merge is not allowed."""
        inside = cross.diagonal() / 2.0
        pairs = sizes * (sizes - 1) / 2.0
        both = sizes[rows, None] * sizes[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_inside = (inside[rows, None] + inside[None, :]) / (
                pairs[rows, None] + pairs[None, :]
            )
            excess = cross[rows] / both - mean_inside
            eps = bound[rows] / both
            if assoc is None:
                ok = excess <= eps
            else:  # single labels have no inside distance: association decides alone
                excess = np.where(np.isnan(excess), 0.0, excess)
                ok = (excess <= eps) & (assoc[rows] / both > eps)
        ok &= alive[rows, None] & alive[None, :]
        ok[np.arange(len(rows)), rows] = False
        if max_size is not None:
            ok &= sizes[rows, None] + sizes[None, :] <= max_size
        return np.where(ok, excess, np.inf)

    score = scores(np.arange(k))
    while True:
        best = int(score.argmin())
        i, j = divmod(best, k)
        if not np.isfinite(score[i, j]):
            break
        i, j = min(i, j), max(i, j)
        sums.merge(i, j)
        owner[owner == j] = i
        first[i] = min(first[i], first[j])
        score[j, :] = score[:, j] = np.inf
        row = scores(np.array([i]))[0]
        score[i, :] = score[:, i] = row
