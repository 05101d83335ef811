"""Which of a cluster's own learner and the all-labels learner answers for its labels."""

from __future__ import annotations

import numpy as np

__all__ = ["Selection"]


class Selection:
    """Faded scores of a cluster's own learner and of the all-labels learner on its labels.

    The score of a learner on the cluster is its exact-match rate on the cluster's labels plus
    its F1 there (2TP / (2TP + FP + FN), from faded counts; 1 while nothing was positive), so
    subset accuracy and micro-F1 both count, and a learner that predicts nothing on sparse
    labels does not win by its low Hamming loss. The learner with the larger score answers;
    ties go to the all-labels learner, and the cluster's own learner takes over only when it
    leads by more than `margin`, after learning `warmup` instances.
    """

    __slots__ = ("own", "root", "use_root", "last_answer")

    def __init__(self, n: int = 0):
        # Faded [instances, exact matches, TP, FP, FN] of each learner.
        self.own = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.root = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.use_root = True  # the all-labels learner answers until the own one is better
        self.last_answer = n  # the cluster's instance count when its own learner last answered

    def __getstate__(self):
        return (self.own, self.root, self.use_root, self.last_answer)

    def __setstate__(self, state):
        self.own, self.root, self.use_root, self.last_answer = state

    def update(
        self,
        own: np.ndarray,
        root: np.ndarray,
        truth: np.ndarray,
        n: int,
        decay: float,
        margin: float = 0.0,
        warmup: int = 0,
    ) -> None:
        """Score both learners on one instance; `own`, `root` and `truth` are boolean vectors
        over the cluster's labels, `n` the instances the own learner has learned."""
        self.own = _update(self.own, own, truth, decay)
        self.root = _update(self.root, root, truth, decay)
        lead = margin if self.use_root else 0.0
        self.use_root = n < warmup or _score(self.own) <= _score(self.root) + lead
        if not self.use_root:
            self.last_answer = n


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
    n, exact, tp, fp, fn = stats  # n >= 1: scored after an update
    denominator = 2 * tp + fp + fn
    return exact / n + (2 * tp / denominator if denominator else 1.0)
