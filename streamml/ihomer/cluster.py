"""One cluster of labels: its learners, its drift detector and the scores that choose its answer."""

from __future__ import annotations

import zlib

import numpy as np
from river import base, drift

from . import protocols
from .alternates import Alternates, default_alternates
from .selection import Selection

__all__ = ["Cluster", "cluster_seed", "fresh_learner"]


def cluster_seed(seed: int | None, labels: frozenset[str], k: int = 0) -> int | None:
    """A seed for a cluster learner, derived from the model seed and the cluster's labels
    (and `k`, for the k-th set of alternates of the cluster).

    The same labels always give the same seed, whatever the order in which clusters appear.
    """
    if seed is None:
        return None
    digest = zlib.crc32("\x1f".join(sorted(labels)).encode())
    return (seed * 1_000_003 + digest + 7919 * k) % (2**31 - 1)


def fresh_learner(template: base.MultiLabelClassifier, seed: int | None):
    """A fresh clone of `template`, with this seed if it takes one."""
    learner = template.clone()
    if "seed" in learner._get_params():
        learner = learner.clone({"seed": seed})
    return learner


class Cluster:
    """A label cluster: its labels, its learners, and an ADWIN on the error of its answer.

    A cluster without a learner of its own (`learner=None`) is a view of IHOMER's learner on
    all the labels: it predicts its labels as that learner does, and may hold a `watch` (the
    split test of a tree on its labels alone) that tells when it needs a learner of its own.
    Its answer comes from the all-labels learner or from its own learner (`selection`); when
    the error of that answer rises, the cluster grows `alternates`, fresh learners on its
    labels that are mixed into the answer as they prove better.

    Parameters
    ----------
    labels
        The labels, in the order the model first saw them.
    cols
        The positions of the labels among all the labels of the model.
    learner
        A multi-label learner for these labels, or None for a view.
    drift_delta
        Confidence of the ADWIN on the cluster's loss.
    encoded
        Whether the learners accept the shared encoded feature vector rather than `x`.
    born
        The number of instances the model had learned when the cluster appeared.
    watch
        For a view: the split test of its labels (`learners.SplitWatch`), or None.

    """

    __slots__ = (
        "labels",
        "key",
        "cols",
        "learner",
        "kind",
        "watch",
        "adwin",
        "window",
        "encoded",
        "n",
        "born",
        "selection",
        "retired",
        "alternates",
        "n_adapted",
    )

    def __init__(
        self,
        labels: tuple[str, ...],
        cols: np.ndarray,
        learner: base.MultiLabelClassifier | None,
        drift_delta: float,
        encoded: bool,
        born: int,
        watch=None,
    ):
        self.labels = labels
        self.key = frozenset(labels)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.encoded = encoded
        self.set_learner(learner)
        self.watch = watch
        self.adwin = drift.ADWIN(delta=drift_delta)
        self.window = (0.0, 0)  # sum and number of the losses in the ADWIN's window
        self.born = born
        self.retired = 0  # times its own learner was dropped for not answering
        self.alternates: Alternates | None = None
        self.n_adapted = 0  # times it started alternates

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        state = dict(state)
        if "selection" not in state:  # pickled before the selection and the alternates
            selection = Selection()
            selection.own = state.pop("own_stats", selection.own)
            selection.root = state.pop("root_stats", selection.root)
            selection.use_root = state.pop("use_root", True)
            selection.last_answer = state.pop("last_answer", state.get("n", 0))
            learner = state.get("learner")
            state["selection"] = selection
            state["kind"] = (
                None if learner is None else protocols.kind_of(learner, state["encoded"])
            )
        state.setdefault("retired", 0)
        state.setdefault("alternates", None)
        state.setdefault("n_adapted", 0)
        for name, value in state.items():
            setattr(self, name, value)

    def set_learner(self, learner: base.MultiLabelClassifier | None) -> None:
        """Give the cluster a learner of its own (None: it becomes a view again); either way
        the scores that choose its answer start afresh."""
        self.learner = learner
        self.kind = None if learner is None else protocols.kind_of(learner, self.encoded)
        self.n = 0
        self.selection = Selection()

    @property
    def is_view(self) -> bool:
        """Whether the cluster has no learner of its own."""
        return self.learner is None

    @property
    def last_answer(self) -> int:
        """The value of `n` when its own learner last answered for its labels."""
        return self.selection.last_answer

    @property
    def use_root(self) -> bool:
        """Whether the all-labels learner answers rather than the cluster's own."""
        return self.selection.use_root

    def proba(self, x: dict, v) -> np.ndarray:
        """P(True) of every label of the cluster from its own learner, in the cluster's order."""
        return protocols.label_proba(self.learner, self.kind, self.labels, x, v)

    def learn(self, x: dict, v, y: dict[str, bool]) -> None:
        """Train the cluster's own learner and its alternates on its labels (absent labels are
        False)."""
        labels = self.labels
        if len(y) < len(labels):  # e.g. the positives only (a shard's): look up the fewer
            y_sub = dict.fromkeys(labels, False)
            y_sub.update((label, value) for label, value in y.items() if label in y_sub)
        else:
            y_sub = {label: y.get(label, False) for label in labels}
        if self.learner is not None:
            protocols.learn(self.learner, self.kind, x, v, y_sub)
        if self.alternates is not None:
            self.alternates.learn(x, v, y_sub)

    def track(self, wrong: float) -> bool:
        """Feed the ADWIN with this instance's Hamming loss (`wrong` labels out of the
        cluster's); True on a rise of the error."""
        adwin = self.adwin
        loss = wrong / len(self.labels)
        adwin.update(loss)
        total, count = self.window
        if adwin.drift_detected:
            # The mean of the window before the drift (ADWIN's own, kept alongside since
            # reading it from ADWIN at every instance costs more than the update). river's
            # ADWIN starts afresh at its next update after a drift: so does this window.
            before = total / count if count else 0.0
            self.window = (0.0, 0)
            return adwin.estimation > before
        self.window = (total + loss, count + 1)
        return False

    def adapt(self, templates: list | None, seed: int | None, started: int) -> None:
        """Start fresh alternates (replacing any current ones): clones of `templates` (None:
        `alternates.default_alternates()`) whose seed derives from the model's `seed`, the
        labels and how many times the cluster adapted."""
        if templates is None:
            templates = default_alternates()
        seed = cluster_seed(seed, self.key, self.n_adapted + 1)
        learners = [fresh_learner(template, seed) for template in templates]
        kinds = [protocols.kind_of(learner, self.encoded) for learner in learners]
        self.alternates = Alternates(learners, kinds, started)
        self.n_adapted += 1

    def prune_alternates(self, patience: int) -> None:
        """Drop the alternates that have not been the best predictor for `patience` instances."""
        if self.alternates is not None and not self.alternates.prune(patience):
            self.alternates = None

    @property
    def error(self) -> float:
        """The ADWIN's estimate of the recent Hamming loss of the cluster."""
        return float(self.adwin.estimation)
