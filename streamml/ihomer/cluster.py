"""One cluster of labels with its learner (or its view of the shared one) and its drift detector."""

from __future__ import annotations

import zlib

import numpy as np
from river import base, drift

__all__ = ["Cluster", "cluster_seed"]


def cluster_seed(seed: int | None, labels: frozenset[str]) -> int | None:
    """A seed for a cluster learner, derived from the model seed and the cluster's labels.

    The same labels always give the same seed, whatever the order in which clusters appear.
    """
    if seed is None:
        return None
    digest = zlib.crc32("\x1f".join(sorted(labels)).encode())
    return (seed * 1_000_003 + digest) % (2**31 - 1)


class Cluster:
    """A label cluster: its labels, its learner, and an ADWIN on its per-instance Hamming loss.

    A cluster without a learner (`learner=None`) is a view of IHOMER's learner on all the
    labels: it predicts its labels as that learner does, and may hold a `watch` (the split test
    of a tree on its labels alone) that tells when it needs a learner of its own.

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
        Whether the learner accepts the shared encoded feature vector (`learn_encoded` /
        `predict_proba_encoded`) rather than the raw dict.
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
        "watch",
        "adwin",
        "window",
        "encoded",
        "n",
        "born",
        "own_stats",
        "root_stats",
        "use_root",
        "last_answer",
        "retired",
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
        self.learner = learner
        self.watch = watch
        self.adwin = drift.ADWIN(delta=drift_delta)
        self.window = (0.0, 0)  # sum and number of the losses in the ADWIN's window
        self.encoded = encoded
        self.n = 0
        self.born = born
        self.last_answer = 0  # the value of `n` when its own learner last answered
        self.retired = 0  # times its own learner was dropped for not answering
        self.reset_selection()

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        self.last_answer, self.retired = state.get("n", 0), 0  # pickles older than them
        for name, value in state.items():
            setattr(self, name, value)

    def reset_selection(self):
        """Forget the scores that choose between this learner and the all-labels one."""
        # Faded [instances, exact matches, TP, FP, FN] of this cluster's learner and of the
        # all-labels learner on the cluster's labels.
        self.own_stats = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.root_stats = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.use_root = True  # the all-labels learner answers until this one is better

    @property
    def is_view(self) -> bool:
        """Whether the cluster predicts with the all-labels learner (it has none of its own)."""
        return self.learner is None

    def proba(self, x: dict, v) -> np.ndarray:
        """P(True) of every label of the cluster from its own learner, in the cluster's order."""
        learner, labels = self.learner, self.labels
        if self.encoded:
            vector = getattr(learner, "predict_proba_vector", None)
            if vector is not None and len(learner.labels) == len(labels):
                return vector(v)  # the learner knows exactly these labels, in this order
            p = learner.predict_proba_encoded(v)
            return np.array([p.get(label, 0.0) for label in labels], dtype=float)
        p = learner.predict_proba_one(x)
        return np.array([p.get(label, {}).get(True, 0.0) for label in labels], dtype=float)

    def learn(self, x: dict, v, y: dict[str, bool]) -> None:
        """Train the learner on the labels of the cluster (absent labels are False)."""
        y_sub = {label: y.get(label, False) for label in self.labels}
        if self.encoded:
            self.learner.learn_encoded(v, y_sub)
        else:
            self.learner.learn_one(x, y_sub)

    def track(self, wrong: float) -> bool:
        """Feed the ADWIN with this instance's Hamming loss (`wrong` labels out of the
        cluster's); True on a rise of the error."""
        adwin = self.adwin
        loss = wrong / len(self.labels)
        adwin.update(loss)
        total, count = self.window
        if adwin.drift_detected:
            # The mean of the window before the drift (ADWIN's own, kept alongside since
            # reading it from ADWIN at every instance costs more than the update).
            before = total / count if count else 0.0
            after = adwin.estimation
            self.window = (after * adwin.width, adwin.width)
            return after > before
        self.window = (total + loss, count + 1)
        return False

    def compare(
        self,
        own: np.ndarray,
        root: np.ndarray,
        truth: np.ndarray,
        decay: float,
        margin: float = 0.0,
        warmup: int = 0,
    ) -> None:
        """Update the faded scores of this learner and of the all-labels one on these labels.

        `own`, `root` and `truth` are boolean vectors over the cluster's labels (the two
        predictions and the true labels). The score of a learner on the cluster is its
        exact-match rate on the cluster's labels plus its F1 there (2TP / (2TP + FP + FN), from
        faded counts; 1 while nothing was positive), so subset accuracy and micro-F1 both
        count, and a learner that predicts nothing on sparse labels does not win by its low
        Hamming loss. The learner with the larger score answers; ties go to the all-labels
        learner, and the cluster's own learner takes over only when it leads by more than
        `margin`, after learning `warmup` instances.
        """
        self.own_stats = _update(self.own_stats, own, truth, decay)
        self.root_stats = _update(self.root_stats, root, truth, decay)
        own_score, root_score = _score(self.own_stats), _score(self.root_stats)
        lead = margin if self.use_root else 0.0
        self.use_root = self.n < warmup or own_score <= root_score + lead
        if not self.use_root:
            self.last_answer = self.n

    @property
    def error(self) -> float:
        """The ADWIN's estimate of the recent Hamming loss of the cluster."""
        return float(self.adwin.estimation)


def _update(stats: tuple, predicted: np.ndarray, truth: np.ndarray, decay: float) -> tuple:
    tp = int(np.count_nonzero(predicted & truth))
    fp = int(np.count_nonzero(predicted)) - tp
    fn = int(np.count_nonzero(truth)) - tp
    n, exact, ftp, ffp, ffn = stats
    return (
        decay * n + 1.0,
        decay * exact + (fp + fn == 0),
        decay * ftp + tp,
        decay * ffp + fp,
        decay * ffn + fn,
    )


def _score(stats: tuple) -> float:
    n, exact, tp, fp, fn = stats
    if n == 0:
        return 0.0
    denominator = 2 * tp + fp + fn
    return exact / n + (2 * tp / denominator if denominator else 1.0)
