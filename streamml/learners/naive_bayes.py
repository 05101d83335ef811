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
        if isinstance(state.get("_params"), tuple):  # pickled before only usable labels
            state["_params"] = _Parameters.of_tuple(state["_params"])
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
        if params is not None and (self._stale() or len(params.bias) != len(self._pos)):
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

    def _parameters(self) -> _Parameters:
        """The Gaussians' parameters, recomputed from the sums if they are stale."""
        if self._params is not None:
            return self._params
        # In units of the last instance (its weight is 1).
        unit, pos, n = 1.0, self._pos, float(self._n)
        if self.fading != 1.0:
            unit = 1.0 / (self._w * self.fading)
            pos, n = pos * unit, self._total * unit
        # Labels with both classes seen weigh the evidence of x; the others only their prior,
        # so only the usable labels' Gaussians are computed.
        usable = (pos > 0) & (pos < n)
        rows = np.flatnonzero(usable)
        prior = np.log((pos + 1.0) / (n - pos + 1.0))
        mean, precision, log_var, squared = self._gaussians(rows, pos[rows], n, unit)
        u = len(rows)
        bias = prior.copy()
        bias[rows] = prior[rows] - 0.5 * (log_var[:u] - log_var[u:])
        at_zero = np.einsum("ij,ij->i", squared, precision)
        self._params = _Parameters(mean, precision, bias, rows, at_zero)
        self._params_n = self._n
        return self._params

    def _gaussians(self, rows: np.ndarray, pos: np.ndarray, n: float, unit: float) -> tuple:
        """(means, precisions, sums of the log-variances, squared means) of both classes of
        these labels, stacked: the positive classes, then the negative ones; `unit` scales the
        sums into units of the last instance."""
        s1_all, s2_all, s1p, s2p = self._s1, self._s2, self._s1p[rows], self._s2p[rows]
        if unit != 1.0:
            s1_all, s2_all, s1p, s2p = s1_all * unit, s2_all * unit, s1p * unit, s2p * unit
        u, width = len(rows), len(s1_all)
        counts = np.concatenate([pos, n - pos])[:, None]
        # Both classes' sums, turned into the means and the variances in place.
        mean = np.empty((2 * u, width))
        mean[:u] = s1p
        np.subtract(s1_all, s1p, out=mean[u:])
        var = np.empty((2 * u, width))
        var[:u] = s2p
        np.subtract(s2_all, s2p, out=var[u:])
        mean_all = s1_all / n
        var_all = np.maximum(s2_all / n - mean_all * mean_all, 0.0)
        eps = self.var_smoothing * float(var_all.max(initial=0.0)) + 1e-12
        k = self.prior_weight
        safe = np.maximum(counts, 1.0)
        np.divide(mean, safe, out=mean)
        squared = mean * mean
        np.divide(var, safe, out=var)
        np.subtract(var, squared, out=var)
        np.maximum(var, 0.0, out=var)  # the variance within the class
        np.multiply(counts, var, out=var)
        np.add(var, k * var_all, out=var)
        np.divide(var, np.maximum(counts + k, 1e-300), out=var)
        np.add(var, eps, out=var)
        log_var = np.log(var).sum(axis=1)
        return mean, np.divide(1.0, var, out=var), log_var, squared

    def predict_proba_vector(self, v: EncodedInstance) -> np.ndarray:
        """P(label is True) of every known label, in the order of `labels`, for an instance
        encoded by the caller."""
        n_labels = len(self._labels)
        if not n_labels or not self._n:
            return np.zeros(n_labels)
        params = self._parameters()
        n_labels = min(n_labels, len(params.bias))
        log_odds = params.bias.copy()
        rows, mean, precision = params.rows, params.mean, params.precision
        if len(rows):
            width = mean.shape[1]
            if 4 * len(v.indices) < width:
                # Sparse: sum_j p_j (x_j - m_j)^2 is the zero vector's distance plus
                # p_j x_j (x_j - 2 m_j) on the non-zeros, a cost that follows the non-zeros.
                cols, x = v.indices, v.values  # sorted columns
                if len(cols) and cols[-1] >= width:  # features this model never learned
                    keep = cols < width
                    cols, x = cols[keep], x[keep]
                q = params.at_zero + (precision[:, cols] * (x * (x - 2.0 * mean[:, cols]))).sum(
                    axis=1
                )
            else:
                x = v.dense()
                x = x[:width] if len(x) >= width else np.concatenate([x, np.zeros(width - len(x))])
                d = x - mean
                q = np.einsum("ij,ij->i", d * d, precision)
            u = len(rows)
            log_odds[rows] += 0.5 * (q[u:] - q[:u])
        proba = 1.0 / (1.0 + np.exp(-np.minimum(np.maximum(log_odds, -50.0), 50.0)))
        return proba[:n_labels]


class _Parameters:
    """The Gaussians of the usable labels (both classes seen), stacked: rows 0..u-1 for the
    positive classes of the labels `rows`, u..2u-1 for their negative classes; every label's
    log-odds without x (`bias`), and each row's distance of the zero vector (`at_zero`)."""

    __slots__ = ("mean", "precision", "bias", "rows", "at_zero")

    def __init__(self, mean, precision, bias, rows, at_zero):
        self.mean, self.precision, self.bias = mean, precision, bias
        self.rows, self.at_zero = rows, at_zero

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)

    @classmethod
    def of_tuple(cls, params: tuple) -> _Parameters:
        """The parameters of an older version: (means, precisions, bias, weights of x's
        evidence (0.5 for a usable label, else 0)[, distances of the zero vector]) of every
        label's classes, stacked as the positives, then the negatives."""
        mean, precision, bias, half = params[:4]
        rows = np.flatnonzero(half)
        stacked = np.concatenate([rows, rows + len(bias)])
        mean, precision = mean[stacked], precision[stacked]
        at_zero = params[4][stacked] if len(params) > 4 else _at_zero(mean, precision)
        return cls(mean, precision, bias, rows, at_zero)


def _at_zero(mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """The distance of the zero vector to each row's Gaussians, which a sparse instance
    corrects on its non-zeros (`NaiveBayes.predict_proba_vector`)."""
    return np.einsum("ij,ij->i", mean * mean, precision)
