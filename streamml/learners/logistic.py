"""Binary relevance of online-bagged logistic regressions held as one weight tensor."""

from __future__ import annotations

import numpy as np
from scipy import special

from ._arrays import grown as _grown
from .sparse_rows import row_product, subtract_products

__all__ = ["BaggedLogisticRegression"]


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
        self._decays: dict[int, tuple] = {}  # loss weights of a batch by its size
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
        new._decays = dict(self._decays)
        new._pending = list(self._pending)
        new.rng = rng
        return new

    def restricted(self, labels: np.ndarray, rng: np.random.Generator) -> BaggedLogisticRegression:
        """An independent copy that keeps only the models of `labels` (indices, in that order)."""
        new = self.copy(rng)
        labels = np.asarray(labels, dtype=np.int64)
        new._pending = [
            (cols, z, full, grad[..., labels], ybin[labels], groups[:, labels])
            for cols, z, full, grad, ybin, groups in self._pending
        ]
        d, m, L = self._w.shape[0], self._a + self.n_bags, self._n_labels
        new._w = np.ascontiguousarray(self._w.reshape(d, m, L)[:, :, labels]).reshape(d, -1)
        new._b = self._b[:, labels].copy()
        new._loss = self._loss[:, labels].copy()
        new._n_labels = len(labels)
        new._refresh_selection()
        return new

    def forward(self, cols: np.ndarray, z: np.ndarray, full: bool) -> tuple:
        """The probabilities of every bag and label (to learn), shape (n_bags, n_labels), and
        of every group and label (to predict), shape (n_groups, n_labels)."""
        d = self._w.shape[0]
        per, a0 = self.per_group, self._a
        z = z.astype(np.float32)
        if full:
            n = min(len(z), d)
            cols, z = slice(0, n), z[:n]
        elif len(cols) and cols[-1] >= d:
            keep = cols < d
            cols, z = cols[keep], z[keep]
        if a0:
            weights = self._w[cols]
            margin = z @ weights
            # Rows not updated lately (a sparse batch left them out): their average kept
            # moving towards their (constant) weights since, average + (1 - keep) * (weights
            # - average).
            lag = (self._updates - 1) - self._last[cols]
            if lag.any():
                pl = a0 * self._n_labels
                moved = z * (1.0 - (1.0 - self.averaging) ** lag.astype(np.float32))
                margin[:pl] += moved @ (weights[:, pl : 2 * pl] - weights[:, :pl])
        elif full:
            margin = z @ self._w[cols]
        else:  # a few rows of a wide matrix: read in place
            margin = row_product(cols, z, self._w)
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
        if not a0 and not all(r[2] for r in rows):
            # Sparse rows: each entry's gradient goes to its feature's row, in place.
            cols, values, instances = _entries(rows)
            if len(cols) and cols.max() >= d:
                keep = cols < d
                cols, values, instances = cols[keep], values[keep], instances[keep]
            subtract_products(self._w, cols, instances, values, grad)
        else:
            touched, z = self._batch(rows, d)
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
        # Recent log-loss of each group and label, instance by instance: -log |p - 1 + y|.
        y = np.stack([r[4] for r in rows])
        p = np.stack([r[5] for r in rows])  # (grow learns the pending rows first: all L wide)
        q = p + (y - 1.0)[:, None, :]
        q = np.log(np.maximum(np.abs(q, out=q), 1e-6, out=q), out=q)
        weights = self._decays.get(nb)
        if weights is None:
            decay = self.loss_decay
            weights = self._decays[nb] = (
                decay * (1.0 - decay) ** np.arange(nb - 1, -1, -1),
                (1.0 - decay) ** nb,
            )
        self._loss *= weights[1]
        self._loss -= (weights[0] @ q.reshape(nb, -1)).reshape(self._loss.shape)
        self._refresh_selection()

    @staticmethod
    def _batch(rows: list, d: int) -> tuple:
        """The rows of the weights a batch touches (below `d`; a slice for dense rows) and its
        inputs on them, one row per instance."""
        nb = len(rows)
        if all(r[2] for r in rows):
            n = min(max(len(r[1]) for r in rows), d)
            z = np.zeros((nb, n), dtype=np.float32)
            for i, r in enumerate(rows):
                m = min(len(r[1]), n)
                z[i, :m] = r[1][:m]
            return slice(0, n), z
        all_cols, values, row_of = _entries(rows)
        cols, inverse = np.unique(all_cols, return_inverse=True)
        z = np.zeros((nb, len(cols)), dtype=np.float32)
        z[row_of, inverse] = values
        keep = cols < d
        return cols[keep], z[:, keep]

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


def _entries(rows: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-zeros of a batch of pending rows, end to end: their columns, their values and
    the instance (row of the batch) of each."""
    cols = np.concatenate([r[0] for r in rows])
    values = np.concatenate([r[1] for r in rows])
    instances = np.repeat(np.arange(len(rows)), [len(r[0]) for r in rows])
    return cols, values, instances
