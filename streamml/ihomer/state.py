"""What the models with a label partition share (IHOMER, ShardedIHOMER): their public read-only
state, and the step that follows learning (handover, restructuring)."""

from __future__ import annotations

from ..events import DriftEvent
from ..partition import LabelODAC

__all__ = ["PartitionState"]


class PartitionState:
    """Properties over `_clusters`, `_target`, `_events`, `_n_restructurings`, `_n`, `_labels`
    and `_odac`, which the model keeps (with `warmup`, `cooldown`, `n_min`, `_last_check` and
    `_last_restructure`); `_advance` calls its `_complete_handover` and `_restructure`."""

    #: From this many labels on, looks that find the same partition make the next one wait
    #: longer (below, a look costs less than a few instances, and waiting delays the clusters'
    #: response to a drift: -0.007 on the 2-of-8 sudden drift scenario, seeds 4-6).
    BACKOFF_FROM = 256

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

    def _ordered(self, members) -> tuple[str, ...]:
        """These labels, in the order the model first saw them."""
        members = set(members)
        return tuple(label for label in self._labels if label in members)

    def _refined(self) -> list[tuple[str, ...]] | None:
        """The clusters of LabelODAC's refined partition (labels it has not placed yet stay
        alone), or None if they are those of the partition being moved to."""
        refined = self._odac.refined_partition(
            min_size=self.min_cluster_size, max_size=self.max_cluster_size
        )
        placed = set().union(*refined) if refined else set()
        missing = [label for label in self._labels if label not in placed]
        partition = [self._ordered(s) for s in refined] + [(label,) for label in missing]
        if {frozenset(s) for s in partition} == set(self._target):
            return None
        return partition

    def _may_restructure(self) -> bool:
        """Past the warm-up, `cooldown` instances after the last restructuring, and enough
        instances after the last look at the refined partition: `2 n_min`; on `BACKOFF_FROM`
        labels or more, where computing it costs as much as a few hundred instances, doubled
        after every look that found it unchanged once the first partition has formed, up to
        `8 n_min`, and `2 n_min` again once it changed. A tree that keeps changing does not
        reset it: on delicious the tree changes between most looks, and 59 of 81 looks found
        the same partition."""
        if self._n < self.warmup:
            return False
        if self._last_check is not None and self._n - self._last_check < self._look_wait():
            return False
        cooldown = 2 * self.n_min if self.cooldown is None else self.cooldown
        return self._last_restructure is None or self._n - self._last_restructure >= cooldown

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
            before = self._n_restructurings
            self._restructure()
            # The same partition, on a label space where a look costs: look less often.
            if self._n_restructurings == before > 0 and len(self._labels) >= self.BACKOFF_FROM:
                self._look_gap = min(2 * self._look_wait(), 8 * self.n_min)
            else:
                self._look_gap = 2 * self.n_min

    def _look_wait(self) -> int:
        """Instances between two looks at the refined partition now (`2 n_min` until a look
        backs off; models pickled before the back-off have no `_look_gap`)."""
        return self.__dict__.get("_look_gap", 2 * self.n_min)

    def _tree_changed(self, now: int) -> None:
        """LabelODAC's tree changed at instance `now`. A change after a stable partition
        (`10 n_min` instances since the last restructuring, not the partition still forming)
        is a drift of the label structure: `_restructure` gives the new clusters alternates."""
        since = now - (self._last_restructure or 0)
        self._structure_drift = self._structure_drift or since >= 10 * self.n_min
