"""Settings of the prediction service, from arguments and `STREAMML_*` environment variables."""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import typing

__all__ = ["ServiceConfig", "default_model"]

DEFAULT_MODEL = "ihomer"

#: field name -> (environment variable, parser)
_ENV: dict[str, tuple[str, typing.Callable[[str], typing.Any]]] = {}


def default_model() -> str:
    """`"ihomer"` when the registry has it, else `"majority"`."""
    from streamml import models

    return DEFAULT_MODEL if DEFAULT_MODEL in models.names() else "majority"


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {text!r}")


@dataclasses.dataclass
class ServiceConfig:
    """Everything the service can be told.

    Every field but `model_factory` can also be set with an environment variable, named in
    `ServiceConfig.environment()` (e.g. `STREAMML_TOKEN`, `STREAMML_MAX_BODY_BYTES`).

    Parameters
    ----------
    data_dir
        Directory of the event log (`streamml.db`) and of the snapshots (`snapshots/`).
    model
        Name of the model in `streamml.models` for a new data directory. A data directory
        remembers its model; `None` means the stored one, or `default_model()` for a new one.
    seed
        Seed of the model.
    shards
        For a new data directory: run the model (iHOMER) with its label clusters on this many
        Ray actors (`streamml.distributed.ShardedIHOMER`, the `ray` extra); 0: in this process.
        A data directory keeps its number of shards. If a shard dies, the model is restored from
        the newest snapshot and the log.
    ray_address
        The Ray cluster of the shards ("auto", "ray://head:10001"); None: a local Ray started on
        demand.
    labels
        Labels known in advance (a list, or a comma-separated string), for a new data
        directory: every learn event then gives the model all of them, ON or OFF, from the
        first instance on. Other labels are still taken as they appear.
    token
        Bearer token required by the write endpoints (`/v1/learn*`) when set.
    protect_predict
        Also require the token for `/v1/predict*` and `/v1/model`.
    max_body_bytes
        Largest accepted request body; larger ones get 413.
    max_batch
        Most items in one batch request.
    max_features
        Most features in one instance.
    max_labels
        Most distinct labels the service accepts in total (the label space); an instance that
        would grow it further is rejected.
    pending_ttl
        Seconds a prediction waits for its labels before it is forgotten.
    max_pending
        Most predictions waiting for their labels; beyond, the oldest are evicted (forgotten
        as if expired, and counted in `streamml_pending_evicted_total`).
    max_pending_bytes
        Most bytes of predictions waiting for their labels (their ids and the JSON of their
        features, predicted labels and probabilities); beyond, the oldest are evicted.
    dedup_events
        The ids of (at least) the last `dedup_events` learn events are remembered: a learn
        request retried with one of them is a duplicate (or a conflict), never learned twice.
    min_free_bytes
        Below this much free space on the data directory's file system, requests that write
        (predictions and learning) get 503 and `/readyz` says why.
    snapshot_every
        Take a snapshot after this many learned events.
    snapshot_interval
        Also take one after this many seconds if anything was learned since the last one.
    keep_snapshots
        Snapshots kept on disk (the older ones are fallbacks if the newest is unreadable); the
        log is compacted up to the oldest one kept.
    quality_window
        Number of recent labelled predictions behind the online quality metrics.
    cluster_slots
        Most label clusters exported one by one in the metrics.
    recent_events
        Drift events listed by `GET /v1/model`.
    fsync
        Flush the log to the disk at every commit (`PRAGMA synchronous=FULL`), so acknowledged
        events also survive a power cut; without it they survive a crash of the process.
    model_factory
        A callable returning a fresh model, used instead of `streamml.models.make(model, seed)`
        (e.g. a custom model; `model` then only names it).

    """

    data_dir: pathlib.Path | str = "streamml-data"
    model: str | None = None
    seed: int = 42
    shards: int = 0
    ray_address: str | None = None
    labels: tuple[str, ...] | str | None = None
    token: str | None = None
    protect_predict: bool = False
    max_body_bytes: int = 1_048_576
    max_batch: int = 1_000
    max_features: int = 10_000
    max_labels: int = 10_000
    pending_ttl: float = 86_400.0
    max_pending: int = 1_000_000
    max_pending_bytes: int = 128 * 2**20
    dedup_events: int = 1_000_000
    min_free_bytes: int = 256 * 2**20
    snapshot_every: int = 10_000
    snapshot_interval: float = 300.0
    keep_snapshots: int = 2
    quality_window: int = 1_000
    cluster_slots: int = 32
    recent_events: int = 20
    fsync: bool = True
    model_factory: typing.Callable[[], typing.Any] | None = None

    def __post_init__(self):
        self.data_dir = pathlib.Path(self.data_dir)
        if isinstance(self.labels, str):
            self.labels = [label.strip() for label in self.labels.split(",")]
        if self.labels is not None:
            self.labels = tuple(dict.fromkeys(label for label in self.labels if label))
        if self.token is not None and not self.token.strip():
            self.token = None
        for name in (
            "max_body_bytes",
            "max_batch",
            "max_features",
            "max_labels",
            "max_pending",
            "max_pending_bytes",
            "dedup_events",
            "snapshot_every",
            "keep_snapshots",
            "quality_window",
            "cluster_slots",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("recent_events", "min_free_bytes", "shards"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        for name in ("pending_ttl", "snapshot_interval"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")

    @staticmethod
    def environment() -> dict[str, str]:
        """Field name -> the environment variable that sets it."""
        return {name: var for name, (var, _) in _ENV.items()}

    @classmethod
    def from_env(cls, environ: typing.Mapping[str, str] | None = None, **overrides):
        """Settings from `STREAMML_*` variables, then from the keyword arguments not None.

        Examples
        --------

        >>> config = ServiceConfig.from_env({"STREAMML_MAX_BATCH": "50"}, data_dir="/tmp/x")
        >>> config.max_batch, str(config.data_dir)
        (50, '/tmp/x')

        """
        environ = os.environ if environ is None else environ
        values: dict[str, typing.Any] = {}
        for name, (var, parse) in _ENV.items():
            text = environ.get(var)
            if text is None or (text == "" and name != "token"):
                continue
            try:
                values[name] = parse(text)
            except ValueError as error:
                raise ValueError(f"{var}: {error}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


for _field in dataclasses.fields(ServiceConfig):
    if _field.name == "model_factory":
        continue
    _type = {
        "bool": _flag,
        "int": int,
        "float": float,
    }.get(str(_field.type), str)
    if _field.name == "data_dir":
        _type = pathlib.Path
    _ENV[_field.name] = (f"STREAMML_{_field.name.upper()}", _type)
