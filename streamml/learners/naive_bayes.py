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
    in a cluster whose error rises.

    Learning an instance costs O(positive labels x non-zero features); a prediction O(labels x
    features). The Gaussians' parameters are recomputed from the sums when the number of
    instances has grown by a fraction `refresh` since they last were (each instance moves
    them by about 1/n). Statistics are sums, so the model never forgets: it is meant to be
    started afresh.

    Parameters
    ----------
    var_smoothing
        Fraction of the largest variance of a feature (over all instances) added to every
        variance, for numerical stability (as in scikit-learn).
    prior_weight
        Pseudo-instances at the feature's variance over all instances that each class variance
        is shrunk towards; keeps the first predictions of a class seen a few times sensible.
    refresh
        Relative growth of the number of instances after which the parameters are recomputed
        (0: at every instance, exactly).

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

    def __init__(
        self, var_smoothing: float = 1e-9, prior_weight: float = 1.0, refresh: float = 0.05
    ):
        self.var_smoothing = var_smoothing
        self.prior_weight = prior_weight
        self.refresh = refresh
        for name in ("var_smoothing", "prior_weight", "refresh"):
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
        self._params: tuple | None = None  # see _parameters
        self._params_n = 0  # instances learnt when they were computed

    @classmethod
    def _unit_test_params(cls):
        yield {}
        yield {"var_smoothing": 1e-6, "prior_weight": 0.0, "refresh": 0.0}

    def __getstate__(self):
        state = self.__dict__.copy()
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
        params = self._params
        if params is not None and (
            self._n > self._params_n * (1.0 + self.refresh) or len(params[2]) != len(self._pos)
        ):
            self._params = None

    def _parameters(self) -> tuple:
        """(means, precisions, log-odds without x) of both classes of every label, stacked:
        rows 0..L-1 for the positive class, L..2L-1 for the negative one."""
        if self._params is not None:
            return self._params
        n = float(self._n)
        pos = self._pos
        counts = np.concatenate([pos, n - pos])[:, None]
        s1 = np.concatenate([self._s1p, self._s1 - self._s1p])
        s2 = np.concatenate([self._s2p, self._s2 - self._s2p])
        mean_all = self._s1 / n
        var_all = np.maximum(self._s2 / n - mean_all * mean_all, 0.0)
        eps = self.var_smoothing * float(var_all.max(initial=0.0)) + 1e-12
        k = self.prior_weight
        safe = np.maximum(counts, 1.0)
        mean = s1 / safe
        within = np.maximum(s2 / safe - mean * mean, 0.0)
        var = (counts * within + k * var_all) / np.maximum(counts + k, 1e-300) + eps
        log_var = np.log(var).sum(axis=1)
        m = len(pos)
        # Labels with both classes seen weigh the evidence of x; the others only their prior.
        usable = (pos > 0) & (pos < n)
        prior = np.log((pos + 1.0) / (n - pos + 1.0))
        bias = np.where(usable, prior - 0.5 * (log_var[:m] - log_var[m:]), prior)
        self._params = (mean, 1.0 / var, bias, np.where(usable, 0.5, 0.0))
        self._params_n = self._n
        return self._params

    def predict_proba_vector(self, v: EncodedInstance) -> np.ndarray:
        """P(label is True) of every known label, in the order of `labels`, for an instance
        encoded by the caller."""
        n_labels = len(self._labels)
        if not n_labels or not self._n:
            return np.zeros(n_labels)
        mean, precision, bias, half = self._parameters()
        n_labels = min(n_labels, len(bias))
        width = mean.shape[1]
        x = v.dense()
        x = x[:width] if len(x) >= width else np.concatenate([x, np.zeros(width - len(x))])
        d = x - mean
        q = np.einsum("ij,ij->i", d * d, precision)
        m = len(bias)
        log_odds = bias + half * (q[m:] - q[:m])
        proba = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -50.0, 50.0)))
        return proba[:n_labels]
