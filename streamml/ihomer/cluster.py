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
        "own_loss",
        "root_loss",
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
        self.own_loss = 0.0  # faded loss of this cluster's learner on its labels
        self.root_loss = 0.0  # faded loss of the all-labels learner on the same labels
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

    def _loss(self, proba: dict[str, float], y: dict[str, bool]) -> float:
        wrong = sum((proba[label] > 0.5) != y.get(label, False) for label in self.labels)
        return (wrong > 0) + wrong / len(self.labels)

    def compare(self, own: dict[str, float], root: dict[str, float], y, decay: float) -> None:
        """Update the faded losses of this learner and of the all-labels one on these labels.

        The loss of an instance is its exact-match error on the cluster's labels plus its
        Hamming loss there, so subset accuracy and per-label errors both count. The learner
        with the smaller faded loss answers; ties go to the all-labels learner.
        """
        self.own_loss = decay * self.own_loss + self._loss(own, y)
        self.root_loss = decay * self.root_loss + self._loss(root, y)
        self.use_root = self.root_loss <= self.own_loss

    @property
    def error(self) -> float:
        """The ADWIN's estimate of the recent Hamming loss of the cluster."""
        return float(self.adwin.estimation)
