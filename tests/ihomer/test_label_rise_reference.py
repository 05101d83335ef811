"""LabelRise against its rule written out one label and one instance at a time, in plain
Python floats: the means, the bound, the blocks, the held alarms, reset and grow."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from streamml.ihomer import LabelRise


class _Reference:
    """Each label: `seen` instances since the start (or an alarm), a fast and a slow mean
    (plain means up to their horizon, faded by 1 / horizon after). A label seen `slow` times
    is tested after each instance: its error rose when fast - slow exceeds Bernstein's bound.
    Alarms are reported when `every` instances have come since the last report or since the
    last reset or grow (which keep the alarms found so far for that report)."""

    def __init__(self, delta, fast, slow, floor, every):
        self.fast, self.slow, self.floor, self.every = fast, slow, floor, every
        self.log = math.log(1.0 / delta)
        self.spread = 1.0 / (2 * fast - 1) + 1.0 / (2 * slow - 1)
        self.range = 1.0 / (3 * (2 * fast - 1))
        self.f, self.m, self.seen = [], [], []
        self.pending, self.rows = set(), 0

    def grow(self, n):
        self.rows = 0
        while len(self.f) < n:
            self.f.append(0.0)
            self.m.append(0.0)
            self.seen.append(0)

    def update(self, errors):
        for i, e in enumerate(errors):
            self.seen[i] += 1
            s = self.seen[i]
            self.f[i] += (float(e) - self.f[i]) / min(s, self.fast)
            self.m[i] += (float(e) - self.m[i]) / min(s, self.slow)
            if s >= self.slow:
                rise = self.f[i] - self.m[i]
                p = min(max(self.m[i], self.floor), 0.5)
                bound = math.sqrt(2.0 * p * (1.0 - p) * self.log * self.spread)
                if rise > bound + self.log * self.range:
                    self.pending.add(i)
        self.rows += 1
        if self.rows < self.every:
            return set()
        out, self.pending, self.rows = self.pending, set(), 0
        return out

    def reset(self, cols):
        self.rows = 0
        for i in cols:
            self.m[i] = self.f[i]
            self.seen[i] = self.slow - self.fast


def _stream(rng, n_labels, n):
    """Errors whose rates move: at random times a label's rate jumps up, or back down."""
    rates = rng.uniform(0.0, 0.2, n_labels)
    for _ in range(n):
        if rng.random() < 0.03:
            i = rng.integers(n_labels)
            rates[i] = rng.uniform(0.6, 1.0) if rates[i] < 0.5 else rng.uniform(0.0, 0.1)
        yield rng.random(n_labels) < rates


