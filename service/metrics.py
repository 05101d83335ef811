"""Prometheus metrics of the service: one registry per app, every name prefixed `streamml_`.

Request metrics are counted by an ASGI middleware with a fixed set of `endpoint` values. The
model's state (instances learned, drift events, clusters, online quality, ...) is read from the
runtime by a collector at scrape time, so a vanished cluster's series disappears with it. No
label takes unbounded values: `endpoint` is one of `ENDPOINTS` or `other`, `code` an HTTP
status, `level` `structure` or `cluster`, `slot` below `cluster_slots`, `model` a model name,
`file` one of `disk.FILES`.
"""

from __future__ import annotations

import time
import typing

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from .disk import file_sizes
from .runtime import Observer

if typing.TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["ENDPOINTS", "LATENCY_BUCKETS", "RequestMetrics", "ServiceMetrics"]

#: The routes, as the values of the `endpoint` label (anything else is "other").
ENDPOINTS = (
    "/v1/predict",
    "/v1/predict/batch",
    "/v1/learn",
    "/v1/learn/batch",
    "/v1/model",
    "/healthz",
    "/readyz",
    "/metrics",
)
_ENDPOINT = {path: path for path in ENDPOINTS}

#: Request latency buckets, in seconds: from 100 microseconds to 10 seconds.
LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.00075,
    0.001,
    0.0015,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)


