"""ShardedIHOMER with its shards in this process: the same model as IHOMER(share=False),
whatever the number of shards and wherever its clusters are."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pandas as pd
import pytest

from streamml import IHOMER
from streamml.distributed import RAY_MISSING, ShardedIHOMER
from streamml.distributed.backends import ray_module

from .helpers import groups, run_batches, run_one, yeast


def _sharded(shards=2, **params):
    return ShardedIHOMER(shards=shards, backend="local", seed=7, **params)


@pytest.mark.parametrize("stream", [yeast, groups])
@pytest.mark.parametrize("fallback", [True, False])
def test_instance_by_instance_it_is_ihomer_without_sharing(stream, fallback):
    data = stream(1200)
    single = IHOMER(
        share=False,
        fallback=fallback,
        label_drift_delta=None,
        seen_sets=None,
        threshold_strength=0.0,
        last_set=False,
        seed=7,
    )
    sharded = _sharded(shards=3, fallback=fallback, last_set=False)
    assert run_one(sharded, data) == run_one(single, data)
    assert sharded.drift_events == single.drift_events
    assert set(sharded.partition) == set(single.partition)
    assert sharded.n_restructurings == single.n_restructurings > 0
    assert len(set(sharded.placement().values())) > 1  # the clusters are spread


def test_the_number_of_shards_and_the_placement_change_nothing():
    data = groups(1200)
    one, three = _sharded(shards=1), _sharded(shards=3, rebalance=1.0, rebalance_every=100)
    assert run_batches(one, data, 150) == run_batches(three, data, 150)
    assert one.drift_events == three.drift_events
    assert three.n_moves > 0  # clusters moved between shards on the way


def test_a_moved_cluster_predicts_as_before():
    data = groups(1200)
    model = _sharded(shards=2)
    run_batches(model, data, 200)
    xs = [x for x, _ in data[:50]]
    before = [model.predict_proba_one(x) for x in xs]
    key = max(model.placement(), key=len)
    source = model.placement()[key]
    moves = model.n_moves
    model.move(key, 1 - source)
    assert model.placement()[key] == 1 - source and model.n_moves == moves + 1
    assert key in {frozenset(r["labels"]) for r in model.cluster_summary() if r["shard"] != source}
    assert [model.predict_proba_one(x) for x in xs] == before


@pytest.mark.parametrize("cluster, shard", [({"nope"}, 0), (None, 2), (None, -1), (None, True)])
def test_a_bad_move_is_refused_and_changes_nothing(cluster, shard):
    model = _sharded(shards=2)
    run_batches(model, groups(300), 100)
    cluster = cluster or next(iter(model.placement()))
    placement, state = model.placement(), pickle.dumps(model)
    with pytest.raises((KeyError, ValueError)):
        model.move(cluster, shard)
    assert model.placement() == placement and pickle.dumps(model) == state


def test_a_pickled_model_continues_as_the_original():
    data = groups(1200)
    model = _sharded()
    run_batches(model, data[:700], 100)
    copy = pickle.loads(pickle.dumps(model))
    assert run_batches(copy, data[700:], 100) == run_batches(model, data[700:], 100)
    assert copy.drift_events == model.drift_events


@pytest.mark.slow
def test_micro_batches_change_the_partition_at_their_end_only():
    data = groups()
    single = IHOMER(
        share=False, label_drift_delta=None, seen_sets=None, threshold_strength=0.0, seed=7
    )
    batched = _sharded()
    truth = [y for _, y in data]
    a, b = run_one(single, data), run_batches(batched, data, 100)
    right_single = np.mean(
        [
            {k for k, p in q.items() if p[True] > 0.5} == {k for k, v in y.items() if v}
            for q, y in zip(a, truth)
        ]
    )
    right_batched = np.mean(
        [{k for k, v in p.items() if v} == {k for k, v in y.items() if v} for p, y in zip(b, truth)]
    )
    assert abs(right_single - right_batched) < 0.05
    assert batched.n_restructurings > 0


def test_data_frames_in_and_out():
    data = yeast(400)
    model, twin = _sharded(), _sharded()
    X = pd.DataFrame([x for x, _ in data[:200]])
    Y = pd.DataFrame([y for _, y in data[:200]])
    model.learn_many(X, Y)
    twin.learn_batch([x for x, _ in data[:200]], [y for _, y in data[:200]])
    test = pd.DataFrame([x for x, _ in data[200:260]], index=range(200, 260))
    probas = model.predict_proba_many(test)
    assert list(probas.columns) == model.labels and list(probas.index) == list(test.index)
    expected = [twin.predict_proba_one(x) for x, _ in data[200:260]]
    assert np.allclose(
        probas.to_numpy(), [[p[label][True] for label in twin.labels] for p in expected]
    )
    decided = model.predict_many(test)
    assert list(decided.columns) == model.labels and list(decided.index) == list(test.index)
    assert decided.to_dict("records") == [twin.predict_one(x) for x, _ in data[200:260]]


def test_bad_input_changes_nothing():
    model = _sharded()
    data = yeast(100)
    model.learn_batch([x for x, _ in data], [y for _, y in data])
    state = pickle.dumps(model)
    with pytest.raises(ValueError):
        model.learn_batch([data[0][0]], [])
    with pytest.raises(TypeError):
        model.learn_batch([data[0][0]], [["Class1"]])
    with pytest.raises(ValueError):
        model.learn_batch([{"f": float("inf")}], [{"Class1": True}])
    assert pickle.dumps(model) == state


@pytest.mark.parametrize(
    "params",
    [{"shards": 0}, {"shards": True}, {"backend": "threads"}, {"rebalance": 0.5}, {"n_min": 0}],
)
def test_bad_parameters_are_refused(params):
    with pytest.raises(ValueError):
        ShardedIHOMER(**{"backend": "local", **params})


def test_without_ray_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r'pip install "streamml\[ray\]"'):
        ray_module()
    model = ShardedIHOMER(shards=2)
    with pytest.raises(ImportError) as error:
        model.learn_one({"a": 1.0}, {"l": True})
    assert str(error.value) == RAY_MISSING


def test_the_defaults_are_ihomers():
    import inspect

    ours = inspect.signature(ShardedIHOMER).parameters
    theirs = inspect.signature(IHOMER).parameters
    shared = set(ours) & set(theirs)
    assert {"drift_delta", "adapt_learners", "retire_after", "n_min", "handover"} <= shared
    assert {name: ours[name].default for name in shared} == {
        name: theirs[name].default for name in shared
    }


def test_predict_batch_is_predict_one_on_each_and_memory_is_reported():
    data = groups(600)
    model = _sharded(shards=2)
    run_batches(model, data[:400], 200)
    xs = [x for x, _ in data[400:]]
    assert model.predict_batch(xs) == [model.predict_one(x) for x in xs]
    memory = model.shard_memory()
    assert len(memory) == 2
    assert sum(m["clusters"] for m in memory) == len(model.placement())
    assert all(m["rss_mb"] > 0 and m["peak_rss_mb"] > 0 for m in memory)
    assert all(m["state_mb"] > 0 for m in memory if m["clusters"])


def test_the_learner_on_all_the_labels_answers_where_it_is_better():
    """With `fallback` (the default) it lives on one shard and some clusters answer with it:
    on yeast, the clusters' own learners rarely beat it."""
    model = _sharded(shards=2)
    run_batches(model, yeast(900), 100)
    memory = model.shard_memory()
    assert sum(m["all_labels"] for m in memory) == 1
    assert frozenset() not in model.placement()
    without = _sharded(shards=2, fallback=False)
    run_batches(without, yeast(900), 100)
    xs = [x for x, _ in yeast(1000)[900:]]
    assert model.predict_batch(xs) != without.predict_batch(xs)
    assert not any(m["all_labels"] for m in without.shard_memory())


