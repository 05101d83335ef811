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
    assert rise.update(np.zeros(0, dtype=bool)).shape == (0,)  # no label yet
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
