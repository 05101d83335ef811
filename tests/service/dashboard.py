"""Drive a service under a real Prometheus and check every dashboard query against what the
load sent and what a second model, fed the same events, says (not against the service)."""

from __future__ import annotations

import bisect
import collections
import json
import pathlib
import shutil
import time

import httpx
import pytest

from service import ServiceConfig, create_app
from service.metrics import LATENCY_BUCKETS

from .helpers import expected_quality, feed, serve_in_thread, wait_ready
from .prom import RATE_WINDOW, expressions, prometheus

#: Driver requests at the start, before Prometheus watches the rates (every series they touch
#: exists from then on, so the rates see the whole load after it).
WARM_UP = 3


class Load:
    """One client sending a stream of (features, labels ON), in order, and recording it.

    Instance k: k % 3 == 0 is learned directly; the others are predicted, then labelled by id.
    Every 5th is also predicted once more, and that prediction waits for ever (the service keeps
    the newest `max_pending` predictions: the load follows which); every 20th also sends a bad
    prediction (422) and reads `/v1/model`.
    """

    def __init__(self, client: httpx.Client, max_pending: int, pace: float = 0.005):
        self.client, self.max_pending, self.pace = client, max_pending, pace
        self.learned: list[tuple[dict, list[str]]] = []  # in log order
        self.scored: list[tuple[set, set, int]] = []  # (predicted, truth, label space size)
        self.requests: collections.Counter = collections.Counter()  # (endpoint, code)
        self.slowest: collections.Counter = collections.Counter()  # endpoint -> seconds
        self.n_predictions = self.n_evicted = 0
        # The predictions the service keeps: id -> (features, answer), oldest first; beyond
        # max_pending the oldest are evicted.
        self.pending: dict[str, tuple[dict, dict]] = {}
        self._space: set[str] = set()
        self._k = 0

    def _send(self, method: str, path: str, body=None) -> httpx.Response:
        started = time.perf_counter()
        r = self.client.request(method, path, json=body)
        self.slowest[path] = max(self.slowest[path], time.perf_counter() - started)
        self.requests[path, str(r.status_code)] += 1
        return r

    def _post(self, path: str, body) -> httpx.Response:
        return self._send("POST", path, body)

    def _predict(self, x: dict) -> dict:
        r = self._post("/v1/predict", {"features": x})
        assert r.status_code == 200, r.text
        answer = r.json()
        self.n_predictions += 1
        self.pending[answer["id"]] = (x, answer)
        while len(self.pending) > self.max_pending:
            del self.pending[next(iter(self.pending))]
            self.n_evicted += 1
        return answer

    def run(self, stream) -> None:
        for x, on in stream:
            k, self._k = self._k, self._k + 1
            if k % 3 == 0:
                assert self._post("/v1/learn", {"features": x, "labels": on}).status_code == 202
            else:
                out = self._predict(x)
                r = self._post("/v1/learn", {"id": out["id"], "labels": on})
                assert r.status_code == 202 and r.json()["scored"], r.text
                del self.pending[out["id"]]
            self.learned.append((x, on))
            self._space |= set(on)
            if k % 3:
                self.scored.append((set(out["labels"]), set(on), len(self._space)))
            if k % 5 == 0:
                self._predict(x)  # never labelled
            if k % 20 == 0:
                bad = self._post("/v1/predict", {"features": {"x": "y" * 2000}})
                assert bad.status_code == 422
                assert self._send("GET", "/v1/model").status_code == 200
            time.sleep(self.pace)

    def snapshot(self) -> dict:
        """Counts so far (to subtract the warm-up from the rates)."""
        return {
            "learned": len(self.learned),
            "scored": len(self.scored),
            "predictions": self.n_predictions,
            "evicted": self.n_evicted,
            "requests": collections.Counter(self.requests),
        }


