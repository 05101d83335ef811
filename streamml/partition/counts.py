"""Faded label co-occurrence counts: dense storage, sparse per-instance updates."""

from __future__ import annotations

import numpy as np

__all__ = ["CoCounts", "jaccard", "independent_jaccard"]

# Scaled weights grow as fading ** -t; everything is divided back down past this value.
_RESCALE_AT = 1e100


def jaccard(co: np.ndarray) -> np.ndarray:
    """Jaccard distances from a symmetric co-occurrence block whose diagonal holds the positives.

    d(l, m) = 1 - co(l, m) / (pos(l) + pos(m) - co(l, m)), and 1 where neither label occurred.
    The diagonal is 0 for labels that occurred, 1 for the others. The scale of the counts does
    not matter (faded or scaled counts give the same distances).

    >>> import numpy as np
    >>> co = np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    >>> jaccard(co)
    array([[0. , 0.5, 1. ],
           [0.5, 0. , 1. ],
           [1. , 1. , 1. ]])

    """
    pos = co.diagonal()
    union = pos[:, None] + pos[None, :]
    union -= co
    sim = np.divide(co, union, out=np.zeros_like(union), where=union > 0)
    np.subtract(1.0, sim, out=sim)
    np.clip(sim, 0.0, 1.0, out=sim)
    return sim


def independent_jaccard(rates: np.ndarray) -> np.ndarray:
    """Jaccard distances two labels with these positive rates would have if independent.

    1 - p q / (p + q - p q), and 1 where both rates are 0.

    >>> import numpy as np
    >>> independent_jaccard(np.array([0.5, 0.5, 0.0])).round(3)
    array([[0.667, 0.667, 1.   ],
           [0.667, 0.667, 1.   ],
           [1.   , 1.   , 1.   ]])

    """
    both = np.outer(rates, rates)
    union = rates[:, None] + rates[None, :]
    union -= both
    sim = np.divide(both, union, out=np.zeros_like(union), where=union > 0)
    return 1.0 - sim


