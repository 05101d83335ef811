"""Prometheus metrics: names, bounded labels, and values that match the model's state."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.metrics import ENDPOINTS
from streamml import IHOMER

from .helpers import drifting_stream, feed, regrouping_stream, toy_factory


def scrape(client) -> dict:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(r.text)}


def value(families, name, **labels):
    for sample in families[name].samples:
        if sample.labels == labels and sample.name in (name, name + "_total"):
            return sample.value
    raise KeyError((name, labels))


def drive(client, n=400, seed=1):
    """Predict, label later, learn directly (one client, in order); returns what was sent.

    Instance k: k % 4 == 0 is learned directly, 1 and 2 are predicted then labelled by id, 3 is
    predicted and never labelled. Returns the learned (features, labels ON) in log order and,
    for each scored prediction, (predicted labels, true labels, label space size then).
    """
    stream = list(drifting_stream(n, seed=seed))
    learned, scored, space = [], [], set()
    for k, (x, on) in enumerate(stream):
        if k % 4 == 0:
            assert client.post("/v1/learn", json={"features": x, "labels": on}).status_code == 202
        else:
            out = client.post("/v1/predict", json={"features": x}).json()
            if k % 4 == 3:
                continue
            r = client.post("/v1/learn", json={"id": out["id"], "labels": on})
            assert r.status_code == 202 and r.json()["scored"]
        learned.append((x, on))
        space |= set(on)
        if k % 4:
            scored.append((set(out["labels"]), set(on), len(space)))
    return learned, scored


def test_names_types_and_buckets_follow_prometheus_conventions(start_service):
    client = start_service(model="toy", model_factory=toy_factory)
    drive(client, 120)
    families = scrape(client)
    assert families and all(name.startswith("streamml_") for name in families)
    for name, family in families.items():
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), name
        if family.type == "histogram" and "duration" in name:
            assert name.endswith("_seconds")
        if name in ("streamml_request_duration_seconds", "streamml_store_commit_duration_seconds"):
            bounds = {float(s.labels["le"]) for s in family.samples if s.name.endswith("_bucket")}
            assert len([b for b in bounds if b < 0.001]) >= 3, name  # sub-millisecond buckets
    expected = {
        "streamml_requests",
        "streamml_request_duration_seconds",
        "streamml_instances_learned",
        "streamml_pending_predictions",
        "streamml_drift_events",
        "streamml_restructurings",
        "streamml_clusters",
        "streamml_cluster_error_ratio",
        "streamml_online_subset_accuracy_ratio",
        "streamml_online_hamming_loss_ratio",
        "streamml_online_micro_f1_ratio",
        "streamml_label_cardinality",
    }
    assert expected <= set(families)


def test_label_values_are_bounded(start_service):
    client = start_service(model="toy", model_factory=toy_factory, cluster_slots=2)
    drive(client, 200)
    for k in range(30):
        client.get(f"/anything/{k}")
        client.post(f"/v1/predict/{k}", json={})
    families = scrape(client)
    endpoints = {s.labels["endpoint"] for s in families["streamml_requests"].samples}
    assert endpoints <= set(ENDPOINTS) | {"other"} and "other" in endpoints
    codes = {s.labels["code"] for s in families["streamml_requests"].samples}
    assert all(code.isdigit() and len(code) == 3 for code in codes)
    assert {s.labels["level"] for s in families["streamml_drift_events"].samples} <= {
        "structure",
        "cluster",
    }
    slots = {s.labels["slot"] for s in families["streamml_cluster_labels"].samples}
    assert slots <= {"0", "1"}


def test_model_metrics_match_an_independent_replay(start_service):
    """/metrics against a second model fed the same events and quality recomputed here."""
    client = start_service(model="toy", model_factory=toy_factory, quality_window=150)
    learned, scored = drive(client, 400)
    families = scrape(client)  # first look at the clusters: slots in sorted label order

    reference = toy_factory()
    feed(reference, learned)
    assert value(families, "streamml_instances_learned") == len(learned) == 300
    assert value(families, "streamml_last_event_id") == 300
    assert value(families, "streamml_pending_predictions") == 100
    assert value(families, "streamml_predictions") == 300
    assert value(families, "streamml_scored_predictions") == len(scored) == 200
    assert value(families, "streamml_requests", endpoint="/v1/learn", code="202") == 300
    assert value(families, "streamml_requests", endpoint="/v1/predict", code="200") == 300
    assert value(families, "streamml_labels") == len({lb for _, on in learned for lb in on})

    levels = [e.level for e in reference.drift_events]
    assert levels.count("structure") > 0 and levels.count("cluster") > 0
    for level in ("structure", "cluster"):
        assert value(families, "streamml_drift_events", level=level) == levels.count(level)
    assert value(families, "streamml_restructurings") == reference.n_restructurings > 0

    clusters = sorted(reference.cluster_summary(), key=lambda c: c["labels"])
    assert value(families, "streamml_clusters") == len(clusters) > 1
    assert len(families["streamml_cluster_labels"].samples) == len(clusters)
    for slot, cluster in enumerate(clusters):
        assert value(families, "streamml_cluster_labels", slot=str(slot)) == len(cluster["labels"])
        assert value(families, "streamml_cluster_error_ratio", slot=str(slot)) == cluster["error"]

    window = scored[-150:]
    tp = sum(len(p & t) for p, t, _ in window)
    fp = sum(len(p - t) for p, t, _ in window)
    fn = sum(len(t - p) for p, t, _ in window)
    assert value(families, "streamml_quality_window_predictions") == 150
    assert value(families, "streamml_online_subset_accuracy_ratio") == (
        sum(p == t for p, t, _ in window) / 150
    )
    assert value(families, "streamml_online_hamming_loss_ratio") == pytest.approx(
        sum(len(p ^ t) / n for p, t, n in window) / 150, abs=1e-12
    )
    assert value(families, "streamml_online_micro_f1_ratio") == 2 * tp / (2 * tp + fp + fn)
    assert value(families, "streamml_label_cardinality") == (
        sum(len(on) for _, on in learned[-150:]) / 150
    )
    # and GET /v1/model says the same
    state = client.get("/v1/model").json()
    assert state["drift_event_counts"] == {lv: levels.count(lv) for lv in ("structure", "cluster")}
    assert [c["labels"] for c in state["partition"]] == [sorted(c) for c in reference.partition]


def test_quality_window_counts_only_recent_predictions(start_service):
    client = start_service(model="majority", quality_window=3)
    client.post("/v1/learn", json={"features": {"a": 1.0}, "labels": ["x"]})
    truths = [["x"], ["x"], ["y"], ["x", "y"], ["x"]]
    for on in truths:  # majority predicts {x} throughout
        out = client.post("/v1/predict", json={"features": {"a": 1.0}}).json()
        assert out["labels"] == ["x"]
        client.post("/v1/learn", json={"id": out["id"], "labels": on})
    q = client.get("/v1/model").json()["quality"]
    # the last 3: truth {y} / {x, y} / {x} against {x}; label space {x, y}
    assert q["window"] == 3
    assert q["subset_accuracy"] == 1 / 3
    assert q["hamming_loss"] == (2 / 2 + 1 / 2 + 0) / 3
    assert q["micro_f1"] == 2 * 2 / (2 * 2 + 1 + 2)  # TP 2, FP 1, FN 2
    assert q["label_cardinality"] == (1 + 2 + 1) / 3


def test_each_app_has_its_own_registry(start_service, tmp_path):
    one = start_service(tmp_path / "one", model="majority")
    two = start_service(tmp_path / "two", model="majority")
    for _ in range(3):
        one.post("/v1/predict", json={"features": {"a": 1.0}})
    assert value(scrape(one), "streamml_predictions") == 3
    assert value(scrape(two), "streamml_predictions") == 0


def test_ihomer_drift_events_and_cluster_slots_through_a_regrouping(start_service):
    """The real iHOMER (public API) in the service, on 9 labels in 3 groups regrouped at
    instance 1000: the metrics give the drift events, restructurings and clusters of a second
    iHOMER fed the same stream, and the clusters are the stream's new groups."""
    generator, stream = regrouping_stream(n=2600, at=1000, seed=1)
    client = start_service(model="ihomer-test", model_factory=lambda: IHOMER(seed=1))
    for start in range(0, len(stream), 20):  # predict every other instance, then learn all
        part = stream[start : start + 20]
        out = client.post("/v1/predict/batch", json=[{"features": x} for x, _ in part[1::2]])
        ids = iter(p["id"] for p in out.json())
        items = [
            {"id": next(ids), "labels": on} if k % 2 else {"features": x, "labels": on}
            for k, (x, on) in enumerate(part)
        ]
        assert client.post("/v1/learn/batch", json=items).status_code == 202
    families = scrape(client)

    reference = IHOMER(seed=1)
    feed(reference, stream)
    events = reference.drift_events
    after = [e.level for e in events if e.index >= 1000]
    assert "structure" in after and "cluster" in after, events  # the regrouping is seen
    for level in ("structure", "cluster"):
        n = sum(e.level == level for e in events)
        assert value(families, "streamml_drift_events", level=level) == n
    assert value(families, "streamml_restructurings") == reference.n_restructurings
    assert value(families, "streamml_instances_learned") == 2600

    state = client.get("/v1/model").json()
    slots = {str(c["slot"]): frozenset(c["labels"]) for c in state["partition"]}
    assert set(slots.values()) == set(reference.partition) == set(generator.groups_at(2599))
    errors = {frozenset(c["labels"]): c["error"] for c in reference.cluster_summary()}
    assert value(families, "streamml_clusters") == len(slots) == 3
    for slot, labels in slots.items():
        assert value(families, "streamml_cluster_labels", slot=slot) == len(labels)
        assert value(families, "streamml_cluster_error_ratio", slot=slot) == errors[labels]
    recent = [
        {"index": e.index, "level": e.level, "labels": list(e.labels), "detector": e.detector}
        for e in events[-20:]
    ]
    assert state["drift_events"] == recent
