"""Stable, bounded slots for label clusters, so per-cluster metrics keep a bounded label set."""

from __future__ import annotations

__all__ = ["ClusterSlots"]


class ClusterSlots:
    """Give each cluster a slot number in `0 .. n_slots - 1` for as long as it exists.

    A cluster keeps its slot while it lives, so the time series of a slot follows one cluster;
    the slot of a vanished cluster is freed and reused by the next new cluster (lowest free slot
    first, new clusters taken in the order of their sorted labels). Clusters beyond `n_slots`
    get no slot.

    Parameters
    ----------
    n_slots
        Number of slots.

    Examples
    --------

    >>> slots = ClusterSlots(2)
    >>> slots.assign([frozenset("ab"), frozenset("c")])
    [0, 1]
    >>> slots.assign([frozenset("c"), frozenset("d"), frozenset("e")])
    [1, 0, None]

    """

    def __init__(self, n_slots: int):
        self.n_slots = n_slots
        self._slot: dict[frozenset, int] = {}

    def assign(self, clusters: list[frozenset]) -> list[int | None]:
        """The slot of each cluster (None when every slot is taken)."""
        alive = set(clusters)
        self._slot = {key: slot for key, slot in self._slot.items() if key in alive}
        free = sorted(set(range(self.n_slots)) - set(self._slot.values()), reverse=True)
        for key in sorted(alive - self._slot.keys(), key=lambda k: sorted(map(str, k))):
            if not free:
                break
            self._slot[key] = free.pop()
        return [self._slot.get(key) for key in clusters]
