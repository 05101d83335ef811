"""MLHAT: a fast multi-label Hoeffding adaptive tree."""

from __future__ import annotations

import collections
import copy
import math

import numpy as np
from river import base, drift

from ..events import DriftEvent
from .encoded import EncodedLearner
from .features import EncodedInstance
from .leaves import BaggedLogisticRegression, KNNWindow, Standardiser
from .nodes import Branch, Leaf, alternate_verdict, iter_nodes, split_test
from .watch import SplitWatch

__all__ = ["MLHAT"]

_CACHE = ("_last_x", "_last_x_copy", "_last_v", "_cache_v", "_cache_version", "_cache_proba")


class MLHAT(EncodedLearner, base.MultiLabelClassifier):
    """Multi-label Hoeffding adaptive tree, vectorised with numpy.

    A Hoeffding tree over the features whose leaves predict all the labels at once [^1]:

    - **Splits.** Each leaf keeps, for every label, the "empty label set" pseudo-label and all
      the instances ("total"), a Gaussian estimator of every feature, with a point mass at zero
      so that sparse features cost their non-zeros only. Every `grace_period` instances, the
      multi-label information gain (the sum of the binary entropies of the labels and of the
      empty pseudo-label, parent minus weighted children) of `n_split_points` thresholds per
      feature is computed with a few array operations, and the leaf splits when the best
      feature beats the second by the Hoeffding bound with range log2(number of label sets
      seen at the leaf), or when the bound falls below `tie_threshold`.
    - **Leaf models.** A leaf that has seen a single label set predicts it; otherwise it mixes
      a label-powerset kNN over its `knn_window` most recent instances and binary relevance of
      `n_bags` online-bagged logistic regressions per label: an exponentially weighted
      forecaster with forgetting on the log of the losses, each model weighing its recent Brier
      score to the power -`mixing_rate` (the Brier score is the sum over the labels of the
      squared error of its probabilities, averaged over the last hundred or so instances,
      measured before learning each). Only the ratio of the two scores matters, so the mixture
      is as sharp on a stream with many labels or a high cardinality (large scores) as on one
      with few (small scores). The weights follow whichever model currently predicts better,
      so a leaf needs no fixed rule for when the logistic regressions are ready. With
      `mixing_rate=None`, the rule of the MLHAT paper instead: the kNN below
      `cardinality_threshold` instances or `entropy_threshold` bits of label entropy, the
      logistic regressions otherwise. Both models see the inputs
      standardised online inside the leaf (dense features centred and scaled, sparse ones
      scaled only, so features in the thousands do no harm and zeros stay free). The kNN
      (k = `knn_neighbours`, weights 1 / cosine distance) votes with its whole window or,
      when that has predicted better recently, with its `knn_recent_window` latest instances
      (streams are often ordered). The logistic
      regressions are one weight tensor, updated every `batch_size` instances (intercepts at
      every instance); their bags form groups with their own `learning_rates` and
      `bias_learning_rates` (by default a slow group, which predicts with the moving average of
      its weights on dense data, and a fast group whose intercepts follow a change of the label
      frequencies), and each label is predicted by the group with the lower recent log-loss.
      When a leaf splits, its children start from its kNN window (each keeps the instances on
      its side of the test), its standardisation and copies of its logistic regressions.
    - **Drift.** Every branch has an ADWIN on the per-instance Hamming loss of its subtree. On a
      detected increase, an alternate subtree grows from a fresh leaf on the same instances;
      once it has seen `drift_window` instances, the two are compared on the instances both
      have predicted, with a Hoeffding-style test at level `switch_significance`: the
      alternate replaces the subtree if it is significantly better, is dropped if it is
      significantly worse, and is dropped anyway if undecided after ten times `drift_window`.
      While it lives, a mature alternate also votes in the predictions, each vote weighted by
      the inverse squared loss of its subtree.

    The feature vector of an instance is built once (`FeatureIndex`). A caller driving many
    learners (such as IHOMER) encodes each instance once with a shared index and calls
    `learn_encoded` / `predict_proba_encoded` on every learner. Features are numbers, or
    strings for nominal values (one column per value); a missing key, `None` or NaN means 0.
    Labels: the learner knows the labels it has seen as keys of `y`; a new key is a new label,
    and a known label missing from `y` counts as False. Predictions cover every known label.

    Parameters
    ----------
    grace_period
        Instances a leaf receives between two split attempts.
    split_delta
        Probability of error of a split decision (delta of the Hoeffding bound).
    tie_threshold
        Bound below which the best split is taken even if the runner-up is close.
    n_split_points
        Candidate thresholds per numeric feature.
    min_branch_fraction
        Smallest share of the leaf's instances a child may receive.
    max_wait
        After a rejected split attempt, a leaf waits until the Hoeffding bound could fall
        below the lead of its best split over the runner-up (the weight that takes is known
        from the bound), but at least `grace_period` and at most `max_wait` times
        `grace_period` instances. 1: an attempt every `grace_period`, as in the paper; the
        default skips most of the attempts that cannot succeed, which on many labels and
        features cost more than learning the instances.
    max_depth
        Leaves at this depth do not split (`None`: no limit).
    max_leaves
        Leaves stop splitting once the main tree has this many leaves (`None`: no limit).
        Bounds the memory of the tree.
    cardinality_threshold
        Leaves with fewer instances use the kNN (only when `mixing_rate` is None).
    entropy_threshold
        Leaves whose label entropy (bits, summed over labels) is below this use the kNN (only
        when `mixing_rate` is None).
    knn_neighbours
        Neighbours of the label-powerset kNN.
    knn_window
        Recent instances kept by the kNN of each leaf. Memory: a leaf holds its instances'
        standardised features in single precision (4 bytes x features x instances kept),
        allocated as they arrive. A long window serves stationary concepts and rare labels,
        whose few examples a short one forgets; the recent part of the window
        (`knn_recent_window`) serves a change.
    knn_recent_window
        Size of the most recent part of the window that votes alone when it has predicted
        better recently (0: always the whole window).
    knn_memory
        MiB of features a leaf's kNN window may hold, about (single precision; up to a tenth
        more as features appear): on many features it keeps fewer than `knn_window` instances
        (16 MiB: all 2,000 up to 2,097 features, about 330 on 12,689), never fewer than 128.
        None: no limit.
    n_bags
        Bagged logistic regressions per label.
    mixing_rate
        How sharply a leaf's mixture of its kNN and logistic regressions follows their recent
        Brier scores: each model weighs its recent Brier score to the power -mixing_rate,
        so the kNN weighs 1 / (1 + (its score / that of the logistic regressions) **
        mixing_rate). `None`: no mixture, a leaf uses one model by the rule of
        `cardinality_threshold` and `entropy_threshold`.
    learning_rates
        Learning rates of the weights of the logistic regressions, one per group of bags; each
        step is divided by the number of non-zero inputs, so a rate is the change of the
        margin one instance can cause, whatever the number of features.
    bias_learning_rates
        Learning rates of the intercepts, one per group.
    batch_size
        Instances per update of the weights of the logistic regressions (and of the
        standardisation).
    drift_delta
        Confidence of the ADWIN of each branch.
    drift_window
        Instances an alternate subtree sees before it is compared and votes.
    switch_significance
        Significance level of the comparison of an alternate subtree with the main subtree.
    seed
        Seed of the Poisson weights of the bagging.

    Notes
    -----
    The defaults were tuned on the yeast, emotions, scene, medical and slashdot streams
    (full stream, file order, test-then-train), then checked on the other streams of the
    project, see `benchmarks/mlhat_speed.py`. On these streams, at their sizes, the Hoeffding
    bound with range log2(number of label sets) rarely lets the root split: the tree is then a
    single leaf and its models do the work.

    Speed: everything is a handful of numpy calls per instance, so limit BLAS to one thread
    (`OPENBLAS_NUM_THREADS=1` or `threadpoolctl`); its threads only contend on such small
    matrices.

    Examples
    --------

    >>> from river import datasets
    >>> from streamml.evaluate import prequential
    >>> from streamml.learners import MLHAT

    >>> result = prequential(MLHAT(seed=42), datasets.Yeast().take(600))
    >>> print(f"{result.subset_accuracy:.3f} {result.micro_f1:.3f}")
    0.127 0.594

    References
    ----------
    [^1]: Esteban, A., Cano, A., Zafra, A. and Ventura, S., 2024. Hoeffding adaptive trees for
    multi-label classification on data streams. Knowledge-Based Systems, 304, p.112561.

    """

    def __init__(
        self,
        grace_period: int = 200,
        split_delta: float = 1e-7,
        tie_threshold: float = 0.05,
        n_split_points: int = 10,
        min_branch_fraction: float = 0.01,
        max_wait: int = 10,
        max_depth: int | None = None,
        max_leaves: int | None = None,
        cardinality_threshold: int = 750,
        entropy_threshold: float = 0.3,
        knn_neighbours: int = 4,
        knn_window: int = 2000,
        knn_recent_window: int = 20,
        knn_memory: float | None = 16.0,
        n_bags: int = 10,
        mixing_rate: float | None = 10.0,
        learning_rates: tuple[float, ...] = (0.5, 2.0),
        bias_learning_rates: tuple[float, ...] = (0.01, 2.0),
        batch_size: int = 8,
        drift_delta: float = 0.002,
        drift_window: int = 200,
        switch_significance: float = 0.05,
        seed: int | None = None,
    ):
        self.grace_period = grace_period
        self.split_delta = split_delta
        self.tie_threshold = tie_threshold
        self.n_split_points = n_split_points
        self.min_branch_fraction = min_branch_fraction
        self.max_wait = max_wait
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.cardinality_threshold = cardinality_threshold
        self.entropy_threshold = entropy_threshold
        self.knn_neighbours = knn_neighbours
        self.knn_window = knn_window
        self.knn_recent_window = knn_recent_window
        self.knn_memory = knn_memory
        self.n_bags = n_bags
        self.mixing_rate = mixing_rate
        self.learning_rates = learning_rates
        self.bias_learning_rates = bias_learning_rates
        self.batch_size = batch_size
        self.drift_delta = drift_delta
        self.drift_window = drift_window
        self.switch_significance = switch_significance
        self.seed = seed
        self._check_params()

        self._reset_encoding()
        self._rng = np.random.default_rng(seed)
        self._root: Leaf | Branch = self._new_leaf(0, 1)
        self._n = 0  # instances learnt
        self._version = 0  # changes whenever the model learns
        self._n_leaves = 1
        self._n_splits = 0
        self._n_alternates = 0
        self._n_switches = 0
        self._n_prunes = 0
        self._events: collections.deque[DriftEvent] = collections.deque(maxlen=1000)
        self._reset_cache()

    def _check_params(self):
        positive_ints = ("grace_period", "max_wait", "n_split_points", "knn_neighbours")
        positive_ints += ("knn_window",)
        positive_ints += ("n_bags", "batch_size", "drift_window")
        for name in positive_ints:
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("split_delta", "switch_significance", "drift_delta"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must be in (0, 1), got {getattr(self, name)!r}")
        if not isinstance(self.knn_recent_window, int | np.integer) or self.knn_recent_window < 0:
            raise ValueError("knn_recent_window must be a non-negative integer")
        if not 0 <= self.min_branch_fraction < 0.5:
            raise ValueError("min_branch_fraction must be in [0, 0.5)")
        rates = (self.learning_rates, self.bias_learning_rates)
        if len(rates[0]) != len(rates[1]) or not 1 <= len(rates[0]) <= self.n_bags:
            raise ValueError("learning_rates and bias_learning_rates need one rate per group")
        if min(rates[0]) <= 0 or min(rates[1]) < 0:
            raise ValueError("learning rates must be positive")
        if self.mixing_rate is not None and not (
            isinstance(self.mixing_rate, int | float | np.number)
            and 0 <= self.mixing_rate < math.inf
        ):
            raise ValueError("mixing_rate must be None or a finite non-negative number")
        if self.knn_memory is not None and not (
            isinstance(self.knn_memory, int | float | np.number)
            and not isinstance(self.knn_memory, bool)
            and 0 < self.knn_memory < math.inf
        ):
            raise ValueError(f"knn_memory must be None or a number > 0, got {self.knn_memory!r}")
        if self.max_leaves is not None and self.max_leaves < 1:
            raise ValueError("max_leaves must be None or at least 1")

    @classmethod
    def _unit_test_params(cls):
        yield {"grace_period": 50, "tie_threshold": 0.5, "seed": 1}
        yield {
            "grace_period": 20,
            "knn_window": 30,
            "cardinality_threshold": 40,
            "mixing_rate": None,
            "seed": 2,
        }

    # ------------------------------------------------------------------ state helpers

    def _reset_cache(self):
        self._forget_last()
        self._cache_v: EncodedInstance | None = None
        self._cache_version = -1
        self._cache_proba: dict = {}

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in _CACHE:
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        state.setdefault("knn_memory", None)  # pickled before it: its windows have no limit
        self.__dict__.update(state)
        self._reset_cache()

    def _new_leaf(self, depth: int, n_features: int) -> Leaf:
        n_labels = len(self._labels)
        knn = KNNWindow(
            n_features,
            n_labels,
            self.knn_window,
            self.knn_neighbours,
            self.knn_recent_window,
            max_cells=None if self.knn_memory is None else int(self.knn_memory * 2**20 / 4),
        )
        lr = BaggedLogisticRegression(
            n_features,
            n_labels,
            self.n_bags,
            self.learning_rates,
            self.bias_learning_rates,
            self.batch_size,
            self._rng,
        )
        std = Standardiser(n_features)
        return Leaf(depth, std, knn, lr, n_labels, mixing_rate=self.mixing_rate)

    @property
    def drift_events(self) -> list[DriftEvent]:
        """The latest (up to 1000) drift events of the tree, oldest first."""
        return list(self._events)

    @property
    def n_leaves(self) -> int:
        return sum(1 for node in iter_nodes(self._root, alternates=False) if type(node) is Leaf)

    @property
    def n_nodes(self) -> int:
        return sum(1 for _ in iter_nodes(self._root, alternates=False))

    @property
    def height(self) -> int:
        return max(node.depth for node in iter_nodes(self._root, alternates=False))

    @property
    def summary(self) -> dict:
        """Counts describing the tree and its history."""
        alternates = sum(
            1
            for node in iter_nodes(self._root, alternates=False)
            if type(node) is Branch and node.alt is not None
        )
        return {
            "n_instances": self._n,
            "n_labels": len(self._labels),
            "n_features": len(self._index),
            "n_nodes": self.n_nodes,
            "n_leaves": self.n_leaves,
            "height": self.height,
            "n_splits": self._n_splits,
            "n_alternates_created": self._n_alternates,
            "n_alternates_switched": self._n_switches,
            "n_alternates_pruned": self._n_prunes,
            "n_current_alternates": alternates,
        }

    # ------------------------------------------------------------------ encoding

    # ------------------------------------------------------------------ prediction

    def _leaf_proba(self, leaf: Leaf, v: EncodedInstance, n_labels: int) -> np.ndarray:
        """A leaf's prediction, cached until the model learns (test-then-train asks twice)."""
        if self._cache_v is not v or self._cache_version != self._version:
            self._cache_v, self._cache_version, self._cache_proba = v, self._version, {}
        proba = self._cache_proba.get(leaf)
        if proba is None or len(proba) != n_labels:
            proba = self._cache_proba[leaf] = leaf.predict(v, n_labels)
        return proba

    def _proba(self, v: EncodedInstance) -> np.ndarray:
        n_labels = len(self._labels)
        node = self._root
        if type(node) is Leaf:
            return self._leaf_proba(node, v, n_labels)
        xd, width = v.dense(), v.width
        votes = []
        while type(node) is Branch:
            if node.alt is not None and node.alt_n >= self.drift_window:
                alt = node.alt
                while type(alt) is Branch:
                    alt = alt.child(xd, width)
                votes.append((alt, node.alt_loss / node.alt_n, node.main_loss / node.alt_n))
            node = node.child(xd, width)
        proba = self._leaf_proba(node, v, n_labels)
        if not votes:
            return proba
        main_weight = 1.0 / max(votes[-1][2], 1e-3) ** 2
        total = proba * main_weight
        weight = main_weight
        for alt, alt_loss, _ in votes:
            w = 1.0 / max(alt_loss, 1e-3) ** 2
            total = total + w * self._leaf_proba(alt, v, n_labels)
            weight += w
        return total / weight

    def predict_proba_vector(self, v: EncodedInstance) -> np.ndarray:
        """P(label is True) of every known label, in the order of `labels`, as a read-only
        array, for an instance encoded by the caller."""
        if not self._labels:
            return np.zeros(0)
        return self._proba(v)

    # ------------------------------------------------------------------ sharing

    def split_watch(self, n_labels: int) -> SplitWatch:
        """The split test of a root leaf of this learner on `n_labels` labels (see
        `SplitWatch`), with this learner's split parameters."""
        return SplitWatch(
            n_labels,
            self.grace_period,
            self.n_split_points,
            self.min_branch_fraction,
            self.split_delta,
            self.tie_threshold,
            self.max_wait,
        )

    def restricted(self, labels, seed: int | None = None, split: tuple | None = None) -> MLHAT:
        """A learner for some of the labels that starts where this one is.

        Its tree has the same branches; every leaf keeps its standardisation, its kNN window
        and its logistic regressions for `labels` only (the label sets keep only those
        labels), so it predicts these labels exactly as this learner does until the two
        learn apart. Split statistics and drift detectors restart, alternate subtrees are
        dropped (both measured all the labels). With `split` (feature, threshold, gain), a
        root that is a leaf is split at once, as `SplitWatch` decided.

        Parameters
        ----------
        labels
            Labels known to this learner, in the order the new learner will use.
        seed
            Seed of the new learner (its parameters are otherwise this learner's).
        split
            A split of the root leaf, from `SplitWatch.learn`.

        """
        labels = list(labels)
        unknown = [label for label in labels if label not in self._label_index]
        if unknown:
            raise ValueError(f"unknown labels: {unknown[:5]!r}")
        cols = np.fromiter(
            (self._label_index[label] for label in labels), dtype=np.int64, count=len(labels)
        )
        new = self.clone({"seed": seed})
        new._index = copy.deepcopy(self._index)
        new._labels = labels
        new._label_index = {label: i for i, label in enumerate(labels)}
        new._root = self._restricted_node(self._root, cols, new)
        new._n = self._n
        if split is not None and type(new._root) is Leaf:
            feature, threshold, merit = split
            leaf = new._root
            leaf.flush_std()
            left, right = leaf.split(feature, threshold, new._rng)
            adwin = drift.ADWIN(delta=new.drift_delta)
            new._root = Branch(feature, threshold, left, right, 0, adwin, merit)
            new._n_splits += 1
        new._n_leaves = new.n_leaves
        return new

    def _restricted_node(self, node, cols: np.ndarray, new: MLHAT):
        if type(node) is Leaf:
            return node.restricted(cols, new._rng, new)
        adwin = None if node.adwin is None else drift.ADWIN(delta=new.drift_delta)
        left = self._restricted_node(node.left, cols, new)
        right = self._restricted_node(node.right, cols, new)
        return Branch(node.feature, node.threshold, left, right, node.depth, adwin, node.merit)

    def learn_encoded(self, v: EncodedInstance, y: dict) -> None:
        """Learn from an instance encoded by the caller (with this learner's index or another)."""
        positives = self._positives(y)
        n_labels = len(self._labels)
        ybin = np.zeros(n_labels, dtype=np.float32)
        if positives:
            ybin[positives] = 1.0
        target = (positives, tuple(positives), ybin)
        node = self._root
        if type(node) is Leaf:
            self._learn_leaf(node, v, target, n_labels, self, "_root", False)
        else:
            self._learn_path(v, target, n_labels)
        self._n += 1
        self._version += 1

    def _learn_path(self, v, target, n_labels):
        xd, width = v.dense(), v.width
        path = []
        node = self._root
        while type(node) is Branch:
            path.append(node)
            node = node.child(xd, width)
        leaf = node
        ybin = target[2]
        loss = _hamming(self._leaf_proba(leaf, v, n_labels), ybin)
        for i, branch in enumerate(path):
            estimate = branch.adwin.estimation
            branch.adwin.update(loss)
            if (
                branch.adwin.drift_detected
                and branch.alt is None
                and branch.adwin.estimation > estimate
            ):
                branch.alt = self._new_leaf(branch.depth, width)
                branch.alt_n, branch.alt_loss, branch.main_loss = 0, 0.0, 0.0
                self._n_alternates += 1
                self._record("MLHAT.ADWIN")
            if branch.alt is None:
                continue
            alt = branch.alt
            alt_parent, alt_side = branch, "alt"
            while type(alt) is Branch:
                alt_parent, alt_side = (
                    alt,
                    ("left" if alt.child(xd, width) is alt.left else "right"),
                )
                alt = getattr(alt_parent, alt_side)
            branch.alt_loss += _hamming(self._leaf_proba(alt, v, n_labels), ybin)
            branch.main_loss += loss
            branch.alt_n += 1
            self._learn_leaf(alt, v, target, n_labels, alt_parent, alt_side, True)
            if branch.alt_n >= self.drift_window and self._compare(branch, path, i):
                return
        parent = path[-1]
        side = "left" if parent.left is leaf else "right"
        self._learn_leaf(leaf, v, target, n_labels, parent, side, False)

    def _compare(self, branch: Branch, path: list, i: int) -> bool:
        """Switch to or drop the alternate subtree if the test decides; True if switched."""
        verdict = alternate_verdict(branch, self.switch_significance, 10 * self.drift_window)
        if verdict == "switch":
            new = branch.alt
            for node in iter_nodes(new):
                if type(node) is Branch:
                    node.adwin = drift.ADWIN(delta=self.drift_delta)
            if i == 0:
                self._root = new
            elif path[i - 1].left is branch:
                path[i - 1].left = new
            else:
                path[i - 1].right = new
            self._n_switches += 1
            self._n_leaves = self.n_leaves
            self._record("MLHAT.switch")
            return True
        if verdict == "prune":
            branch.alt = None
            self._n_prunes += 1
            self._record("MLHAT.prune")
        return False

    def _learn_leaf(self, leaf, v, target, n_labels, parent, side, background):
        if v.width > leaf.knn._x.shape[0] or n_labels > len(leaf.pos):
            leaf.grow(v.width, n_labels)
        leaf.learn(v, target, self)
        wait = leaf.wait or self.grace_period
        if leaf.pending is not None and leaf.n - leaf.last_attempt >= wait:
            self._attempt_split(leaf, parent, side, background)

    def _attempt_split(self, leaf: Leaf, parent, side: str, background: bool):
        leaf.last_attempt = leaf.n
        stats = leaf.flush(leaf.knn._x.shape[0], len(self._labels))
        if len(leaf.labelsets) <= 1:
            return
        if (self.max_depth is not None and leaf.depth >= self.max_depth) or (
            not background and self.max_leaves is not None and self._n_leaves >= self.max_leaves
        ):
            leaf.deactivate()
            return
        decision, needed = split_test(
            stats,
            len(leaf.labelsets),
            self.n_split_points,
            self.min_branch_fraction,
            self.split_delta,
            self.tie_threshold,
        )
        if decision is None:
            grace = self.grace_period
            leaf.wait = int(min(max(needed - stats.weight, grace), self.max_wait * grace))
            return
        best, threshold, merit = decision
        left, right = leaf.split(best, threshold, self._rng)
        adwin = None if background else drift.ADWIN(delta=self.drift_delta)
        branch = Branch(best, threshold, left, right, leaf.depth, adwin, merit)
        setattr(parent, side, branch)
        self._n_splits += 1
        if not background:
            self._n_leaves += 1

    def _record(self, detector: str):
        self._events.append(DriftEvent(self._n, "tree", tuple(self._labels), detector))


def _hamming(proba: np.ndarray, ybin: np.ndarray) -> float:
    n = len(ybin)
    if n == 0:
        return 0.0
    return np.count_nonzero((proba > 0.5) != ybin) / n
