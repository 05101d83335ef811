"""ShardedIHOMER: iHOMER whose label clusters live on K shards (Ray actors)."""

from __future__ import annotations

from river import base

from ..events import DriftEvent
from ..ihomer import protocols
from ..ihomer.decision import Decider, make_decider
from ..ihomer.parameters import check_parameters
from ..ihomer.state import PartitionState
from ..partition import LabelODAC
from .backends import ShardLost, make_shards
from .learning import Learning
from .placement import Placement
from .predicting import Predicting
from .shard import BASE, ShardConfig

__all__ = ["ShardedIHOMER"]


class ShardedIHOMER(PartitionState, Learning, Predicting, base.MultiLabelClassifier):
    """iHOMER with its label clusters spread over K shards, each a Ray actor.

    The driver (this object) keeps the feature encoding and the label partition (LabelODAC
    and the restructuring); each shard holds the learners of the clusters placed on it, with
    their drift detectors and alternates, and learns and predicts micro-batches for them. A
    prediction is the union of the shards' answers. Shards are balanced by the measured cost
    of their clusters (a new cluster is estimated from its labels times the features); a
    cluster is never split, and one that moves to another shard takes its state along.

    With `fallback` (the default, as in IHOMER), a learner on all the labels trains beside
    the clusters, on one of the shards like a cluster; each cluster answers for its labels
    with whichever of its own learner and that one has scored better recently (IHOMER's
    `fallback`, `selection_window`, `selection_margin`). Its cost is that of one more
    learner, and it keeps the accuracy of the default IHOMER where a joint model is better
    than the clusters' (e.g. bibtex, delicious). Every other cluster has a learner of its
    own: IHOMER's shared learner (`share`) cannot be cut by cluster, and the per-label rise
    test (`label_drift_delta`) is not run by the shards, which watch their clusters with
    ADWIN only. The driver turns the shards' probabilities into a label set as IHOMER does
    (`seen_sets`, `threshold_strength`). So, with `learn_one`, this model learns and
    predicts exactly as `IHOMER(share=False, label_drift_delta=None)` with the same
    parameters. With `learn_many`, the partition, the new labels' clusters and the end of a
    handover change at the end of a micro-batch only (IHOMER may change them at any
    instance), and the clusters score the learner on all the labels, and the decision its
    answers, by the predictions made before the batch was learned (a batch that was not
    predicted first costs one more call to every shard); these are the only differences
    (see the README's "Scaling out" for the measured effect).

    Parameters
    ----------
    cluster_learner
        Cloned for each cluster (default `learners.MLHAT()`).
    shards
        Number of shards (K).
    address
        Ray cluster to connect to (e.g. "auto" or "ray://head:10001"); None starts a local Ray
        on first use, unless this process is connected already.
    backend
        "ray", or "local" to keep the K shards in this process (same results, no Ray).
    num_cpus
        CPUs of a local Ray started here (None: the machine's).
    rebalance
        Move clusters when a shard's load exceeds this many times the mean load.
    rebalance_every
        Instances between two looks at the measured loads.
    n_min, delta, tau, min_cluster_size, max_cluster_size, warmup, cooldown, handover,
    drift_delta, fallback, selection_window, selection_margin, retire_after, adapt,
    adapt_learners, adapt_rate, adapt_window, seen_sets, threshold_strength, last_set,
    label_balance, seed
        As for `IHOMER`.

    """

    # IHOMER's parameters that sharding fixes (for the shared parameter checks).
    share = False
    label_drift_delta = None  # the shards watch their clusters with ADWIN only

    def __init__(
        self,
        cluster_learner: base.MultiLabelClassifier | None = None,
        shards: int = 2,
        address: str | None = None,
        backend: str = "ray",
        num_cpus: int | None = None,
        rebalance: float = 1.25,
        rebalance_every: int = 2000,
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
        adapt: bool = True,
        adapt_learners: list[base.MultiLabelClassifier] | None = None,
        adapt_rate: float = 4.0,
        adapt_window: int = 100,
        seen_sets: int | None = 1000,
        threshold_strength: float = 0.2,
        last_set: bool = True,
        label_balance: bool = True,
        seed: int | None = None,
    ):
        self.cluster_learner = cluster_learner
        self.shards = shards
        self.address = address
        self.backend = backend
        self.num_cpus = num_cpus
        self.rebalance = rebalance
        self.rebalance_every = rebalance_every
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
        self.adapt = adapt
        self.adapt_learners = adapt_learners
        self.adapt_rate = adapt_rate
        self.adapt_window = adapt_window
        self.seen_sets = seen_sets
        self.threshold_strength = threshold_strength
        self.last_set = last_set
        self.label_balance = label_balance
        self.seed = seed
        check_parameters(self)
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise ValueError(f"shards must be an int >= 1, got {shards!r}")
        if backend not in ("ray", "local"):
            raise ValueError(f"backend must be 'ray' or 'local', got {backend!r}")
        if not rebalance >= 1.0 or int(rebalance_every) != rebalance_every or rebalance_every < 1:
            raise ValueError("rebalance must be >= 1 and rebalance_every an int >= 1")

        if cluster_learner is None:
            from ..learners import MLHAT

            cluster_learner = MLHAT()
        self._prototype = cluster_learner
        self._encoded = isinstance(cluster_learner, protocols.EncodedLearner)
        self._features = None
        if self._encoded:
            from ..learners import FeatureIndex

            self._features = FeatureIndex()
        self._odac = LabelODAC(n_min=n_min, delta=delta, tau=tau)
        self._labels: dict[str, int] = {}
        self._clusters: dict[frozenset, tuple[str, ...]] = {}  # answering, in partition order
        self._shadow: dict[frozenset, tuple[str, ...]] = {}  # in handover
        self._target: list[frozenset] = []
        self._handover_left = 0
        self._n = 0
        self._last_restructure: int | None = None
        self._last_check: int | None = None
        self._recheck = False
        self._structure_drift = False
        self._n_restructurings = 0
        self._events: list[DriftEvent] = []
        self._placement = Placement(shards, rebalance)
        self._measured_at = 0
        self._backend = None
        self._parked: list[tuple] = []  # (shard, its pickled clusters) while no shard runs
        self._broken: str | None = None
        self._decider = make_decider(self)
        # The last prediction: (copies of its xs, P(True) of every label for each as answered,
        # those of the learner on all the labels (None without it), the number of labels known
        # then, whether the encodings were complete). Learning those xs scores the answers
        # given before it: the clusters' choices (with `fallback`) and the decision.
        self._last: tuple | None = None

    # -- river plumbing -------------------------------------------------------------------

    @classmethod
    def _unit_test_params(cls):
        yield {"shards": 2, "backend": "local", "n_min": 20, "warmup": 20, "seed": 42}

    @property
    def _is_stochastic(self):
        return True

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_backend"] = None
        state["_last"] = None
        if self._backend is not None:
            state["_parked"] = self._collect()
        return state

    def __setstate__(self, state):
        # Pickled before the learner on all the labels could be sharded.
        state.setdefault("fallback", False)
        state.setdefault("selection_margin", 0.0)
        # Pickled before the driver decided as IHOMER: each label at 0.5.
        state.setdefault("seen_sets", None)
        state.setdefault("threshold_strength", 0.0)
        state.setdefault("last_set", False)  # pickled before the last label set's opinion
        state.setdefault("label_balance", False)  # pickled before the balance of the labels
        state.setdefault("_decider", Decider(None, 0.0))
        for old in ("_root_cache", "_answer_cache"):  # the caches of the last prediction before
            state.pop(old, None)
        state.setdefault("_last", None)
        self.__dict__.update(state)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def close(self) -> None:
        """Stop the shards (their clusters are lost unless the model was pickled first)."""
        if self.__dict__.get("_backend") is not None:
            self._backend.close()
            self._backend = None

    # -- the shards -----------------------------------------------------------------------

    def _shards(self):
        if self._broken is not None:
            raise ShardLost(self._broken)
        if self._backend is None:
            options = {"address": self.address, "num_cpus": self.num_cpus}
            config = ShardConfig(
                self._prototype,
                self._encoded,
                self.drift_delta,
                self.adapt,
                self.adapt_learners,
                self.adapt_rate,
                self.adapt_window,
                self.selection_window,
                self.retire_after,
                self.seed,
                self.fallback,
                self.selection_margin,
            )
            kwargs = options if self.backend == "ray" else {}
            self._backend = make_shards(self.backend, self.shards, config, **kwargs)
            parked, self._parked = self._parked, []
            self._run([(shard, "put", states) for shard, states in parked])
        return self._backend

    def _run(self, calls: list[tuple]) -> list:
        """Start every (shard, method, *args) call, then wait for them all."""
        return self._wait(self._start(calls))

    def _start(self, calls: list[tuple]) -> list:
        """Start every (shard, method, *args) call; `_wait` gives their results."""
        backend = self._backend if self._backend is not None else self._shards()
        try:
            return [backend.submit(shard, method, *args) for shard, method, *args in calls]
        except ShardLost as error:
            self._broken = f"{error}; restore the model from a copy (pickle)"
            raise

    def _wait(self, started: list) -> list:
        try:
            return self._backend.gather(started)
        except ShardLost as error:
            self._broken = f"{error}; restore the model from a copy (pickle)"
            raise

    def _collect(self) -> list[tuple]:
        """(shard, pickled clusters) of every shard."""
        n = len(self._backend)
        return list(enumerate(self._run([(i, "state") for i in range(n)])))

    # -- public state ---------------------------------------------------------------------

    @property
    def n_moves(self) -> int:
        """Clusters moved between shards so far (to rebalance them)."""
        return self._placement.n_moves

    def placement(self) -> dict[frozenset, int]:
        """The shard of every cluster (answering or in handover)."""
        return {key: shard for key, shard in self._placement.home.items() if key != BASE}

    def move(self, cluster, shard: int) -> None:
        """Move a cluster (given by its labels) to another shard, its state along.

        The balancing does this on its own; this is for users who place clusters themselves.
        """
        key = frozenset(cluster)
        home = self._placement.home
        if key not in home:
            raise KeyError(f"no cluster has exactly the labels {sorted(key)}")
        if isinstance(shard, bool) or not isinstance(shard, int) or not 0 <= shard < self.shards:
            raise ValueError(f"shard must be an int in [0, {self.shards}), got {shard!r}")
        if home[key] == shard:
            return
        self._shards()
        self._ship(key, home[key], shard)
        home[key] = shard
        self._placement.n_moves += 1

    def shard_memory(self) -> list[dict]:
        """Per shard: resident memory of its process now and at peak (`rss_mb`, `peak_rss_mb`;
        with `backend="local"`, this process's), its clusters' pickled size (`state_mb`),
        their number (`clusters`) and whether it holds the learner on all the labels
        (`all_labels`)."""
        backend = self._shards()
        return self._run([(i, "memory") for i in range(len(backend))])

    def shard_loads(self) -> list[float]:
        """Estimated seconds per instance of each shard (the clusters' measured costs)."""
        return self._placement.loads()

    def cluster_summary(self) -> list[dict]:
        """One record per cluster, from the shards (with the shard of each)."""
        backend = self._shards()
        summaries = self._run([(i, "summary") for i in range(len(backend))])
        return [dict(record, shard=i) for i, records in enumerate(summaries) for record in records]

    def summary(self) -> str:
        lines = [
            f"ShardedIHOMER after {self._n} instances: {len(self._labels)} labels, "
            f"{len(self._clusters)} clusters on {self.shards} shards, "
            f"{self._n_restructurings} restructurings, {len(self._events)} drift events",
            "LabelODAC tree:",
            self._odac.summary(),
        ]
        return "\n".join(lines)