def test_a_batch_learned_without_predicting_it_learns_the_same():
    """The clusters score the learner on all the labels by its predictions before the batch:
    taken from the last prediction when it was of this batch, else asked of its shard."""
    data = groups(900)
    asked, told = _sharded(shards=2), _sharded(shards=2)
    for start in range(0, 800, 100):
        chunk = data[start : start + 100]
        xs, ys = [x for x, _ in chunk], [y for _, y in chunk]
        # Every other batch, the last prediction was of other instances: not to be used.
        asked.predict_batch(xs if start % 200 == 0 else [x for x, _ in data[800:]])
        asked.learn_batch(xs, ys)
        told.learn_batch(xs, ys)
    probes = [x for x, _ in data[800:]]
    assert asked.predict_batch(probes) == told.predict_batch(probes)
    assert asked.drift_events == told.drift_events


def test_a_model_pickled_before_the_sharded_fallback_loads_without_it():
    model = _sharded(shards=2, fallback=False)
    run_batches(model, groups(300), 100)
    state = pickle.loads(pickle.dumps(model.__getstate__()))  # a copy
    for name in ("fallback", "selection_margin", "_last"):
        del state[name]
    old = ShardedIHOMER.__new__(ShardedIHOMER)
    old.__setstate__(state)
    assert old.fallback is False
    data = groups(600)[300:]
    assert run_batches(old, data, 100) == run_batches(model, data, 100)
