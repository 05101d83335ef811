"""One shard: the label clusters it holds, learning and predicting micro-batches.

A `Shard` is a plain object; `backends` runs it in the driver's process or as a Ray actor.
Everything a cluster does on an instance is local to the cluster (its learner, its ADWIN on
the error of its answer, its alternates), so a shard runs, for each of its clusters, what
`IHOMER.learn_one` does for a cluster with a learner of its own (`share=False`), instance
after instance of the batch, and needs nothing from the other shards but, with `fallback`,
the predictions of the learner on all the labels.

With `fallback`, one shard also holds the learner on all the labels (under the key `BASE`),
which learns every instance; the driver ships its P(True) for each instance of the batch
(made before the batch was learned), with which each cluster chooses its answer as IHOMER's
clusters do (`ihomer.Selection`).
"""

from __future__ import annotations

import pickle
import time

import numpy as np

from ..ihomer.cluster import Cluster, cluster_seed, fresh_learner
from .packing import unpack_instances

__all__ = ["BASE", "Shard", "ShardConfig"]

#: The key of the learner on all the labels (no cluster of labels is empty).
BASE: frozenset = frozenset()


class ShardConfig:
    """What every shard must know: the learners to clone and the clusters' settings."""

    def __init__(
        self,
        prototype,
        encoded: bool,
        drift_delta: float,
        adapt: bool,
        adapt_learners,
        adapt_rate: float,
        adapt_window: int,
        selection_window: int,
        retire_after: int | None,
        seed: int | None,
        fallback: bool = False,
        selection_margin: float = 0.0,
    ):
        self.prototype = prototype
        self.encoded = encoded
        self.drift_delta = drift_delta
        self.adapt = adapt
        self.adapt_learners = adapt_learners
        self.adapt_rate = adapt_rate
        self.adapt_window = adapt_window
        self.selection_window = selection_window
        self.retire_after = retire_after
        self.seed = seed
        self.fallback = fallback
        self.selection_margin = selection_margin

    def __setstate__(self, state):
        state.setdefault("fallback", False)  # pickled before the learner on all the labels
        state.setdefault("selection_margin", 0.0)
        self.__dict__.update(state)


