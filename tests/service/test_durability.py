"""Durability: kill -9 mid-stream, restarts, snapshots (atomic, checksummed, in the data dir)."""

from __future__ import annotations

import itertools
import os
import pickle
import queue
import random
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from river import datasets

from service.snapshots import SnapshotDir, SnapshotError
from streamml import models

from .helpers import drifting_stream, feed, free_port, toy_factory, wait_ready

MODELS = [name for name in ("majority", "br-ht", "ihomer") if name in models.names()]


def yeast(n: int, skip: int = 0):
    for x, y in itertools.islice(datasets.Yeast(), skip, skip + n):
        yield x, [label for label, on in y.items() if on]


def start_server(data_dir, port, model, log_path, **env):
    environ = {**os.environ, **{f"STREAMML_{k.upper()}": str(v) for k, v in env.items()}}
    environ.pop("STREAMML_TOKEN", None)
    cmd = [sys.executable, "-m", "streamml", "serve", "--port", str(port)]
    cmd += ["--data-dir", str(data_dir), "--model", model, "--seed", "3"]
    log = open(log_path, "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=environ)
    log.close()
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        wait_ready(client, timeout=60)
    except TimeoutError:
        proc.kill()
        raise AssertionError(open(log_path).read()[-3000:]) from None
    return proc, client


#: Kill points per run of the kill -9 test (each one a kill, a restart and the checks).
KILLS = 3
#: Learn events in the large batches at which the server is killed.
LARGE = 120
#: The kill points are drawn among the first large batches.
LARGE_BATCHES = 6


@pytest.mark.parametrize("model", MODELS)
def test_kill9_mid_stream_loses_no_acknowledged_event(tmp_path, model, durability_seed):
    """kill -9 at `KILLS` seeded points of a stream of learn requests; after every restart each
    acknowledged event is in the model (rerun a failure with the seed it prints)."""
    kill9_mid_stream(tmp_path, model, durability_seed, KILLS)


@pytest.mark.slow
@pytest.mark.heavy
@pytest.mark.parametrize("model", MODELS)
def test_kill9_at_every_large_batch(tmp_path, model, durability_seed):
    """The same at each of the first `LARGE_BATCHES` large batches (a kill and restart each)."""
    kill9_mid_stream(tmp_path, model, durability_seed, LARGE_BATCHES)


def kill9_mid_stream(tmp_path, model: str, durability_seed: int, kills: int) -> None:
    rng = random.Random(f"{durability_seed}/{model}")
    data_dir, log_path = tmp_path / "data", tmp_path / "server.log"
    port = free_port()
    proc, client = start_server(data_dir, port, model, log_path, snapshot_every=50)
    stream = list(yeast(900))
    instances = {f"i{k}": (x, on) for k, (x, on) in enumerate(stream)}
    probes = [x for x, _ in yeast(30, skip=1500)]

    # Predictions first for two thirds of the instances: their labels come later, by id.
    predicted = [key for k, key in enumerate(instances) if k % 3]
    for chunk in range(0, len(predicted), 100):
        items = [
            {"id": key, "features": instances[key][0]} for key in predicted[chunk : chunk + 100]
        ]
        assert client.post("/v1/predict/batch", json=items).status_code == 200
    never_labelled = set(predicted[-30:])

    # Learn requests: labels by id, whole instances, small and large batches; three clients at
    # once. The kill points are large batches: the server is killed as soon as the client
    # sending one has its acknowledgement, while a large write would still be going on if the
    # acknowledgement came before the commit.
    requests: queue.Queue = queue.Queue()
    keys = [key for key in instances if key not in never_labelled]
    k, large = 0, []
    while k < len(keys):
        size = (1, 1, 4, 1, 1, 1, 1, 1, 1, LARGE)[requests.qsize() % 10]
        if size == LARGE:
            large.append(requests.qsize())
        requests.put((requests.qsize(), keys[k : k + size]))
        k += size
    kill_points = sorted(rng.sample(large[:LARGE_BATCHES], kills))  # (request numbers)
    where = f"seed {durability_seed}, kill points {kill_points}"

    def body(key):
        x, on = instances[key]
        return (
            {"id": key, "labels": on}
            if key in predicted
            else {"id": key, "features": x, "labels": on}
        )

    acked: dict[str, int] = {}
    in_flight: list[list[str]] = []
    lock = threading.Lock()

    def client_loop(target, killed):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            while not killed.is_set():
                try:
                    number, batch = requests.get_nowait()
                except queue.Empty:
                    return
                try:
                    if len(batch) == 1:
                        r = http.post("/v1/learn", json=body(batch[0]))
                        outs = [r.json()]
                    else:
                        r = http.post("/v1/learn/batch", json=[body(key) for key in batch])
                        outs = r.json()
                    assert r.status_code == 202, r.text
                except (httpx.TransportError, ValueError):
                    with lock:
                        in_flight.append(batch)
                    return
                if number == target:
                    proc.send_signal(signal.SIGKILL)  # right after the acknowledgement
                    killed.set()
                with lock:
                    for key, out in zip(batch, outs):
                        acked[key] = out["event_id"]

    def predict_loop(killed):  # predictions of other instances keep coming meanwhile
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for x, _ in itertools.cycle(list(yeast(50, skip=2000))):
                if requests.empty() or killed.is_set():
                    return
                try:
                    http.post("/v1/predict", json={"features": x})
                except httpx.TransportError:
                    return

    def check_durable(client):
        """Every acknowledged event is in the restarted model; retry the requests cut."""
        state = client.get("/v1/model").json()
        # Events are learned in log order, all of them up to last_event_id, and every
        # acknowledged id is at or below it.
        assert max(acked.values()) <= state["last_event_id"], where
        applied = state["n_learned"] + state["n_learn_failures"]
        assert len(acked) <= applied <= len(acked) + sum(map(len, in_flight)), where
        # The requests cut by the crash are retried with their ids: the ones already durable
        # are recognised (200, their original event id), the others are learned now (202).
        for batch in in_flight:
            r = client.post("/v1/learn/batch", json=[body(key) for key in batch])
            assert r.status_code in (200, 202), r.text
            for key, out in zip(batch, r.json()):
                acked[key] = out["event_id"]
        in_flight.clear()
        order = sorted(acked, key=acked.get)
        assert [acked[key] for key in order] == list(range(1, len(order) + 1)), where

    try:
        for target in kill_points:
            killed = threading.Event()
            threads = [threading.Thread(target=client_loop, args=(target, killed)) for _ in "abc"]
            threads.append(threading.Thread(target=predict_loop, args=(killed,)))
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=180)
            assert killed.is_set(), f"no kill at request {target}: {where}"
            proc.wait()
            proc, client = start_server(data_dir, port, model, log_path, snapshot_every=50)
            check_durable(client)

        # The model is the one that learns the acknowledged events in their order.
        reference = models.make(model, seed=3)
        feed(reference, [instances[key] for key in sorted(acked, key=acked.get)])
        got = client.post("/v1/predict/batch", json=[{"features": x} for x in probes]).json()
        for x, out in zip(probes, got):
            assert out["probabilities"] == {
                label: p[True] for label, p in reference.predict_proba_one(x).items()
            }, where
        # Predictions still waiting survived too: their labels are accepted and scored.
        waiting = len([key for key in predicted if key not in acked])
        state = client.get("/v1/model").json()
        assert state["pending_predictions"] >= waiting + len(probes), where
        for key in sorted(never_labelled)[:5]:
            r = client.post("/v1/learn", json={"id": key, "labels": instances[key][1]})
            assert r.status_code == 202 and r.json()["scored"]
        last = client.get("/v1/model").json()["last_event_id"]
        proc.send_signal(signal.SIGTERM)  # a clean shutdown ends with a snapshot of everything
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, -signal.SIGTERM)
    assert SnapshotDir(data_dir).list()[0][0] == last


