"""IHOMER's `label_balance`: the decision's label sets corrected label by label
(`compose.LabelBalance`, through `ihomer.balanced.BalancedDecider`)."""

from __future__ import annotations

import numpy as np
import pytest
from river import datasets

from streamml import IHOMER
from streamml.compose import LabelBalance, Race
from streamml.evaluate import prequential
from streamml.ihomer.balanced import BalancedDecider
from streamml.ihomer.decision import Decider, above_half

from ..continuation import assert_pickle_continues
from ..lockstep import assert_same_probabilities

LABELS = [f"l{j:02d}" for j in range(16)]


def structured(n: int, seed: int) -> list:
    """8 labels in 6 label sets, and 8 rare labels (6% of the instances down to 1%) on their
    own; each label has a noisy feature. The seen sets win exact matches over each label at
    0.5, and leave the rare labels unanswered."""
    rng = np.random.default_rng(seed)
    pool = [rng.random(8) < 0.4 for _ in range(6)]
    rare = np.geomspace(0.06, 0.01, 8)
    out = []
    for _ in range(n):
        on = np.concatenate([pool[rng.integers(len(pool))], rng.random(8) < rare])
        x = {f"f{j}": float(v) + rng.normal(scale=0.8) for j, v in enumerate(on)}
        out.append((x, dict(zip(LABELS, on.tolist()))))
    return out


def test_it_answers_as_a_balance_over_the_decision_fed_directly():
    """The balanced answer while it is not behind the P(True) at 0.5 on recent exact matches
    (after the warm-up), else the decision's; the balance counts the answer given."""
    rng = np.random.default_rng(0)
    decider = BalancedDecider(Decider(100, 0.2), LabelBalance(), race_decay=0.05, warmup=100)
    inner, balance, race = Decider(100, 0.2), LabelBalance(), Race(0.05)
    balancing = changed = 0
    for t in range(1500):
        truth = tuple(np.flatnonzero(rng.random(8) < np.geomspace(0.4, 0.02, 8)).tolist())
        # A true label has P(True) 0.25 to 0.55: the rare ones are seldom answered.
        p = rng.random(8) * 0.3 + 0.25 * np.isin(np.arange(8), truth)
        key = object() if t % 2 else None  # with and without the caller's cache
        decided = inner.answer(p, 8)
        balanced = balance.adjust(decided, p)
        on = t >= 100 and race.second_not_behind_on_matches
        expected = balanced if on else decided
        assert decider.balancing == on
        assert decider.answer(p, 8, key) == expected
        assert decider.answer(p, 8, key) == expected  # asked again: the same
        balancing += on
        changed += expected != decided
        decider.learn(p, 8, key, truth)
        inner.learn(p, 8, None, truth)
        race.learn(above_half(p), balanced, truth)
        balance.learn(expected, truth, 8)
        assert decider.threshold(8) == inner.threshold(8)
    assert balancing > 100 and changed > 10
    assert decider.probabilities(p) is p and not decider.trivial and not decider.mixing


def test_it_answers_as_the_decision_where_the_balance_costs_exact_matches():
    # Label 0 is always on (P 0.9); label 1, rare and unpredictable, always has P 0.3: the
    # balance adds it (its threshold falls below 0.3) and is then wrong 19 times in 20.
    decider = BalancedDecider(Decider(None, 0.0), LabelBalance(), race_decay=0.05, warmup=0)
    p = np.array([0.9, 0.3])
    for t in range(400):
        decider.learn(p, 2, None, (0, 1) if t % 20 == 0 else (0,))
    assert decider._balance.adjust((0,), p) == (0, 1)  # what the balance would answer
    assert not decider.balancing and decider.answer(p, 2) == (0,)


def test_the_answer_is_reused_under_the_same_key_only():
    decider = BalancedDecider(Decider(None, 0.0), LabelBalance())
    assert decider.balancing  # no warm-up by default: a tie with nothing seen
    first, second = np.array([0.9, 0.1]), np.array([0.1, 0.9])
    for _ in range(3):  # label 0 answered three times, never true: over-answered
        decider.learn(first, 2, None, ())
    assert decider.answer(first, 2) == (0,)
    assert decider.answer(second, 2) == (1,)  # without a key, answered afresh
    key = object()
    assert decider.answer(first, 2, key) == (0,)
    # Under the caller's key the P(True) are the same: the answer is not recomputed (the
    # balance would have dropped label 0, over-answered and now below its threshold).
    assert decider.answer(second, 2, key) == (0,)
    assert decider.answer(second, 2, object()) == (1,)


def test_it_changes_neither_the_probabilities_nor_what_the_model_learns():
    a, b = IHOMER(seed=3), IHOMER(seed=3, label_balance=False)
    assert_same_probabilities(a, b, structured(1200, seed=1))
    assert a.partition == b.partition


def test_on_rare_labels_it_lifts_the_macro_f1():
    stream = structured(3000, seed=2)
    with_it = prequential(IHOMER(seed=0), stream)
    without = prequential(IHOMER(seed=0, label_balance=False), stream)
    assert with_it.macro_f1 > without.macro_f1 + 0.01


def test_on_yeast_it_lifts_the_macro_f1():
    with_it = prequential(IHOMER(seed=42), datasets.Yeast())
    without = prequential(IHOMER(seed=42, label_balance=False), datasets.Yeast())
    assert with_it.macro_f1 > without.macro_f1


def test_a_pickled_model_answers_on_as_the_original():
    model, copy = assert_pickle_continues(IHOMER(seed=5), structured(900, seed=4), 500)
    assert copy._decider._balance._theta == model._decider._balance._theta


def test_the_summary_says_whether_it_balances():
    model = IHOMER(seed=0)
    assert "Balanced: not now" in model.summary()  # warming up
    for x, y in structured(600, seed=6):
        model.predict_one(x)
        model.learn_one(x, y)
    assert model._decider.balancing
    assert "Balanced: the labels answered too often" in model.summary()
    assert "Balanced" not in IHOMER(label_balance=False).summary()


def test_without_it_the_decision_is_not_wrapped():
    assert not isinstance(IHOMER(label_balance=False)._decider, BalancedDecider)
    assert isinstance(IHOMER()._decider, BalancedDecider)


@pytest.mark.parametrize("value", [1, None, "yes"])
def test_bad_label_balance(value):
    with pytest.raises(ValueError, match="label_balance must be True or False"):
        IHOMER(label_balance=value)