class ServiceMetrics(Observer):
    """The metrics of one app, registered in their own `registry`.

    Parameters
    ----------
    registry
        Where to register them (a fresh `CollectorRegistry` per app).

    """

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.requests = Counter(
            "streamml_requests",
            "HTTP requests answered, by endpoint and status code.",
            ["endpoint", "code"],
            registry=registry,
        )
        self.latency = Histogram(
            "streamml_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        for endpoint in ENDPOINTS:
            self.latency.labels(endpoint)
        self.predictions = Counter(
            "streamml_predictions",
            "Instances predicted (a batch counts each of its items).",
            registry=registry,
        )
        self.commits = Histogram(
            "streamml_store_commit_duration_seconds",
            "Time of one group commit of the SQLite log (learn events and predictions).",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.commit_events = Histogram(
            "streamml_store_commit_events",
            "Learn events made durable by one group commit.",
            buckets=(0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096),
            registry=registry,
        )
        self.snapshots = Counter(
            "streamml_snapshots",
            "Model snapshots written, by result.",
            ["result"],
            registry=registry,
        )
        for result in ("ok", "error"):
            self.snapshots.labels(result)
        self.snapshot_seconds = Histogram(
            "streamml_snapshot_duration_seconds",
            "Time to pickle and write one snapshot.",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0),
            registry=registry,
        )
        self.expired = Counter(
            "streamml_pending_expired",
            "Predictions forgotten because their labels did not come within the time to live.",
            registry=registry,
        )
        self.learn_failures = Counter(
            "streamml_learn_failures",
            "Logged events the model raised an error on (skipped, the same way on replay).",
            registry=registry,
        )

    def watch(self, runtime: Runtime) -> None:
        """Export the runtime's state at every scrape."""
        self.registry.register(RuntimeCollector(runtime))

    # Observer hooks
    def on_commit(self, seconds, n_events):
        self.commits.observe(seconds)
        self.commit_events.observe(n_events)

    def on_snapshot(self, seconds, ok):
        self.snapshots.labels("ok" if ok else "error").inc()
        if ok:
            self.snapshot_seconds.observe(seconds)

    def on_expired(self, n):
        self.expired.inc(n)

    def on_predictions(self, n):
        self.predictions.inc(n)

    def on_learn_failure(self):
        self.learn_failures.inc()


class RuntimeCollector(Collector):
    """The model and store state, read from the runtime when Prometheus scrapes."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def collect(self):
        rt = self.runtime
        ready = GaugeMetricFamily(
            "streamml_ready", "1 when the model is loaded and requests are served."
        )
        ready.add_metric([], 1.0 if rt.state == "ready" and not rt._closing else 0.0)
        yield ready
        info = GaugeMetricFamily(
            "streamml_model_info", "The model kind (always 1).", labels=["model"]
        )
        info.add_metric([rt.model_name or ""], 1.0)
        yield info
        store = rt.store
        if store is not None:
            yield from _disk(rt, store)
        if rt.model is None or rt.state != "ready":
            return

        yield _counter(
            "streamml_instances_learned",
            "Instances the model has learned in total (replayed ones included).",
            rt.n_learned,
        )
        yield _gauge(
            "streamml_last_event_id", "Id of the last learn event in the model.", rt.last_event_id
        )
        yield _gauge(
            "streamml_pending_predictions",
            "Predictions whose labels have not come yet.",
            rt.pending_count,
        )
        yield _gauge("streamml_labels", "Labels in the label space.", len(rt.label_space))
        behind = rt.last_event_id - (rt.snapshot_event_id or 0)
        yield _gauge(
            "streamml_events_since_snapshot",
            "Learned events not in a snapshot yet (the replay work after a crash).",
            behind,
        )
        if rt.snapshot_time is not None:
            yield _gauge(
                "streamml_last_snapshot_timestamp_seconds",
                "Unix time of the newest snapshot.",
                rt.snapshot_time,
            )

        drift = CounterMetricFamily(
            "streamml_drift_events",
            "Drift events the model detected, by level: structure (label partition) or "
            "cluster (error of a cluster learner).",
            labels=["level"],
        )
        for level, n in rt.view.drift_counts().items():
            drift.add_metric([level], n)
        yield drift
        restructurings = rt.view.n_restructurings()
        yield _counter(
            "streamml_restructurings",
            "Times the model changed its label partition.",
            restructurings or 0,
        )
        clusters = rt.view.clusters()
        if clusters is not None:
            yield _gauge("streamml_clusters", "Label clusters of the model.", len(clusters))
            error = GaugeMetricFamily(
                "streamml_cluster_error_ratio",
                "Recent Hamming loss of the cluster in each slot (see GET /v1/model).",
                labels=["slot"],
            )
            size = GaugeMetricFamily(
                "streamml_cluster_labels", "Labels of the cluster in each slot.", labels=["slot"]
            )
            for c in clusters:
                if c["slot"] is None:
                    continue
                size.add_metric([str(c["slot"])], len(c["labels"]))
                if c["error"] is not None:
                    error.add_metric([str(c["slot"])], c["error"])
            yield error
            yield size

        q = rt.quality
        yield _counter(
            "streamml_scored_predictions",
            "Predictions scored against their delayed labels.",
            q.n_scored,
        )
        yield _gauge(
            "streamml_quality_window_predictions",
            "Scored predictions in the window of the online quality metrics.",
            q.size,
        )
        for name, value, text in (
            ("subset_accuracy", q.subset_accuracy, "Share of exactly right label sets"),
            ("hamming_loss", q.hamming_loss, "Share of wrong (instance, label) pairs"),
            ("micro_f1", q.micro_f1, "Micro-averaged F1 (1 when nothing is ON, predicted or not)"),
        ):
            if value is not None:
                yield _gauge(
                    f"streamml_online_{name}_ratio",
                    f"{text}, over the recent scored predictions.",
                    value,
                )
        if q.label_cardinality is not None:
            yield _gauge(
                "streamml_label_cardinality",
                "Mean number of ON labels of the recently learned instances.",
                q.label_cardinality,
            )


def _disk(rt: Runtime, store) -> typing.Iterator:
    sizes = GaugeMetricFamily(
        "streamml_store_bytes",
        "Size of the files of the data directory (snapshots: all of them), by file.",
        labels=["file"],
    )
    for name, size in file_sizes(rt.config.data_dir).items():
        sizes.add_metric([name], size)
    yield sizes
    yield _gauge(
        "streamml_disk_free_bytes",
        "Free space of the data directory's file system.",
        rt.disk.free(),
    )
    yield _gauge(
        "streamml_pending_bytes",
        "Bytes of the predictions waiting for their labels (ids and JSON), against "
        "max_pending_bytes.",
        store.pending.bytes,
    )
    yield _counter(
        "streamml_pending_evicted",
        "Predictions evicted (the oldest first) to keep under max_pending or max_pending_bytes.",
        store.pending.evicted,
    )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


class RequestMetrics:
    """ASGI middleware counting requests and timing them, per endpoint and status code."""

    def __init__(self, app, metrics: ServiceMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = _ENDPOINT.get(scope.get("path", ""), "other")
        status = 500
        started = time.perf_counter()

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
            self.metrics.requests.labels(endpoint, str(status)).inc()
