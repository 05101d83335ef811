"""The per-label rise test, alone and as a detector of IHOMER's clusters."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from streamml import IHOMER
from streamml.datasets.synth import Drift, LabelGroups
from streamml.ihomer import LabelRise


def _feed(rise: LabelRise, rates, n: int, rng) -> list[tuple[int, list[int]]]:
    alarms = []
    for t in range(n):
        hit = rise.update(rng.random(len(rates)) < rates)
        if hit.any():
            alarms.append((t, hit.nonzero()[0].tolist()))
            rise.reset(hit.nonzero()[0])  # as IHOMER does
    return alarms


def test_no_alarm_on_stationary_errors():
    rng = np.random.default_rng(1)
    rise = LabelRise(delta=1e-4)
    rise.grow(50)
    rates = np.linspace(0.0, 0.5, 50)  # from labels never wrong to coin flips
    assert _feed(rise, rates, 20_000, rng) == []


def test_a_rise_of_one_label_is_found_soon_and_only_there():
    rng = np.random.default_rng(2)
    rise = LabelRise(delta=1e-4)
    rise.grow(10)
    rates = np.full(10, 0.1)
    assert _feed(rise, rates, 3_000, rng) == []
    rates[7] = 0.3
    alarms = _feed(rise, rates, 1_000, rng)
    assert alarms and all(labels == [7] for _, labels in alarms)
    assert alarms[0][0] < 400  # within two fast horizons
    # After an alarm the reference restarts from the recent rate: no alarm storm.
    assert len(alarms) <= 2


def test_rare_labels_need_a_clear_rise():
    rng = np.random.default_rng(3)
    rise = LabelRise(delta=1e-4)
    rise.grow(2)
    rates = np.array([0.0, 0.0])
    _feed(rise, rates, 2_500, rng)
    # A label never wrong, then wrong 1% of the time: a few errors, not a change to act on.
    assert _feed(rise, np.array([0.01, 0.0]), 2_000, rng) == []


def test_labels_not_watched_long_enough_are_not_tested():
    rise = LabelRise(delta=0.5, fast=10, slow=100, every=1)
    rise.grow(2)
    for _ in range(99):
        assert not rise.update(np.array([False, False])).any()
    rise.grow(3)  # a new label: no history
    for _ in range(50):
        hit = rise.update(np.array([True, True, True]))
    assert hit.tolist() == [True, True, False]
    rise.reset(np.array([0]))
    assert rise.update(np.array([True, True, True])).tolist() == [False, True, False]


def test_blocks_move_the_means_and_test_every_instance_as_single_instances():
    rng = np.random.default_rng(5)
    one, block = LabelRise(delta=1e-4, every=1), LabelRise(delta=1e-4, every=10)
    one.grow(4)
    block.grow(4)
    rates = np.full(4, 0.1)
    first = {}
    for t in range(5_000):
        if t == 3_000:
            rates[2] = 0.35
        errors = rng.random(4) < rates
        hits = {}
        for name, rise in (("one", one), ("block", block)):
            hits[name] = hit = rise.update(errors)
            if hit.any():
                first.setdefault(name, (t, hit.nonzero()[0].tolist()))
        if t % 10 != 9:
            assert not hits["block"].any()  # tested at the end of blocks only
        elif "one" not in first:  # before any alarm both have the same means
            np.testing.assert_allclose(block._fast, one._fast, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(block._slow, one._slow, rtol=1e-12, atol=1e-15)
    assert first["one"][1] == first["block"][1] == [2]
    # Every instance of the block is tested: the alarm is that of one instance at a time,
    # reported at the end of its block.
    assert first["block"][0] == first["one"][0] // 10 * 10 + 9


@pytest.mark.parametrize("bad", [0, 201, 2.5])
def test_bad_block_length(bad):
    with pytest.raises(ValueError, match="every"):
        LabelRise(delta=1e-4, every=bad)


def test_a_rise_pickled_mid_block_continues_identically():
    rng = np.random.default_rng(6)
    rise = LabelRise(delta=1e-3, fast=20, slow=100)
    rise.grow(3)
    rows = rng.random((700, 3)) < np.array([0.1, 0.1, 0.1])
    rows[400:, 1] = rng.random(300) < 0.6
    for row in rows[:395]:
        rise.update(row)
    clone = pickle.loads(pickle.dumps(rise))
    got = [clone.update(row).tolist() for row in rows[395:]]
    expected = [rise.update(row).tolist() for row in rows[395:]]
    assert got == expected and any(any(hit) for hit in expected)


def _stream():
    # 20 labels in 4 groups; at 3,000 only group 0 changes its relation to the features.
    return LabelGroups(
        n_labels=20,
        n_groups=4,
        n_features=40,
        n_samples=5_000,
        seed=1,
        drifts=[Drift(at=3_000, relation=True, groups=[0])],
    )


def _run(**params):
    stream = _stream()
    changed = stream.schedule[0].labels
    model = IHOMER(seed=1, min_cluster_size=20, **params)  # one cluster of all 20 labels
    right = 0
    for t, (x, y) in enumerate(stream):
        p = model.predict_one(x)
        if t >= 3_000:
            right += all(p[label] == y[label] for label in changed)
        model.learn_one(x, y)
    return model, right / 2_000


def test_a_change_of_a_few_labels_of_a_large_cluster_is_acted_on():
    # The change of 5 labels out of 20 is diluted in the cluster's Hamming loss: its ADWIN
    # alone does not see it; the per-label test does, and the cluster grows alternates.
    without, before = _run(label_drift_delta=None)
    assert without.n_adaptations == 0
    assert not [e for e in without.drift_events if e.level == "cluster"]
    model, after = _run()
    events = [e for e in model.drift_events if e.level == "cluster"]
    assert events and {e.detector for e in events} == {"LabelRise"}
    assert all(e.index >= 3_000 for e in events) and len(events[0].labels) == 20
    assert model.n_adaptations >= 1
    assert after > before
    clone = pickle.loads(pickle.dumps(model))
    x, _ = next(iter(_stream()))
    assert clone.predict_proba_one(x) == model.predict_proba_one(x)


@pytest.mark.parametrize("bad", [0.0, 1.0, -1e-4, float("nan"), "0.01", True])
def test_bad_label_drift_delta(bad):
    with pytest.raises(ValueError, match="label_drift_delta"):
        IHOMER(label_drift_delta=bad)


def test_a_rise_pickled_before_the_blocks_loads_and_tests_every_instance():
    rise = LabelRise(delta=0.5, fast=10, slow=100, every=1)
    rise.grow(2)
    for name in ("every", "_rows", "_fold", "_held", "_quiet"):
        del rise.__dict__[name]  # the attributes of an old pickle
    old = pickle.loads(pickle.dumps(rise))
    assert old.every == 1
    for _ in range(99):
        assert not old.update(np.array([False, False])).any()
    hits = [old.update(np.array([True, False])).tolist() for _ in range(30)]
    assert [True, False] in hits


def test_between_blocks_the_answer_is_the_quiet_array_itself():
    rise = LabelRise(delta=1e-4, every=4)
    rise.grow(3)
    errors = np.ones(3, dtype=bool)
    answers = [rise.update(errors) for _ in range(8)]
    for t, hit in enumerate(answers):
        between = t % 4 != 3
        assert (hit is rise.quiet) == between  # a caller may skip reading it
        assert not hit.any()
    assert not rise.quiet.flags.writeable and len(rise.quiet) == 3
    rise.grow(5)
    assert rise.update(np.ones(5, dtype=bool)) is rise.quiet and len(rise.quiet) == 5