class Shard:
    """The clusters of one shard, by key (the frozenset of their labels).

    Parameters
    ----------
    config
        The settings shared by every shard.

    """

    def __init__(self, config: ShardConfig):
        self.config = config
        self.clusters: dict[frozenset, Cluster] = {}
        self.answering: set[frozenset] = set()
        self.seconds: dict[frozenset, float] = {}  # time spent on each cluster (learning)
        self.n_adaptations = 0

    def ping(self) -> int:
        """The number of clusters (a cheap call to see that the shard is alive)."""
        return len(self.clusters)

    def memory(self) -> dict:
        """Resident memory of the shard's process now and at its peak (MB), and its clusters'
        pickled size (MB: what a move or a snapshot ships)."""
        import resource

        rss = float("nan")
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) / 1024
        except OSError:
            pass
        return {
            "rss_mb": rss,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "state_mb": len(self.state()) / 2**20,
            "clusters": len(self.clusters) - (BASE in self.clusters),
            "all_labels": BASE in self.clusters,  # the learner on all the labels is here
        }

    # ---- clusters ---------------------------------------------------------------------------

    def create(self, specs: list[tuple], born: int) -> None:
        """New clusters: (labels, cols, answering, view) each; a view has no learner of its
        own (it answers with the learner on all the labels), the others a fresh learner."""
        config = self.config
        for labels, cols, answering, view in specs:
            key = frozenset(labels)
            learner = (
                None if view else fresh_learner(config.prototype, cluster_seed(config.seed, key))
            )
            self.clusters[key] = Cluster(
                tuple(labels), cols, learner, config.drift_delta, config.encoded, born
            )
            self.seconds[key] = 0.0
            if answering:
                self.answering.add(key)

    def set_base(self, labels: tuple, cols: list[int], born: int) -> None:
        """The learner on all the labels is here and knows these labels (made on first call)."""
        base = self.clusters.get(BASE)
        if base is None:
            config = self.config
            learner = fresh_learner(config.prototype, config.seed)
            base = Cluster(labels, cols, learner, config.drift_delta, config.encoded, born)
            base.key = BASE
            self.clusters[BASE] = base
            self.seconds[BASE] = 0.0
        base.labels = tuple(labels)
        base.cols = np.asarray(cols, dtype=np.int64)

    def put(self, states: bytes) -> None:
        """Clusters moved here, as `take` or `state` gives them."""
        for cluster, answering, seconds in pickle.loads(states):
            self.clusters[cluster.key] = cluster
            self.seconds[cluster.key] = seconds
            if answering:
                self.answering.add(cluster.key)

    def take(self, keys: list[frozenset]) -> bytes:
        """Remove these clusters and return them, pickled (what `put` takes): a cluster's
        state travels as bytes, so that it arrives writable whatever carries it."""
        out = []
        for key in keys:
            cluster = self.clusters.pop(key)
            answering = key in self.answering
            self.answering.discard(key)
            out.append((cluster, answering, self.seconds.pop(key, 0.0)))
        return pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)

    def state(self) -> bytes:
        """Every cluster, pickled as `take` gives them (nothing is removed)."""
        out = [
            (c, key in self.answering, self.seconds.get(key, 0.0))
            for key, c in self.clusters.items()
        ]
        return pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)

    def drop(self, keys: list[frozenset]) -> None:
        for key in keys:
            self.clusters.pop(key, None)
            self.answering.discard(key)
            self.seconds.pop(key, None)

    def answer_for(self, keys: list[frozenset]) -> None:
        """These clusters (in handover until now) answer from now on."""
        self.answering.update(key for key in keys if key in self.clusters)

    def costs(self) -> dict[frozenset, float]:
        """Seconds spent learning, by cluster, since the last call (then reset)."""
        out = dict(self.seconds)
        for key in self.seconds:
            self.seconds[key] = 0.0
        return out

    def summary(self) -> list[dict]:
        """One record per cluster (see `IHOMER.cluster_summary`)."""
        rate = self.config.adapt_rate
        return [
            {
                "labels": list(c.labels),
                "error": c.error,
                "n": c.n,
                "answering": key in self.answering,
                "alternates": 0 if c.alternates is None else len(c.alternates),
                "answer_weight": 1.0
                if c.alternates is None
                else float(c.alternates.weights(rate)[0]),
            }
            for key, c in self.clusters.items()
            if key != BASE
        ]

    # ---- learning and predicting ------------------------------------------------------------

    def learn(
        self, packed, xs, positives: list[list[int]], start: int, width: int, root=None
    ) -> list:
        """Learn a micro-batch whose first instance is the model's instance `start`.

        `packed` holds the encoded instances (`packing.pack_instances`), `xs` the dicts (for
        learners that are not encoded, else None), `positives` the positions of the positive
        labels of each instance and `width` the number of labels of the model; with
        `fallback`, `root` holds the P(True) of every label from the learner on all the labels
        (a row per instance). Returns the drift events: (instance, labels).
        """
        config = self.config
        vs = unpack_instances(packed)
        decay = 1.0 / config.adapt_window
        select = config.fallback
        window = config.selection_window
        keep = 1.0 - 1.0 / window
        events = []
        clusters = list(self.clusters.items())
        names = {}
        for c in self.clusters.values():
            names.update(zip(c.cols.tolist(), c.labels))
        clock = time.perf_counter
        for t, (v, on) in enumerate(zip(vs, positives)):
            n = start + t
            x = xs[t] if xs is not None else None
            y = {names[i]: True for i in on if i in names}
            truth_all = np.zeros(width, dtype=bool)
            truth_all[on] = True
            rising = []
            for key, c in clusters:
                began = clock()
                if key == BASE:
                    c.learn(x, v, y)
                    self.seconds[key] += clock() - began
                    continue
                answering = key in self.answering
                own = c.learner is not None
                if answering or c.alternates is not None or (select and own):
                    truth = truth_all[c.cols]
                    r = None if root is None else root[t, c.cols]
                    p = c.proba(x, v) if own else None
                    if select and own:
                        c.selection.update(
                            p > 0.5, r > 0.5, truth, c.n, keep, config.selection_margin, window
                        )
                    answer = r if p is None or (select and c.use_root) else p
                    if c.alternates is not None:
                        probas = c.alternates.probas(c.labels, x, v)
                        mixed = c.alternates.mix(answer, probas, config.adapt_rate)
                        c.alternates.score(answer, probas, truth.astype(float), decay)
                        answer = mixed
                    if answering:
                        wrong = int(np.count_nonzero((answer > 0.5) != truth))
                        if c.track(wrong):
                            events.append((n, c.labels))
                            rising.append(c)
                if own or c.alternates is not None:
                    c.learn(x, v, y)
                c.n += 1
                self.seconds[key] += clock() - began
            if config.adapt:
                self._adapt(rising, n + 1)
        return events

    def _adapt(self, rising: list[Cluster], n: int) -> None:
        """As `IHOMER._adapt`, after the model's instance count became `n`."""
        config = self.config
        for c in rising:
            if c.alternates is None or n - c.alternates.started >= config.selection_window:
                c.adapt(config.adapt_learners, config.seed, n)
                self.n_adaptations += 1
        if config.retire_after is not None:
            for c in self.clusters.values():
                if c.alternates is not None:
                    c.prune_alternates(config.retire_after)

    def predict_base(self, packed, xs) -> np.ndarray:
        """P(True) of every label from the learner on all the labels (a row per instance)."""
        base = self.clusters[BASE]
        return _rows(base.proba, unpack_instances(packed), xs)

    def predict(self, packed, xs) -> dict[frozenset, tuple]:
        """For every answering cluster: its own learner's P(True) of its labels (None when the
        learner on all the labels answers for them), its alternates' (or None) and their
        weights in the mixture, each a row per instance; under `BASE`, the learner on all
        the labels' P(True) of every label, if it is here."""
        vs = unpack_instances(packed)
        config = self.config

        def rows(proba) -> np.ndarray:
            return _rows(proba, vs, xs)

        out = {}
        base = self.clusters.get(BASE)
        if base is not None:
            out[BASE] = (rows(base.proba), None, None)
        for key in self.answering:
            c = self.clusters[key]
            use_root = c.learner is None or (config.fallback and c.use_root)
            own = None if use_root else rows(c.proba)
            alternates = weights = None
            if c.alternates is not None:
                found = [
                    c.alternates.probas(c.labels, xs[t] if xs is not None else None, v)
                    for t, v in enumerate(vs)
                ]
                alternates = [
                    np.array([f[i] for f in found]).reshape(len(vs), len(c.labels))
                    for i in range(len(c.alternates))
                ]
                weights = c.alternates.weights(config.adapt_rate)
            out[key] = (own, alternates, weights)
        return out


def _rows(proba, vs: list, xs) -> np.ndarray:
    """`proba(x, v)` of each instance, a row each."""
    found = [proba(xs[t] if xs is not None else None, v) for t, v in enumerate(vs)]
    return np.array(found).reshape(len(vs), -1)
