"""What the models with a label partition share (IHOMER, ShardedIHOMER): their public read-only
state, and the step that follows learning (handover, restructuring)."""

from __future__ import annotations

from ..events import DriftEvent
from ..partition import LabelODAC

__all__ = ["PartitionState"]


class PartitionState:
    """Properties over `_clusters`, `_target`, `_events`, `_n_restructurings`, `_n`, `_labels`
    and `_odac`, which the model keeps; `_advance` calls its `_complete_handover`,
    `_may_restructure` and `_restructure`."""

    @property
    def partition(self) -> list[frozenset]:
        """The clusters answering now (a list of frozensets of labels)."""
        return list(self._clusters)

    @property
    def target_partition(self) -> list[frozenset]:
        """The partition the model is moving to; equal to `partition` outside a handover."""
        return list(self._target)

    @property
    def drift_events(self) -> list[DriftEvent]:
        """Every drift event so far, oldest first."""
        return list(self._events)

    @property
    def n_restructurings(self) -> int:
        """How many times the partition of the learners changed."""
        return self._n_restructurings

    @property
    def n_learned(self) -> int:
        """Instances learned so far."""
        return self._n

    @property
    def labels(self) -> list[str]:
        """Every label seen so far, in order of appearance."""
        return list(self._labels)

    @property
    def odac(self) -> LabelODAC:
        """The label partitioner (read it, do not feed it)."""
        return self._odac

    def _advance(self, n: int) -> None:
        """After `n` more instances were learned: count the handover down (a new partition
        takes over when it ends) and restructure if a recheck is due and allowed."""
        if self._shadow:
            self._handover_left -= n
            if self._handover_left <= 0:
                self._complete_handover()
        if self._recheck and self._may_restructure():
            self._recheck = False
            self._last_check = self._n
            self._restructure()
