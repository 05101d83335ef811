"""The Hoeffding split test of a leaf and the verdict on an alternate subtree, against the rules
their docstrings state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streamml.learners.gaussian import SplitStatistics
from streamml.learners.nodes import Branch, alternate_verdict, split_test


def _stats(n: int, signal: float, seed: int) -> SplitStatistics:
    """Label 0 follows feature 0 with probability `signal`; feature 1 is noise."""
    rng = np.random.default_rng(seed)
    stats = SplitStatistics(1, 2)
    rows = []
    for _ in range(n):
        x = rng.random(2) + 0.1
        on = (x[0] > 0.6) == (rng.random() < signal)
        rows.append((np.array([0, 1]), x, [0] if on else []))
    stats.update(rows)
    return stats


@pytest.mark.parametrize("n_labelsets", [2, 3, 8])
@pytest.mark.parametrize(("n", "signal"), [(40, 0.9), (200, 0.7), (2000, 0.6), (300, 0.5)])
def test_split_test_follows_the_hoeffding_rule(n_labelsets, n, signal):
    stats = _stats(n, signal, seed=n)
    delta, tie, points, fraction = 1e-3, 0.05, 10, 0.01
    decision, needed = split_test(stats, n_labelsets, points, fraction, delta, tie)
    merit, threshold = stats.best_splits(points, fraction)
    ordered = np.sort(merit)[::-1]
    best, second = float(ordered[0]), max(float(ordered[1]), 0.0)
    r = math.log2(n_labelsets) if n_labelsets > 2 else 1.0
    bound = math.sqrt(r * r * math.log(1.0 / delta) / (2.0 * stats.weight))
    if not best > 0:
        assert (decision, needed) == (None, math.inf)
    elif best - second > bound or bound < tie:
        feature = int(np.argmax(merit))
        assert decision == (feature, float(threshold[feature]), best)
        assert needed == stats.weight
    else:
        lead = max(best - second, tie)
        assert decision is None
        assert needed == pytest.approx(r * r * math.log(1.0 / delta) / (2.0 * lead * lead))


def test_split_test_sees_no_split_without_gain():
    stats = SplitStatistics(1, 2)
    stats.update([(np.array([0, 1]), np.array([1.0, 2.0]), [0])] * 50)  # one label set
    assert split_test(stats, 1, 10, 0.01, 1e-3, 0.05) == (None, math.inf)


def _branch(n: int, main: float, alt: float) -> Branch:
    branch = Branch(0, 0.5, None, None, 1, None, 0.1)
    branch.alt_n, branch.main_loss, branch.alt_loss = n, main * n, alt * n
    return branch


@pytest.mark.parametrize("n", [10, 100, 1000])
@pytest.mark.parametrize(("main", "alt"), [(0.3, 0.1), (0.1, 0.3), (0.3, 0.28), (0.2, 0.2)])
def test_alternate_verdict_follows_its_bound(n, main, alt):
    significance, max_age = 0.05, 5000
    bound = math.sqrt(2 * main * (1 - main) * math.log(2 / significance) * (2 / n))
    expected = "switch" if main - alt > bound else "prune" if alt - main > bound else None
    assert alternate_verdict(_branch(n, main, alt), significance, max_age) == expected
    old = "switch" if expected == "switch" else "prune"
    assert alternate_verdict(_branch(n, main, alt), significance, n) == old  # too old
    assert alternate_verdict(_branch(n, main, alt), significance, n + 1) == expected
