"""Retries stay safe: learn ids are remembered for the last `dedup_events` events, whatever the
time to live of the predictions; a rejected batch changes nothing and names no phantom event."""

from __future__ import annotations

import sqlite3
import time


def remembered(data_dir) -> set[str]:
    with sqlite3.connect(data_dir / "streamml.db") as db:
        return {key for (key,) in db.execute("SELECT key FROM learned_ids")}


def test_a_retry_after_the_pending_ttl_is_still_a_duplicate(start_service):
    client = start_service(model="majority", pending_ttl=0.3)
    item = {"id": "r1", "features": {"a": 1.0}, "labels": ["x"]}
    first = client.post("/v1/learn", json=item)
    assert first.status_code == 202 and first.json()["event_id"] == 1
    client.post("/v1/predict", json={"id": "p1", "features": {"a": 2.0}})
    assert client.post("/v1/learn", json={"id": "p1", "labels": ["y"]}).status_code == 202
    time.sleep(1.5)  # well past the time to live; expired predictions were swept meanwhile
    again = client.post("/v1/learn", json=item)
    assert again.status_code == 200
    assert again.json() == {"id": "r1", "event_id": 1, "duplicate": True, "scored": False}
    by_id = client.post("/v1/learn", json={"id": "p1", "labels": ["y"]})
    assert by_id.status_code == 200 and by_id.json()["event_id"] == 2
    other = client.post("/v1/learn", json={"id": "p1", "labels": ["x"]})
    assert other.status_code == 409
    assert client.post("/v1/predict", json={"id": "r1", "features": {"a": 1.0}}).status_code == 409
    assert client.get("/v1/model").json()["n_learned"] == 2


def test_ids_are_remembered_for_the_last_dedup_events_events(start_service, tmp_path):
    client = start_service(model="majority", dedup_events=3)
    for k in range(1, 6):
        item = {"id": f"r{k}", "features": {"a": float(k)}, "labels": ["x"]}
        assert client.post("/v1/learn", json=item).json()["event_id"] == k
    deadline = time.monotonic() + 10
    while remembered(tmp_path / "data") != {"r3", "r4", "r5"}:  # forgotten within a second
        assert time.monotonic() < deadline, remembered(tmp_path / "data")
        time.sleep(0.05)
    for k in (3, 4, 5):  # the last 3 events: duplicates
        item = {"id": f"r{k}", "features": {"a": float(k)}, "labels": ["x"]}
        r = client.post("/v1/learn", json=item)
        assert r.status_code == 200 and r.json()["event_id"] == k
    # beyond the horizon, as documented: the id is new again
    item = {"id": "r1", "features": {"a": 1.0}, "labels": ["x"]}
    assert client.post("/v1/learn", json=item).json() == {
        "id": "r1",
        "event_id": 6,
        "duplicate": False,
        "scored": False,
    }


def test_the_remembered_ids_survive_a_restart(start_service, tmp_path):
    client = start_service(model="majority", pending_ttl=0.3)
    item = {"id": "s1", "features": {"a": 1.0}, "labels": ["x", "y"]}
    assert client.post("/v1/learn", json=item).status_code == 202
    client.__exit__(None, None, None)
    time.sleep(0.5)
    client = start_service(model="majority", pending_ttl=0.3)
    retry = client.post("/v1/learn", json={**item, "labels": ["y", "x", "y"]})
    assert retry.status_code == 200 and retry.json()["duplicate"]
    assert client.get("/v1/model").json()["n_learned"] == 1


def test_a_rejected_batch_names_no_event_that_does_not_exist(start_service):
    client = start_service(model="majority")
    for k in range(3):
        client.post("/v1/learn", json={"features": {"a": float(k)}, "labels": ["x"]})
    batch = [
        {"id": "d", "features": {"a": 1.0}, "labels": ["x"]},
        {"id": "d", "features": {"a": 1.0}, "labels": ["y"]},
    ]
    r = client.post("/v1/learn/batch", json=batch)
    assert r.status_code == 409
    detail = r.json()["detail"]
    assert "'d'" in detail and "twice in this batch" in detail and "event" not in detail
    state = client.get("/v1/model").json()
    assert state["last_event_id"] == 3 and state["n_learned"] == 3
    # nothing was taken: the next event is 4
    assert client.post("/v1/learn", json=batch[0]).json()["event_id"] == 4
    # an id repeated with the same labels in one batch is one event
    same = [{"id": "e", "features": {"a": 2.0}, "labels": ["x"]}] * 2
    outs = client.post("/v1/learn/batch", json=same).json()
    assert [o["event_id"] for o in outs] == [5, 5] and [o["duplicate"] for o in outs] == [
        False,
        True,
    ]
    twice = [{"id": "f", "features": {"a": 1.0}}, {"id": "f", "features": {"a": 2.0}}]
    r = client.post("/v1/predict/batch", json=twice)
    assert r.status_code == 409 and "twice in this batch" in r.json()["detail"]


def test_prediction_retries_get_the_stored_answer_and_conflicts_a_409(start_service):
    client = start_service(model="majority")
    first = client.post("/v1/predict", json={"id": "p", "features": {"a": 1.0}}).json()
    assert first["labels"] == []
    for k in range(3):  # the model changes: "x" is now the majority
        client.post("/v1/learn", json={"features": {"a": float(k)}, "labels": ["x"]})
    now = client.post("/v1/predict", json={"features": {"a": 1.0}}).json()
    assert now["labels"] == ["x"]
    retry = client.post("/v1/predict", json={"id": "p", "features": {"a": 1.0}})
    assert retry.status_code == 200 and retry.json() == first  # the stored prediction
    batch = client.post(
        "/v1/predict/batch",
        json=[
            {"id": "q", "features": {"a": 2.0}},
            {"id": "p", "features": {"a": 1.0}},
            {"id": "q", "features": {"a": 2.0}},
            {"id": "r", "features": {"a": 3.0}},
        ],
    )
    assert batch.status_code == 200
    q, p, q_again, r = batch.json()
    assert p == first and q == q_again and q["labels"] == r["labels"] == ["x"]
    assert (q["id"], r["id"]) == ("q", "r")
    # p, q, r and the prediction without an id (kept under an id the service chose)
    assert client.get("/v1/model").json()["pending_predictions"] == 4
    cases = [
        (
            {"id": "p", "features": {"a": 5.0}},
            "id 'p' is already waiting for labels, with other features",
        ),
        (
            [{"id": "s", "features": {"a": 1.0}}, {"id": "s", "features": {"a": 2.0}}],
            "id 's' appears twice in this batch, with other features",
        ),
    ]
    for body, message in cases:
        path = "/v1/predict/batch" if isinstance(body, list) else "/v1/predict"
        out = client.post(path, json=body)
        assert out.status_code == 409 and out.json()["detail"] == message
    assert client.post("/v1/learn", json={"id": "p", "labels": ["y"]}).status_code == 202
    learned = client.post("/v1/predict", json={"id": "p", "features": {"a": 1.0}})
    assert learned.status_code == 409 and learned.json()["detail"] == "id 'p' was already learned"
    state = client.get("/v1/model").json()
    assert state["pending_predictions"] == 3 and state["n_learned"] == 4
