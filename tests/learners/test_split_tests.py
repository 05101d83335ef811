"""The Hoeffding split test of a leaf and the verdict on an alternate subtree, against the rules
their docstrings state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streamml.bounds import hoeffding_bound
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


class _FixedStats:
    """Split statistics whose candidate merits are given (and which record their arguments)."""

    def __init__(self, merit, weight: float):
        self.merit = np.asarray(merit, dtype=float)
        self.weight = weight
        self.args = None

    def best_splits(self, n_split_points, min_branch_fraction):
        self.args = (n_split_points, min_branch_fraction)
        return self.merit.copy(), np.arange(len(self.merit)) / 10.0


def test_split_test_passes_its_settings_to_the_statistics():
    stats = _FixedStats([0.9, 0.0], 1000.0)
    assert split_test(stats, 3, 7, 0.125, 1e-3, 0.05) == ((0, 0.0, 0.9), 1000.0)
    assert stats.args == (7, 0.125)


def test_split_test_needs_a_positive_gain():
    # No gain anywhere: no split, and no weight would change that.
    assert split_test(_FixedStats([0.0, 0.0], 500.0), 4, 10, 0.01, 1e-3, 1e-6) == (None, math.inf)


def test_a_lead_equal_to_the_bound_is_not_enough():
    delta, weight = 1e-3, 400.0
    bound = hoeffding_bound(weight, delta, 2.0)  # 4 label sets: range log2(4) = 2
    decision, needed = split_test(_FixedStats([bound, 0.0], weight), 4, 10, 0.01, delta, 1e-3)
    assert decision is None and needed == pytest.approx(weight)
    decision, _ = split_test(_FixedStats([bound * 1.001, 0.0], weight), 4, 10, 0.01, delta, 1e-3)
    assert decision == (0, 0.0, bound * 1.001)


def test_a_bound_equal_to_the_tie_threshold_does_not_break_the_tie():
    delta, weight = 1e-3, 400.0
    bound = hoeffding_bound(weight, delta, 2.0)
    merit = [bound / 2, bound / 4]
    decision, needed = split_test(_FixedStats(merit, weight), 4, 10, 0.01, delta, bound)
    assert decision is None and needed == pytest.approx(weight)  # lead = tie = the bound
    decision, _ = split_test(_FixedStats(merit, weight), 4, 10, 0.01, delta, bound * 1.001)
    assert decision == (0, 0.0, bound / 2)


@pytest.mark.parametrize("n_labelsets", [1, 2])
def test_one_or_two_label_sets_give_the_bound_a_range_of_one(n_labelsets):
    delta, weight = 1e-3, 50.0
    bound = hoeffding_bound(weight, delta, 1.0)
    stats = _FixedStats([0.9 * bound, 0.0], weight)
    assert split_test(stats, n_labelsets, 10, 0.01, delta, 0.01)[0] is None
    stats = _FixedStats([1.1 * bound, 0.0], weight)
    assert split_test(stats, n_labelsets, 10, 0.01, delta, 0.01)[0] == (0, 0.0, 1.1 * bound)


def _exact_tie(significance: float, sign: float) -> tuple[int, float, float]:
    """(n, main loss, alternate loss) whose mean losses differ by exactly the verdict's bound in
    floating point, the alternate better (sign -1) or worse (+1)."""
    for n in range(50, 400):
        for k in range(5, n // 2):
            main = k / n
            bound = math.sqrt(2.0 * main * (1.0 - main) * math.log(2.0 / significance) * (2.0 / n))
            alt_loss = (main + sign * bound) * n
            if alt_loss > 0 and sign * (alt_loss / n - main) == bound:
                return n, float(k), alt_loss
    raise AssertionError("no exact tie found")


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_an_alternate_exactly_at_the_bound_is_undecided(sign):
    significance = 0.05
    n, main_loss, alt_loss = _exact_tie(significance, sign)
    branch = Branch(0, 0.5, None, None, 1, None, 0.1)
    branch.alt_n, branch.main_loss, branch.alt_loss = n, main_loss, alt_loss
    assert alternate_verdict(branch, significance, n + 1) is None


def test_the_verdict_bound_uses_ln_2_over_the_significance():
    n, main, significance = 200, 0.3, 0.05
    bound = math.sqrt(2 * main * (1 - main) * math.log(2 / significance) * (2 / n))
    wider = math.sqrt(2 * main * (1 - main) * math.log(3 / significance) * (2 / n))
    gap = (bound + wider) / 2  # between the bound and a wider one
    assert alternate_verdict(_branch(n, main, main - gap), significance, 10 * n) == "switch"
    assert alternate_verdict(_branch(n, main, main + gap), significance, 10 * n) == "prune"
