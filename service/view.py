"""Read-only views of the model for `GET /v1/model` and the metrics (clusters, drift events).

The model's optional attributes are read with defaults, so any river multi-label classifier
works: `partition` (frozensets of labels), `cluster_summary()` (dicts with `labels`, `error`,
`n`), `drift_events` (objects with `index`, `level`, `labels`, `detector`) and
`n_restructurings`.
"""

from __future__ import annotations

import math
import typing

if typing.TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["LEVELS", "ModelView"]

#: The drift levels exported in the metrics (other values are not counted there).
LEVELS = ("structure", "cluster")


def _finite(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _event_dict(event) -> dict:
    data = event.to_dict() if hasattr(event, "to_dict") else dict(vars(event))
    return {
        "index": int(data.get("index", -1)),
        "level": str(data.get("level", "")),
        "labels": [str(label) for label in data.get("labels", ())],
        "detector": str(data.get("detector", "")),
    }


class ModelView:
    """What the runtime's model shows of itself, read under the runtime's model lock."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def clusters(self) -> list[dict] | None:
        """The clusters as {labels, error, n, slot}, or None if the model has no partition."""
        rt = self.runtime
        with rt.lock:
            if callable(getattr(rt.model, "cluster_summary", None)):
                clusters = [
                    {
                        "labels": [str(label) for label in c["labels"]],
                        "error": _finite(c.get("error")),
                        "n": c.get("n"),
                    }
                    for c in rt.use_model(lambda model: model.cluster_summary())
                ]
            else:
                partition = getattr(rt.model, "partition", None)
                if partition is None:
                    return None
                clusters = [
                    {"labels": sorted(str(label) for label in c), "error": None, "n": None}
                    for c in partition
                ]
            slots = rt.slots.assign([frozenset(c["labels"]) for c in clusters])
        for c, slot in zip(clusters, slots):
            c["slot"] = slot
        return clusters

    def drift_events(self) -> list:
        with self.runtime.lock:
            return list(getattr(self.runtime.model, "drift_events", None) or [])

    def drift_counts(self, events: list | None = None) -> dict[str, int]:
        counts = dict.fromkeys(LEVELS, 0)
        for event in self.drift_events() if events is None else events:
            level = getattr(event, "level", None)
            if level in counts:
                counts[level] += 1
        return counts

    def n_restructurings(self) -> int | None:
        with self.runtime.lock:
            value = getattr(self.runtime.model, "n_restructurings", None)
        return int(value) if value is not None else None

    def describe(self) -> dict:
        """The body of `GET /v1/model`."""
        rt = self.runtime
        events = self.drift_events()
        recent = events[-rt.config.recent_events :] if rt.config.recent_events else []
        return {
            "model": rt.model_name,
            "n_learned": rt.n_learned,
            "n_learn_failures": rt.n_learn_failures,
            "last_event_id": rt.last_event_id,
            "labels": list(rt.label_space),
            "partition": self.clusters(),
            "n_restructurings": self.n_restructurings(),
            "drift_event_counts": self.drift_counts(events),
            "drift_events": [_event_dict(e) for e in recent],
            "pending_predictions": rt.pending_count,
            "quality": rt.quality.to_dict(),
            "snapshot_event_id": rt.snapshot_event_id,
        }
