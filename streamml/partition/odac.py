"""LabelODAC: online divisive-agglomerative clustering of the labels of a multi-label stream."""

from __future__ import annotations

import collections
import itertools

import numpy as np
from river import base

from .checks import LeafResult, check_large_leaf, check_small_leaves
from .records import StructureChange, TreeNode
from .sparse import PairDistances
from .split import assign_sparse, assign_to_pivots
from .tree import LabelTree, Node

__all__ = ["LabelODAC"]

# Leaves up to this size are checked together (vectorised over their cells), larger ones alone.
_SMALL = 48


class LabelODAC(base.Base):
    """Online divisive-agglomerative clustering of labels by Jaccard distance.

    A binary tree of label clusters whose leaves partition the labels, grown from the label
    vectors alone (ODAC [^1] adapted to labels [^2]). Every instance updates faded counts of
    positives and of pairs of positive labels: a² cells for a positive labels, never L². Every
    `n_min` instances each leaf with at least `n_min` instances since its creation is tested:

    * split, if (d1 - d2 > eps or tau > eps) and (d1 - d0) |d1 + d0 - 2 avg| > eps, where d1, d2,
      d0 and avg are the largest, second largest, smallest and mean Jaccard distance between
      the leaf's labels and eps = sqrt(ln(1/delta) / (2 n)) is the Hoeffding bound for distances
      of range 1 over the leaf's n instances. The leaf splits on its two farthest labels (the
      pivots); the other labels go to the closer pivot, then `refine_passes` passes move each
      label to the child with the smaller mean distance to its members (pivots fixed; ties go
      to the child with fewer labels);
    * aggregate, if a leaf's d1 exceeds its parent's d1 at split time by more than the larger
      of the two bounds: the parent becomes a leaf again.

    At most one change per check: splits by descending d1 first, then aggregations by
    ascending d1. A new leaf (after a split or an aggregation) starts with fresh statistics.

    Two split tests are added to ODAC's (see `streamml.partition.checks`), both with bounds
    computed from each pair's support (the instances where either label is positive, over
    which a Jaccard distance is a mean) rather than from n, which is far too optimistic for
    rare labels. `gap_test`: the two sides of the pivots are significantly farther apart than
    wide (ODAC's test misses two groups of similar size in one leaf). `split_unrelated`: no
    pair of the leaf is significantly associated, i.e. closer than two independent labels with
    the same rates would be; this is also the only test that splits a two-label cluster (ODAC
    never does), which a regrouping can leave holding two labels that no longer go together.

    Forgetting: counts are faded by `fading` per instance, so the statistics of a leaf are an
    exponentially weighted window of about 1 / (1 - fading) instances since its creation, and
    its n is the faded count. Without fading (`fading=1`), a leaf that is old when the label
    correlations change needs as many new instances as it has seen to reflect them; with
    fading the reaction time is bounded by the window, at the price of a bound eps that never
    falls below sqrt(ln(1/delta) (1 - fading) / 2) (0.055 for the defaults). The default
    window (500 instances) follows a sudden regrouping of 3-5 groups in about 1,000-1,500
    instances; 0.999 took 2,000-3,400 in the same streams. Rare labels see few positives in a
    short window: the pair bounds stay wide, and a leaf of rare labels with no evidence of
    association splits as `unrelated`; streams with many rare labels may want a longer window.

    A label key never seen before joins at once: into the root while the root is still a leaf,
    otherwise as a new leaf, sibling of the old root under a new root (the labels new in one
    instance form one leaf). That new root has no split statistics, so it is never aggregated.

    The refined partition (`refined_partition`, see `streamml.partition.refine`) is separate
    from the tree; `refine_due` says when to recompute it.

    Parameters
    ----------
    n_min
        Instances between two checks, and the minimum number of instances of a leaf before it
        is tested.
    delta
        Confidence of the Hoeffding bounds. Smaller values need more evidence: fewer, later and
        more stable changes; larger ones react faster and split more readily.
    tau
        Tie threshold of the split test (split anyway once eps < tau).
    fading
        Per-instance fading factor of the counts, in (0, 1]; 1 keeps everything.
    refine_passes
        Maximum number of reassignment passes after the pivots of a split.
    window
        Number of recent instances over which the most frequent label-set cardinality (the
        default minimum cluster size of the refinement) is tracked.
    gap_test
        Also split a leaf whose two sides are significantly apart.
    split_unrelated
        Also split a leaf (of two labels or more) in which no pair is associated.
    settle
        Instances after a change during which every check sets `refine_due`; default
        3 / (1 - fading) (the counts then hold less than 5% from before the change), or
        20 n_min without fading.
    refine_every
        `refine_due` is also set every this many instances (default 5 n_min; 0: never).

    Examples
    --------

    >>> from river import datasets
    >>> from streamml.partition import LabelODAC

    >>> odac = LabelODAC()
    >>> for _, y in datasets.Yeast().take(1500):
    ...     odac.learn_one(y)
    >>> odac.n_changes, len(odac.partition)
    (8, 9)
    >>> for cluster in odac.refined_partition(min_size=1):
    ...     print(sorted(cluster, key=lambda label: int(label[5:])))
    ['Class1', 'Class2']
    ['Class3', 'Class4']
    ['Class12', 'Class13']
    ['Class5', 'Class6']
    ['Class7', 'Class8']
    ['Class9']
    ['Class10', 'Class11']
    ['Class14']

    References
    ----------
    [^1]: Rodrigues, P.P., Gama, J. and Pedroso, J., 2008. Hierarchical clustering of
    time-series data streams. IEEE Transactions on Knowledge and Data Engineering, 20(5).
    [^2]: Neves, Lourenço, Cano, Marreiros, 2025. Online hierarchical partitioning of the output
    space in extreme multi-label data streams. ECAI 2025, arXiv:2507.20894.

    """

    def __init__(
        self,
        n_min: int = 100,
        delta: float = 0.05,
        tau: float = 0.1,
        fading: float = 0.998,
        refine_passes: int = 5,
        window: int = 1000,
        gap_test: bool = True,
        split_unrelated: bool = True,
        settle: int | None = None,
        refine_every: int | None = None,
    ):
        if int(n_min) != n_min or n_min < 1:
            raise ValueError(f"n_min must be a positive integer, got {n_min!r}")
        if not 0 < delta < 1:
            raise ValueError(f"delta must be in (0, 1), got {delta!r}")
        if not 0 < fading <= 1:
            raise ValueError(f"fading must be in (0, 1], got {fading!r}")
        if tau < 0 or refine_passes < 0 or window < 1:
            raise ValueError("tau and refine_passes must be >= 0 and window >= 1")
        if (settle is not None and settle < 0) or (refine_every is not None and refine_every < 0):
            raise ValueError("settle and refine_every must be None or >= 0")
        self.n_min = n_min
        self.delta = delta
        self.tau = tau
        self.fading = fading
        self.refine_passes = refine_passes
        self.window = window
        self.gap_test = gap_test
        self.split_unrelated = split_unrelated
        self.settle = settle
        if settle is None:
            settle = round(3.0 / (1.0 - fading)) if fading < 1 else 20 * n_min
        self._settle = settle
        self.refine_every = refine_every
        self._refine_every = 5 * n_min if refine_every is None else refine_every
        self._last_change_at = -(10**18)
        self._refine_due = False

        self._tree = LabelTree(fading)
        self._n = 0
        self._changed = False
        self._n_changes = 0
        self._last_change: StructureChange | None = None
        self._cardinalities: collections.deque = collections.deque(maxlen=window)
        self._partition: list[frozenset] | None = None

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"n_min": 50, "fading": 1.0}

    # ---- learning ---------------------------------------------------------------------------

    def learn_one(self, y: dict) -> None:
        """Update the statistics with one label vector; test the leaves every `n_min` calls.

        Parameters
        ----------
        y
            Label -> bool (truthy means positive). Missing known labels count as negative;
            unknown keys are new labels, whatever their value.

        """
        if not isinstance(y, dict):
            raise TypeError(f"y must be a dict of label -> bool, got {type(y).__name__}")
        positives = list(itertools.compress(y, y.values()))  # raises before any change
        self._changed = self._refine_due = False
        tree = self._tree
        known = tree.known
        if len(y) > len(known) or not known.issuperset(y):
            tree.add_labels([label for label in y if label not in known], self._n)
            self._partition = None
            self._refine_due = True
        self._count(positives)

    def learn_positives(self, positives: list) -> None:
        """`learn_one` for an instance given by its positive labels, all known already (the
        other known labels are negative): it costs the positives, not every label.

        Parameters
        ----------
        positives
            The labels that are positive.

        """
        known = self._tree.known
        if not known.issuperset(positives):
            unknown = [label for label in positives if label not in known]
            raise ValueError(f"unknown labels {unknown!r}: new labels go through learn_one")
        self._changed = self._refine_due = False
        self._count(positives)

    def _count(self, positives: list) -> None:
        tree = self._tree
        tree.count(positives)
        self._cardinalities.append(len(positives))
        self._n += 1
        if self._n % self.n_min == 0:
            self._check()
            if self._n - self._last_change_at <= self._settle:
                self._refine_due = True
        if self._refine_every and self._n % self._refine_every == 0:
            self._refine_due = True

    # ---- the tests --------------------------------------------------------------------------

    def _check(self) -> None:
        tree = self._tree
        due = [
            node
            for node in tree.nodes.values()
            if node.children is None and node.size >= 2 and self._n - node.born >= self.n_min
        ]
        if not due:
            return
        small = [node for node in due if node.size <= _SMALL]
        large = [node for node in due if node.size > _SMALL]
        splits, aggregations = [], []
        cells, groups = self._gather(small, large)
        if small:
            totals = [tree.counts.since_totals(node.id) for node in small]
            checked = check_small_leaves(
                cells,
                [node.size for node in small],
                [since for since, _ in totals],
                [n for _, n in totals],
                self.delta,
                self.tau,
                self.gap_test,
                self.split_unrelated,
            )
            nodes = tree.nodes
            parent_d1 = np.array(
                [nodes[node.parent].d1 if node.parent is not None else None for node in small],
                dtype=float,
            )
            parent_eps = np.array(
                [nodes[node.parent].eps if node.parent is not None else None for node in small],
                dtype=float,
            )
            with np.errstate(invalid="ignore"):
                undo = checked.d1 - parent_d1 > np.maximum(parent_eps, checked.eps)
            for i, node in enumerate(small):
                node.n = float(checked.n[i])
                node.last = (node.n, float(checked.d1[i]), float(checked.eps[i]))
            for i in np.flatnonzero(checked.code):
                splits.append((-float(checked.d1[i]), small[i].id, checked, int(i)))
            for i in np.flatnonzero(undo):
                aggregations.append((float(checked.d1[i]), small[i].id, float(checked.eps[i])))
        for node, pairs in zip(large, groups):
            since, n = tree.counts.since_totals(node.id)
            result = check_large_leaf(
                pairs, since, n, self.delta, self.tau, self.gap_test, self.split_unrelated
            )
            node.n = result.n
            node.last = (result.n, result.d1, result.eps)
            if result.test is not None:
                splits.append((-result.d1, node.id, result, -1))
            parent = tree.nodes[node.parent] if node.parent is not None else None
            if parent is not None and parent.d1 is not None:
                if result.d1 - parent.d1 > max(parent.eps, result.eps):
                    aggregations.append((result.d1, node.id, result.eps))
        if splits:
            _, node_id, result, i = min(splits, key=lambda s: (s[0], s[1]))
            if i >= 0:
                result = result.result(i)
            self._split(tree.nodes[node_id], result)
        elif aggregations:
            d1, node_id, eps = min(aggregations)
            self._aggregate(tree.nodes[node_id], d1, eps)

    def _gather(self, small: list[Node], large: list[Node]) -> tuple:
        """The counts since their creation of the leaves to check: the cells of the small
        leaves end to end (see `check_small_leaves`), and the co-occurring pairs of each large
        leaf (`PairDistances`)."""
        tree = self._tree
        counts = tree.counts
        a, b, co = counts.pairs_since()
        pos = counts.positives_since()
        leaf_of = np.full(counts.size, -1, dtype=np.int64)
        local = np.zeros(counts.size, dtype=np.int64)
        for k, node in enumerate(small + large):
            ids = tree.ids(node)
            leaf_of[ids] = k
            local[ids] = np.arange(node.size)
        la = leaf_of[a]
        inside = np.flatnonzero((la >= 0) & (la == leaf_of[b]))
        la, ia, ib, co = la[inside], local[a[inside]], local[b[inside]], co[inside]

        ks = np.array([node.size for node in small], dtype=np.int64)
        starts = np.r_[0, np.cumsum(ks * ks)[:-1]].astype(np.int64)
        cells = np.zeros(int((ks * ks).sum()))
        mine = la < len(small)
        leaf, i, j = la[mine], ia[mine], ib[mine]
        cells[starts[leaf] + i * ks[leaf] + j] = co[mine]
        cells[starts[leaf] + j * ks[leaf] + i] = co[mine]
        for k, node in enumerate(small):
            ids = tree.ids(node)
            cells[starts[k] + np.arange(node.size) * (node.size + 1)] = pos[ids]

        groups = []
        order = np.argsort(la, kind="stable")
        bounds = np.searchsorted(la[order], np.arange(len(small), len(small) + len(large) + 1))
        for k, node in enumerate(large):
            take = order[bounds[k] : bounds[k + 1]]
            groups.append(
                PairDistances.from_counts(
                    node.size, ia[take], ib[take], co[take], pos[tree.ids(node)]
                )
            )
        return cells, groups

    def _split(self, node: Node, result: LeafResult) -> None:
        if result.pairs is not None:
            side = assign_sparse(result.pairs, *result.pivots, self.refine_passes)
        else:
            side = assign_to_pivots(result.dist, *result.pivots, self.refine_passes)
        left, right = self._tree.split(node, side, self._n)
        node.d1, node.eps = result.d1, result.eps
        parts = (self._tree.members(left), self._tree.members(right))
        self._record("split", node, parts, result.d1, result.eps, result.test)

    def _aggregate(self, leaf: Node, d1: float, eps: float) -> None:
        parent = self._tree.nodes[leaf.parent]
        parts = self._tree.collapse(parent, self._n)
        self._record("aggregate", parent, tuple(parts), d1, eps, "aggregate")

    def _record(self, kind, node, parts, d1, eps, test) -> None:
        self._changed = True
        self._last_change_at = self._n
        self._n_changes += 1
        self._partition = None
        self._last_change = StructureChange(
            self._n - 1, kind, node.id, self._tree.members(node), parts, float(d1), float(eps), test
        )

    # ---- views ------------------------------------------------------------------------------

    @property
    def labels(self) -> list:
        """Every label seen so far, in order of arrival."""
        return list(self._tree.labels)

    @property
    def n_instances(self) -> int:
        return self._n

    @property
    def partition(self) -> list[frozenset]:
        """The leaves of the tree (left to right): disjoint label sets covering every label."""
        if self._partition is None:
            self._partition = [self._tree.members(leaf) for leaf in self._tree.leaves()]
        return list(self._partition)

    @property
    def structure_changed(self) -> bool:
        """Whether the last `learn_one` split or aggregated a node."""
        return self._changed

    @property
    def refine_due(self) -> bool:
        """Whether the refined partition may have changed with the last `learn_one`.

        True when the structure changed or new labels arrived; at every check (every `n_min`
        instances) during the `settle` instances that follow a change (the leaves are new but
        the faded counts that the refinement uses still carry the old correlations for a
        while, so the refined partition keeps moving after the tree has settled); and every
        `refine_every` instances, because correlations *between* leaves can change while every
        leaf stays as it is (say, a return to an earlier grouping whose groups are unions of
        the current leaves), which no leaf test can see.
        """
        return self._refine_due

    @property
    def n_changes(self) -> int:
        """Number of splits and aggregations so far."""
        return self._n_changes

    @property
    def last_change(self) -> StructureChange | None:
        """The most recent split or aggregation, None before the first."""
        return self._last_change

    @property
    def cardinality_mode(self) -> int:
        """Most frequent number of positive labels over the last `window` instances (0 if none).

        Ties go to the smaller cardinality.
        """
        if not self._cardinalities:
            return 0
        counts = collections.Counter(self._cardinalities)
        return min(counts, key=lambda c: (-counts[c], c))

    def tree(self) -> list[TreeNode]:
        """The nodes as records, depth first, left child first."""
        return self._tree.view()

    @property
    def nodes(self) -> list[TreeNode]:
        """Same as `tree()`."""
        return self.tree()

    def distances(self) -> tuple[list, np.ndarray]:
        """The labels and the Jaccard distances between them over all (faded) instances (a
        dense matrix of the square of the labels)."""
        return self._tree.labels_by_position(), self._tree.counts.distances(self._tree.order)

    @property
    def n_effective(self) -> float:
        """Faded number of instances behind `distances()`."""
        return self._tree.counts.n

    def refined_partition(
        self, min_size: int | None = None, max_size: int | None = None, delta: float | None = None
    ) -> list[frozenset]:
        """The leaves merged into a valid partition by `streamml.partition.refine` (from the
        sparse counts: `partition.refine_counts`).

        Parameters
        ----------
        min_size
            Clusters smaller than this are merged along the tree; default
            max(1, `cardinality_mode`).
        max_size
            No merge makes a cluster larger than this (None: no limit).
        delta
            Confidence of the merge test (default: the partitioner's `delta`).

        """
        from .refine import refine_counts

        if min_size is None:
            min_size = max(1, self.cardinality_mode)
        tree = self._tree
        counts = tree.counts
        a, b, co = counts.pairs()
        # Everything by position (the order of `distances()`), as the tree's nodes list them.
        return refine_counts(
            self.tree(),
            tree.labels_by_position(),
            (tree.pos[a], tree.pos[b], co),
            counts.positives()[tree.order],
            counts.rates()[tree.order],
            self.n_effective,
            min_size=min_size,
            max_size=max_size,
            delta=self.delta if delta is None else delta,
        )

    def summary(self, max_labels: int = 8) -> str:
        """An indented text view of the tree: node ids, sizes, n, d1 and eps, leaf labels."""
        from .text import render_tree

        head = (
            f"LabelODAC: {len(self._tree.labels)} labels, {len(self._tree.leaves())} leaves, "
            f"{self._n} instances, {self._n_changes} changes"
        )
        return render_tree(head, self.tree(), max_labels)
