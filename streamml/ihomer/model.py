"""iHOMER: online partitioning of the label space with one learner per label cluster."""

from __future__ import annotations

import heapq
import itertools

import numpy as np
from river import base

from ..events import DriftEvent
from ..learners._answers import label_sets
from ..partition import LabelODAC
from . import protocols
from .cluster import Cluster, cluster_seed, fresh_learner
from .decision import Decider, make_decider
from .parameters import check_parameters
from .rise import LabelRise
from .state import PartitionState

__all__ = ["IHOMER"]


def _default_learner() -> base.MultiLabelClassifier:
    from ..learners import MLHAT

    return MLHAT()


class IHOMER(PartitionState, base.Wrapper, base.MultiLabelClassifier):
    """Incremental hierarchy of multi-label classifiers over an online partition of the labels.

    LabelODAC[^1] clusters the labels online by the Jaccard distance of their occurrences, with
    Hoeffding-bound split and aggregate tests. Its leaves, refined into a valid partition (small
    clusters merged along the hierarchy), are the clusters of labels; each cluster has its own
    multi-label learner, trained on every instance (flat routing) with the labels of the cluster.
    The clusters' per-label probabilities are decided as one label set[^2]: the most probable
    of the label sets seen so far, while that has been right more often lately than each label
    decided on its own (`seen_sets`); where it has paid lately, against a threshold learned
    for the F-measure (`threshold_strength`); on an ordered stream, those probabilities mixed
    with the last true label set, where that has paid lately (`last_set`). With MLHAT (`share`),
    a cluster's learner is the learner on all the labels, restricted to the cluster's labels,
    until the cluster's own split test says its tree would split differently; only then does
    it get a copy of its own, so the cost is about that of one tree plus the partitioning.

    Drift is watched at two levels. A split or aggregation in LabelODAC is a change of the label
    correlations: the refined partition is recomputed and, if it differs, the model is
    restructured (not during the first `warmup` instances, and not within `cooldown` instances of
    the last restructuring; a change inside the cooldown is acted upon when it ends). From 256
    labels on, looks that find the same partition make the next look wait longer (2 to 8
    `n_min` instances): computing it costs as much as a few hundred instances on a thousand
    labels. Clusters
    whose labels are unchanged keep their learner; new clusters (views of the shared learner,
    or fresh learners without `share`) train in the shadow for `handover` instances while the
    old learners still answer for their labels, then take over.
    Inside each cluster, an ADWIN watches the per-instance Hamming loss of the cluster's answer.
    When it sees the error rise, that cluster, and only it, grows alternates: fresh learners on
    its labels (`adapt_learners`: by default two naive Bayes models, good after few instances,
    where a fresh tree needs thousands, one of which forgets, to follow a gradual change),
    trained in the background and mixed into its
    answer by their recent Brier scores, so they take over its labels as soon as, and as much
    as, they predict them better; every other cluster keeps its learner, untouched. This is an
    adaptive tree's alternate subtree at the level of the label clusters: a learner on all the
    labels sees a change of a few labels diluted among the others, and adapts late and
    everywhere. Clusters that a restructuring creates after a change of the label structure (a
    LabelODAC split or aggregation once the partition had been stable for `10 n_min` instances)
    get alternates too. An alternate that has not been the cluster's best predictor for
    `retire_after` instances is dropped, so a stable stream costs one learner plus the
    partitioning. Every event is kept in `drift_events`.

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
        Confidence of the ADWIN of each cluster (larger: quicker to detect a rise of the
        error, and more false alarms, each of which costs alternates until they are dropped).
    fallback
        Keep a learner on all the labels training beside the clusters. For each cluster with a
        learner of its own, whichever of its own learner and this one scores better recently
        on the cluster's labels (exact-match rate plus F1, faded over `selection_window`
        instances) answers for them; the cluster's learner needs a lead of
        `selection_margin`. The partition then helps where it finds structure and stays out
        of the way where a joint model is better (for instance mutually exclusive labels,
        which Jaccard clustering always separates).
    selection_window
        Horizon (instances) of the faded scores that choose between a cluster's learner and
        the all-labels learner; a cluster's learner answers only after learning as many.
    selection_margin
        Lead (in exact-match rate plus F1, out of 2) that a cluster's own learner needs over
        the all-labels learner to take over its labels.
    retire_after
        With `share` and `fallback`: a cluster's own learner that has not answered for its
        labels during its last `retire_after` instances is dropped, and the cluster is a view
        of the all-labels learner again (it predicts exactly as before, since the all-labels
        learner was answering). Its split test starts again after `retire_after * 2**k`
        instances, k being how many times the cluster was retired, so a learner that never
        helps costs less and less. An alternate that has not been its cluster's best
        predictor (by recent Brier score) for `retire_after` instances in a row is dropped too.
        `None`: own learners and alternates are kept.
    share
        With a cluster learner that supports it (`learners.MLHAT`: `restricted`,
        `split_watch`), the clusters share the learner on all the labels until their own tree
        would differ. A leaf's models are per label (binary relevance) or a vote of
        neighbours found by the features only, so a tree on a cluster's labels that has not
        split predicts them as the tree on all the labels does; what depends on the cluster
        is its split test (information gain and Hoeffding range of its own labels). So a
        cluster starts as a view of the all-labels learner with its own split test, and
        when the test accepts a split the cluster gets its own learner: a copy of the
        all-labels learner restricted to its labels, split as the test decided. The cost per
        instance is then that of one learner plus the clusters' split tests, instead of one
        learner per cluster. `False`: every cluster trains its own learner from scratch.
    adapt
        Whether clusters grow alternates when the error of their answer rises (and when a
        restructuring creates them). `False`: the clusters only watch.
    adapt_learners
        The learners cloned for a cluster's alternates. `None`: two naive Bayes models
        (`learners.NaiveBayes()` and `NaiveBayes(fading=0.995)`, which forgets over about 200
        instances and follows a gradual drift). Adding the cluster learner
        (`[MLHAT(), NaiveBayes()]`) grows a fresh tree as well; on the drift study it adds no
        accuracy, and on imdb it cost half the speed and 0.003 micro-F1.
    adapt_rate
        How sharply a cluster's mixture follows the recent Brier scores of its answer and its
        alternates (each weighs its score to the power -`adapt_rate`).
    adapt_window
        Horizon (instances) of those recent Brier scores.
    label_drift_delta
        Confidence of a second detector of each cluster, one test per label
        (`ihomer.LabelRise`): a change confined to a few labels of a large cluster is diluted
        in the cluster's Hamming loss, not in the error rate of those labels. A label whose
        error rate rose makes its cluster grow alternates as an ADWIN alarm does. `None`:
        the clusters' ADWINs only.
    seen_sets
        The answer may be decoded into one of the `seen_sets` distinct label sets seen most
        recently: the most probable of them under the answers' marginal probabilities (the
        largest sum of its labels' log-odds), in place of each label decided on its own at
        0.5, which often gives a label set that never occurs. The decoded set answers while
        its recent subset 0/1 loss (faded over about 100 instances) is below that of the
        labels decided on their own and its recent 1 - F1 is not above, so a stream whose
        label sets are mostly new keeps those (`compose.LabelSetDecoder`; exact matches on
        the 17 published streams: see the README). `None`: every label is decided on its
        own.
    threshold_strength
        A second answer races the first (`seen_sets`): each label decided against one
        threshold learned online for the micro-F1 (`compose.MicroFThreshold`),
        `threshold_strength` of the way from 0.5 (what exact matches and the Hamming loss
        ask) to F* / 2 (what the micro-F1 asks, F* the micro-F1 of its answers so far),
        decoded like the first into a seen label set, scored against the threshold. It
        answers while it has lately (over about 100 instances) been closer to the truth
        label by label (F1) and no less often exact (`compose.Race`), so it trades exact
        matches for F1 only where it has not cost them. 0: the first answer alone.
    last_set
        A second opinion for ordered streams, whose instances often repeat the label set of
        the one before (the no-change classifier of streams with temporal dependence[^3]):
        the probabilities mixed, label by label, with the last true label set, each side
        weighing its recent Brier score on that label to the power -`adapt_rate` (over about
        `adapt_window` instances; `compose.LastSetMixture`). The decision above decides them
        in place of the model's while, each label decided at 0.5, they have lately (over
        about `selection_window` instances, and from the `selection_window`-th on) been exact
        more often or closer to the truth label by label (F1), and behind on neither
        (`ihomer.second_opinion.LastSetDecider`); `predict_proba_one` gives the
        probabilities decided. On a stream without such order the model's own probabilities
        are decided. It changes nothing the model learns. `False`: the model's probabilities
        alone.
    label_balance
        Each label's answers kept in balance with its occurrences (`compose.LabelBalance`):
        each label learns its own F-measure threshold online[^4], from its answers so far; a
        label answered more often than it occurs is dropped below that threshold, and a rare
        label (in under 10% of the instances) answered less than 0.4 times as often as it
        occurs is added from it on. The decision above serves exact matches and the micro-F1;
        this serves the macro-F1, on sparse label spaces whose rare labels the decision
        otherwise never answers. It changes neither the probabilities nor what the model
        learns. `False`: the decision's label sets unchanged.
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
    [^3]: Žliobaitė, I., Bifet, A., Read, J., Pfahringer, B. and Holmes, G., 2015.
        Evaluation methods and decision theory for classification of streaming data with
        temporal dependence. Machine Learning, 98(3), pp.455-482.
    [^4]: Busa-Fekete, R., Szörényi, B., Dembczyński, K. and Hüllermeier, E. (2015). Online
        F-measure optimization. Advances in Neural Information Processing Systems 28.

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
        drift_delta: float = 0.01,
        fallback: bool = True,
        selection_window: int = 200,
        selection_margin: float = 0.1,
        retire_after: int | None = 500,
        share: bool = True,
        adapt: bool = True,
        adapt_learners: list[base.MultiLabelClassifier] | None = None,
        adapt_rate: float = 4.0,
        adapt_window: int = 100,
        label_drift_delta: float | None = 1e-4,
        seen_sets: int | None = 1000,
        threshold_strength: float = 0.2,
        last_set: bool = True,
        label_balance: bool = True,
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
        self.retire_after = retire_after
        self.share = share
        self.adapt = adapt
        self.adapt_learners = adapt_learners
        self.adapt_rate = adapt_rate
        self.adapt_window = adapt_window
        self.label_drift_delta = label_drift_delta
        self.seen_sets = seen_sets
        self.threshold_strength = threshold_strength
        self.last_set = last_set
        self.label_balance = label_balance
        self.seed = seed
        check_parameters(self)

        self._prototype = cluster_learner if cluster_learner is not None else _default_learner()
        self._encoded = isinstance(self._prototype, protocols.EncodedLearner)
        self._shared = (
            share and self._encoded and isinstance(self._prototype, protocols.SharableLearner)
        )
        self._features = self._make_feature_index() if self._encoded else None
        self._odac = LabelODAC(n_min=n_min, delta=delta, tau=tau)
        self._labels: dict[str, int] = {}  # every label seen -> its position, in order seen
        self._base: base.MultiLabelClassifier | None = None  # the learner on all the labels
        self._base_kind = "dict"
        self._clusters: dict[frozenset, Cluster] = {}  # the clusters answering now
        self._shadow: dict[frozenset, Cluster] = {}  # new clusters training before handover
        self._handover_left = 0
        self._target: list[frozenset] = []  # the partition being moved to (or the current one)
        self._n = 0
        self._last_restructure: int | None = None
        self._recheck = False
        self._last_check: int | None = None
        self._n_restructurings = 0
        self._n_own_learners = 0
        self._n_retired = 0
        self._n_adaptations = 0
        self._structure_drift = False  # a structure change after a stable partition, pending
        self._rearm: list[tuple] = []  # heap of (when, labels, times retired) of retired views
        self._events: list[DriftEvent] = []
        self._cache: tuple | None = None  # (x copy, encoded x, base P(True), own P, alternates P)
        self._log: list = []  # (indices, values) of the instances the views have not tested
        self._log_offset = 0  # instance number of the first item of the log
        self._rise = None if label_drift_delta is None else LabelRise(label_drift_delta)
        self._decider = make_decider(self)
        self._index_clusters()

    def __setstate__(self, state):
        # Pickles (service snapshots) made before learners could retire, before alternates.
        state.setdefault("retire_after", None)
        state.setdefault("_n_retired", 0)
        state.setdefault("_rearm", [])
        for name, value in (("adapt", False), ("adapt_learners", None), ("adapt_rate", 4.0)):
            state.setdefault(name, value)
        state.setdefault("adapt_window", 100)
        state.setdefault("_n_adaptations", 0)
        state.setdefault("_structure_drift", False)
        state.setdefault("label_drift_delta", None)
        state.setdefault("_rise", None)
        state.setdefault("seen_sets", None)  # pickled before the decoding into seen sets
        state.setdefault("threshold_strength", 0.0)  # pickled before the F-measure threshold
        state.setdefault("last_set", False)  # pickled before the last label set's opinion
        state.setdefault("label_balance", False)  # pickled before the balance of the labels
        if "_decider" not in state:
            state["_decider"] = Decider.of_decoder(state.pop("_decoder", None))
            state.pop("_decoded", None)
        if "_base_kind" not in state:
            base_learner = state.get("_base")
            state["_base_kind"] = (
                "dict"
                if base_learner is None
                else protocols.kind_of(base_learner, state["_encoded"])
            )
        self.__dict__.update(state)
        if "_busy" not in state:
            self._cache = None
            self._index_clusters()

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
        yield {"n_min": 20, "warmup": 20, "drift_delta": 0.5, "adapt_window": 20, "seed": 3}

    @property
    def _is_stochastic(self):
        return True

    # -- public state ---------------------------------------------------------------------

    def cluster_summary(self) -> list[dict]:
        """One record per answering cluster: its labels, recent Hamming loss, instances seen
        (by its own learner, if it has one), whether it has a learner of its own (`own`),
        which learner answers for its labels (`answers`: "own" or "all labels"), its
        alternates (`alternates`: how many it has now) and the weight of its answer in the
        mixture with them (`answer_weight`: 1 without alternates)."""
        select = self._base is not None and self.fallback
        out = []
        for c in self._clusters.values():
            alternates = c.alternates
            out.append(
                {
                    "labels": list(c.labels),
                    "error": c.error,
                    "n": c.n,
                    "own": c.learner is not None,
                    "answers": "own"
                    if c.learner is not None and not (select and c.use_root)
                    else "all labels",
                    "alternates": 0 if alternates is None else len(alternates),
                    "answer_weight": 1.0
                    if alternates is None
                    else float(alternates.weights(self.adapt_rate)[0]),
                }
            )
        return out

    @property
    def n_own_learners(self) -> int:
        """How many clusters got a learner of their own so far (all of them without `share`)."""
        return self._n_own_learners

    @property
    def n_retired(self) -> int:
        """How many times a cluster's own learner was dropped for not answering (`retire_after`)."""
        return self._n_retired

    @property
    def n_adaptations(self) -> int:
        """How many times a cluster started alternates."""
        return self._n_adaptations

    def summary(self) -> str:
        """A readable view of the label tree and of the clusters answering now."""
        lines = [
            f"IHOMER after {self._n} instances: {len(self._labels)} labels, "
            f"{len(self._clusters)} clusters, {self._n_restructurings} restructurings, "
            f"{len(self._events)} drift events",
            *self._decision_summary(),
            "LabelODAC tree:",
            self._odac.summary(),
            "Clusters (labels | recent Hamming loss | instances | answered by):",
        ]
        for c in self.cluster_summary():
            by = c["answers"]
            if c["alternates"]:
                by += f" ({c['answer_weight']:.2f}) + {c['alternates']} alternates"
            lines.append(f"  {{{', '.join(c['labels'])}}} | {c['error']:.3f} | {c['n']} | {by}")
        if self._shadow:
            lines.append(f"In handover ({self._handover_left} instances left):")
            for c in self._shadow.values():
                lines.append(f"  {{{', '.join(c.labels)}}}")
        return "\n".join(lines)

    def _decision_summary(self) -> list[str]:
        lines = []
        if self.last_set and self._decider.mixing:
            lines.append("Decided: P(True) mixed with the last true label set (they lead lately)")
        elif self.last_set:
            lines.append(
                "Decided: the model's P(True) (those mixed with the last label set do not lead)"
            )
        if self.label_balance and self._decider.balancing:
            lines.append("Balanced: the labels answered too often or (rare) too seldom corrected")
        elif self.label_balance:
            lines.append("Balanced: not now (it would cost exact matches, or is warming up)")
        return lines

    # -- prediction -----------------------------------------------------------------------

    def _base_proba(self, x, v) -> np.ndarray:
        """P(True) of every known label from the all-labels learner (zeros if it has none)."""
        if self._base is None:
            return np.zeros(len(self._labels))
        # It learns every y as IHOMER sees it, so it knows the labels in the same order.
        return protocols.label_proba(self._base, self._base_kind, self._labels, x, v)

    def _probas(self, x, grow: bool = False) -> tuple:
        """(x copy, encoded x, P(True) of every label from the all-labels learner, {cluster
        key: P(True) of its labels from its own learner}, {cluster key: those of its
        alternates}), for the answering clusters, cached for `learn_one`.

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
        own, alternates = {}, {}
        if self._busy:  # some cluster has a learner of its own or alternates
            for key, c in self._clusters.items():
                if c.learner is not None:
                    own[key] = c.proba(x, v)
                if c.alternates is not None:
                    alternates[key] = c.alternates.probas(c.labels, x, v)
        self._cache = cache = (dict(x), v, self._base_proba(x, v), own, alternates)
        return cache

    def _answer(self, c: Cluster, root: np.ndarray, own: np.ndarray | None) -> np.ndarray:
        """P(True) of a cluster's labels from the learner that answers for them (before the
        alternates)."""
        if own is None or (c.use_root and self._base is not None and self.fallback):
            return root[c.cols]
        return own

    def _answers(self, x) -> np.ndarray:
        """P(True) of every known label, each from the learner answering for it."""
        _, _, root, own, alternates = self._probas(x)
        if not self._busy:  # every cluster answers from the all-labels learner
            return root
        out = root.copy()
        rate = self.adapt_rate
        for key, c in self._clusters.items():
            if c.learner is not None or c.alternates is not None:
                answer = self._answer(c, root, own.get(key))
                if c.alternates is not None:
                    answer = c.alternates.mix(answer, alternates[key], rate)
                out[c.cols] = answer
        return out

    def predict_proba_one(self, x, **kwargs):
        p = self._decider.probabilities(self._answers(x)).tolist()
        return {label: {False: 1.0 - q, True: q} for label, q in zip(self._labels, p)}

    @property
    def threshold(self) -> float:
        """The threshold learned for the micro-F1 (`threshold_strength`; 0.5 without)."""
        return self._decider.threshold(len(self._labels))

    def predict_one(self, x, **kwargs):
        answers = self._answers(x)
        if self._decider.trivial:
            return label_sets(self)(self._labels, answers > 0.5)
        decided = self._decider.answer(answers, len(self._labels), self._cache)
        return label_sets(self).of_positions(self._labels, decided)

    # -- learning -------------------------------------------------------------------------

    def learn_one(self, x, y, **kwargs):
        n_known = len(self._labels)  # as when the answer was given
        grown = not y.keys() <= self._labels.keys()
        if grown:
            self._add_labels([label for label in y if label not in self._labels])
        _, v, root, own, alternates = self._probas(x, grow=True)
        index = self._labels
        positive_labels = list(itertools.compress(y, y.values()))
        positives = [index[label] for label in positive_labels]
        truth = np.zeros(len(index), dtype=bool)
        truth[positives] = True

        answers, idle = self._score_clusters(x, v, root, own, alternates, truth)
        errors = (answers > 0.5) != truth
        if not self._decider.trivial:  # the answers, scored before learning
            self._decider.learn(answers, n_known, self._cache, tuple(sorted(positives)))
        self._cache = None

        # Drift inside the clusters: the Hamming loss of each answering cluster's answer.
        wrong = np.bincount(self._owner, weights=errors, minlength=len(self._order))
        rising = []
        for c, count in zip(self._order, wrong.tolist()):
            if c.track(count):
                self._record("cluster", c.labels, "ADWIN")
                rising.append(c)
        if self._rise is not None:
            self._label_rise(errors, rising)

        if self._base is not None:
            protocols.learn(self._base, self._base_kind, x, v, y)
        for c in self._busy:
            c.learn(x, v, y)
        if self._watched:
            self._watch(v, positives)
        for c in self._order:
            c.n += 1
        for c in self._shadow.values():
            c.n += 1
        if idle:
            self._retire([c for c in idle if self._clusters.get(c.key) is c])

        if grown:
            self._odac.learn_one(y)
        else:  # every label is known: only the positives need reading
            self._odac.learn_positives(positive_labels)
        if self._odac.structure_changed:
            change = self._odac.last_change
            self._record("structure", self._ordered(change.labels), f"LabelODAC.{change.kind}")
            self._tree_changed(self._n)
        if self._odac.refine_due:
            self._recheck = True

        self._n += 1
        if self.adapt:
            self._adapt(rising)
        if self._rearm and self._rearm[0][0] <= self._n:
            self._rearm_watches()
        self._advance(1)

    def _score_clusters(self, x, v, root, own, alternates, truth) -> tuple:
        """Score the learners of every cluster that has its own learner or alternates on this
        instance (before learning it): the choice between its own learner and the all-labels
        learner, and the Brier scores of its alternates.

        Returns P(True) of every label as answered (the clusters' answers, mixed with their
        alternates) and the clusters whose own learner has not answered for `retire_after`
        instances.
        """
        if not self._busy:  # every cluster answers from the all-labels learner
            return root, []
        root_predicted = root > 0.5
        answers = root.copy()
        select = self._base is not None and self.fallback
        window, decay = self.selection_window, 1.0 - 1.0 / self.selection_window
        margin, rate = self.selection_margin, self.adapt_rate
        retire = self.retire_after if self._shared else None
        idle = []
        for c in self._busy:
            cols = c.cols
            answering = c.key in self._clusters  # not in handover
            p = own.get(c.key) if answering else None
            if c.learner is not None:
                p = c.proba(x, v) if p is None else p  # a cluster born in this call, or a shadow
                if select:
                    c.selection.update(
                        p > 0.5, root_predicted[cols], truth[cols], c.n, decay, margin, window
                    )
                    if retire is not None and c.n - c.last_answer >= retire:  # not answering
                        idle.append(c)
            answer = self._answer(c, root, p)
            if c.alternates is not None:
                probas = alternates.get(c.key) if answering else None
                if probas is None:
                    probas = c.alternates.probas(c.labels, x, v)
                mixed = c.alternates.mix(answer, probas, rate)
                c.alternates.score(
                    answer, probas, truth[cols].astype(float), 1.0 / self.adapt_window
                )
                answer = mixed
            if answering:
                answers[cols] = answer
        return answers, idle

    def _label_rise(self, errors: np.ndarray, rising: list[Cluster]):
        """Add to `rising` the clusters holding a label whose own error rate rose."""
        hit = self._rise.update(errors)
        if hit is self._rise.quiet or not hit.any():
            return
        seen = {c.key for c in rising}
        for k in np.unique(self._owner[hit]).tolist():
            c = self._order[k]
            self._rise.reset(c.cols)
            if c.key not in seen:
                self._record("cluster", c.labels, "LabelRise")
                rising.append(c)

    def _adapt(self, rising: list[Cluster]):
        """Start alternates in the clusters whose error rose (unless theirs are young), and
        drop the alternates that have not beaten their cluster's answer for long."""
        changed = False
        for c in rising:
            if c.alternates is None or self._n - c.alternates.started >= self.selection_window:
                self._start_alternates(c)
                changed = True
        if self.retire_after is not None:
            for c in self._busy:
                if c.alternates is not None:
                    c.prune_alternates(self.retire_after)
                    changed = changed or c.alternates is None
        if changed:
            self._cache = None
            self._index_clusters()

    def _start_alternates(self, c: Cluster):
        c.adapt(self.adapt_learners, self.seed, self._n)
        self._n_adaptations += 1

    def _watch(self, v, positives: list[int]):
        """Feed the split tests of the views; a view whose test splits gets its own learner.

        The instances are logged once; each view's test is told only of the instances where
        its labels have positives, and reads the log when a test is due.
        """
        t = self._n
        log = self._log
        log.append((v.indices, v.values))
        homes = self._homes
        found: dict[Cluster, list[int]] = {}
        for i in positives:
            for c, position in homes[i]:
                found.setdefault(c, []).append(position)
        for c, mine in found.items():
            c.watch.note(t, tuple(sorted(mine)))
        if t + 1 < self._next_due:
            return
        split = []
        for c in self._watched:
            if c.watch.due(t + 1):
                decision = c.watch.test_log(log, self._log_offset, t + 1, v.width)
                if decision is not None:
                    split.append((c, decision))
        for c, decision in split:
            # The all-labels learner has just learned this instance: the new learner starts
            # where it is, with the split that the test accepted at its root.
            seed = cluster_seed(self.seed, c.key)
            c.set_learner(self._base.restricted(c.labels, seed=seed, split=decision))
            c.n = -1  # counted up with the other clusters after this call
            c.watch = None
            self._n_own_learners += 1
        if split:
            self._cache = None
            self._index_clusters(log_end=t + 1)
        else:  # the same views: only their next tests and the log moved
            self._trim_log(log_end=t + 1)

    def _retire(self, clusters: list[Cluster]):
        """Drop the own learners of these clusters (they defer to the all-labels learner, which
        answers for their labels already): they are views without a split test until their
        back-off ends."""
        for c in clusters:
            n = c.n
            c.set_learner(None)
            c.n = n
            c.watch = None
            c.retired += 1
            when = self._n + self.retire_after * 2**c.retired
            heapq.heappush(self._rearm, (when, c.labels, c.retired))
            self._n_retired += 1
        if clusters:
            self._cache = None
            self._index_clusters()

    def _rearm_watches(self):
        """Give the retired clusters whose back-off has ended a split test again."""
        rearmed = False
        while self._rearm and self._rearm[0][0] <= self._n:
            _, labels, retired = heapq.heappop(self._rearm)
            c = self._clusters.get(frozenset(labels))
            # The same cluster, still retired (not a newer one with these labels).
            if c is not None and c.retired == retired and c.learner is None and c.watch is None:
                c.watch = self._base.split_watch(len(c.labels))
                c.watch.tested = self._n  # its first instance is the next one
                rearmed = True
        if rearmed:
            self._index_clusters()

    def _record(self, level: str, labels: tuple, detector: str):
        self._events.append(DriftEvent(self._n, level, tuple(labels), detector))

    def _new_learner(self, seed: int | None) -> base.MultiLabelClassifier:
        return fresh_learner(self._prototype, seed)

    def _new_cluster(self, labels: tuple[str, ...]) -> Cluster:
        """A cluster for these labels: a view of the all-labels learner when learners are
        shared (with a split test unless it has all the labels) or when it has all the labels;
        otherwise a fresh learner whose seed derives from the model seed and the labels."""
        key = frozenset(labels)
        cols = [self._labels[label] for label in labels]
        everything = len(labels) == len(self._labels)
        learner = watch = None
        if self._shared:
            if not everything:
                watch = self._base.split_watch(len(labels))
                watch.tested = self._n  # its first instance is the next one
        elif not (everything and self._base is not None):
            learner = self._new_learner(cluster_seed(self.seed, key))
            self._n_own_learners += 1
        return Cluster(labels, cols, learner, self.drift_delta, self._encoded, self._n, watch)

    def _add_labels(self, new: list[str]):
        first = not self._labels
        for label in new:
            self._labels[label] = len(self._labels)
        if self._rise is not None:
            self._rise.grow(len(self._labels))
        if first and (self.fallback or self._shared):
            # The learner on all the labels takes the model's seed, so that an IHOMER whose
            # clusters all defer to it predicts exactly as the cluster learner alone would.
            self._base = self._new_learner(self.seed)
            self._base_kind = protocols.kind_of(self._base, self._encoded)
        groups = [tuple(new)] if first else [(label,) for label in new]
        for labels in groups:
            c = self._new_cluster(labels)
            self._clusters[c.key] = c
            self._target.append(c.key)
        self._index_clusters()
        self._cache = None

    def _index_clusters(self, log_end: int | None = None):
        """Lookup tables of the clusters, rebuilt whenever they change."""
        self._order = list(self._clusters.values())
        owner = np.zeros(len(self._labels), dtype=np.int64)
        for k, c in enumerate(self._order):
            owner[c.cols] = k
        self._owner = owner
        every = self._order + list(self._shadow.values())
        # Clusters with a learner of their own or alternates (they learn and are scored).
        self._busy = [c for c in every if c.learner is not None or c.alternates is not None]
        views = [c for c in every if c.learner is None]
        self._watched = [c for c in views if c.watch is not None]
        homes: list[list] = [[] for _ in self._labels]
        for c in self._watched:
            for position, i in enumerate(c.cols.tolist()):
                homes[i].append((c, position))
        self._homes = homes
        self._trim_log(log_end)

    def _trim_log(self, log_end: int | None = None):
        """When the views' next test is due, and the log from the oldest instance a view has
        not tested yet (the views changed, or some of them tested)."""
        watches = [c.watch for c in self._watched]
        end = self._n if log_end is None else log_end
        self._next_due = min((w.tested + w.next_test - w.n for w in watches), default=end + 1)
        oldest = min((w.tested for w in watches), default=end)
        if oldest > self._log_offset:
            del self._log[: oldest - self._log_offset]
            self._log_offset = oldest

    # -- restructuring --------------------------------------------------------------------

    def _restructure(self):
        partition = self._refined()
        if partition is None:
            return
        if self._shadow:
            self._complete_handover()
        # Restructuring after a structure-level drift: the new clusters get alternates.
        drifted = self.adapt and self._structure_drift
        self._structure_drift = False
        self._last_restructure = self._n
        self._n_restructurings += 1
        self._target = [frozenset(s) for s in partition]
        for labels in partition:
            key = frozenset(labels)
            if key not in self._clusters:
                c = self._shadow[key] = self._new_cluster(labels)
                if drifted and c.learner is None and len(labels) < len(self._labels):
                    # A change of the label structure: the new cluster gets alternates, as a
                    # cluster whose error rose.
                    self._start_alternates(c)
        if self.handover <= 0:
            self._complete_handover()
        else:
            self._handover_left = self.handover
        self._index_clusters()

    def _complete_handover(self):
        kept = {key: c for key, c in self._clusters.items() if key in set(self._target)}
        kept.update(self._shadow)
        self._clusters = {key: kept[key] for key in self._target}
        self._shadow = {}
        self._handover_left = 0
        self._index_clusters()
        self._cache = None