def test_restart_continues_exactly_like_an_uninterrupted_service(start_service, tmp_path):
    stream = list(drifting_stream(360, seed=4))
    options = dict(model="toy", model_factory=toy_factory, snapshot_every=37, keep_snapshots=2)

    def drive(client, part):
        for k, (x, on) in enumerate(part):
            if k % 2:
                out = client.post("/v1/predict", json={"features": x}).json()
                client.post("/v1/learn", json={"id": out["id"], "labels": on})
            else:
                client.post("/v1/learn", json={"features": x, "labels": on})

    uninterrupted = start_service(tmp_path / "one", **options)
    drive(uninterrupted, stream)

    client = start_service(tmp_path / "two", **options)
    drive(client, stream[:150])
    client.__exit__(None, None, None)  # clean shutdown: final snapshot
    client = start_service(tmp_path / "two", **options)
    drive(client, stream[150:290])
    client.__exit__(None, None, None)
    # The newest snapshot is corrupt: the older one and the log after it are used instead.
    snapshots = SnapshotDir(tmp_path / "two").list()
    assert len(snapshots) == 2
    raw = bytearray(snapshots[0][1].read_bytes())
    raw[-10] ^= 0xFF
    snapshots[0][1].write_bytes(bytes(raw))
    client = start_service(tmp_path / "two", **options)
    drive(client, stream[290:])

    a, b = uninterrupted.get("/v1/model").json(), client.get("/v1/model").json()
    for state in (a, b):
        del state["snapshot_event_id"]
    assert a == b
    probes = [{"features": x} for x, _ in drifting_stream(20, seed=9)]
    assert (
        uninterrupted.post("/v1/predict/batch", json=probes).json()[0]["probabilities"]
        == (client.post("/v1/predict/batch", json=probes).json()[0]["probabilities"])
    )


