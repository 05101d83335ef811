"""Leaf models of the multi-label tree: label-powerset kNN and bagged logistic regressions.

Both work on the instance as standardised by the leaf's `Standardiser` (sparse: column indices
and values) and on the labels as a 0/1 vector; both return the probability that each label is
positive. Their arrays grow when new features or labels appear (`grow`). The logistic
regressions live in `logistic.py`, the standardisation in `standardise.py`.
"""

from __future__ import annotations

import math

import numpy as np

from ._arrays import grown as _grown
from .logistic import BaggedLogisticRegression
from .standardise import Standardiser

__all__ = ["Standardiser", "KNNWindow", "BaggedLogisticRegression"]

#: Slots a window allocates at first (it doubles them as instances arrive).
_FIRST_SLOTS = 64
#: Instances a window keeps whatever its `max_cells` (if its `window_size` allows).
_MIN_SLOTS = 128


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

    The window is a ring buffer held as a feature-major matrix of single-precision values, so
    a query costs its non-zeros times the number of instances held. Its columns are allocated as
    instances arrive (doubling up to `window_size`): a leaf that sees few instances holds few.
    With `max_cells`, the window holds at most that many values (features x instances), but
    never fewer than 128 instances: on thousands of features it keeps fewer instances, the
    oldest going first when new features narrow it.

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
    max_cells
        Values (features x instances) the window may hold; None: no limit but `window_size`.

    """

    def __init__(
        self,
        n_features: int,
        n_labels: int,
        window_size: int,
        k: int,
        short_window: int,
        loss_decay: float = 0.01,
        max_cells: int | None = None,
    ):
        self.window_size = window_size
        self.k = k
        self.short_window = min(short_window, window_size)
        self.loss_decay = loss_decay
        self.max_cells = max_cells
        self._width = max(n_features, 1)  # features known (the budget of max_cells)
        self._limit = self._slots_allowed()  # instances kept (window_size, or fewer)
        # Slots allocated so far (columns of _x, rows of _y): they grow with the instances.
        slots = min(self._limit, _FIRST_SLOTS)
        self._x = np.zeros((max(n_features, 1), slots), dtype=np.float32)  # feature-major
        self._half_norm2 = np.zeros(slots)  # half the squared norm of each slot
        self._inv_norm = np.zeros(slots)  # inverse norm of each slot (0 for zero vectors)
        self._y = np.zeros((slots, n_labels), dtype=np.float32)
        self._slot_cols: list[np.ndarray | int | None] = [None] * slots  # standardised columns
        self._raw: list[tuple[np.ndarray, np.ndarray] | None] = [None] * slots
        self._size = 0
        self._pos = 0
        self._loss = np.zeros(2)  # recent loss of the whole window, of its recent part
        self._back = np.arange(1, self.short_window + 1)  # the recent slots: pos - back

    def __setstate__(self, state):
        if "_back" not in state:  # pickled with a table of the recent slots of every position
            state.pop("_recent_slots", None)
            state["_back"] = np.arange(1, state["short_window"] + 1)
        if "_limit" not in state:  # pickled before max_cells
            state.update(max_cells=None, _limit=state["window_size"])
            state["_width"] = state["_x"].shape[0]
        self.__dict__.update(state)

    def _slots_allowed(self) -> int:
        """Instances the window may keep with the features it knows."""
        if self.max_cells is None:
            return self.window_size
        return min(self.window_size, max(self.max_cells // self._width, _MIN_SLOTS))

    def _reserve(self, slot: int):
        """Allocate slots up to `slot` (doubling, up to the instances kept)."""
        have = self._x.shape[1]
        if slot < have:
            return
        n = min(self._limit, max(slot + 1, 2 * have, _FIRST_SLOTS))
        self._x = _grown(self._x, (self._x.shape[0], n))
        self._half_norm2 = _grown(self._half_norm2, (n,))
        self._inv_norm = _grown(self._inv_norm, (n,))
        self._y = _grown(self._y, (n, self._y.shape[1]))
        self._slot_cols += [None] * (n - have)
        self._raw += [None] * (n - have)

    def __len__(self) -> int:
        return self._size

    def _widen(self, n_features: int):
        """The window knows `n_features` features (more than before): with `max_cells`, it
        keeps fewer instances, the newest, once it holds a tenth more than it may (so that it
        is not rebuilt for every new feature)."""
        self._width = n_features
        limit = self._slots_allowed()
        if limit < 0.9 * self._limit:
            newest = self._order()[-limit:]
            self._limit = limit
            self._keep(newest)

    def grow(self, n_features: int, n_labels: int):
        if n_features > self._width:
            self._widen(n_features)
        d, w = self._x.shape
        if n_features > d:
            self._x = _grown(self._x, (max(n_features, 2 * d), w))
        if n_labels > self._y.shape[1]:
            self._y = _grown(self._y, (w, n_labels))

    def add(self, cols, z, full: bool, ybin: np.ndarray, raw: tuple):
        """Insert an instance: standardised columns and values, labels as a 0/1 vector (as many
        as the window has), raw non-zeros (to split the window)."""
        if self.max_cells is not None:  # the features known, for the budget
            width = len(z) if full else int(cols[-1]) + 1 if len(cols) else 0  # sorted
            if width > self._width:
                self._widen(width)
        j = self._pos
        self._reserve(j)
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
        self._pos = (j + 1) % self._limit
        if self._size < self._limit:
            self._size += 1

    def votes(self, cols: np.ndarray, z: np.ndarray, full: bool, cosine: bool):
        """The votes of the whole window (row 0) and of its recent part (row 1).

        None if the window is empty.
        """
        size = self._size
        if size == 0:
            return None
        x = self._x
        zx = z.astype(x.dtype, copy=False)  # the window's precision (no copy of the window)
        if full:
            dots = zx @ x[: len(z), :size]
        else:
            dots = zx @ x[cols, :size]
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
        whole = dots.argpartition(size - k)[size - k :] if size > k else np.arange(size)
        short = self.short_window
        if size > short > 0:
            slots = (self._pos - self._back) % self._limit
            if short > k:
                slots = slots[dots[slots].argpartition(short - k)[short - k :]]
            nearest = np.concatenate([whole, slots])
        else:
            nearest = np.concatenate([whole, whole])
        # Weights 1 / distance (the squared distances in the window's precision, floored).
        weights = np.maximum((offset + scale * dots[nearest]).astype(float), 1e-24)
        weights = 1.0 / np.sqrt(weights, out=weights)
        m = len(whole)
        mix = np.zeros((2, len(nearest)), dtype=np.float32)
        mix[0, :m] = weights[:m] * (1.0 / weights[:m].sum())
        mix[1, m:] = weights[m:] * (1.0 / weights[m:].sum())
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
        if self._size < self._limit:
            return np.arange(self._size)
        return (self._pos + np.arange(self._limit)) % self._limit

    def _keep(self, slots: np.ndarray):
        """Hold only these slots' instances (oldest first), in new arrays."""
        m = len(slots)
        self._x = self._columns(slots)
        self._y = self._y[slots]
        self._half_norm2 = self._half_norm2[slots]
        self._inv_norm = self._inv_norm[slots]
        self._slot_cols = [self._slot_cols[j] for j in slots]
        self._raw = [self._raw[j] for j in slots]
        self._size = m
        self._pos = m % self._limit  # `add` allocates from there

    def _columns(self, slots: np.ndarray) -> np.ndarray:
        """A copy of these slots' columns of the window, reading only their non-zeros (a
        window on thousands of sparse features is mostly zeros)."""
        x = np.zeros((self._x.shape[0], len(slots)), dtype=self._x.dtype)
        rows, src, dst = [], [], []
        for i, j in enumerate(slots.tolist()):
            cols = self._slot_cols[j]
            if type(cols) is int:  # a dense instance
                x[:cols, i] = self._x[:cols, j]
            elif cols is not None and len(cols):
                rows.append(cols)
                src.append(j)
                dst.append(i)
        if rows:
            lengths = [len(cols) for cols in rows]
            r = np.concatenate(rows)
            x[r, np.repeat(dst, lengths)] = self._x[r, np.repeat(src, lengths)]
        return x

    def labelsets(self) -> list[tuple[int, ...]]:
        """The label sets of the window, oldest first, as tuples of label indices."""
        return [tuple(np.flatnonzero(self._y[j]).tolist()) for j in self._order()]

    def restricted(self, labels: np.ndarray) -> KNNWindow:
        """An independent copy whose label sets keep only `labels` (indices, in that order)."""
        new = KNNWindow.__new__(KNNWindow)
        new.__dict__.update(self.__dict__)
        for name in ("_x", "_half_norm2", "_inv_norm", "_loss"):
            setattr(new, name, getattr(self, name).copy())
        new._y = self._y[:, np.asarray(labels, dtype=np.int64)].copy()
        new._slot_cols = list(self._slot_cols)
        new._raw = list(self._raw)
        return new

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
            child._keep(slots)
            children.append(child)
        return children[0], children[1]
