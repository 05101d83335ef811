"""One cluster of labels with its learner and its drift detector."""

from __future__ import annotations

import zlib

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

    Parameters
    ----------
    labels
        The labels, in the order the model first saw them.
    learner
        A fresh multi-label learner for these labels.
    drift_delta
        Confidence of the ADWIN on the cluster's loss.
    encoded
        Whether the learner accepts the shared encoded feature vector (`learn_encoded` /
        `predict_proba_encoded`) rather than the raw dict.

    """

    __slots__ = (
        "labels",
        "key",
        "learner",
        "adwin",
        "encoded",
        "n",
        "born",
        "own_stats",
        "root_stats",
        "use_root",
    )

    def __init__(
        self,
        labels: tuple[str, ...],
        learner: base.MultiLabelClassifier,
        drift_delta: float,
        encoded: bool,
        born: int,
    ):
        self.labels = labels
        self.key = frozenset(labels)
        self.learner = learner
        self.adwin = drift.ADWIN(delta=drift_delta)
        self.encoded = encoded
        self.n = 0
        self.born = born
        # Faded [instances, exact matches, TP, FP, FN] of this cluster's learner and of the
        # all-labels learner on the cluster's labels.
        self.own_stats = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.root_stats = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.use_root = True  # the all-labels learner answers until this one is better

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)

    def proba(self, x: dict, v) -> dict[str, float]:
        """P(True) of every label of the cluster."""
        if self.encoded:
            p = self.learner.predict_proba_encoded(v)
            return {label: p.get(label, 0.0) for label in self.labels}
        p = self.learner.predict_proba_one(x)
        return {label: float(p.get(label, {}).get(True, 0.0)) for label in self.labels}

    def learn(self, x: dict, v, y: dict[str, bool]) -> None:
        """Train the learner on the labels of the cluster (absent labels are False)."""
        y_sub = {label: y.get(label, False) for label in self.labels}
        if self.encoded:
            self.learner.learn_encoded(v, y_sub)
        else:
            self.learner.learn_one(x, y_sub)
        self.n += 1

    def track(self, proba: dict[str, float], y: dict[str, bool]) -> bool:
        """Feed the ADWIN with this instance's Hamming loss; True on a rise of the error."""
        wrong = sum((proba[label] > 0.5) != y.get(label, False) for label in self.labels)
        before = self.adwin.estimation
        self.adwin.update(wrong / len(self.labels))
        return self.adwin.drift_detected and self.adwin.estimation > before

    def compare(
        self,
        own: dict[str, float],
        root: dict[str, float],
        y,
        decay: float,
        margin: float = 0.0,
        warmup: int = 0,
    ) -> None:
        """Update the faded scores of this learner and of the all-labels one on these labels.

        The score of a learner on the cluster is its exact-match rate on the cluster's labels
        plus its F1 there (2TP / (2TP + FP + FN), from faded counts; 1 while nothing was
        positive), so subset accuracy and micro-F1 both count, and a learner that predicts
        nothing on sparse labels does not win by its low Hamming loss. The learner with the
        larger score answers; ties go to the all-labels learner, and the cluster's own learner
        takes over only when it leads by more than `margin`, after learning `warmup` instances.
        """
        self.own_stats = _update(self.own_stats, own, self.labels, y, decay)
        self.root_stats = _update(self.root_stats, root, self.labels, y, decay)
        own_score, root_score = _score(self.own_stats), _score(self.root_stats)
        lead = margin if self.use_root else 0.0
        self.use_root = self.n < warmup or own_score <= root_score + lead

    @property
    def error(self) -> float:
        """The ADWIN's estimate of the recent Hamming loss of the cluster."""
        return float(self.adwin.estimation)


def _update(stats: tuple, proba: dict[str, float], labels, y, decay: float) -> tuple:
    tp = fp = fn = 0
    for label in labels:
        predicted, true = proba[label] > 0.5, y.get(label, False)
        tp += predicted and true
        fp += predicted and not true
        fn += true and not predicted
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
