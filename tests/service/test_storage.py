"""Bounded storage: the cap on pending predictions, small write-ahead logs, disk metrics."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import warnings

from service import ServiceConfig, create_app
from service.database import WalPolicy
from service.store import Event, Pending, Store, labels_digest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx
    from fastapi.testclient import TestClient

#: Small limits, so that a test passes them quickly.
SMALL_WAL = WalPolicy(soft_bytes=64 * 1024, hard_bytes=256 * 1024, idle_seconds=0.3, period=0.05)


def metric(client, line_start: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no {line_start} in the metrics")


def row_bytes(id_: str, features: dict) -> int:
    """What one prediction of a fresh majority model weighs (no labels, no probabilities)."""
    return len(id_) + len(json.dumps(features, separators=(",", ":"))) + len("[]") + len("{}")


def test_the_oldest_predictions_are_evicted_beyond_max_pending(start_service):
    client = start_service(model="majority", max_pending=5)
    for k in range(8):
        assert client.post("/v1/predict", json={"id": f"p{k}", "features": {"a": k}}).is_success
    assert client.get("/v1/model").json()["pending_predictions"] == 5
    assert metric(client, "streamml_pending_evicted_total") == 3
    for k in range(3):  # the oldest are gone, like expired ones
        r = client.post("/v1/learn", json={"id": f"p{k}", "labels": ["x"]})
        assert r.status_code == 404 and "evicted" in r.json()["detail"]
    r = client.post("/v1/learn", json={"id": "p3", "labels": ["x"]})
    assert r.status_code == 202 and r.json()["scored"]
    assert client.get("/v1/model").json()["pending_predictions"] == 4


def test_a_batch_over_the_cap_keeps_its_newest_items(start_service):
    client = start_service(model="majority", max_pending=3)
    items = [{"id": f"b{k}", "features": {"a": k}} for k in range(5)]
    assert client.post("/v1/predict/batch", json=items).status_code == 200
    assert client.get("/v1/model").json()["pending_predictions"] == 3
    assert client.post("/v1/learn", json={"id": "b0", "labels": []}).status_code == 404
    assert client.post("/v1/learn", json={"id": "b4", "labels": []}).status_code == 202


def test_the_bytes_of_pending_predictions_are_capped_and_survive_a_restart(start_service, tmp_path):
    one = row_bytes("q0", {"a": 0.0})
    client = start_service(model="majority", max_pending_bytes=3 * one)
    for k in range(7):
        r = client.post("/v1/predict", json={"id": f"q{k}", "features": {"a": float(k)}})
        assert r.status_code == 200
    assert metric(client, "streamml_pending_bytes") == 3 * one
    assert metric(client, "streamml_pending_evicted_total") == 4
    assert client.get("/v1/model").json()["pending_predictions"] == 3
    client.__exit__(None, None, None)

    client = start_service(model="majority", max_pending_bytes=3 * one)
    assert client.get("/v1/model").json()["pending_predictions"] == 3
    assert metric(client, "streamml_pending_bytes") == 3 * one
    assert client.post("/v1/learn", json={"id": "q6", "labels": ["x"]}).status_code == 202
    assert client.post("/v1/learn", json={"id": "q3", "labels": ["x"]}).status_code == 404


def _wal_sizes(store: Store) -> tuple[int, int]:
    return store.log.wal_bytes(), store.waiting.wal_bytes()


def test_write_ahead_logs_stay_under_the_limit_and_vanish_when_idle(tmp_path):
    store = Store(tmp_path, fsync=False, wal=SMALL_WAL)
    features = {f"x{i}": i * 0.5 for i in range(100)}  # about 1.3 kB a row
    reads = [0]
    stop = threading.Event()

    def reader():  # a reader on another thread all along, as the event loop reads
        while not stop.is_set():
            store.get_pending("k0", time.time())
            store.learned("e0")
            reads[0] += 1

    thread = threading.Thread(target=reader)
    thread.start()
    largest = [0, 0]
    try:
        for k in range(400):
            puts = [("put", Pending(f"k{k}-{j}", features, [], {}, 1e12)) for j in range(5)]
            store.write_pending(puts)
            store.write_log([("append", Event(k + 1, f"e{k}", features, ["a"], None))])
            largest = [max(a, b) for a, b in zip(largest, _wal_sizes(store))]
    finally:
        stop.set()
        thread.join()
    assert reads[0] > 0
    # written: about 3 MB to pending.db, 0.6 MB to the log; never more than the hard limit
    assert 0 < max(largest) <= SMALL_WAL.hard_bytes
    assert store.log.truncations + store.waiting.truncations > 2
    deadline = time.monotonic() + 10
    while _wal_sizes(store) != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _wal_sizes(store) == (0, 0)  # idle: truncated to nothing
    assert store.pending.rows == 2000 and store.max_event_id() == 400
    store.close()


def test_the_store_bytes_metric_reports_every_file(start_service, tmp_path):
    client = start_service(model="majority", snapshot_every=5)
    for k in range(12):
        client.post("/v1/learn", json={"id": f"m{k}", "features": {"a": k}, "labels": ["x"]})
        client.post("/v1/predict", json={"features": {"a": k}})
    data = tmp_path / "data"
    deadline = time.monotonic() + 10
    while (data / "pending.db-wal").exists() and (data / "pending.db-wal").stat().st_size:
        assert time.monotonic() < deadline, "the write-ahead log was not truncated when idle"
        time.sleep(0.05)
    text = client.get("/metrics").text
    sizes = {}
    for line in text.splitlines():
        if line.startswith("streamml_store_bytes{"):
            sizes[line.split('file="')[1].split('"')[0]] = float(line.split()[-1])
    assert set(sizes) == {
        "streamml.db",
        "streamml.db-wal",
        "streamml.db-shm",
        "pending.db",
        "pending.db-wal",
        "pending.db-shm",
        "snapshots",
    }
    assert sizes["pending.db"] == (data / "pending.db").stat().st_size > 0
    assert sizes["pending.db-wal"] == 0
    snapshots = sum(p.stat().st_size for p in (data / "snapshots").iterdir())
    assert sizes["snapshots"] == snapshots > 0
    assert metric(client, "streamml_disk_free_bytes") > 0


def test_the_free_space_guard_refuses_writes_and_says_why(tmp_path):
    config = ServiceConfig(data_dir=tmp_path / "data", model="majority", min_free_bytes=2**62)
    with TestClient(create_app(config)) as client:
        deadline = time.monotonic() + 30
        while client.get("/v1/model").status_code != 200:  # loaded, but not ready
            assert time.monotonic() < deadline
            time.sleep(0.05)
        check_refused(client, tmp_path / "data")


def check_refused(client, data_dir):
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "low disk space" in ready.json()["reason"]
    r = client.post("/v1/learn", json={"features": {"a": 1.0}, "labels": ["x"]})
    assert r.status_code == 503 and "disk space" in r.json()["detail"]
    assert "MIN_FREE_BYTES" in r.json()["detail"] and r.headers["Retry-After"]
    assert client.post("/v1/predict", json={"features": {"a": 1.0}}).status_code == 503
    batch = [{"features": {"a": 1.0}, "labels": []}]
    assert client.post("/v1/learn/batch", json=batch).status_code == 503
    state = client.get("/v1/model").json()  # reading still works
    assert state["n_learned"] == 0 and state["pending_predictions"] == 0
    for name, table in (("streamml.db", "events"), ("pending.db", "pending")):
        with sqlite3.connect(data_dir / name) as db:
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,)


def test_a_data_directory_of_the_earlier_layout_is_migrated(tmp_path):
    """The ids of the `learned` table and the predictions without a size column are kept."""
    with sqlite3.connect(tmp_path / "streamml.db") as db:
        db.executescript(
            "CREATE TABLE learned (key TEXT PRIMARY KEY, event_id INTEGER NOT NULL, "
            "labels TEXT NOT NULL, expires REAL NOT NULL);"
            "CREATE INDEX learned_expires ON learned (expires);"
            """INSERT INTO learned VALUES ('a', 1, '["x","y"]', 1e12), ('b', 2, '[]', 1e12);"""
        )
    with sqlite3.connect(tmp_path / "pending.db") as db:
        db.executescript(
            "CREATE TABLE pending (id TEXT PRIMARY KEY, features TEXT NOT NULL, "
            "labels TEXT NOT NULL, probabilities TEXT NOT NULL, expires REAL NOT NULL);"
            """INSERT INTO pending VALUES ('p', '{"f":1.0}', '["x"]', '{"x":0.5}', 1e12);"""
        )
    store = Store(tmp_path)
    assert store.learned("a") == (1, labels_digest(["y", "x"]))
    assert store.learned("b") == (2, labels_digest([]))
    assert store.pending.rows == 1
    assert store.pending.bytes == len("p") + len('{"f":1.0}') + len('["x"]') + len('{"x":0.5}')
    assert store.get_pending("p", time.time()).probabilities == {"x": 0.5}
    store.close()
    with sqlite3.connect(tmp_path / "streamml.db") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "learned" not in tables and "learned_ids" in tables


def test_compacting_the_log_writes_little_to_its_write_ahead_log(tmp_path):
    """Deleted rows are not rewritten (secure_delete=FAST): a compaction of many events adds a
    few pages to the log's write-ahead log, not as much as it deletes."""
    store = Store(tmp_path, fsync=False)
    features = {f"x{i}": i * 0.123456789 for i in range(100)}  # about 2.6 kB an event
    events = [Event(k, f"e{k}", features, ["a"], None) for k in range(1, 4001)]
    store.write_log_groups([[("append", event)] for event in events])  # about 10 MB
    assert store.log.truncate_wal()
    store.write_log_groups([[("compact", 4000), ("forget", 4000)]])
    assert store.max_event_id() == 0 and store.learned("e1") is None
    assert store.log.wal_bytes() < 1 * 2**20
    store.close()


