"""The endpoints: predictions, delayed labels, direct and batch learning, model state."""

from __future__ import annotations

import itertools

from river import datasets

from streamml import models

from .helpers import drifting_stream, feed, toy_factory


def on_labels(y: dict) -> list[str]:
    return [label for label, on in y.items() if on]


def yeast(n: int, skip: int = 0):
    for x, y in itertools.islice(datasets.Yeast(), skip, skip + n):
        yield x, on_labels(y)


def test_health_and_readiness(start_service):
    client = start_service(model="majority")
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert "/v1/predict" in client.get("/openapi.json").json()["paths"]


def test_delayed_label_is_scored_and_consumes_the_prediction(start_service):
    client = start_service(model="majority")
    client.post("/v1/learn", json={"features": {"a": 1.0}, "labels": ["x"]})
    pred = client.post("/v1/predict", json={"features": {"a": 2.0}})
    assert pred.status_code == 200
    body = pred.json()
    assert body["labels"] == ["x"] and body["probabilities"] == {"x": 1.0}
    assert client.get("/v1/model").json()["pending_predictions"] == 1

    ack = client.post("/v1/learn", json={"id": body["id"], "labels": ["y"]})
    assert ack.status_code == 202
    assert ack.json() == {"id": body["id"], "event_id": 2, "duplicate": False, "scored": True}
    state = client.get("/v1/model").json()
    assert state["pending_predictions"] == 0
    assert state["n_learned"] == 2 and state["labels"] == ["x", "y"]
    # predicted {x}, truth {y}, label space {x, y}: both labels wrong
    assert state["quality"]["window"] == 1
    assert state["quality"]["subset_accuracy"] == 0.0
    assert state["quality"]["hamming_loss"] == 1.0
    assert state["quality"]["micro_f1"] == 0.0
    # the prediction is consumed: the same id cannot be labelled differently
    again = client.post("/v1/learn", json={"id": body["id"], "labels": ["x"]})
    assert again.status_code == 409


def test_client_ids_retries_and_conflicts(start_service):
    client = start_service(model="majority")
    first = client.post("/v1/predict", json={"id": "item-1", "features": {"a": 1.0}})
    assert first.json()["id"] == "item-1"
    retry = client.post("/v1/predict", json={"id": "item-1", "features": {"a": 1}})
    assert retry.status_code == 200 and retry.json() == first.json()
    other = client.post("/v1/predict", json={"id": "item-1", "features": {"a": 3.0}})
    assert other.status_code == 409 and "item-1" in other.json()["detail"]

    ack = client.post("/v1/learn", json={"id": "item-1", "labels": ["p", "q"]})
    assert ack.status_code == 202
    dup = client.post("/v1/learn", json={"id": "item-1", "labels": ["q", "p"]})
    assert dup.status_code == 200
    assert dup.json() == {**ack.json(), "duplicate": True, "scored": False}
    assert client.get("/v1/model").json()["n_learned"] == 1
    assert (
        client.post("/v1/predict", json={"id": "item-1", "features": {"a": 1.0}}).status_code == 409
    )


def test_batches_keep_order_and_are_all_or_nothing(start_service):
    client = start_service(model="majority")
    preds = client.post(
        "/v1/predict/batch",
        json=[{"features": {"a": float(i)}, "id": f"b{i}"} for i in range(5)],
    )
    assert preds.status_code == 200
    assert [p["id"] for p in preds.json()] == [f"b{i}" for i in range(5)]
    acks = client.post(
        "/v1/learn/batch",
        json=[{"id": f"b{i}", "labels": ["odd" if i % 2 else "even"]} for i in range(5)]
        + [{"features": {"a": 9.0}, "labels": []}],
    )
    assert acks.status_code == 202
    assert [a["event_id"] for a in acks.json()] == [1, 2, 3, 4, 5, 6]
    assert [a["scored"] for a in acks.json()] == [True] * 5 + [False]
    state = client.get("/v1/model").json()
    assert state["n_learned"] == 6 and state["labels"] == ["even", "odd"]
    assert state["quality"]["window"] == 5 and state["pending_predictions"] == 0


