"""The requests the runtime serves: predictions, and learn events (labels or instances).

Both validate everything first, then stage their writes with the runtime's committer and wait
for them, so a request is accepted as a whole or changes nothing.
"""

from __future__ import annotations

import math
import time
import uuid

from .errors import ServiceError
from .recovery import ShardLost
from .store import Event, Pending, labels_digest

__all__ = ["LearnItem", "Requests"]


class LearnItem:
    """One learn request: labels for an earlier prediction (`id`) or an instance (`features`)."""

    __slots__ = ("labels", "id", "features")

    def __init__(self, labels: list[str], id: str | None = None, features: dict | None = None):
        self.labels, self.id, self.features = labels, id, features


class Requests:
    """Predict and learn, for `Runtime` (which provides the model, the committer, the state)."""

    def _check_ready(self) -> None:
        if self.committer is not None and self.committer.failure is not None:
            raise ServiceError(503, f"not ready: the store failed ({self.committer.failure})")
        if self._closing:
            raise ServiceError(503, "the service is shutting down", {"Retry-After": "5"})
        if self.state != "ready":
            raise ServiceError(503, f"not ready: {self.reason}", {"Retry-After": "1"})

    def _check_features(self, features: dict) -> None:
        if len(features) > self.config.max_features:
            raise ServiceError(
                422,
                f"too many features: {len(features)} > max_features={self.config.max_features}",
            )

    def _check_batch(self, n: int) -> None:
        if n > self.config.max_batch:
            raise ServiceError(413, f"too many items: {n} > max_batch={self.config.max_batch}")

    def _predict_one(self, features: dict) -> tuple[list[str], dict[str, float]]:
        try:
            proba, decided = self.use_model(
                lambda model: (model.predict_proba_one(features), model.predict_one(features))
            )
        except ShardLost as error:
            raise ServiceError(503, f"the model lost a shard and cannot restore it: {error}")
        except Exception as error:
            raise ServiceError(422, f"the model cannot use these features: {error}") from error
        probabilities = {}
        for label, p in proba.items():
            q = p.get(True, 0.0) if isinstance(p, dict) else p
            q = float(q) if q is not None else 0.0
            probabilities[str(label)] = q if math.isfinite(q) else 0.0
        return [str(label) for label, on in decided.items() if on], probabilities

    async def predict(self, items: list[tuple[dict, str | None]]) -> list[dict]:
        """Predict instances and keep their features for the labels to come.

        `items` are (features, id or None). An id already waiting with the same features gets
        its stored prediction back (a retry); with other features, or an id already learned,
        it is a conflict (409). Nothing is stored unless every item is accepted. Learning
        waits while predictions are in flight (see `Committer`).
        """
        self.predictions_in_flight += 1
        try:
            return await self._predict(items)
        finally:
            self.predictions_in_flight -= 1

    async def _predict(self, items: list[tuple[dict, str | None]]) -> list[dict]:
        self._check_ready()
        self.disk.check()
        self._check_batch(len(items))
        for features, _ in items:
            self._check_features(features)
        now = time.time()
        expires = now + self.config.pending_ttl
        outcomes, new, seen, waits = [], [], {}, set()
        for features, id_ in items:
            if id_ is not None:
                if id_ in seen:
                    if seen[id_].features != features:
                        raise ServiceError(
                            409, f"id {id_!r} appears twice in this batch, with other features"
                        )
                    outcomes.append(seen[id_])
                    continue
                prior, seq = self.committer.pending(id_, now)
                if prior is not None:
                    if prior.features != features:
                        raise ServiceError(
                            409, f"id {id_!r} is already waiting for labels, with other features"
                        )
                    outcomes.append(prior)
                    waits.add(seq)
                    continue
                learned, seq = self.committer.learned(id_)
                if learned is not None:
                    raise ServiceError(409, f"id {id_!r} was already learned")
            else:
                id_ = uuid.uuid4().hex
            labels, probabilities = self._predict_one(features)
            pending = Pending(id_, features, labels, probabilities, expires)
            seen[id_] = pending
            outcomes.append(pending)
            new.append(pending)
        if new:
            waits.add(self.committer.put(new))
        self.observer.on_predictions(len(items))
        for seq in sorted(s for s in waits if s is not None):
            await self.committer.wait(seq)
        return [
            {"id": p.id, "labels": p.labels, "probabilities": p.probabilities} for p in outcomes
        ]

    async def learn(self, items: list[LearnItem]) -> list[dict]:
        """Log learn events durably, then learn them; all items are accepted or none.

        An id among the ids remembered (those of the last `dedup_events` events) with the
        same labels is a duplicate (acknowledged again, nothing written); with other labels a
        conflict (409). Labels for an id with no waiting prediction are an error (404).
        """
        self._check_ready()
        self.disk.check()
        self._check_batch(len(items))
        for item in items:
            if item.features is not None:
                self._check_features(item.features)
        now = time.time()
        outcomes, events, consumed, learned_here, waits = [], [], [], {}, set()
        new_labels: dict[str, None] = {}
        for item in items:
            labels = list(dict.fromkeys(item.labels))
            key, predicted, features = item.id, None, item.features
            if key is not None:
                digest = labels_digest(labels)
                if key in learned_here:
                    prior, seq = learned_here[key], None
                    if prior[1] != digest:
                        raise ServiceError(
                            409, f"id {key!r} appears twice in this batch, with other labels"
                        )
                else:
                    prior, seq = self.committer.learned(key)
                if prior is not None:
                    event_id, prior_digest = prior
                    if prior_digest != digest:
                        raise ServiceError(
                            409,
                            f"id {key!r} was already learned (event {event_id}) with other labels",
                        )
                    outcomes.append(
                        {"id": key, "event_id": event_id, "duplicate": True, "scored": False}
                    )
                    waits.add(seq)
                    continue
                # (an id labelled earlier in this batch was answered above, as a duplicate)
                pending, _ = self.committer.pending(key, now)
                if pending is not None:
                    consumed.append(key)
                    predicted = pending.labels
                    if features is None:
                        features = pending.features
                elif features is None:
                    raise ServiceError(
                        404,
                        f"unknown id {key!r}: no prediction is waiting for labels under it "
                        "(never made, expired or evicted, or already learned)",
                    )
            event = Event(self.next_event_id + len(events), key, features, labels, predicted)
            events.append(event)
            if key is not None:
                learned_here[key] = (event.id, digest)
            for label in labels:
                if label not in self._known_labels:
                    new_labels[label] = None
            scored = predicted is not None
            outcomes.append({"id": key, "event_id": event.id, "duplicate": False, "scored": scored})
        if len(self._known_labels) + len(new_labels) > self.config.max_labels:
            raise ServiceError(
                422,
                f"too many labels: the label space would grow to "
                f"{len(self._known_labels) + len(new_labels)} > max_labels="
                f"{self.config.max_labels}",
            )
        if events:
            ops = [("append", event) for event in events]
            waits.add(self.committer.stage(ops, events, consumed))
            self.next_event_id += len(events)
            self._known_labels.update(new_labels)
        for seq in sorted(s for s in waits if s is not None):
            await self.committer.wait(seq)
        return outcomes
