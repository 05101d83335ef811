"""Gaussian naive Bayes for multi-label streams: a learner that is good after few instances."""

from __future__ import annotations

import numpy as np
from river import base

from .encoded import EncodedLearner
from .features import EncodedInstance

__all__ = ["NaiveBayes"]

#: Scaled weights grow as fading ** -t; the sums are divided back down past this value.
_RESCALE_AT = 1e100


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
    them by about 1/n). Statistics are sums: with `fading` 1 the model never forgets (it is
    meant to be started afresh); below 1, every sum is faded, so the model follows a concept
    that changes gradually, over a horizon of about 1 / (1 - `fading`) instances.

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
        (0: at every instance, exactly); with `fading`, of the number of instances or of the
        horizon, whichever is smaller.
    fading
        Weight multiplier per instance of everything learned before (1: no forgetting).

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
        self,
        var_smoothing: float = 1e-9,
        prior_weight: float = 1.0,
        refresh: float = 0.05,
        fading: float = 1.0,
    ):
        self.var_smoothing = var_smoothing
        self.prior_weight = prior_weight
        self.refresh = refresh
        self.fading = fading
        for name in ("var_smoothing", "prior_weight", "refresh"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if isinstance(fading, bool) or not isinstance(fading, int | float) or not 0 < fading <= 1:
            raise ValueError(f"fading must be a number in (0, 1], got {fading!r}")
        self._reset_encoding()
        self._n = 0
        # Fading is lazy: instance t adds fading ** -t (`_w`), and the sums are read in units
        # of the last instance; they are divided back down past _RESCALE_AT.
        self._w = 1.0
        self._total = 0.0  # scaled sum of the instances' weights
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
        yield {"fading": 0.99}

    def __setstate__(self, state):
        if "_w" not in state:  # pickled before fading
            state.update(fading=1.0, _w=1.0, _total=float(state["_n"]))
        self.__dict__.update(state)

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
        w = self._w
        self._total += w
        weighted = values if w == 1.0 else w * values
        self._s1[cols] += weighted
        self._s2[cols] += weighted * values
        if positives:
            self._pos[positives] += w
            rows = np.asarray(positives)[:, None]
            self._s1p[rows, cols] += weighted
            self._s2p[rows, cols] += weighted * values
        if self.fading < 1.0:
            self._w = w / self.fading
            if self._w > _RESCALE_AT:
                self._rescale(1.0 / self._w)
        params = self._params
        if params is not None and (self._stale() or len(params[2]) != len(self._pos)):
            self._params = None

    def _stale(self) -> bool:
        """Whether the parameters have moved enough to be recomputed."""
        since = self._n - self._params_n
        if self.fading < 1.0:
            return since > self.refresh * min(self._params_n, 1.0 / (1.0 - self.fading))
        return self._n > self._params_n * (1.0 + self.refresh)

    def _rescale(self, factor: float) -> None:
        for name in ("_pos", "_s1", "_s2", "_s1p", "_s2p"):
            setattr(self, name, getattr(self, name) * factor)
        self._total *= factor
        self._w *= factor

    def _parameters(self) -> tuple:
        """(means, precisions, log-odds without x, weights of x's evidence, distances of the
        zero vector) of both classes of every label, stacked: rows 0..L-1 for the positive
        class, L..2L-1 for the negative one."""
        if self._params is not None:
            if len(self._params) == 4:  # pickled before at_zero
                mean, precision = self._params[:2]
                self._params += (_at_zero(mean, precision),)
            return self._params
        # In units of the last instance (its weight is 1).
        unit = 1.0 if self.fading == 1.0 else 1.0 / (self._w * self.fading)
        n = float(self._n) if self.fading == 1.0 else self._total * unit
        pos, s1_all, s2_all = self._pos * unit, self._s1 * unit, self._s2 * unit
        s1p, s2p = self._s1p * unit, self._s2p * unit
        counts = np.concatenate([pos, n - pos])[:, None]
        s1 = np.concatenate([s1p, s1_all - s1p])
        s2 = np.concatenate([s2p, s2_all - s2p])
        mean_all = s1_all / n
        var_all = np.maximum(s2_all / n - mean_all * mean_all, 0.0)
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
        precision = 1.0 / var
        at_zero = _at_zero(mean, precision)
        self._params = (mean, precision, bias, np.where(usable, 0.5, 0.0), at_zero)
        self._params_n = self._n
        return self._params

    def predict_proba_vector(self, v: EncodedInstance) -> np.ndarray:
        """P(label is True) of every known label, in the order of `labels`, for an instance
        encoded by the caller."""
        n_labels = len(self._labels)
        if not n_labels or not self._n:
            return np.zeros(n_labels)
        mean, precision, bias, half, at_zero = self._parameters()
        n_labels = min(n_labels, len(bias))
        width = mean.shape[1]
        if 4 * len(v.indices) < width:
            # Sparse: sum_j p_j (x_j - m_j)^2 is the zero vector's distance plus
            # p_j x_j (x_j - 2 m_j) on the non-zeros, a cost that follows the non-zeros.
            keep = v.indices < width
            cols, x = v.indices[keep], v.values[keep]
            q = at_zero + (precision[:, cols] * (x * (x - 2.0 * mean[:, cols]))).sum(axis=1)
        else:
            x = v.dense()
            x = x[:width] if len(x) >= width else np.concatenate([x, np.zeros(width - len(x))])
            d = x - mean
            q = np.einsum("ij,ij->i", d * d, precision)
        m = len(bias)
        log_odds = bias + half * (q[m:] - q[:m])
        proba = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -50.0, 50.0)))
        return proba[:n_labels]


def _at_zero(mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """The distance of the zero vector to each row's Gaussians, which a sparse instance
    corrects on its non-zeros (`NaiveBayes.predict_proba_vector`)."""
    return np.einsum("ij,ij->i", mean * mean, precision)