def test_service_learns_like_the_library_model(start_service):
    """Events through the API = the same model fed the same instances in the same order."""
    client = start_service(model="br-ht", seed=7)
    train = list(yeast(300))
    for chunk in range(0, len(train), 100):
        items = [{"features": x, "labels": on} for x, on in train[chunk : chunk + 100]]
        assert client.post("/v1/learn/batch", json=items).status_code == 202

    reference = models.make("br-ht", seed=7)
    space = feed(reference, train)

    probes = [x for x, _ in yeast(40, skip=1000)]
    got = client.post("/v1/predict/batch", json=[{"features": x} for x in probes]).json()
    for x, out in zip(probes, got):
        expected = {k: p[True] for k, p in reference.predict_proba_one(x).items()}
        assert out["probabilities"] == expected
        assert out["labels"] == on_labels(reference.predict_one(x))
    assert client.get("/v1/model").json()["labels"] == space


def test_model_state_reports_clusters_and_drift(start_service):
    client = start_service(model="toy", model_factory=toy_factory, cluster_slots=8)
    stream = list(drifting_stream(600))
    for chunk in range(0, 600, 150):
        items = [{"features": x, "labels": on} for x, on in stream[chunk : chunk + 150]]
        assert client.post("/v1/learn/batch", json=items).status_code == 202

    reference = toy_factory()
    feed(reference, stream)
    state = client.get("/v1/model").json()
    assert state["model"] == "toy" and state["n_learned"] == 600
    assert state["n_restructurings"] == reference.n_restructurings > 0
    assert sorted(map(sorted, (c["labels"] for c in state["partition"]))) == sorted(
        map(sorted, reference.partition)
    )
    slots = [c["slot"] for c in state["partition"]]
    assert len(set(slots)) == len(slots) and all(0 <= s < 8 for s in slots)
    levels = [e.level for e in reference.drift_events]
    assert state["drift_event_counts"] == {
        "structure": levels.count("structure"),
        "cluster": levels.count("cluster"),
    }
    recent = [e.to_dict() for e in reference.drift_events[-20:]]
    assert state["drift_events"] == [{**e, "labels": list(e["labels"])} for e in recent]


def test_labels_known_in_advance_are_always_in_the_targets(start_service, tmp_path):
    labels = [f"Class{k}" for k in range(1, 15)]
    client = start_service(tmp_path / "d", model="cc-ht", labels=",".join(labels))
    assert client.get("/v1/model").json()["labels"] == labels
    train = list(yeast(150))
    items = [{"features": x, "labels": on} for x, on in train]
    assert client.post("/v1/learn/batch", json=items[:100]).status_code == 202
    assert client.post("/v1/learn/batch", json=items[100:]).status_code == 202
    reference = models.make("cc-ht")
    for x, y in itertools.islice(datasets.Yeast(), 150):
        reference.learn_one(x, y)  # the full y of every instance
    probes = [x for x, _ in yeast(10, skip=500)]
    got = client.post("/v1/predict/batch", json=[{"features": x} for x in probes]).json()
    for x, out in zip(probes, got):
        assert out["labels"] == on_labels(reference.predict_one(x))
    client.__exit__(None, None, None)
    # the data directory keeps its labels
    client = start_service(tmp_path / "d", model="cc-ht", labels="other")
    assert client.get("/v1/model").json()["labels"] == labels


def test_an_id_twice_in_one_batch_is_learned_once(start_service):
    client = start_service(model="majority")
    client.post("/v1/predict", json={"id": "p", "features": {"a": 1.0}})
    for items in (
        [{"id": "k", "features": {"a": 1.0}, "labels": ["x"]}] * 2,  # a new instance twice
        [{"id": "p", "labels": ["x"]}, {"id": "p", "labels": ["x"]}],  # a prediction's labels
    ):
        r = client.post("/v1/learn/batch", json=items)
        assert r.status_code == 202, r.text
        first, second = r.json()
        assert first["duplicate"] is False and second["duplicate"] is True
        assert second["event_id"] == first["event_id"]
    state = client.get("/v1/model").json()
    assert state["n_learned"] == 2 and state["last_event_id"] == 2
    assert state["pending_predictions"] == 0

    # the same id with other labels in one batch: refused as a whole
    items = [
        {"id": "n", "features": {"a": 2.0}, "labels": ["x"]},
        {"id": "m", "features": {"a": 3.0}, "labels": ["y"]},
        {"id": "n", "features": {"a": 2.0}, "labels": ["y"]},
    ]
    r = client.post("/v1/learn/batch", json=items)
    assert r.status_code == 409 and "'n'" in r.json()["detail"]
    assert client.get("/v1/model").json() == state
    assert client.post("/v1/learn", json={"id": "m", "labels": ["y"]}).status_code == 404
