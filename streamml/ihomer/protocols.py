"""What IHOMER can ask of a cluster learner beyond river's interface, and the one place that
turns any learner's prediction into an array of probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["EncodedLearner", "SharableLearner", "VectorLearner", "kind_of", "label_proba", "learn"]


@runtime_checkable
class EncodedLearner(Protocol):
    """Learns and predicts on an instance encoded once (`learners.FeatureIndex`) and shared by
    every cluster, instead of the dict `x`."""

    def learn_encoded(self, v, y: dict) -> None: ...

    def predict_proba_encoded(self, v) -> dict: ...


@runtime_checkable
class VectorLearner(EncodedLearner, Protocol):
    """Also gives P(True) of its labels as an array, in the order of `labels` (the order in
    which it first saw them)."""

    @property
    def labels(self) -> list: ...

    def predict_proba_vector(self, v) -> np.ndarray: ...


@runtime_checkable
class SharableLearner(VectorLearner, Protocol):
    """Can be shared by the clusters: each cluster runs the learner's split test on its own
    labels (`split_watch`) and, when that test splits, gets a copy restricted to its labels
    (`restricted`); see `learners.MLHAT`."""

    def split_watch(self, n_labels: int): ...

    def restricted(self, labels, seed: int | None = None, split: tuple | None = None): ...


def kind_of(learner, encoded: bool) -> str:
    """How IHOMER talks to `learner`: "vector" (a `VectorLearner`), "encoded" (an
    `EncodedLearner`) or "dict" (river's `predict_proba_one`); never more than `encoded`
    allows. Checked once per learner: protocol checks are slow on a hot path."""
    if encoded and isinstance(learner, VectorLearner):
        return "vector"
    if encoded and isinstance(learner, EncodedLearner):
        return "encoded"
    return "dict"


def label_proba(learner, kind: str, labels: Sequence[str], x: dict, v) -> np.ndarray:
    """P(True) of each of `labels`, in that order, from `learner` of this `kind` (0 for a
    label it does not know yet).

    A "vector" learner must have learned dicts `y` whose keys come in the order of `labels`,
    so that the labels it knows are the first of `labels`; its array is then used as it is.
    """
    n = len(labels)
    if kind == "vector":
        p = learner.predict_proba_vector(v)
        return p if len(p) == n else np.concatenate([p, np.zeros(n - len(p))])
    if kind == "encoded":
        q = learner.predict_proba_encoded(v)
        return np.fromiter((q.get(label, 0.0) for label in labels), dtype=float, count=n)
    q = learner.predict_proba_one(x)
    return np.fromiter((q.get(label, {}).get(True, 0.0) for label in labels), dtype=float, count=n)


def learn(learner, kind: str, x: dict, v, y: dict) -> None:
    """Teach `learner` of this `kind` one instance."""
    if kind == "dict":
        learner.learn_one(x, y)
    else:
        learner.learn_encoded(v, y)