def test_a_large_group_commit_is_split_between_whole_groups(tmp_path, monkeypatch):
    import service.database

    monkeypatch.setattr(service.database, "TRANSACTION_BYTES", 10_000)
    store = Store(tmp_path, fsync=False)
    runs = []
    original = store.log.run
    monkeypatch.setattr(
        store.log, "run", lambda statements: runs.append(len(statements)) or original(statements)
    )
    features = {f"x{i}": float(i) for i in range(100)}  # about 1.2 kB an event
    groups = [
        [("append", Event(k + j, None, features, [], None)) for j in range(5)]
        for k in range(1, 100, 5)
    ]
    store.write_log_groups(groups)
    assert [e.id for e in store.events_after(0)] == list(range(1, 101))
    assert len(runs) > 1 and all(n % 5 == 0 for n in runs)  # whole groups of 5 appends
    transactions = []
    begin = store.waiting.transaction
    monkeypatch.setattr(store.waiting, "transaction", lambda: transactions.append(1) or begin())
    puts = [("put", Pending(f"p{k}", features, [], {}, 1e12)) for k in range(100)]
    assert store.pending.write(puts) == (0, 0)
    assert len(transactions) > 5  # about 8 rows of 1.2 kB in each
    assert store.pending.rows == 100 == store.waiting.one("SELECT COUNT(*) FROM pending")[0]
    store.close()


