"""iHOMER: online partitioning of the label space with one learner per label cluster."""

from __future__ import annotations

from river import base

from ..events import DriftEvent
from ..partition import LabelODAC
from .cluster import Cluster, cluster_seed

__all__ = ["IHOMER"]


def _default_learner() -> base.MultiLabelClassifier:
    from ..learners import MLHAT

    return MLHAT()


class IHOMER(base.Wrapper, base.MultiLabelClassifier):
    """Incremental hierarchy of multi-label classifiers over an online partition of the labels.

    LabelODAC[^1] clusters the labels online by the Jaccard distance of their occurrences, with
    Hoeffding-bound split and aggregate tests. Its leaves, refined into a valid partition (small
    clusters merged along the hierarchy), are the clusters of labels; each cluster has its own
    multi-label learner, trained on every instance (flat routing) with the labels of the cluster.
    The prediction is the union of the clusters' per-label decisions[^2].

    Drift is watched at two levels. A split or aggregation in LabelODAC is a change of the label
    correlations: the refined partition is recomputed and, if it differs, the model is
    restructured (not during the first `warmup` instances, and not within `cooldown` instances of
    the last restructuring; a change inside the cooldown is acted upon when it ends). Clusters
    whose labels are unchanged keep their learner; new clusters train in the shadow for
    `handover` instances while the old learners still answer for their labels, then take over.
    Inside each cluster, an ADWIN on the per-instance Hamming loss flags rises of the error (the
    learner's own adaptive mechanism reacts to them). Every event is kept in `drift_events`.

    A label never seen before (emerging label) becomes a singleton cluster with its own learner
    at once and joins LabelODAC; predictions include it from then on. Labels absent from a `y`
    count as False. Predictions always cover every label seen so far.

    Parameters
    ----------
    cluster_learner
        The multi-label learner cloned for each cluster. Defaults to `learners.MLHAT()`. A learner
        with `learn_encoded`/`predict_proba_encoded` receives one feature vector per instance,
        encoded once and shared by all clusters; any other river multi-label classifier gets `x`.
    n_min
        LabelODAC tests its leaves every `n_min` instances.
    delta
        Confidence of LabelODAC's Hoeffding bounds. Smaller values make the structure more
        stable and slower to change.
    tau
        LabelODAC's tie threshold for splits.
    min_cluster_size
        Clusters smaller than this are merged along the hierarchy. `None`: the most frequent
        label-set cardinality over a recent window (at least 1).
    max_cluster_size
        No merge makes a cluster larger than this (`None`: no limit).
    warmup
        No restructuring during the first `warmup` instances.
    cooldown
        Instances between two restructurings. `None`: `2 * n_min`.
    handover
        Instances a new cluster trains in the shadow before it answers for its labels.
    drift_delta
        Confidence of the ADWIN of each cluster.
    fallback
        Keep the first learner, on all labels, training beside the clusters. For each cluster,
        whichever of its own learner and this one has the smaller recent loss on the
        cluster's labels (exact-match error plus Hamming loss, faded over `selection_window`
        instances) answers for them; ties go to the all-labels learner. The partition then
        helps where it finds structure and stays out of the way where a joint model is better
        (for instance mutually exclusive labels, which Jaccard clustering always separates).
    selection_window
        Horizon (instances) of the faded scores that choose between a cluster's learner and
        the all-labels learner; a cluster's learner answers only after learning as many.
    selection_margin
        Lead (in exact-match rate plus F1, out of 2) that a cluster's own learner needs over
        the all-labels learner to take over its labels.
    seed
        Seed of every random choice; each cluster learner's seed derives from it and the labels.

    Attributes
    ----------
    partition
        The clusters answering now, as a list of frozensets of labels.
    drift_events
        Every drift event so far (`streamml.DriftEvent`).

    Examples
    --------

    >>> from river import datasets, multioutput, linear_model
    >>> from streamml import IHOMER
    >>> from streamml.evaluate import prequential

    >>> model = IHOMER(seed=42)
    >>> result = prequential(model, datasets.Yeast().take(300))
    >>> print(f"micro-F1: {result.micro_f1:.3f}")
    micro-F1: ...

    References
    ----------
    [^1]: Rodrigues, P.P., Gama, J. and Pedroso, J., 2008. Hierarchical clustering of time-series
        data streams. IEEE Transactions on Knowledge and Data Engineering, 20(5), pp.615-627.
    [^2]: Neves, L., Lourenço, A., Cano, A. and Marreiros, G., 2025. Online hierarchical
        partitioning of the output space in extreme multi-label data streams. ECAI 2025.

    """

    def __init__(
        self,
        cluster_learner: base.MultiLabelClassifier | None = None,
        n_min: int = 100,
        delta: float = 0.05,
        tau: float = 0.1,
        min_cluster_size: int | None = None,
        max_cluster_size: int | None = None,
        warmup: int = 100,
        cooldown: int | None = None,
        handover: int = 200,
        drift_delta: float = 0.002,
        fallback: bool = True,
        selection_window: int = 200,
        selection_margin: float = 0.1,
        seed: int | None = None,
    ):
        self.cluster_learner = cluster_learner
        self.n_min = n_min
        self.delta = delta
        self.tau = tau
        self.min_cluster_size = min_cluster_size
        self.max_cluster_size = max_cluster_size
        self.warmup = warmup
        self.cooldown = cooldown
        self.handover = handover
        self.drift_delta = drift_delta
        self.fallback = fallback
        self.selection_window = selection_window
        self.selection_margin = selection_margin
        self.seed = seed

        self._prototype = cluster_learner if cluster_learner is not None else _default_learner()
        self._encoded = hasattr(self._prototype, "learn_encoded") and hasattr(
            self._prototype, "predict_proba_encoded"
        )
        self._features = self._make_feature_index() if self._encoded else None
        self._odac = LabelODAC(n_min=n_min, delta=delta, tau=tau)
        self._labels: dict[str, None] = {}  # every label seen, in order of appearance
        self._root: Cluster | None = None  # the learner on all labels (with `fallback`)
        self._clusters: dict[frozenset, Cluster] = {}  # the clusters answering now
        self._shadow: dict[frozenset, Cluster] = {}  # new clusters training before handover
        self._handover_left = 0
        self._target: list[frozenset] = []  # the partition being moved to (or the current one)
        self._n = 0
        self._last_restructure: int | None = None
        self._recheck = False
        self._n_restructurings = 0
        self._events: list[DriftEvent] = []
        self._cache: tuple | None = None  # (x copy, encoded x, {cluster key: P(True)})

    @staticmethod
    def _make_feature_index():
        from ..learners import FeatureIndex

        return FeatureIndex()

    # -- river plumbing -------------------------------------------------------------------

    @property
    def _wrapped_model(self):
        return self._prototype

    @classmethod
    def _unit_test_params(cls):
        yield {"n_min": 20, "warmup": 20, "handover": 10, "seed": 42}

    @property
    def _is_stochastic(self):
        return True

    # -- public state ---------------------------------------------------------------------

    @property
    def partition(self) -> list[frozenset]:
        """The clusters answering now (a list of frozensets of labels)."""
        return list(self._clusters)

    @property
    def target_partition(self) -> list[frozenset]:
        """The partition the model is moving to; equal to `partition` outside a handover."""
        return list(self._target)

    @property
    def drift_events(self) -> list[DriftEvent]:
        """Every drift event so far, oldest first."""
        return list(self._events)

    @property
    def n_restructurings(self) -> int:
        """How many times the partition of the learners changed."""
        return self._n_restructurings

    @property
    def n_learned(self) -> int:
        """Instances learned so far."""
        return self._n

    @property
    def labels(self) -> list[str]:
        """Every label seen so far, in order of appearance."""
        return list(self._labels)

    @property
    def odac(self) -> LabelODAC:
        """The label partitioner (read it, do not feed it)."""
        return self._odac

    def cluster_summary(self) -> list[dict]:
        """One record per answering cluster: its labels, recent Hamming loss, instances seen."""
        return [
            {"labels": list(c.labels), "error": c.error, "n": c.n} for c in self._clusters.values()
        ]

    def summary(self) -> str:
        """A readable view of the label tree and of the clusters answering now."""
        lines = [
            f"IHOMER after {self._n} instances: {len(self._labels)} labels, "
            f"{len(self._clusters)} clusters, {self._n_restructurings} restructurings, "
            f"{len(self._events)} drift events",
            "LabelODAC tree:",
            self._odac.summary(),
            "Clusters (labels | recent Hamming loss | instances):",
        ]
        for c in self._clusters.values():
            lines.append(f"  {{{', '.join(c.labels)}}} | {c.error:.3f} | {c.n}")
        if self._shadow:
            lines.append(f"In handover ({self._handover_left} instances left):")
            for c in self._shadow.values():
                lines.append(f"  {{{', '.join(c.labels)}}}")
        return "\n".join(lines)

    # -- prediction -----------------------------------------------------------------------

    def _probas(self, x, grow: bool = False) -> tuple:
        """P(True) of every known label from the answering clusters, cached for learn_one.

        Predictions encode x without adding unknown features to the shared index (`grow`), so
        that what the model learns never depends on what it was asked to predict.
        """
        cache = self._cache
        if (
            cache is not None
            and cache[0] == x
            and (not grow or cache[1] is None or cache[1].complete)
        ):
            return cache
        v = self._features.encode(x, grow=grow) if self._encoded else None
        per_cluster = {key: c.proba(x, v) for key, c in self._clusters.items()}
        root = self._root
        if root is not None:
            answered = next((key for key, c in self._clusters.items() if c is root), None)
            per_cluster[None] = per_cluster[answered] if answered else root.proba(x, v)
        self._cache = cache = (dict(x), v, per_cluster)
        return cache

    def _answers(self, x) -> dict[str, float]:
        """P(True) of every known label, each from the learner answering for it."""
        _, _, per_cluster = self._probas(x)
        out = {}
        fallback = self._root is not None
        for key, c in self._clusters.items():
            source = per_cluster[None] if fallback and c.use_root else per_cluster[key]
            for label in key:
                out[label] = source[label]
        return {label: out[label] for label in self._labels}

    def predict_proba_one(self, x, **kwargs):
        return {label: {False: 1.0 - p, True: p} for label, p in self._answers(x).items()}

    def predict_one(self, x, **kwargs):
        return {label: p > 0.5 for label, p in self._answers(x).items()}

    # -- learning -------------------------------------------------------------------------

    def learn_one(self, x, y, **kwargs):
        new = [label for label in y if label not in self._labels]
        if new:
            self._add_labels(new)
        _, v, per_cluster = self._probas(x, grow=True)
        self._cache = None
        root = self._root
        root_proba = per_cluster.get(None)
        window = self.selection_window
        decay = 1.0 - 1.0 / window

        for key, c in self._clusters.items():
            proba = per_cluster.get(key)
            if proba is None:  # born in this learn_one (an emerging label)
                if c is not root:
                    c.learn(x, v, y)
                continue
            if c.track(proba, y):
                self._record("cluster", c.labels, "ADWIN")
            if c is not root:
                if root_proba is not None:
                    c.compare(proba, root_proba, y, decay, self.selection_margin, window)
                c.learn(x, v, y)
        for c in self._shadow.values():
            if root_proba is not None:
                c.compare(c.proba(x, v), root_proba, y, decay, self.selection_margin, window)
            c.learn(x, v, y)
        if root is not None:
            root.learn(x, v, y)

        self._odac.learn_one(y)
        if self._odac.structure_changed:
            change = self._odac.last_change
            self._record("structure", self._ordered(change.labels), f"LabelODAC.{change.kind}")
        if self._odac.refine_due:
            self._recheck = True

        self._n += 1
        if self._shadow:
            self._handover_left -= 1
            if self._handover_left <= 0:
                self._complete_handover()
        if self._recheck and self._may_restructure():
            self._recheck = False
            self._restructure()

    def _record(self, level: str, labels: tuple, detector: str):
        self._events.append(DriftEvent(self._n, level, tuple(labels), detector))

    def _new_cluster(self, labels: tuple[str, ...], first: bool = False) -> Cluster:
        learner = self._prototype.clone()
        # The first learner (all labels) takes the model's seed, so that an IHOMER whose
        # clusters all defer to it predicts exactly as the cluster learner alone would.
        seed = self.seed if first else cluster_seed(self.seed, frozenset(labels))
        if "seed" in learner._get_params():
            learner = learner.clone({"seed": seed})
        return Cluster(labels, learner, self.drift_delta, self._encoded, born=self._n)

    def _ordered(self, members) -> tuple[str, ...]:
        members = set(members)
        return tuple(label for label in self._labels if label in members)

    def _add_labels(self, new: list[str]):
        first = not self._labels
        for label in new:
            self._labels[label] = None
        if self._root is not None:
            self._root.labels = tuple(self._labels)
        groups = [tuple(new)] if first else [(label,) for label in new]
        for labels in groups:
            c = self._new_cluster(labels, first=first)
            if first and self.fallback:
                self._root = c
            self._clusters[c.key] = c
            self._target.append(c.key)

    # -- restructuring --------------------------------------------------------------------

    def _may_restructure(self) -> bool:
        if self._n < self.warmup:
            return False
        cooldown = 2 * self.n_min if self.cooldown is None else self.cooldown
        return self._last_restructure is None or self._n - self._last_restructure >= cooldown

    def _restructure(self):
        refined = self._odac.refined_partition(
            min_size=self.min_cluster_size, max_size=self.max_cluster_size
        )
        # Labels the partitioner has not placed yet stay where they are.
        placed = set().union(*refined) if refined else set()
        missing = [label for label in self._labels if label not in placed]
        partition = [self._ordered(s) for s in refined] + [(label,) for label in missing]
        new_keys = {frozenset(s) for s in partition}
        if new_keys == set(self._target):
            return
        if self._shadow:
            self._complete_handover()
        self._last_restructure = self._n
        self._n_restructurings += 1
        self._target = [frozenset(s) for s in partition]
        everything = frozenset(self._labels)
        for labels in partition:
            key = frozenset(labels)
            if key not in self._clusters and not (self._root is not None and key == everything):
                self._shadow[key] = self._new_cluster(labels)
        if self.handover <= 0:
            self._complete_handover()
        else:
            self._handover_left = self.handover

    def _complete_handover(self):
        target = set(self._target)
        kept = {key: c for key, c in self._clusters.items() if key in target}
        kept.update(self._shadow)
        if self._root is not None:
            kept.setdefault(frozenset(self._labels), self._root)
        self._clusters = {key: kept[key] for key in self._target}
        self._shadow = {}
        self._handover_left = 0
