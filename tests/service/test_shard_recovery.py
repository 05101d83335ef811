"""The service with a sharded model on a local Ray: a shard actor killed under learning load
costs no acknowledged event (the model is restored from the snapshot and the log)."""

from __future__ import annotations

import itertools
import os
import signal
import threading

import pytest
from river import datasets

from streamml import IHOMER

pytest.importorskip("ray", reason='the Ray tests need the ray extra: pip install "streamml[ray]"')

from service.snapshots import SnapshotDir  # noqa: E402

from .helpers import feed  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("local_ray")]


def yeast_events(n: int, skip: int = 0) -> list:
    """(features, labels ON) of Yeast, as the service takes them."""
    rows = itertools.islice(datasets.Yeast(), skip, skip + n)
    return [(x, [label for label, on in y.items() if on]) for x, y in rows]


def test_a_killed_shard_loses_no_acknowledged_event(start_service, tmp_path):
    stream = yeast_events(600)
    probes = [x for x, _ in yeast_events(20, skip=1500)]
    client = start_service(
        tmp_path / "data", model="ihomer", shards=2, seed=3, snapshot_every=100, fsync=False
    )
    runtime = client.app.state.runtime
    pids = runtime.model._run([(i, "pid") for i in range(2)])  # the shards' processes
    assert len(set(pids)) == 2 and os.getpid() not in pids

    acknowledged, killed = [], threading.Event()

    def kill_when_loaded():
        while len(acknowledged) < 300:
            if not worker.is_alive():
                return
            threading.Event().wait(0.01)
        os.kill(pids[1], signal.SIGKILL)  # under load: the client keeps sending
        killed.set()

    worker = threading.current_thread()
    killer = threading.Thread(target=kill_when_loaded, daemon=True)
    killer.start()
    for start in range(0, len(stream), 10):
        chunk = stream[start : start + 10]
        body = [
            {"id": f"i{start + k}", "features": x, "labels": on} for k, (x, on) in enumerate(chunk)
        ]
        for _attempt in range(3):  # a request that fails is not acknowledged: send it again
            response = client.post("/v1/learn/batch", json=body)
            if response.status_code in (200, 202):
                break
        assert response.status_code in (200, 202), response.text
        acknowledged.extend(out["event_id"] for out in response.json() if not out["duplicate"])
    killer.join(timeout=60)
    assert killed.is_set()

    state = client.get("/v1/model").json()
    assert acknowledged == list(range(1, len(stream) + 1))
    assert state["n_learned"] == len(stream) and state["n_learn_failures"] == 0
    assert runtime.n_recoveries == 1
    assert SnapshotDir(tmp_path / "data").list()  # it was restored from a snapshot
    new_pids = runtime.model._run([(i, "pid") for i in range(2)])
    assert pids[1] not in new_pids

    # Exactly the uninterrupted model: every acknowledged event learned once, in order.
    reference = IHOMER(share=False, label_drift_delta=None, seed=3)
    feed(reference, stream)
    served = client.post("/v1/predict/batch", json=[{"features": x} for x in probes]).json()
    expected = [reference.predict_proba_one(x) for x in probes]
    assert [out["probabilities"] for out in served] == [
        {label: p[True] for label, p in e.items()} for e in expected
    ]
