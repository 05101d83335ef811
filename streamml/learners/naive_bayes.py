"""Gaussian naive Bayes for multi-label streams: a learner that is good after few instances."""

from __future__ import annotations

import numpy as np
from river import base

from .encoded import EncodedLearner
from .features import EncodedInstance

__all__ = ["NaiveBayes"]


class NaiveBayes(EncodedLearner, base.MultiLabelClassifier):
    """Binary relevance of Gaussian naive Bayes classifiers, vectorised over labels and features.

    For each label, every feature is modelled by one Gaussian among the instances where the
    label is positive and one among those where it is negative (a missing feature counts as 0),
    and the label's probability follows from Bayes' rule with Laplace-smoothed class priors.
    A generative model like this one reaches its asymptotic error after far fewer instances
    than a discriminative one (logistic regression) or a tree[^1], so it is the learner to
    have right after a change, when little has been seen of the new concept; IHOMER starts one
    beside a fresh tree in a cluster whose error rises.

    Learning an instance costs O(positive labels x non-zero features); a prediction O(labels x
    features). Statistics are sums, so the model never forgets: it is meant to be started
    afresh.

    Parameters
    ----------
    var_smoothing
        Fraction of the largest variance of a feature (over all instances) added to every
        variance, for numerical stability (as in scikit-learn).
    prior_weight
        Pseudo-instances at the feature's variance over all instances that each class variance
        is shrunk towards; keeps the first predictions of a class seen a few times sensible.

    Examples
    --------

    >>> from river import datasets
    >>> from streamml.evaluate import prequential
    >>> from streamml.learners import NaiveBayes

    >>> result = prequential(NaiveBayes(), datasets.Yeast().take(500))
    >>> print(f"micro-F1: {result.micro_f1:.3f}")
    micro-F1: ...

    References
    ----------
    [^1]: Ng, A.Y. and Jordan, M.I., 2002. On discriminative vs. generative classifiers: a
        comparison of logistic regression and naive Bayes. NeurIPS 14, pp.841-848.

    """

    def __init__(self, var_smoothing: float = 1e-9, prior_weight: float = 1.0):
        self.var_smoothing = var_smoothing
        self.prior_weight = prior_weight
        for name in ("var_smoothing", "prior_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        self._reset_encoding()
        self._n = 0
        self._pos = np.zeros(0)  # positives of each label
        self._s1 = np.zeros(0)  # sum of each feature over all instances
        self._s2 = np.zeros(0)  # sum of its square
        self._s1p = np.zeros((0, 0))  # sum of each feature over the positives of each label
        self._s2p = np.zeros((0, 0))
        self._params: tuple | None = None  # (n learnt, per-class means, variances, prior)

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"var_smoothing": 1e-6, "prior_weight": 0.0}

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_params"] = None
        for name in ("_last_x", "_last_x_copy", "_last_v"):
            state[name] = None
        return state

    @property
    def n_learned(self) -> int:
        """Instances learned so far."""
        return self._n

    def _grow(self, n_labels: int, n_features: int):
        old_l, old_f = self._s1p.shape
        if n_labels <= old_l and n_features <= old_f:
            return
        n_labels, n_features = max(n_labels, old_l), max(n_features, old_f)
        self._pos = np.concatenate([self._pos, np.zeros(n_labels - old_l)])
        for name in ("_s1", "_s2"):
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.zeros(n_features - old_f)]))
        for name in ("_s1p", "_s2p"):
            new = np.zeros((n_labels, n_features))
            new[:old_l, :old_f] = getattr(self, name)
            setattr(self, name, new)

    def learn_encoded(self, v: EncodedInstance, y: dict) -> None:
        """Learn from an instance encoded by the caller (with this learner's index or another)."""
        positives = self._positives(y)
        self._grow(len(self._labels), v.width)
        cols, values = v.indices, v.values
        self._n += 1
        self._s1[cols] += values
        self._s2[cols] += values * values
        if positives:
            self._pos[positives] += 1.0
            rows = np.asarray(positives)[:, None]
            self._s1p[rows, cols] += values
            self._s2p[rows, cols] += values * values
        self._params = None

    def _parameters(self) -> tuple:
        if self._params is not None:
            return self._params
        n = float(self._n)
        n1 = self._pos[:, None]
        n0 = n - n1
        mean = self._s1 / n
        var = np.maximum(self._s2 / n - mean * mean, 0.0)
        eps = self.var_smoothing * float(var.max(initial=0.0)) + 1e-12
        k = self.prior_weight
        params = []
        for count, s1, s2 in ((n1, self._s1p, self._s2p), (n0, self._s1 - self._s1p, None)):
            if s2 is None:
                s2 = self._s2 - self._s2p
            safe = np.maximum(count, 1.0)
            m = s1 / safe
            within = np.maximum(s2 / safe - m * m, 0.0)
            params.append((m, (count * within + k * var) / np.maximum(count + k, 1e-300) + eps))
        (m1, v1), (m0, v0) = params
        # Terms of the log-odds that do not depend on x, and the labels with both classes seen.
        const = np.log((self._pos + 1.0) / (n - self._pos + 1.0))
        usable = (n1[:, 0] > 0) & (n0[:, 0] > 0)
        bias = -0.5 * np.log(v1 / v0).sum(axis=1)
        self._params = (m1, 1.0 / v1, m0, 1.0 / v0, const, usable, bias)
        return self._params

    def predict_proba_vector(self, v: EncodedInstance) -> np.ndarray:
        """P(label is True) of every known label, in the order of `labels`, for an instance
        encoded by the caller."""
        n_labels = len(self._labels)
        if not n_labels or not self._n:
            return np.zeros(n_labels)
        m1, p1, m0, p0, const, usable, bias = self._parameters()
        width = m1.shape[1]
        x = v.dense()
        x = x[:width] if len(x) >= width else np.concatenate([x, np.zeros(width - len(x))])
        d1, d0 = x - m1, x - m0
        evidence = bias + 0.5 * ((d0 * d0 * p0).sum(axis=1) - (d1 * d1 * p1).sum(axis=1))
        log_odds = const + np.where(usable, evidence, 0.0)
        proba = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -50.0, 50.0)))
        return proba[:n_labels]