def test_a_restart_compacts_the_log_through_the_oldest_snapshot_kept(start_service, tmp_path):
    """The snapshot taken at shutdown (or one followed by a crash) is not followed by a
    compaction: the next start does it, so the log holds no more than it should."""
    client = start_service(model="majority", snapshot_every=10)
    for k in range(25):
        client.post("/v1/learn", json={"features": {"a": float(k)}, "labels": ["x"]})
    client.__exit__(None, None, None)  # a last snapshot at event 25, and one about 20 kept
    log = tmp_path / "data" / "streamml.db"

    def compacted():
        with sqlite3.connect(log) as db:
            meta = db.execute("SELECT value FROM meta WHERE key = 'compacted_through'")
            return int(meta.fetchone()[0]), db.execute("SELECT MIN(id) FROM events").fetchone()[0]

    snapshots = sorted(
        int(p.stem.split("-")[1]) for p in (tmp_path / "data" / "snapshots").iterdir()
    )
    assert len(snapshots) == 2 and snapshots[-1] == 25
    oldest = snapshots[0]
    assert compacted()[0] < oldest
    client = start_service(model="majority", snapshot_every=10)
    deadline = time.monotonic() + 10
    while compacted() != (oldest, oldest + 1):
        assert time.monotonic() < deadline, compacted()
        time.sleep(0.05)
    assert client.get("/v1/model").json()["n_learned"] == 25