class CoCounts:
    """Exponentially faded counts of label positives and label pairs that were positive together.

    The counts of all labels live in one dense square array indexed by *position* (the
    partitioner keeps every cluster on a contiguous range of positions, so a cluster's block is
    a view, not a copy). The diagonal holds the positives of each label. An instance touches
    only the cells of its positive labels: a² cells for a positive labels, whatever the number of
    labels. Fading is applied lazily: the instance at time t adds fading ** -t (a growing scale),
    so old counts shrink relative to new ones without touching them; the arrays are divided back
    down from time to time.

    Statistics "since" an earlier moment are the counts minus a snapshot taken at that moment:
    this is how each cluster gets counts since its creation with a single shared array.

    Parameters
    ----------
    fading
        Weight multiplier per instance (1 keeps every instance with weight 1).

    """

    def __init__(self, fading: float = 1.0):
        self.fading = fading
        self._size = 0
        self._counts = np.zeros((0, 0))
        self._flat = self._counts.reshape(-1)
        self._weight = 1.0  # scaled weight of the next instance
        self._total = 0.0  # scaled, faded number of instances
        self._snapshots: dict[int, tuple[np.ndarray | None, float]] = {}

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_flat"]  # a view: pickle would make it a separate copy
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._flat = self._counts.reshape(-1)

    # ---- size -------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of labels (positions in use)."""
        return self._size

    def grow(self, n_new: int) -> None:
        """Add `n_new` labels at the end, with zero counts."""
        size = self._size + n_new
        capacity = self._counts.shape[0]
        if size > capacity:
            capacity = max(size, 2 * capacity, 16)
            counts = np.zeros((capacity, capacity))
            counts[: self._size, : self._size] = self._counts[: self._size, : self._size]
            self._counts = counts
            self._flat = counts.reshape(-1)
        self._size = size

    # ---- updates ----------------------------------------------------------------------------

    def update(self, positions: np.ndarray) -> None:
        """Count one instance whose positive labels sit at `positions` (distinct integers)."""
        weight = self._weight
        if len(positions):
            cells = positions[:, None] * self._counts.shape[0] + positions[None, :]
            self._flat[cells.reshape(-1)] += weight
        self._total += weight
        if self.fading != 1.0:
            weight /= self.fading
            if weight > _RESCALE_AT:
                self._rescale(1.0 / weight)
                weight = 1.0
            self._weight = weight

    def _rescale(self, factor: float) -> None:
        n = self._size
        self._counts[:n, :n] *= factor
        self._total *= factor
        for key, (block, total) in self._snapshots.items():
            if block is not None:
                block *= factor
            self._snapshots[key] = (block, total * factor)

    def permute(self, lo: int, hi: int, order: np.ndarray) -> None:
        """Reorder positions lo..hi-1: the new position lo + i holds the old lo + order[i]."""
        n = self._size
        idx = lo + np.asarray(order)
        self._counts[lo:hi, :n] = self._counts[idx, :n]
        self._counts[:n, lo:hi] = self._counts[:n, idx]

    # ---- statistics -------------------------------------------------------------------------

    @property
    def n(self) -> float:
        """Faded number of instances counted so far (the effective sample size)."""
        return self._total * self._scale()

    def _scale(self) -> float:
        # counts * scale = faded counts in instance units (the last instance weighs 1); the
        # last instance was counted with weight fading * (weight of the next one)
        return 1.0 / (self.fading * self._weight) if self.fading != 1.0 else 1.0

    def block(self, lo: int, hi: int) -> np.ndarray:
        """Counts among positions lo..hi-1 since the beginning (a view, scaled)."""
        return self._counts[lo:hi, lo:hi]

    def snapshot(self, key: int, lo: int, hi: int) -> None:
        """Remember the counts of block lo..hi-1 now, under `key`."""
        if self._total == 0.0:
            self._snapshots[key] = (None, 0.0)
        else:
            self._snapshots[key] = (self._counts[lo:hi, lo:hi].copy(), self._total)

    def extend_snapshot(self, key: int, n_new: int) -> None:
        """Pad the snapshot under `key` with `n_new` labels that had no counts yet."""
        block, total = self._snapshots[key]
        if block is not None:
            block = np.pad(block, ((0, n_new), (0, n_new)))
        self._snapshots[key] = (block, total)

    def drop(self, key: int) -> None:
        self._snapshots.pop(key, None)

    def since(self, key: int, lo: int, hi: int) -> tuple[np.ndarray, float, float]:
        """Counts of block lo..hi-1 since the snapshot `key`.

        Returns the counts (scaled), the number of instances in the same scaled units (so
        that diagonal / total are positive rates) and the effective number of instances.
        """
        block, total = self._snapshots[key]
        counts = self._counts[lo:hi, lo:hi]
        if block is not None:
            counts = counts - block
            np.maximum(counts, 0.0, out=counts)
        since = self._total - total
        return counts, since, since * self._scale()

    @property
    def array(self) -> np.ndarray:
        """The whole (scaled) counts array, capacity included."""
        return self._counts

    def snapshot_of(self, key: int) -> tuple[np.ndarray | None, float, float]:
        """The snapshot block under `key`, and the scaled and effective instances since."""
        block, total = self._snapshots[key]
        since = self._total - total
        return block, since, since * self._scale()

    def rates(self) -> np.ndarray:
        """Faded positive rate of every label (by position)."""
        n = self._size
        if self._total == 0.0:
            return np.zeros(n)
        return self._counts.diagonal()[:n] / self._total

    def distances(self) -> np.ndarray:
        """Jaccard distances between all labels (by position) over the faded counts."""
        n = self._size
        return jaccard(np.array(self._counts[:n, :n]))

    def n_nonzero(self) -> int:
        """Number of non-zero cells (labels and label pairs that were ever counted)."""
        n = self._size
        return int(np.count_nonzero(self._counts[:n, :n]))