def test_log_is_compacted_behind_the_kept_snapshots(start_service, tmp_path):
    import sqlite3

    client = start_service(tmp_path / "d", model="majority", snapshot_every=20, keep_snapshots=2)
    for chunk in range(5):
        items = [{"features": {"a": float(i)}, "labels": ["x"]} for i in range(20)]
        assert client.post("/v1/learn/batch", json=items).status_code == 202
    deadline = time.monotonic() + 10
    with sqlite3.connect(tmp_path / "d" / "streamml.db") as db:
        while True:  # snapshots are written in the background: wait for the last one
            low = db.execute("SELECT MIN(id) FROM events").fetchone()[0]
            kept = [event_id for event_id, _ in SnapshotDir(tmp_path / "d").list()]
            if (
                len(kept) == 2 and kept[0] == 100 and low == kept[1] + 1
            ) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert len(kept) == 2 and kept[0] == 100 and low == kept[1] + 1


def test_snapshots_are_never_loaded_from_outside_the_data_dir(start_service, tmp_path):
    data_dir = tmp_path / "data"
    client = start_service(data_dir, model="majority")
    client.post("/v1/learn", json={"features": {"a": 1.0}, "labels": ["x"]})
    client.__exit__(None, None, None)

    class Trap:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    outside = tmp_path / "evil.bin"
    SnapshotDir(tmp_path).write(999, pickle.dumps({"model": Trap()}))
    (tmp_path / "snapshots" / "snapshot-000000000999.bin").rename(outside)
    link = data_dir / "snapshots" / "snapshot-000000000999.bin"
    link.symlink_to(outside)

    snapshots = SnapshotDir(data_dir)
    with pytest.raises(SnapshotError):
        snapshots.read(outside)
    with pytest.raises(SnapshotError):
        snapshots.read(link)
    client = start_service(data_dir, model="majority")
    assert client.get("/v1/model").json()["n_learned"] == 1
    assert not (tmp_path / "pwned").exists()

    other = tmp_path / "other"
    other.mkdir()
    (other / "snapshots").symlink_to(tmp_path / "snapshots")
    with pytest.raises(SnapshotError):
        SnapshotDir(other)


def test_expired_predictions_are_forgotten(start_service):
    client = start_service(model="majority", pending_ttl=0.3)
    out = client.post("/v1/predict", json={"features": {"a": 1.0}}).json()
    assert client.get("/v1/model").json()["pending_predictions"] == 1
    time.sleep(1.5)
    r = client.post("/v1/learn", json={"id": out["id"], "labels": ["x"]})
    assert r.status_code == 404 and "expired" in r.json()["detail"]
    assert client.get("/v1/model").json()["pending_predictions"] == 0
    assert "streamml_pending_expired_total 1.0" in client.get("/metrics").text


def test_a_data_dir_has_one_owner(start_service, tmp_path):
    from service import Runtime, ServiceConfig

    start_service(tmp_path / "d", model="majority")
    with pytest.raises(OSError, match="in use"):
        Runtime(ServiceConfig(data_dir=tmp_path / "d", model="majority")).open()
