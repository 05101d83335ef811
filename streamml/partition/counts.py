"""Faded label co-occurrence counts, stored sparsely: labels and the pairs that co-occurred."""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["CoCounts", "jaccard", "independent_jaccard"]

# Scaled weights grow as fading ** -t; everything is divided back down past this value.
_RESCALE_AT = 1e100
# Instances between two looks for negligible pairs (with fading).
_PRUNE_EVERY = 1000
# Up to this many labels (by capacity), a dense table of the pairs' slots (4 bytes a cell)
# replaces the dictionary lookups of `update`: at most 16 MiB.
_DENSE_UP_TO = 2048
# Instances whose labels wait to be added to the arrays, at most (see `CoCounts.update`).
_PENDING_UP_TO = 256


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
    """Exponentially faded counts of label positives and of label pairs positive together.

    Labels are numbered by their id (order of arrival). The positives of every label are an
    array; a pair of labels has a cell only once it has been positive together (a pair key in
    a dictionary, its count in an array), so memory grows with the labels and the pairs that
    co-occurred, never with the square of the labels. An instance with a positive labels
    touches a + a(a-1)/2 cells. Fading is applied lazily: the instance at time t adds
    fading ** -t (a growing scale), so old counts shrink relative to new ones without touching
    them; the arrays are divided back down from time to time.

    Statistics "since" the creation of a node of the label tree are the counts minus a
    baseline taken then: every label and every pair has one baseline, that of the node that
    holds it (the leaves are disjoint and a leaf's labels never change while it lives), so the
    baselines of all the leaves together cost one array per kind of cell.

    With fading, a pair whose faded count has become negligible against the positives of its
    labels (below `PRUNE_RATIO` of the instances where either is positive: its Jaccard
    similarity is below 1e-12) is dropped from time to time, so the pairs kept are those that
    co-occurred within a few times the fading window.

    Instances are added to the arrays in batches, when the counts are next read (or every
    256 instances): the same sums, in the same order, for far fewer array operations.

    Parameters
    ----------
    fading
        Weight multiplier per instance (1 keeps every instance with weight 1).

    """

    #: A pair whose count is below this share of the union of its labels' positives is dropped.
    PRUNE_RATIO = 1e-12

    def __init__(self, fading: float = 1.0):
        self.fading = fading
        self._size = 0
        self._pos = np.zeros(0)  # positives by label id (scaled)
        self._pos_base = np.zeros(0)  # their baseline (the node that holds the label)
        self._index: dict[int, int] = {}  # pair key -> slot
        self._a = np.zeros(0, dtype=np.int64)  # smaller label id of the pair in each slot
        self._b = np.zeros(0, dtype=np.int64)
        self._val = np.zeros(0)  # count of the pair (scaled)
        self._base = np.zeros(0)  # its baseline
        self._used = 0  # slots in use
        self._weight = 1.0  # scaled weight of the next instance
        self._total = 0.0  # scaled, faded number of instances
        self._totals: dict[int, float] = {}  # node -> total at its baseline
        self._counted = 0  # instances counted
        self._pruned_at = 0
        self._triu: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._slots: np.ndarray | None = None  # dense pair -> slot table (-1: no cell), or None
        self._pending: list[tuple] = []  # (positive ids, weight) not yet in the arrays

    def __getstate__(self):
        self._flush()
        state = self.__dict__.copy()
        state["_triu"] = {}
        state["_slots"] = None  # rebuilt on demand
        return state

    def __setstate__(self, state):
        state.setdefault("_slots", None)
        state.setdefault("_pending", [])
        self.__dict__.update(state)

    # ---- size -------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of labels."""
        return self._size

    @property
    def n_pairs(self) -> int:
        """Number of label pairs with a cell (they were positive together)."""
        self._flush()
        return self._used

    def grow(self, n_new: int) -> None:
        """Add `n_new` labels, with zero counts."""
        self._flush()
        self._size += n_new
        if self._size > len(self._pos):
            capacity = max(self._size, 2 * len(self._pos), 16)
            self._pos = _resized(self._pos, capacity)
            self._pos_base = _resized(self._pos_base, capacity)

    # ---- updates ----------------------------------------------------------------------------

    def update(self, ids) -> None:
        """Count one instance whose positive labels have these ids (distinct integers)."""
        weight = self._weight
        if len(ids):
            self._pending.append((ids, weight))
            if len(self._pending) >= _PENDING_UP_TO:
                self._flush()
        self._total += weight
        self._counted += 1
        if self.fading != 1.0:
            weight /= self.fading
            if weight > _RESCALE_AT:
                self._rescale(1.0 / weight)
                weight = 1.0
            self._weight = weight
            if self._counted - self._pruned_at >= _PRUNE_EVERY:
                self.prune()

    def _flush(self) -> None:
        """Add the pending instances to the arrays: every cell gets its weights in the order
        of the instances (`np.add.at`), and new pairs get their slots in the order they first
        occurred, exactly as one instance at a time would."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        lengths = np.fromiter(map(len, (ids for ids, _ in pending)), np.int64, len(pending))
        weights = np.fromiter((w for _, w in pending), float, len(pending))
        flat = np.fromiter(
            itertools.chain.from_iterable(ids for ids, _ in pending), np.int64, int(lengths.sum())
        )
        np.add.at(self._pos, flat, np.repeat(weights, lengths))
        lo, hi, instance = self._pending_pairs(flat, lengths)
        if not len(lo):
            return
        a, b = np.minimum(lo, hi), np.maximum(lo, hi)
        table = self._slot_table()
        if table is not None:
            slots = table[a, b]
            if (slots < 0).any():
                self._new_slots((a << 32 | b)[slots < 0])
                slots = self._slots[a, b]
        else:
            if len(self._index) != self._used:  # not kept while the dense table served
                self._rebuild_index()
            keys = (a << 32 | b).tolist()
            get = self._index.get
            slots = [get(key, -1) for key in keys]
            if -1 in slots:
                self._new_slots(np.array([k for k, s in zip(keys, slots) if s < 0]))
                slots = [self._index[key] for key in keys]
        np.add.at(self._val, slots, weights[instance])

    def _pending_pairs(self, flat: np.ndarray, lengths: np.ndarray) -> tuple:
        """(label id, label id, instance) of every pair of positives of the pending instances,
        in the order of the instances (and of `np.triu_indices` within one)."""
        starts = np.cumsum(lengths) - lengths
        parts = []
        for k in np.unique(lengths[lengths > 1]).tolist():
            rows = np.flatnonzero(lengths == k)
            block = flat[starts[rows, None] + np.arange(k)]
            first, second = self._pairs_of(k)
            parts.append(
                (block[:, first].ravel(), block[:, second].ravel(), np.repeat(rows, len(first)))
            )
        if not parts:
            return (np.zeros(0, dtype=np.int64),) * 3
        lo, hi, instance = (np.concatenate(part) for part in zip(*parts))
        if len(parts) > 1:
            order = np.argsort(instance, kind="stable")
            lo, hi, instance = lo[order], hi[order], instance[order]
        return lo, hi, instance

    def _slot_table(self) -> np.ndarray | None:
        """The dense pair -> slot table while the capacity allows it (built on demand)."""
        capacity = len(self._pos)
        if capacity > _DENSE_UP_TO:
            self._slots = None
            return None
        table = self._slots
        if table is None or len(table) != capacity:
            table = np.full((capacity, capacity), -1, dtype=np.int32)
            used = self._used
            table[self._a[:used], self._b[:used]] = np.arange(used, dtype=np.int32)
            self._slots = table
        return table

    def _pairs_of(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        pairs = self._triu.get(k)
        if pairs is None:
            pairs = self._triu[k] = np.triu_indices(k, 1)
        return pairs

    def _new_slots(self, keys: np.ndarray) -> None:
        """Give cells to these pair keys (without one), in the order they first occur."""
        unique, first = np.unique(keys, return_index=True)
        fresh = unique[np.argsort(first)]
        start = self._used
        end = start + len(fresh)
        if end > len(self._val):
            capacity = max(64, 2 * len(self._val), end)
            for name in ("_a", "_b", "_val", "_base"):
                setattr(self, name, _resized(getattr(self, name), capacity))
        if self._slots is None:  # the dictionary serves (else it is rebuilt when needed)
            self._index.update(zip(fresh.tolist(), range(start, end)))
        self._a[start:end] = fresh >> 32
        self._b[start:end] = fresh & 0xFFFFFFFF
        self._used = end
        if self._slots is not None and len(self._slots) == len(self._pos):
            self._slots[self._a[start:end], self._b[start:end]] = np.arange(start, end)

    def _rebuild_index(self) -> None:
        """The pair dictionary (key -> slot) from the slots in use."""
        used = self._used
        keys = (self._a[:used] << 32 | self._b[:used]).tolist()
        self._index = dict(zip(keys, range(used)))

    def _rescale(self, factor: float) -> None:
        self._flush()
        used = self._used
        for array in (self._pos, self._pos_base):
            array *= factor
        self._val[:used] *= factor
        self._base[:used] *= factor
        self._total *= factor
        for key, total in self._totals.items():
            self._totals[key] = total * factor

    def prune(self) -> int:
        """Drop the pairs whose count is negligible (see the class); returns how many."""
        self._flush()
        self._pruned_at = self._counted
        used = self._used
        a, b, val = self._a[:used], self._b[:used], self._val[:used]
        union = self._pos[a] + self._pos[b] - val
        drop = val < self.PRUNE_RATIO * union
        n_drop = int(np.count_nonzero(drop))
        if n_drop < max(1, used // 4):  # rebuilding the index costs: wait for enough
            return 0
        keep = np.flatnonzero(~drop)
        for name in ("_a", "_b", "_val", "_base"):
            array = getattr(self, name)
            array[: len(keep)] = array[keep]
            array[len(keep) : used] = 0
        self._used = len(keep)
        self._rebuild_index()
        self._slots = None  # the slots moved
        return n_drop

    # ---- baselines --------------------------------------------------------------------------

    def snapshot(self, key: int, ids: np.ndarray) -> None:
        """Take the counts among these labels now as the baseline of node `key`."""
        self._flush()
        self._totals[key] = self._total
        if self._total == 0.0 or not len(ids):
            return
        self._pos_base[ids] = self._pos[ids]
        inside = self.inside(ids)
        self._base[inside] = self._val[inside]

    def inside(self, ids: np.ndarray) -> np.ndarray:
        """Slots of the pairs whose two labels are both among `ids`."""
        self._flush()
        mark = np.zeros(self._size, dtype=bool)
        mark[ids] = True
        used = self._used
        return np.flatnonzero(mark[self._a[:used]] & mark[self._b[:used]])

    def drop(self, key: int) -> None:
        self._totals.pop(key, None)

    # ---- statistics -------------------------------------------------------------------------

    @property
    def n(self) -> float:
        """Faded number of instances counted so far (the effective sample size)."""
        return self._total * self._scale()

    def _scale(self) -> float:
        # counts * scale = faded counts in instance units (the last instance weighs 1); the
        # last instance was counted with weight fading * (weight of the next one)
        return 1.0 / (self.fading * self._weight) if self.fading != 1.0 else 1.0

    def since_totals(self, key: int) -> tuple[float, float]:
        """Instances since the baseline of node `key`: scaled (the units of the counts) and
        effective (faded)."""
        since = self._total - self._totals[key]
        return since, since * self._scale()

    def positives_since(self) -> np.ndarray:
        """Positives of every label since the baseline of its node (scaled, by id)."""
        self._flush()
        n = self._size
        out = self._pos[:n] - self._pos_base[:n]
        return np.maximum(out, 0.0, out=out)

    def pairs_since(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(a, b, count) of every pair with a cell, counts since the baseline of the node that
        holds both labels (meaningless for pairs across nodes)."""
        self._flush()
        used = self._used
        co = self._val[:used] - self._base[:used]
        return self._a[:used], self._b[:used], np.maximum(co, 0.0, out=co)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(a, b, count) of every pair with a cell, over all the (faded) instances."""
        self._flush()
        used = self._used
        return self._a[:used], self._b[:used], self._val[:used]

    def positives(self) -> np.ndarray:
        """Positives of every label over all the (faded) instances (scaled, by id)."""
        self._flush()
        return self._pos[: self._size]

    def rates(self) -> np.ndarray:
        """Faded positive rate of every label (by id)."""
        self._flush()
        if self._total == 0.0:
            return np.zeros(self._size)
        return self._pos[: self._size] / self._total

    def block(self, ids) -> np.ndarray:
        """Dense counts among these labels (rows and columns in the order of `ids`; positives
        on the diagonal), over all instances. For small sets: it is len(ids)² floats."""
        return self._dense(np.asarray(ids, dtype=np.int64), *self.pairs(), self.positives())

    def since(self, key: int, ids) -> tuple[np.ndarray, float, float]:
        """Dense counts among the labels of node `key` since its baseline, with the scaled
        and effective instances since (see `block`)."""
        a, b, co = self.pairs_since()
        block = self._dense(np.asarray(ids, dtype=np.int64), a, b, co, self.positives_since())
        return (block, *self.since_totals(key))

    def _dense(self, ids, a, b, co, pos) -> np.ndarray:
        where = np.full(self._size, -1, dtype=np.int64)
        where[ids] = np.arange(len(ids))
        block = np.zeros((len(ids), len(ids)))
        i, j = where[a], where[b]
        ok = (i >= 0) & (j >= 0)
        block[i[ok], j[ok]] = co[ok]
        block[j[ok], i[ok]] = co[ok]
        block[np.arange(len(ids)), np.arange(len(ids))] = pos[ids]
        return block

    def distances(self, order) -> np.ndarray:
        """Jaccard distances between all labels (rows in the order of the ids `order`) over the
        faded counts: a dense matrix of the square of the labels."""
        return jaccard(self.block(order))

    def n_nonzero(self) -> int:
        """Number of non-zero cells of the symmetric label x label counts (positives and both
        cells of every pair that was counted)."""
        self._flush()
        used = self._used
        return int(np.count_nonzero(self._pos[: self._size])) + 2 * int(
            np.count_nonzero(self._val[:used])
        )


def _resized(array: np.ndarray, capacity: int) -> np.ndarray:
    out = np.zeros(capacity, dtype=array.dtype)
    out[: len(array)] = array
    return out
