"""Nodes of the multi-label Hoeffding adaptive tree: leaves with their models, and branches."""

from __future__ import annotations

import math

import numpy as np
from river import drift

from ..bounds import hoeffding_bound
from .gaussian import SplitStatistics, multilabel_entropy
from .leaves import BaggedLogisticRegression, KNNWindow, Standardiser
from .mixing import pair_weight

__all__ = [
    "Leaf",
    "Branch",
    "EMPTY",
    "PURE",
    "KNN",
    "LR",
    "split_test",
    "alternate_verdict",
]

#: Leaf models: nothing learnt yet, majority label set, label-powerset kNN, logistic regressions.
EMPTY, PURE, KNN, LR = "empty", "majority", "knn", "logistic"

#: Weight of the latest instance in the recent Brier scores of the mixed leaf models.
MIXING_DECAY = 0.01


class Leaf:
    """A leaf: label statistics, split statistics and the leaf models.

    Parameters
    ----------
    depth
        Depth in the tree (the root is 0).
    std
        The standardisation of the inputs of the kNN and of the logistic regressions.
    knn
        The label-powerset kNN (possibly inherited from the parent, restricted to this side).
    lr
        The bagged logistic regressions (possibly a copy of the parent's).
    n_labels
        Number of labels.
    labelsets
        Label sets already known for this leaf (e.g. those of the inherited kNN window).
    std_pending
        Instances not yet added to the standardisation (inherited from the parent).
    mixing_rate
        `None`: the leaf predicts with the kNN or with the logistic regressions, as `mode`
        says. A number: once it has seen two label sets, the leaf predicts with a mixture of
        both, each model weighing its recent Brier score to the power -mixing_rate, i.e.
        exp(-mixing_rate * log of its recent Brier score) (an exponentially weighted forecaster
        with forgetting on the log of the scores; the Brier score of an instance is the sum over
        the labels of the squared difference of probability and truth, averaged with weight
        `MIXING_DECAY` for the latest instance, measured before learning it). The weights
        depend on the ratio of the two scores only, not on their scale (number of labels, label
        cardinality, how hard the stream is).
    mixing_loss
        Initial recent Brier scores of the kNN and of the logistic regressions (inherited).

    """

    __slots__ = (
        "depth",
        "n",
        "pos",
        "n_empty",
        "labelsets",
        "majority",
        "majority_count",
        "stats",
        "pending",
        "last_attempt",
        "wait",
        "std",
        "std_pending",
        "knn",
        "lr",
        "mode",
        "mixing_rate",
        "mixing_loss",
        "_majority_proba",
        "_memo",
    )

    def __init__(
        self,
        depth: int,
        std: Standardiser,
        knn: KNNWindow,
        lr: BaggedLogisticRegression,
        n_labels: int,
        labelsets: dict | None = None,
        std_pending: list | None = None,
        mixing_rate: float | None = None,
        mixing_loss: np.ndarray | None = None,
    ):
        self.depth = depth
        self.n = 0
        self.pos = np.zeros(n_labels)
        self.n_empty = 0
        self.labelsets: dict[tuple[int, ...], int] = labelsets or {}
        self.majority: tuple[int, ...] = ()
        self.majority_count = 0
        for key, count in self.labelsets.items():
            if count > self.majority_count:
                self.majority, self.majority_count = key, count
        self.stats: SplitStatistics | None = SplitStatistics(n_labels, 0)
        self.pending: list | None = []
        self.last_attempt = 0
        self.wait = 0  # instances from the last split attempt to the next (0: grace period)
        self.std = std
        self.std_pending: list = std_pending or []
        self.knn = knn
        self.lr = lr
        self.mixing_rate = mixing_rate
        self.mixing_loss = np.zeros(2) if mixing_loss is None else mixing_loss.copy()
        self._majority_proba: np.ndarray | None = None
        self._memo: list | None = None
        self.mode = EMPTY
        self._choose_model(cardinality_threshold=1, entropy_threshold=0.0, force=True)

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__ if name != "_memo"}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)
        self._memo = None

    @property
    def active(self) -> bool:
        """Whether the leaf may still split."""
        return self.stats is not None

    def deactivate(self):
        self.stats = None
        self.pending = None

    def grow(self, n_features: int, n_labels: int):
        if n_labels > len(self.pos):
            self.pos = np.concatenate([self.pos, np.zeros(n_labels - len(self.pos))])
            self._majority_proba = None
        self.std.grow(n_features)
        self.knn.grow(n_features, n_labels)
        self.lr.grow(n_features, n_labels)
        self._memo = None

    def _choose_model(self, cardinality_threshold: int, entropy_threshold: float, force: bool):
        if len(self.labelsets) == 1:
            self.mode = PURE
        elif not self.labelsets:
            self.mode = EMPTY
        elif self.n < cardinality_threshold:
            self.mode = KNN
        elif force or self.mode != LR and self.mode != KNN or not self.n & 15:
            counts = np.append(self.pos, self.n_empty)
            low = multilabel_entropy(counts, self.n) < entropy_threshold
            self.mode = KNN if low else LR

    def _prepare(self, v) -> list:
        """The standardised instance and what is computed from it, until the leaf learns.

        [instance, n, columns, values, full, kNN and LR probabilities (mixture), kNN votes,
        LR probabilities by group]
        """
        memo = self._memo
        # Keyed by the instance object (kept alive by the memo): dense instances share one
        # `indices` array, so the indices alone do not identify an instance.
        if memo is not None and memo[0] is v and memo[1] == self.n:
            return memo
        u, z, full = self.std.transform(v.indices, v.values, v.full)
        memo = self._memo = [v, self.n, u, z, full, None, None, None]
        return memo

    def _votes(self, memo: list):
        if memo[6] is None:
            memo[6] = self.knn.votes(memo[2], memo[3], memo[4], cosine=True)
        return memo[6]

    def _forward(self, memo: list) -> tuple:
        if memo[7] is None:
            memo[7] = self.lr.forward(memo[2], memo[3], memo[4])
        return memo[7]

    def predict(self, v, n_labels: int) -> np.ndarray:
        """Probability that each label is positive, from the model chosen for this leaf."""
        mode = self.mode
        if mode == PURE:
            proba = self._majority_proba
            if proba is None or len(proba) != n_labels:
                proba = np.zeros(n_labels)
                proba[list(self.majority)] = 1.0
                self._majority_proba = proba
            return proba
        if self.mixing_rate is not None and (mode == KNN or mode == LR):
            return self._mixture(self._prepare(v), n_labels)
        if mode == KNN:
            knn = self.knn
            if not len(knn):
                return np.zeros(n_labels)
            return knn.predict(self._votes(self._prepare(v)), n_labels)
        if mode == LR or self.lr.n_learnt:
            return self._lr_proba(self._prepare(v), n_labels)
        return np.zeros(n_labels)

    def _lr_proba(self, memo: list, n_labels: int) -> np.ndarray:
        proba = self.lr.predict(self._forward(memo))
        if len(proba) < n_labels:
            proba = np.concatenate([proba, np.zeros(n_labels - len(proba))])
        return proba[:n_labels]

    @property
    def knn_weight(self) -> float:
        """Weight of the kNN in the mixture (that of the logistic regressions is 1 minus it)."""
        if self.mixing_rate is None:
            return float(self.mode == KNN)
        knn, lr = self.mixing_loss.tolist()
        return pair_weight(knn, lr, self.mixing_rate)

    def _components(self, memo: list, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
        """The probabilities of the kNN and of the logistic regressions (kept in the memo)."""
        both = memo[5]
        if both is None or len(both[0]) != n_labels:
            knn = self.knn.predict(self._votes(memo), n_labels)
            both = memo[5] = (knn, self._lr_proba(memo, n_labels))
        return both

    def _mixture(self, memo: list, n_labels: int) -> np.ndarray:
        knn, lr = self._components(memo, n_labels)
        w = self.knn_weight
        return w * knn + (1.0 - w) * lr

    def _track_mixture(self, memo: list, ybin: np.ndarray):
        """Update the recent Brier scores of both models with the true label set."""
        knn, lr = self._components(memo, len(ybin))
        knn, lr = knn - ybin, lr - ybin
        loss = self.mixing_loss
        loss[0] += MIXING_DECAY * (float(knn @ knn) - loss[0])
        loss[1] += MIXING_DECAY * (float(lr @ lr) - loss[1])

    def learn(self, v, target: tuple, tree) -> None:
        """Learn an instance; `target` is (positive label indices, their tuple, 0/1 vector)."""
        positives, key, ybin = target
        memo = self._prepare(v)
        u, z, full = memo[2], memo[3], memo[4]
        knn = self.knn
        mixing = self.mixing_rate is not None and len(knn) and self.lr.n_learnt
        if mixing:
            self._track_mixture(memo, ybin)
        if (mixing or self.mode == KNN) and len(knn):
            knn.track(self._votes(memo), ybin)
        knn.add(u, z, full, ybin, (v.indices, v.values))
        self.lr.learn(u, z, full, ybin, self._forward(memo))
        self.std_pending.append((v.indices, v.values, v.full))
        if len(self.std_pending) >= tree.batch_size:
            self.flush_std()
        self.n += 1
        if positives:
            self.pos += ybin
        else:
            self.n_empty += 1
        count = self.labelsets.get(key, 0) + 1
        self.labelsets[key] = count
        if count > self.majority_count:
            if key != self.majority:
                self._majority_proba = None
            self.majority, self.majority_count = key, count
        if self.pending is not None:
            self.pending.append((v.indices, v.values, positives))
        self._choose_model(tree.cardinality_threshold, tree.entropy_threshold, force=False)

    def flush_std(self):
        rows, self.std_pending = self.std_pending, []
        if rows:
            self.std.update(rows)
        self._memo = None

    def flush(self, n_features: int, n_labels: int) -> SplitStatistics:
        """Add the instances received since the last split attempt to the split statistics."""
        self.stats.grow(n_labels, n_features)
        self.stats.update(self.pending)
        self.pending = []
        return self.stats

    def restricted(self, labels: np.ndarray, rng: np.random.Generator, tree) -> Leaf:
        """An independent copy that predicts only `labels` (indices, in that order).

        The models and the label sets keep only those labels; the split statistics restart
        (their "empty label set" row depends on the labels), so the copy's next split attempt
        comes `grace_period` instances later.
        """
        labels = np.asarray(labels, dtype=np.int64)
        position = {int(j): i for i, j in enumerate(labels.tolist())}
        labelsets: dict[tuple[int, ...], int] = {}
        for key, count in self.labelsets.items():
            sub = tuple(sorted(position[j] for j in key if j in position))
            labelsets[sub] = labelsets.get(sub, 0) + count
        new = Leaf(
            self.depth,
            self.std.copy(),
            self.knn.restricted(labels),
            self.lr.restricted(labels, rng),
            len(labels),
            labelsets,
            list(self.std_pending),
            self.mixing_rate,
            self.mixing_loss,
        )
        new.n = self.n
        new.pos = self.pos[labels].copy()
        new.n_empty = labelsets.get((), 0)
        new.last_attempt = self.n
        if self.stats is None:
            new.deactivate()
        else:
            new.stats.grow(len(labels), self.stats.n_features)
        if len(labelsets) <= 1:
            new._choose_model(tree.cardinality_threshold, tree.entropy_threshold, force=True)
        else:  # the same model as this leaf until the next choice
            new.mode = self.mode
        return new

    def split(self, feature: int, threshold: float, rng: np.random.Generator) -> tuple:
        """Two children that start from this leaf's models (kNN window split by the test)."""
        children = []
        for knn in self.knn.split(feature, threshold):
            labelsets: dict[tuple[int, ...], int] = {}
            for key in knn.labelsets():
                labelsets[key] = labelsets.get(key, 0) + 1
            child = Leaf(
                self.depth + 1,
                self.std.copy(),
                knn,
                self.lr.copy(rng),
                len(self.pos),
                labelsets,
                list(self.std_pending),
                self.mixing_rate,
                self.mixing_loss,
            )
            children.append(child)
        return children[0], children[1]


class Branch:
    """A binary test `x[feature] <= threshold` (left) or `>` (right).

    A branch of the main tree has an ADWIN on the per-instance Hamming loss of the predictions
    of its subtree and, after a drift, an alternate subtree with the paired losses of both
    subtrees on the instances seen since the alternate was created. Branches of alternate
    subtrees have neither (`adwin` is None).
    """

    __slots__ = (
        "feature",
        "threshold",
        "left",
        "right",
        "depth",
        "adwin",
        "alt",
        "alt_n",
        "alt_loss",
        "main_loss",
        "merit",
    )

    def __init__(self, feature, threshold, left, right, depth, adwin: drift.ADWIN | None, merit):
        self.feature = feature
        self.threshold = threshold
        self.left = left
        self.right = right
        self.depth = depth
        self.adwin = adwin
        self.alt = None
        self.alt_n = 0
        self.alt_loss = 0.0
        self.main_loss = 0.0
        self.merit = merit

    def child(self, xd: np.ndarray, width: int):
        f = self.feature
        return self.left if (xd[f] if f < width else 0.0) <= self.threshold else self.right


def iter_nodes(node, alternates: bool = True):
    """All the nodes of a subtree, depth first, with the alternate subtrees if asked."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        if type(node) is Branch:
            stack.append(node.right)
            stack.append(node.left)
            if alternates and node.alt is not None:
                stack.append(node.alt)


def split_test(
    stats: SplitStatistics,
    n_labelsets: int,
    n_split_points: int,
    min_branch_fraction: float,
    split_delta: float,
    tie_threshold: float,
) -> tuple[tuple[int, float, float] | None, float]:
    """The split of a leaf that the Hoeffding test accepts, (feature, threshold, gain) or None,
    and the weight the leaf needs before the test can accept the split that leads now.

    The best feature must beat the runner-up (or not splitting, gain 0) by the Hoeffding bound
    with range log2(number of label sets at the leaf) (1 for at most two label sets), unless
    the bound is below `tie_threshold`. The weight needed is where the bound falls below the
    current lead of the best split (or below `tie_threshold`).
    """
    merit, threshold = stats.best_splits(n_split_points, min_branch_fraction)
    best = int(np.argmax(merit))
    best_merit = float(merit[best])
    if not best_merit > 0:
        return None, math.inf
    merit[best] = -np.inf
    second = max(float(merit.max()), 0.0)
    value_range = math.log2(n_labelsets) if n_labelsets > 2 else 1.0
    bound = hoeffding_bound(stats.weight, split_delta, value_range)
    if best_merit - second <= bound and bound >= tie_threshold:
        lead = max(best_merit - second, tie_threshold)
        # hoeffding_bound(range, delta, n) < lead  <=>  n > range^2 ln(1/delta) / (2 lead^2)
        return None, value_range**2 * math.log(1.0 / split_delta) / (2.0 * lead * lead)
    return (best, float(threshold[best]), best_merit), stats.weight


def alternate_verdict(branch: Branch, significance: float, max_age: int) -> str | None:
    """ "switch", "prune" or None (undecided) for the alternate subtree of a branch.

    The mean Hamming losses of the main and alternate subtrees on the `alt_n` instances both
    predicted are compared with a Hoeffding-style bound, sqrt(2 m (1 - m) ln(2 / significance)
    (2 / n)) with m the main loss; an alternate still undecided after `max_age` instances is
    pruned.
    """
    n = branch.alt_n
    main, alt = branch.main_loss / n, branch.alt_loss / n
    bound = math.sqrt(2.0 * main * (1.0 - main) * math.log(2.0 / significance) * (2.0 / n))
    if main - alt > bound:
        return "switch"
    if alt - main > bound or n >= max_age:
        return "prune"
    return None