@pytest.mark.parametrize(
    ("delta", "fast", "slow", "floor", "every", "seed"),
    [
        (0.05, 10, 40, 0.02, 1, 0),
        (0.05, 10, 40, 0.1, 3, 1),
        (0.2, 8, 30, 0.05, 8, 2),  # a block as long as the fast horizon
        (0.01, 20, 60, 0.02, 10, 3),
    ],
)
def test_alarms_and_means_follow_the_rule_instance_by_instance(
    delta, fast, slow, floor, every, seed
):
    rng = np.random.default_rng(seed)
    rise = LabelRise(delta, fast=fast, slow=slow, floor=floor, every=every)
    ref = _Reference(delta, fast, slow, floor, every)
    n_labels, alarms = 4, 0
    for both in (rise, ref):
        both.grow(n_labels)
    for t, errors in enumerate(_stream(rng, 7, 1500)):
        if t == 700:  # three labels join mid-stream (mid-block)
            n_labels = 7
            rise.grow(n_labels)
            ref.grow(n_labels)
        hit = rise.update(errors[:n_labels])
        assert hit.dtype == bool and hit.shape == (n_labels,)
        expected = ref.update(errors[:n_labels])
        assert set(np.flatnonzero(hit).tolist()) == expected, t
        if expected:
            alarms += 1
            cols = sorted(expected)
            rise.reset(np.array(cols))
            ref.reset(cols)
        elif t % 97 == 5:  # a reset mid-block, as when another detector fired
            rise.reset(np.array([t % n_labels]))
            ref.reset([t % n_labels])
        if t % 50 == 49:
            rise._held |= rise._absorb()  # read the means between blocks
            ref.rows = 0
            np.testing.assert_allclose(rise._fast, ref.f, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(rise._slow, ref.m, rtol=1e-9, atol=1e-12)
            np.testing.assert_array_equal(rise._seen, ref.seen)
    assert alarms >= 5  # the rule was exercised


def test_the_parameters_are_kept_as_given_with_their_defaults():
    rise = LabelRise(0.01)
    assert (rise.delta, rise.fast, rise.slow, rise.floor, rise.every) == (0.01, 200, 2000, 0.02, 10)
    rise = LabelRise(0.5, fast=10, slow=50, floor=0.1, every=10)  # a block of the fast horizon
    assert (rise.delta, rise.fast, rise.slow, rise.floor, rise.every) == (0.5, 10, 50, 0.1, 10)


def test_the_mask_between_blocks_is_empty_read_only_and_boolean():
    rise = LabelRise(0.01, every=5)
    empty = rise.update(np.zeros(0, dtype=bool))  # no label yet
    assert empty.shape == (0,) and empty.dtype == bool and not empty.flags.writeable
    rise.grow(3)
    hit = rise.update(np.array([True, False, True]))
    assert hit.dtype == bool and hit.shape == (3,) and not hit.any()
    assert not hit.flags.writeable  # shared between calls: a caller cannot change it


def test_an_old_pickle_holds_alarms_across_a_reset():
    # Pickled before the blocks (no _held nor _quiet): a reset holds what it absorbed, as
    # booleans, and the next update reports it.
    rise = LabelRise(delta=0.5, fast=10, slow=100, every=1)
    rise.grow(2)
    for name in ("every", "_rows", "_fold", "_held", "_quiet"):
        del rise.__dict__[name]
    old = pickle.loads(pickle.dumps(rise))
    assert old._held.dtype == bool and old._quiet.dtype == bool and len(old._quiet) == 2
    old._rows = [np.array([True, True])]
    old._seen[:] = 200
    old._fast[:], old._slow[:] = 0.9, 0.05  # a clear rise on both labels
    old.reset(np.array([1]))
    assert old._held.tolist() == [True, True]
    assert old.update(np.array([False, False])).tolist() == [True, True]
    assert not old._held.any()


def _primed(n, rising, every, seen=100, fast=10, slow=40, delta=0.05, floor=0.02):
    """A LabelRise whose labels in `rising` have a clear rise (fast mean 0.9, slow 0.05), the
    others none (both 0.05); every label seen `seen` times."""
    rise = LabelRise(delta, fast=fast, slow=slow, floor=floor, every=every)
    rise.grow(n)
    rise._seen[:] = seen
    rise._fast[:] = rise._slow[:] = 0.05
    rise._fast[list(rising)] = 0.9
    return rise


def _errors(n, on):
    e = np.zeros(n, dtype=bool)
    e[list(on)] = True
    return e


def test_a_label_is_tested_from_its_slow_horizon_on():
    # Seen slow - 1 times, then once more: tested at that very instance.
    rise = _primed(1, [0], every=1, seen=39)
    assert rise.update(_errors(1, [0])).tolist() == [True]
    rise = _primed(2, [0], every=1, seen=38)  # one instance short
    assert not rise.update(_errors(2, [0])).any()


def test_labels_past_their_slow_horizon_are_tested_in_every_block():
    rise = _primed(2, [1], every=10, seen=40)  # just tested, in a block of 10
    hits = [rise.update(_errors(2, [1])).tolist() for _ in range(10)]
    assert hits[-1] == [False, True] and not any(any(h) for h in hits[:-1])


@pytest.mark.parametrize(
    ("delta", "slow_mean", "fast_mean", "error", "alarm"),
    [
        (0.05, 0.001, 0.12, False, False),  # below the floor: the bound of a rate of 0.02
        (0.05, 0.001, 0.17, False, True),
        (0.5, 0.7, 0.8483, True, False),  # above 0.5: the bound of 0.5 (the largest variance)
        (0.5, 0.7, 0.8639, True, True),
    ],
)
def test_the_bound_takes_the_slow_rate_between_the_floor_and_one_half(
    delta, slow_mean, fast_mean, error, alarm
):
    rise = LabelRise(delta, fast=10, slow=40, floor=0.02, every=1)
    rise.grow(1)
    rise._seen[:] = 100
    rise._slow[:], rise._fast[:] = slow_mean, fast_mean
    ref = _Reference(delta, 10, 40, 0.02, 1)
    ref.grow(1)
    ref.seen, ref.m, ref.f = [100], [slow_mean], [fast_mean]
    assert ref.update([error]) == ({0} if alarm else set())
    assert rise.update(np.array([error])).tolist() == [alarm]


def test_the_bound_at_its_edge():
    # Just above and just below the bound of the rule: the variance of both means counts,
    # each with its horizon.
    log, fast, slow = math.log(1 / 0.05), 10, 40
    spread = 1 / (2 * fast - 1) + 1 / (2 * slow - 1)
    p = 0.2
    edge = math.sqrt(2 * p * (1 - p) * log * spread) + log / (3 * (2 * fast - 1))
    for margin, alarm in ((1e-6, True), (-1e-6, False)):
        rise = LabelRise(0.05, fast=fast, slow=slow, every=1)
        rise.grow(1)
        rise._seen[:] = 1000
        # After one instance with no error: slow = p, fast = p + edge + margin.
        target_fast = p + edge + margin
        rise._slow[:] = p / (1 - 1 / slow)
        rise._fast[:] = target_fast / (1 - 1 / fast)
        assert rise.update(np.array([False])).tolist() == [alarm]


def test_held_alarms_survive_a_second_reset_and_join_the_block_s_own():
    rise = _primed(4, [0, 1], every=5)
    rise.update(_errors(4, [0, 1]))  # alarms on 0 and 1 pending in the block
    rise.reset(np.array([0]))  # held: 0 and 1
    rise._fast[2], rise._slow[2] = 0.9, 0.05  # now label 2 rises as well
    rise.update(_errors(4, [1, 2]))
    rise.reset(np.array([2]))  # the first held alarms stay held
    rise._fast[1], rise._slow[1] = 0.05, 0.05  # label 1 quiet from now on
    rise._fast[3], rise._slow[3] = 0.9, 0.05  # label 3 rises in the next block only
    hits = [rise.update(_errors(4, [3])).tolist() for _ in range(5)]
    assert hits[:4] == [[False] * 4] * 4 and hits[4] == [True, True, True, True]


def test_growing_keeps_the_block_and_its_alarms():
    rise = _primed(2, [0], every=5)
    for _ in range(2):
        assert not rise.update(_errors(2, [0])).any()  # an alarm pending on label 0
    rise.grow(2)  # no new label: nothing changes
    rise.grow(3)  # a new label, mid-block: the alarm is held
    rise._fast[0] = rise._slow[0] = 0.05
    hits = [rise.update(_errors(3, [])).tolist() for _ in range(5)]
    assert hits == [[False] * 3] * 4 + [[True, False, False]]
    rise = _primed(2, [0], every=5)
    for _ in range(2):
        rise.update(_errors(2, [0]))
    rise.grow(2)  # the block goes on: it ends 3 instances later
    assert [rise.update(_errors(2, [0])).any() for _ in range(3)] == [False, False, True]


def test_a_reset_before_any_instance_holds_nothing():
    rise = LabelRise(0.05, fast=10, slow=40, every=3)
    rise.grow(3)
    rise.reset(np.array([1]))
    assert rise._held.tolist() == [False, False, False]
    assert rise._seen.tolist() == [0, 30, 0]
