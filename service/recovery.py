"""Recovery of a sharded model (`streamml.distributed.ShardedIHOMER`) whose shard died.

A shard is a Ray actor: if its process dies, the clusters it held are gone and the model raises
`ShardLost` on its next call. The runtime then rebuilds the model from the newest snapshot
(which holds every shard's state at one event id) and replays the log up to the last event the
model had learned, through the same steps as live learning, so the model is again exactly the
uninterrupted one and no acknowledged event is lost. The call that failed is then made again.
"""

from __future__ import annotations

import logging
import typing

from streamml.distributed import ShardLost

__all__ = ["ShardLost", "ShardRecovery"]

log = logging.getLogger("streamml.service")

T = typing.TypeVar("T")


class ShardRecovery:
    """`use_model` and the recovery it runs, for `Runtime` (which provides the model, the
    store, the snapshots and the label space)."""

    n_recoveries = 0

    def use_model(self, call: typing.Callable[[typing.Any], T]) -> T:
        """`call(model)` under the model lock; if a shard died, restore the model and call again
        (a second `ShardLost` propagates: the shards cannot be restarted)."""
        with self.lock:
            try:
                return call(self.model)
            except ShardLost as error:
                log.warning("%s: restoring the model from the snapshot and the log", error)
                self._recover()
                return call(self.model)

    def _recover(self) -> None:
        """Rebuild the model from the newest snapshot and the log up to `last_event_id`."""
        state, problems = self.snapshots.load_newest(accept=self._accept)
        for problem in problems:
            log.warning("skipping snapshot: %s", problem)
        if state is None:
            model, base, labels = self._new_model(), 0, list(self.initial_labels)
        else:
            model, base, labels = state["model"], state["last_event_id"], state["label_space"]
            self._adopt(model)
        known = set(labels)
        replayed = 0
        for event in self.store.events_after(base):
            if event.id > self.last_event_id:
                break
            on = dict.fromkeys(event.labels)
            labels.extend(label for label in on if label not in known)
            known.update(on)
            y = {label: label in on for label in labels}
            try:
                model.learn_one(event.features, y)
            except ShardLost:
                raise
            except Exception:  # it failed live too, and was counted then
                pass
            replayed += 1
        try:
            self.model.close()  # stop the shards that are still alive
        except Exception:
            log.exception("could not stop the old shards")
        self.model = model
        self.n_recoveries += 1
        log.warning(
            "model restored from snapshot event %d and %d logged events (through event %d)",
            base,
            replayed,
            self.last_event_id,
        )

    def _adopt(self, model) -> None:
        """Point a restored sharded model at the configured Ray cluster."""
        if self.shards and hasattr(model, "address"):
            model.address = self.config.ray_address
