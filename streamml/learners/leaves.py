"""Leaf models of the multi-label tree: label-powerset kNN and bagged logistic regressions.

Both work on the instance as standardised by the leaf's `Standardiser` (sparse: column indices
and values) and on the indices of the positive labels; both return the probability that each
label is positive. Their arrays grow when new features or labels appear (`grow`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["Standardiser", "KNNWindow", "BaggedLogisticRegression"]


def _grown(a: np.ndarray, shape: tuple[int, ...], fill=0.0) -> np.ndarray:
    if a.shape == shape:
        return a
    new = np.full(shape, fill, dtype=a.dtype)
    new[tuple(slice(0, s) for s in a.shape)] = a
    return new


class Standardiser:
    """Online standardisation that keeps sparse inputs sparse.

    Features that are non-zero in at least half of the instances ("dense") are centred and
    divided by their standard deviation; the others are only divided by their root mean square,
    so their zeros stay zeros. Values are clipped to [-clip, clip]. The statistics are updated
    in batches (`update`), and the transform is the one of the last batch, so that it does not
    change between the prediction and the learning of an instance.

    Parameters
    ----------
    n_features
        Initial number of features.
    clip
        Bound of the standardised values.

    """

    def __init__(self, n_features: int, clip: float = 3.0):
        d = max(n_features, 1)
        self.clip = clip
        self.n = 0.0
        self.nnz = np.zeros(d)
        self.s1 = np.zeros(d)
        self.s2 = np.zeros(d)
        self.shift = np.zeros(d)
        self.scale = np.ones(d)
        self.zero = np.zeros(d)  # standardised value of a zero
        self.is_centred = np.zeros(d, dtype=bool)
        self.centred = np.zeros(0, dtype=np.int64)

    @property
    def width(self) -> int:
        return len(self.nnz)

    def grow(self, n_features: int):
        d = len(self.nnz)
        if n_features > d:
            d = max(n_features, 2 * d)
            for name in ("nnz", "s1", "s2", "shift", "zero"):
                setattr(self, name, _grown(getattr(self, name), (d,)))
            self.scale = _grown(self.scale, (d,), 1.0)
            self.is_centred = _grown(self.is_centred, (d,), False)

    def copy(self) -> Standardiser:
        new = Standardiser.__new__(Standardiser)
        new.__dict__.update(
            {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}
        )
        return new

    def update(self, rows: list[tuple[np.ndarray, np.ndarray, bool]]):
        """Add instances given as (columns, values, full) and refresh the transform."""
        d = len(self.nnz)
        self.n += len(rows)
        if all(r[2] for r in rows):
            m = min(max(len(r[0]) for r in rows), d)
            x = np.zeros((len(rows), m))
            for i, r in enumerate(rows):
                k = min(len(r[1]), m)
                x[i, :k] = r[1][:k]
            self.nnz[:m] += np.count_nonzero(x, axis=0)
            self.s1[:m] += x.sum(axis=0)
            self.s2[:m] += (x * x).sum(axis=0)
        else:
            cols = np.concatenate([r[0] for r in rows])
            vals = np.concatenate([r[1] for r in rows])
            keep = cols < d
            cols, vals = cols[keep], vals[keep]
            np.add.at(self.nnz, cols, 1.0)
            np.add.at(self.s1, cols, vals)
            np.add.at(self.s2, cols, vals * vals)
        n = self.n
        mean = self.s1 / n
        centred = self.nnz >= 0.5 * n
        var = np.where(centred, self.s2 / n - mean * mean, self.s2 / n)
        self.shift = np.where(centred, mean, 0.0)
        self.scale = np.where(self.nnz > 0, 1.0 / np.sqrt(np.maximum(var, 0.0) + 1e-12), 1.0)
        self.is_centred = centred
        self.centred = np.flatnonzero(centred)
        self.zero = np.where(centred, np.clip(-mean * self.scale, -self.clip, self.clip), 0.0)

    def transform(self, cols: np.ndarray, vals: np.ndarray, full: bool) -> tuple:
        """The standardised instance: (columns (sorted), values, whether columns are 0..n-1).

        `full` says that `cols` are 0, 1, ..., len(cols) - 1, which avoids gathers.
        """
        d = len(self.nnz)
        n = len(cols)
        if full:
            if n > d:
                cols, vals, n = cols[:d], vals[:d], d
            z = (vals - self.shift[:n]) * self.scale[:n]
        else:
            if n and cols[-1] >= d:
                keep = cols < d
                cols, vals = cols[keep], vals[keep]
            z = (vals - self.shift[cols]) * self.scale[cols]
        c = self.clip
        np.minimum(np.maximum(z, -c, out=z), c, out=z)
        centred = self.centred
        if len(centred):
            if full:
                missing = centred[-1] >= n
            else:
                missing = np.count_nonzero(self.is_centred[cols]) < len(centred)
            if missing:
                union = np.union1d(cols, centred)
                values = self.zero[union]
                values[np.searchsorted(union, cols)] = z
                return union, values, int(union[-1]) == len(union) - 1
        return cols, z, full


class KNNWindow:
    """Label-powerset k nearest neighbours over a window of the most recent instances.

    Instances are compared by their standardised vectors, with the cosine distance
    sqrt(2 - 2 cos) (the Euclidean distance of the unit vectors; it ignores the number of
    non-zeros, which matters for text) or, if asked, the Euclidean distance. The k nearest
    instances vote for their label sets with weights 1 / distance; the probability of a label is the
    weight of the label sets that contain it. Two votes are computed: among the whole window,
    and among its `short_window` most recent instances only (streams are often ordered, so the
    latest instances can be the best neighbours); the kNN uses the one whose recent subset
    0/1 loss (exponentially weighted, measured before learning each instance) is smaller.

    The window is a ring buffer held as a feature-major matrix, so a query costs its non-zeros
    times the window size.

    Parameters
    ----------
    n_features
        Initial number of features.
    n_labels
        Initial number of labels.
    window_size
        Number of recent instances kept.
    k
        Number of neighbours.
    short_window
        Size of the recent part of the window that may vote alone (0: never).
    loss_decay
        Weight of the latest instance in the recent loss of the two votes.

    """

    def __init__(
        self,
        n_features: int,
        n_labels: int,
        window_size: int = 170,
        k: int = 4,
        short_window: int = 20,
        loss_decay: float = 0.01,
    ):
        self.window_size = window_size
        self.k = k
        self.short_window = min(short_window, window_size)
        self.loss_decay = loss_decay
        self._x = np.zeros((max(n_features, 1), window_size))  # feature-major
        self._half_norm2 = np.zeros(window_size)  # half the squared norm of each slot
        self._inv_norm = np.zeros(window_size)  # inverse norm of each slot (0 for zero vectors)
        self._y = np.zeros((window_size, n_labels), dtype=np.float32)
        self._slot_cols: list[np.ndarray | None] = [None] * window_size  # standardised columns
        self._raw: list[tuple[np.ndarray, np.ndarray] | None] = [None] * window_size
        self._size = 0
        self._pos = 0
        self._loss = np.zeros(2)  # recent loss of the whole window, of its recent part
        # The recent slots (newest first) for each position of the ring.
        back = np.arange(1, self.short_window + 1)
        self._recent_slots = [(pos - back) % window_size for pos in range(window_size)]

    def __len__(self) -> int:
        return self._size

    def grow(self, n_features: int, n_labels: int):
        d, w = self._x.shape
        if n_features > d:
            self._x = _grown(self._x, (max(n_features, 2 * d), w))
        if n_labels > self._y.shape[1]:
            self._y = _grown(self._y, (w, n_labels))

    def add(self, cols, z, full: bool, ybin: np.ndarray, raw: tuple):
        """Insert an instance: standardised columns and values, labels as a 0/1 vector (as many
        as the window has), raw non-zeros (to split the window)."""
        j = self._pos
        old = self._slot_cols[j]
        if old is not None:
            if type(old) is int:
                self._x[:old, j] = 0.0
            else:
                self._x[old, j] = 0.0
        if full:
            self._x[: len(z), j] = z
            self._slot_cols[j] = len(z)
        else:
            self._x[cols, j] = z
            self._slot_cols[j] = cols
        norm2 = float(z @ z)
        self._half_norm2[j] = 0.5 * norm2
        self._inv_norm[j] = 1.0 / math.sqrt(norm2) if norm2 > 0 else 0.0
        self._raw[j] = raw
        self._y[j] = ybin
        self._pos = (j + 1) % self.window_size
        if self._size < self.window_size:
            self._size += 1

    def votes(self, cols: np.ndarray, z: np.ndarray, full: bool, cosine: bool):
        """The votes of the whole window (row 0) and of its recent part (row 1).

        None if the window is empty.
        """
        size = self._size
        if size == 0:
            return None
        if full:
            dots = z @ self._x[: len(z), :size]
        else:
            dots = z @ self._x[cols, :size]
        # A score that grows as the distance shrinks, and the squared distance from it.
        q2 = float(z @ z)
        if cosine:
            dots *= self._inv_norm[:size]
            iq = 1.0 / math.sqrt(q2) if q2 > 0 else 0.0
            scale, offset = -2.0 * iq, 2.0
        else:
            dots -= self._half_norm2[:size]
            scale, offset = -2.0, q2
        k = self.k
        whole = np.argpartition(dots, size - k)[size - k :] if size > k else np.arange(size)
        short = self.short_window
        if size > short > 0:
            slots = self._recent_slots[self._pos]
            if short > k:
                slots = slots[np.argpartition(dots[slots], short - k)[short - k :]]
            nearest = np.concatenate([whole, slots])
        else:
            nearest = np.concatenate([whole, whole])
        weights = [
            1.0 / math.sqrt(d if d > 1e-24 else 1e-24)
            for d in (offset + scale * dots[nearest]).tolist()
        ]
        m = len(whole)
        a, b = 1.0 / sum(weights[:m]), 1.0 / sum(weights[m:])
        mix = np.zeros((2, len(nearest)), dtype=np.float32)
        mix[0, :m] = [w * a for w in weights[:m]]
        mix[1, m:] = [w * b for w in weights[m:]]
        return mix @ self._y[nearest]

    @property
    def recent(self) -> bool:
        """Whether the recent part of the window votes (it has predicted better recently)."""
        return self._loss[1] < self._loss[0]

    def predict(self, votes: np.ndarray | None, n_labels: int) -> np.ndarray:
        """Probability of each of the first `n_labels` labels (zeros if the window is empty)."""
        if votes is None:
            return np.zeros(n_labels)
        vote = votes[1] if self._loss[1] < self._loss[0] else votes[0]
        if len(vote) < n_labels:
            vote = np.concatenate([vote, np.zeros(n_labels - len(vote))])
        return vote[:n_labels]

    def track(self, votes: np.ndarray | None, ybin: np.ndarray):
        """Update the recent subset 0/1 losses of the two votes with the true label set."""
        if votes is None:
            return
        wrong = ((votes > 0.5) != ybin).any(axis=1).tolist()
        loss, a = self._loss, self.loss_decay
        loss[0] += a * (wrong[0] - loss[0])
        loss[1] += a * (wrong[1] - loss[1])

    def _order(self) -> np.ndarray:
        """Slots from the oldest to the newest instance."""
        if self._size < self.window_size:
            return np.arange(self._size)
        return (self._pos + np.arange(self.window_size)) % self.window_size

    def labelsets(self) -> list[tuple[int, ...]]:
        """The label sets of the window, oldest first, as tuples of label indices."""
        return [tuple(np.flatnonzero(self._y[j]).tolist()) for j in self._order()]

    def split(self, feature: int, threshold: float) -> tuple[KNNWindow, KNNWindow]:
        """Two windows with the instances whose raw `feature` is <= / > `threshold`."""
        order = self._order()
        values = np.zeros(len(order))
        for i, j in enumerate(order):
            cols, vals = self._raw[j]
            k = int(np.searchsorted(cols, feature))
            if k < len(cols) and cols[k] == feature:
                values[i] = vals[k]
        children = []
        for slots in (order[values <= threshold], order[values > threshold]):
            child = KNNWindow.__new__(KNNWindow)
            child.__dict__.update(self.__dict__)
            child._loss = self._loss.copy()
            child._x = np.zeros_like(self._x)
            child._y = np.zeros_like(self._y)
            m = len(slots)
            child._x[:, :m] = self._x[:, slots]
            child._y[:m] = self._y[slots]
            child._half_norm2 = np.zeros_like(self._half_norm2)
            child._half_norm2[:m] = self._half_norm2[slots]
            child._inv_norm = np.zeros_like(self._inv_norm)
            child._inv_norm[:m] = self._inv_norm[slots]
            rest = [None] * (self.window_size - m)
            child._slot_cols = [self._slot_cols[j] for j in slots] + rest
            child._raw = [self._raw[j] for j in slots] + rest
            child._size = m
            child._pos = m % self.window_size
            children.append(child)
        return children[0], children[1]


class BaggedLogisticRegression:
    """Binary relevance of online-bagged logistic regressions, held as one weight tensor.

    `n_bags` models per label, each seeing every instance with a Poisson(1) weight (the same
    weight for all the labels of a bag). The bags form groups with their own learning rates,
    e.g. a slow group for stationary concepts and a fast group whose intercepts follow quickly a
    change of the label frequencies (streams are often ordered); each label is predicted by the
    mean of the group with the smallest recent log-loss on it (exponentially weighted, measured
    before learning each instance).

    Inputs are standardised by the caller (`Standardiser`). The step of the weights is
    normalised by the number of non-zero inputs, so that the learning rate does not depend on
    the number of features. Intercepts are updated at every instance, the weights every
    `batch_size` instances with the sum of the gradients of the batch (computed, like the
    predictions, with the weights of the last update). The first group predicts with an
    exponential moving average of its weights and intercepts (`averaging` per update), which
    smooths the noise of the stochastic gradient on stationary concepts.

    Parameters
    ----------
    n_features
        Initial number of features.
    n_labels
        Initial number of labels.
    n_bags
        Bagged models per label (split evenly between the groups).
    learning_rates
        Learning rate of the weights of each group.
    bias_learning_rates
        Learning rate of the intercepts of each group.
    batch_size
        Instances per update of the weights.
    rng
        Random generator of the Poisson weights.
    loss_decay
        Weight of the latest instance in the recent log-loss of a group.
    averaging
        Weight of the current weights in their moving average, at each update (0: no average).

    """

    def __init__(
        self,
        n_features: int,
        n_labels: int,
        n_bags: int,
        learning_rates: tuple[float, ...],
        bias_learning_rates: tuple[float, ...],
        batch_size: int,
        rng: np.random.Generator,
        loss_decay: float = 0.01,
        averaging: float = 0.1,
    ):
        groups = len(learning_rates)
        per = max(n_bags // groups, 1)
        self.n_groups = groups
        self.per_group = per
        self.n_bags = b = per * groups
        self.batch_size = batch_size
        self.loss_decay = loss_decay
        self.averaging = averaging
        self.rng = rng
        rates = np.repeat(np.asarray(learning_rates, dtype=np.float32), per)[:, None]
        self._rates = rates
        self._bias_rates = np.repeat(np.asarray(bias_learning_rates, dtype=np.float32), per)
        self._bias_rates = self._bias_rates[:, None]
        self._n_labels = n_labels
        # One tensor, features x (model, label), single precision (it is large and the work is
        # memory-bound). Models: the moving average of the first group's bags (`_a` rows, 0
        # until the first update decides to average), then the bags. Same for the intercepts.
        self._a = 0
        self._averaging_decided = averaging == 0
        self._w = np.zeros((max(n_features, 1), b * n_labels), dtype=np.float32)
        self._b = np.zeros((b, n_labels), dtype=np.float32)
        self._updates = 0  # number of weight updates so far
        self._last = np.full(max(n_features, 1), -1, dtype=np.int64)  # last update of each row
        self._loss = np.zeros((groups, n_labels))
        self._select = np.arange(n_labels)  # flat index of the (group, label) that predicts
        self._poisson = np.zeros((0, b))
        self._pending: list = []  # (columns, values, full, gradient, labels, group probas)
        self._steps: dict[int, np.ndarray] = {}  # weight step by number of non-zero inputs
        self.n_learnt = 0

    @property
    def n_labels(self) -> int:
        return self._n_labels

    def grow(self, n_features: int, n_labels: int):
        d = self._w.shape[0]
        m, L = self._a + self.n_bags, self._n_labels
        if n_features > d:
            d = max(n_features, 2 * d)
            self._w = _grown(self._w, (d, m * L))
            self._last = _grown(self._last, (d,), self._updates - 1)
        if n_labels > L:
            if self._pending:
                self._update()
                m = self._a + self.n_bags  # the update may have started the average
            self._w = _grown(self._w.reshape(d, m, L), (d, m, n_labels)).reshape(d, m * n_labels)
            self._b = _grown(self._b, (m, n_labels))
            self._loss = _grown(self._loss, (self.n_groups, n_labels))
            self._n_labels = n_labels
            self._refresh_selection()

    def copy(self, rng: np.random.Generator) -> BaggedLogisticRegression:
        """An independent copy (a child leaf starts from its parent's model)."""
        new = BaggedLogisticRegression.__new__(BaggedLogisticRegression)
        new.__dict__.update(self.__dict__)
        for name in ("_w", "_b", "_last", "_loss", "_select", "_poisson"):
            setattr(new, name, getattr(self, name).copy())
        new._steps = dict(self._steps)
        new._pending = list(self._pending)
        new.rng = rng
        return new

    def forward(self, cols: np.ndarray, z: np.ndarray, full: bool) -> tuple:
        """The probabilities of every bag and label (to learn), shape (n_bags, n_labels), and
        of every group and label (to predict), shape (n_groups, n_labels)."""
        d = self._w.shape[0]
        per, a0 = self.per_group, self._a
        z = z.astype(np.float32)
        if full:
            n = min(len(z), d)
            margin = z[:n] @ self._w[:n]
        else:
            if len(cols) and cols[-1] >= d:
                keep = cols < d
                cols, z = cols[keep], z[keep]
            weights = self._w[cols]
            margin = z @ weights
            # Rows not updated lately: their average kept moving towards their (constant)
            # weights since then, average + (1 - keep) * (weights - average).
            lag = (self._updates - 1) - self._last[cols]
            if a0 and lag.any():
                pl = a0 * self._n_labels
                moved = z * (1.0 - (1.0 - self.averaging) ** lag.astype(np.float32))
                margin[:pl] += moved @ (weights[:, pl : 2 * pl] - weights[:, :pl])
        margin = margin.reshape(self._b.shape)
        margin += self._b
        proba = special.expit(margin, out=margin)
        bags = proba[a0:]
        groups = bags.reshape(self.n_groups, per, -1).sum(axis=1)
        if a0:
            groups[0] = proba[:a0].sum(axis=0)
        groups *= 1.0 / per
        return bags, groups

    def predict(self, forward: tuple) -> np.ndarray:
        """Probability of each label, from the result of `forward`."""
        return forward[1].ravel()[self._select]

    def learn(self, cols, z, full: bool, ybin: np.ndarray, forward: tuple):
        """Learn one standardised instance (labels as a 0/1 vector) given the result of
        `forward` before learning."""
        self.n_learnt += 1
        if not len(self._poisson):
            draws = self.rng.poisson(1.0, size=(64, self.n_bags))
            self._poisson = draws.astype(np.float32)[:, :, None]
        k, self._poisson = self._poisson[0], self._poisson[1:]
        grad = forward[0] - ybin
        grad *= k
        self._b[self._a :] -= grad * self._bias_rates
        step = self._steps.get(len(z))
        if step is None:
            step = self._steps[len(z)] = self._rates * np.float32(1.0 / (1.0 + len(z)))
        grad *= step
        self._pending.append((cols, z, full, grad, ybin, forward[1]))
        if len(self._pending) >= self.batch_size:
            self._update()

    def _update(self):
        rows, self._pending = self._pending, []
        if not self._averaging_decided:
            self._decide_averaging(rows)
        d = self._w.shape[0]
        b, L, a0 = self.n_bags, self._n_labels, self._a
        pl = a0 * L
        nb = len(rows)
        grad = np.stack([r[3] for r in rows]).reshape(nb, b * L)
        if all(r[2] for r in rows):
            n = min(max(len(r[1]) for r in rows), d)
            z = np.zeros((nb, n), dtype=np.float32)
            for i, r in enumerate(rows):
                m = min(len(r[1]), n)
                z[i, :m] = r[1][:m]
            touched = np.arange(n)
        else:
            all_cols = np.concatenate([r[0] for r in rows])
            cols, inverse = np.unique(all_cols, return_inverse=True)
            z = np.zeros((nb, len(cols)), dtype=np.float32)
            row_of = np.repeat(np.arange(nb), [len(r[0]) for r in rows])
            z[row_of, inverse] = np.concatenate([r[1] for r in rows])
            keep = cols < d
            touched, z = cols[keep], z[:, keep]
        if a0:
            w = self._w[touched]
            average, slow = w[:, :pl], w[:, pl : 2 * pl]
            lag = (self._updates - 1) - self._last[touched]
            if lag.any():  # catch up the moves of the average since the row's last update
                moved = 1.0 - (1.0 - self.averaging) ** lag.astype(np.float32)
                average += moved[:, None] * (slow - average)
            w[:, pl:] -= z.T @ grad
            a = self.averaging
            average += a * (slow - average)
            self._w[touched] = w
            self._b[:a0] += a * (self._b[a0 : 2 * a0] - self._b[:a0])
            self._last[touched] = self._updates
        else:
            self._w[touched] -= z.T @ grad
        self._updates += 1
        # Recent log-loss of each group and label, instance by instance.
        y = np.stack([r[4] for r in rows])[:, None, :]
        p = np.clip(np.stack([r[5] for r in rows])[:, :, :L], 1e-6, 1.0 - 1e-6)
        if p.shape[2] < L:
            p = np.concatenate([p, np.full((nb, self.n_groups, L - p.shape[2]), 0.5)], axis=2)
        loss = -(y * np.log(p) + (1.0 - y) * np.log1p(-p))
        decay = self.loss_decay
        weights = decay * (1.0 - decay) ** np.arange(nb - 1, -1, -1)
        self._loss = (1.0 - decay) ** nb * self._loss + np.tensordot(weights, loss, axes=1)
        self._refresh_selection()

    def _decide_averaging(self, rows: list):
        """Average on dense data only (most features non-zero in the first batch): on sparse
        data the averages of rare features are rarely current and cost as much as the model."""
        self._averaging_decided = True
        density = [len(r[0]) / (int(r[0][-1]) + 1) if len(r[0]) else 0.0 for r in rows]
        if sum(density) < 0.5 * len(rows):
            return
        a0, L = self.per_group, self._n_labels
        d = self._w.shape[0]
        w = self._w.reshape(d, self.n_bags, L)
        self._w = np.concatenate([w[:, :a0], w], axis=1).reshape(d, (a0 + self.n_bags) * L)
        self._b = np.concatenate([self._b[:a0], self._b])
        self._last[:] = self._updates - 1
        self._a = a0

    def _refresh_selection(self):
        L = self._n_labels
        self._select = np.argmin(self._loss, axis=0) * L + np.arange(L)
