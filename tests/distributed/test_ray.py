"""ShardedIHOMER on a local Ray with 2 CPUs: the shards are actors in other processes, and the
model is the same as with its shards in this process (the Ray extra: `pip install
"streamml[ray]"`; CI installs it and runs `pytest -m ray`)."""

from __future__ import annotations

import pickle

import pytest

from streamml import IHOMER

ray = pytest.importorskip(
    "ray", reason='the Ray tests need the ray extra: pip install "streamml[ray]"'
)

from streamml.distributed import ShardedIHOMER, ShardLost  # noqa: E402

from .helpers import groups, run_frames, run_one  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("local_ray")]


def _on_ray(shards=2, **params):
    return ShardedIHOMER(shards=shards, backend="ray", seed=7, **params)


def _pids(model) -> set[int]:
    return set(model._run([(i, "pid") for i in range(model.shards)]))


def test_on_ray_it_is_the_model_with_its_shards_here():
    """Instance by instance it is IHOMER(share=False); then, on the same
    micro-batches, the Ray shards, which move clusters to balance their measured costs, give
    what one shard in this process gives; and a cluster moved by hand predicts as before.
    (One model: starting the actors costs seconds.)"""
    data = groups(1600)
    first, rest = data[:150], data[150:]
    single = IHOMER(
        share=False, label_drift_delta=None, seen_sets=None, threshold_strength=0.0, seed=7
    )
    local = ShardedIHOMER(shards=1, backend="local", seed=7)
    model = _on_ray(rebalance=1.0, rebalance_every=200)
    try:
        expected = run_one(single, first)
        assert run_one(model, first) == expected
        assert run_one(local, first) == expected
        assert len(_pids(model)) == 2  # two actors, two processes
        assert run_frames(model, rest, 200) == run_frames(local, rest, 200)
        assert model.drift_events == local.drift_events
        assert model.n_restructurings == local.n_restructurings > 0
        assert model.n_moves > 0  # the balancing moved clusters between the actors

        xs = [x for x, _ in data[:40]]
        before = [model.predict_proba_one(x) for x in xs]
        key = max(model.placement(), key=len)
        source = model.placement()[key]
        model.move(key, 1 - source)
        held = {frozenset(r["labels"]): r["shard"] for r in model.cluster_summary()}
        assert held[key] == 1 - source
        assert [model.predict_proba_one(x) for x in xs] == before
    finally:
        model.close()


def test_a_pickled_model_continues_on_new_actors_and_a_dead_shard_is_reported():
    data = groups(1200)
    model = _on_ray()
    copy = None
    try:
        run_frames(model, data[:600], 150)
        copy = pickle.loads(pickle.dumps(model))
        assert run_frames(copy, data[600:1000], 200) == run_frames(model, data[600:1000], 200)
        assert copy.drift_events == model.drift_events
        assert _pids(copy).isdisjoint(_pids(model))

        ray.kill(copy._backend.actors[1])
        with pytest.raises(ShardLost):
            run_frames(copy, data[1000:], 200)
        with pytest.raises(ShardLost, match="restore the model"):  # and it stays broken
            copy.predict_one(data[0][0])
        run_frames(model, data[1000:], 200)  # the other model is not touched
    finally:
        model.close()
        if copy is not None:
            copy.close()


def test_starting_ray_keeps_the_process_sigterm_handler():
    """`ray.init` installs a SIGTERM handler that exits at once; a server's own handler (the
    service's graceful shutdown, with its final snapshot) must stay."""
    import subprocess
    import sys

    code = (
        "import signal\n"
        "from streamml.distributed import ShardedIHOMER\n"
        "def mine(signum, frame): pass\n"
        "signal.signal(signal.SIGTERM, mine)\n"
        "model = ShardedIHOMER(shards=1, num_cpus=1)\n"
        "model.learn_one({'a': 1.0}, {'x': True})\n"
        "assert model.predict_one({'a': 1.0}) == {'x': True}\n"
        "print(signal.getsignal(signal.SIGTERM) is mine)\n"
        "model.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