def run_dashboard_check(tmp_path, factory, stream, levels=("structure",), **options) -> Load:
    """Serve `factory()`'s model under Prometheus, send `stream`, and check every dashboard
    panel and annotation: final values against a second `factory()` model fed the same
    events, rates integrated over the run against what the load sent. The drift events of
    each of `levels` must be there."""
    config = ServiceConfig(
        data_dir=tmp_path / "data", model="test", model_factory=factory, **options
    )
    queries = expressions()
    checked: set[str] = set()
    with serve_in_thread(create_app(config)) as url:
        client = httpx.Client(base_url=url, timeout=30)
        wait_ready(client)
        with prometheus(tmp_path, url.removeprefix("http://")) as prom:
            load = Load(client, config.max_pending)
            load.run(stream[:WARM_UP])
            prom.wait_for("streamml_last_event_id", lambda v: v == len(load.learned))
            time.sleep(1.5)  # one more scrape: the rates start from the warm-up's values
            before, start = load.snapshot(), time.time()
            load.run(stream[WARM_UP:])
            total = sum(load.requests.values())
            prom.wait_for(
                'sum(streamml_requests_total{endpoint!~"/metrics|/readyz"})',
                lambda v: v == total,
            )
            time.sleep(RATE_WINDOW + 1)  # the rate windows after the last request
            end = time.time()
            state = client.get("/v1/model").json()

            reference = factory()
            space = feed(reference, load.learned[: before["learned"]])
            events_before = collections.Counter(e.level for e in reference.drift_events)
            restructurings_before = reference.n_restructurings
            space = feed(reference, load.learned[before["learned"] :], labels=space)

            def instant(where):
                checked.add(where)
                return prom.instant(queries[where], end)

            def integral(where, window=1.0):
                """Sum over the run of each series (1 s steps), over `window` seconds."""
                checked.add(where)
                series = prom.series(queries[where], start, end)
                return {key: sum(values) / window for key, values in series.items()}

            def near(value, expected, where):
                assert abs(value - expected) <= 0.25 * expected + 3, (where, value, expected)

            # Totals and gauges at the end: the reference model and the load.
            events = collections.Counter(e.level for e in reference.drift_events)
            assert all(events[level] > 0 for level in levels), reference.drift_events
            got = instant("Drift events (total) / A")
            assert got == {(("level", lv),): float(events[lv]) for lv in ("structure", "cluster")}
            assert instant("Restructurings / A") == {(): float(reference.n_restructurings)}
            clusters = {frozenset(c["labels"]): c for c in reference.cluster_summary()}
            assert instant("Label clusters / A") == {(): float(len(clusters))}
            assert instant("Label clusters / B") == {(): float(len(space))}
            slots = {str(c["slot"]): frozenset(c["labels"]) for c in state["partition"]}
            assert set(slots.values()) == set(clusters) and "None" not in slots
            errors = instant("Error per cluster slot / A")
            sizes = instant("Labels per cluster slot / A")
            assert errors == {(("slot", s),): clusters[c]["error"] for s, c in slots.items()}
            assert sizes == {(("slot", s),): float(len(c)) for s, c in slots.items()}

            quality = expected_quality(load.scored, load.learned, config.quality_window)
            for where, name in (("A", "subset_accuracy"), ("B", "micro_f1")):
                assert instant(f"Online quality / {where}") == {(): quality[name]}
            loss = instant("Online quality / C")[()]
            assert loss == pytest.approx(quality["hamming_loss"], abs=1e-12)
            assert instant("Label cardinality / A") == {(): quality["label_cardinality"]}
            kept = load.pending.values()
            assert instant("Pending predictions / A") == {(): float(len(kept))}
            size = sum(_stored_bytes(x, answer) for x, answer in kept)
            assert instant("Pending predictions: bytes and evictions / A") == {(): float(size)}
            files = _file_sizes(config.data_dir)
            assert instant("Data directory size by file / A") == {
                (("file", name),): float(n) for name, n in files.items()
            }
            assert instant("Data directory size by file / B") == {(): float(sum(files.values()))}
            assert files["streamml.db"] > 0 and files["snapshots"] > 0
            free = instant("Free disk space / A")[()]
            assert abs(free - shutil.disk_usage(config.data_dir).free) < 0.02 * free
            behind = instant("Snapshots / A")[()]
            assert behind == state["last_event_id"] - (state["snapshot_event_id"] or 0)
            assert 0 <= behind < 2 * config.snapshot_every
            age = instant("Snapshots / B")[()]
            assert 0 <= age <= end - start + 2

            # Rates and increases, integrated over the run: what the load sent meanwhile.
            for level, n in integral("Drift events by level / A", RATE_WINDOW).items():
                level = dict(level)["level"]
                near(n, events[level] - events_before[level], level)
            (n,) = integral("Restructurings / B", RATE_WINDOW).values()
            near(n, reference.n_restructurings - restructurings_before, "restructurings")
            (n,) = integral("Scored predictions /s / A").values()
            near(n, len(load.scored) - before["scored"], "scored")
            (n,) = integral("Instances learned and predicted /s / A").values()
            near(n, len(load.learned) - before["learned"], "learned")
            (n,) = integral("Instances learned and predicted /s / B").values()
            near(n, load.n_predictions - before["predictions"], "predicted")
            sent = load.requests - before["requests"]
            by_endpoint = collections.Counter()
            for (endpoint, _), n in sent.items():
                by_endpoint[endpoint] += n
            rates = integral("Requests /s by endpoint / A")
            for endpoint, n in by_endpoint.items():
                near(rates[(("endpoint", endpoint),)], n, endpoint)
            near(rates[(("endpoint", "/metrics"),)], end - start, "/metrics (1 scrape/s)")
            (n,) = integral("Pending predictions: bytes and evictions / B").values()
            near(n, load.n_evicted - before["evicted"], "evicted")
            errors = integral("Errors /s by status code / A")
            assert set(errors) == {(("code", "422"),)}  # nothing else failed: no 4xx, no 5xx
            near(errors[(("code", "422"),)], sent["/v1/predict", "422"], "422")

            # Quantiles: at most the bucket holding the slowest request a client saw.
            checked.update(("Latency p50 / p99 / A", "Latency p50 / p99 / B"))
            p50 = prom.series(queries["Latency p50 / p99 / A"], start, end)
            p99 = prom.series(queries["Latency p50 / p99 / B"], start, end)
            busy = {dict(key)["endpoint"]: key for key, v in p99.items() if any(x == x for x in v)}
            assert set(busy) == {"/v1/predict", "/v1/learn", "/v1/model"}, p99
            for endpoint, key in busy.items():
                bound = _bucket_above(load.slowest[endpoint])
                for quantile in (p50, p99):
                    values = [v for v in quantile[key] if v == v]  # (NaN: no request then)
                    assert values and all(0 < v <= bound for v in values), (endpoint, bound)
            checked.add("Group commit / A")
            commits = prom.series(queries["Group commit / A"], start, end)
            bound = _bucket_above(load.slowest["/v1/learn"])
            assert all(0 < v <= bound for values in commits.values() for v in values if v == v)
            checked.add("Group commit / B")
            per_commit = prom.series(queries["Group commit / B"], start, end)
            values = [v for values in per_commit.values() for v in values if v == v]
            # One client waiting for each acknowledgement: at most one event a commit (fewer
            # where a compaction is committed too).
            assert values and all(0 <= v <= 1 for v in values) and max(values) == 1

            checked.add("annotation Structure drift")
            marks = prom.series(queries["annotation Structure drift"], start, end)
            assert bool(marks) == (events["structure"] > events_before["structure"])
        client.close()
    assert checked == set(queries), set(queries) - checked  # every query is checked
    return load


def _stored_bytes(features: dict, answer: dict) -> int:
    """What a waiting prediction weighs: its id and the JSON of its features, labels and
    probabilities, in UTF-8 (as the service documents `streamml_pending_bytes`)."""
    texts = [answer["id"]] + [
        json.dumps(v, ensure_ascii=False, separators=(",", ":"))
        for v in (features, answer["labels"], answer["probabilities"])
    ]
    return sum(len(text.encode()) for text in texts)


def _file_sizes(data_dir: pathlib.Path) -> dict[str, int]:
    """The databases and their -wal and -shm files (0 when absent), and all the snapshots."""
    sizes = {}
    for db in ("streamml.db", "pending.db"):
        for suffix in ("", "-wal", "-shm"):
            path = data_dir / (db + suffix)
            sizes[db + suffix] = path.stat().st_size if path.exists() else 0
    sizes["snapshots"] = sum(p.stat().st_size for p in (data_dir / "snapshots").iterdir())
    return sizes


def _bucket_above(seconds: float) -> float:
    """The upper bound of the latency bucket holding `seconds`."""
    return LATENCY_BUCKETS[
        min(bisect.bisect_left(LATENCY_BUCKETS, seconds), len(LATENCY_BUCKETS) - 1)
    ]
