"""Fresh learners that a cluster grows when its error rises, mixed with its answer."""

from __future__ import annotations

import numpy as np

from ..learners.mixing import mixture_weights
from . import protocols

__all__ = ["Alternates", "default_alternates", "mix"]

#: Instances an alternate is scored on before it votes.
WARMUP = 20


def default_alternates() -> list:
    """The alternates a cluster grows by default: a naive Bayes model, good after few
    instances, and one whose statistics fade over about 200 instances, which follows a
    concept still changing (a gradual drift) rather than averaging the old and the new."""
    from ..learners import NaiveBayes

    return [NaiveBayes(), NaiveBayes(fading=0.995)]


class Alternates:
    """A cluster's alternate learners, trained on its labels from the instance they started.

    The cluster's answer (from the all-labels learner or its own) and each alternate are scored
    on the cluster's labels by their recent Brier score (the sum over the labels of the squared
    error of P(True), faded), from the instance the alternates started. The cluster then
    answers with the mixture whose weights are the scores to the power -`rate`
    (`learners.mixing`), so an alternate takes over its labels as soon as, and as much as, it
    predicts them better, with no margin to clear; an alternate votes once it has been scored
    on `WARMUP` instances. An alternate whose score has been worse than that of the answer or
    of another alternate for `patience` instances in a row is dropped (`prune`): it was never
    the best predictor of the cluster's labels for that long.

    Parameters
    ----------
    learners
        Fresh learners for the cluster's labels.
    kinds
        How to talk to each (`protocols.kind_of`).
    started
        The model's instance count when they started.

    """

    __slots__ = ("learners", "kinds", "scores", "n", "behind", "started", "_weights")

    def __init__(self, learners: list, kinds: list[str], started: int):
        self.learners = list(learners)
        self.kinds = list(kinds)
        self.scores = np.zeros(1 + len(self.learners))  # faded Brier; [0]: the cluster's answer
        self.n = 0  # instances scored
        self.behind = np.zeros(len(self.learners), dtype=np.int64)
        self.started = started
        self._weights: tuple | None = None  # (rate, weights) of the current scores

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)

    def __len__(self) -> int:
        return len(self.learners)

    def probas(self, labels, x: dict, v) -> list[np.ndarray]:
        """P(True) of the cluster's labels from each alternate."""
        return [
            protocols.label_proba(learner, kind, labels, x, v)
            for learner, kind in zip(self.learners, self.kinds)
        ]

    def weights(self, rate: float) -> np.ndarray:
        """Weights of the answer and of each alternate (zeros for the alternates while they
        warm up)."""
        cached = self._weights
        if cached is not None and cached[0] == rate:
            return cached[1]
        if self.n < WARMUP:
            w = np.zeros(len(self.scores))
            w[0] = 1.0
        else:
            w = mixture_weights(self.scores, rate)
        self._weights = (rate, w)
        return w

    def mix(self, answer: np.ndarray, probas: list[np.ndarray], rate: float) -> np.ndarray:
        """The mixture of the answer's and the alternates' P(True)."""
        return mix(self.weights(rate), answer, probas)

    def score(self, answer: np.ndarray, probas: list[np.ndarray], truth: np.ndarray, decay: float):
        """Update the recent Brier scores with the true labels (a 0/1 float vector)."""
        errors = np.vstack([answer] + probas) - truth
        brier = np.einsum("ij,ij->i", errors, errors)
        self.scores += decay * (brier - self.scores)
        self._weights = None
        self.n += 1
        # An alternate is behind while another predictor (the answer or another alternate)
        # has a better score. (A handful of predictors: plain Python.)
        scores = self.scores.tolist()
        behind = self.behind.tolist()
        for i in range(1, len(scores)):
            others = min(scores[:i] + scores[i + 1 :])
            behind[i - 1] = behind[i - 1] + 1 if scores[i] > others else 0
        self.behind = np.array(behind, dtype=np.int64)

    def learn(self, x: dict, v, y: dict) -> None:
        """Teach every alternate one instance (`y` restricted to the cluster's labels)."""
        for learner, kind in zip(self.learners, self.kinds):
            protocols.learn(learner, kind, x, v, y)

    def prune(self, patience: int) -> int:
        """Drop the alternates that were not the best predictor for `patience` instances in a
        row; returns how many are left."""
        keep = (self.behind < patience).tolist()
        if not all(keep):
            self.learners = [a for a, k in zip(self.learners, keep) if k]
            self.kinds = [a for a, k in zip(self.kinds, keep) if k]
            self.scores = self.scores[[True] + keep]
            self.behind = self.behind[keep]
            self._weights = None
        return len(self.learners)


def mix(weights: np.ndarray, answer: np.ndarray, probas: list[np.ndarray]) -> np.ndarray:
    """The mixture of an answer's and alternates' P(True) (vectors, or matrices with a row per
    instance) with these weights (the answer's first)."""
    out = weights[0] * answer
    for weight, p in zip(weights[1:].tolist(), probas):
        out = out + weight * p
    return out
