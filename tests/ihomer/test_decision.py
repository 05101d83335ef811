"""IHOMER's decision at vector level (`ihomer.decision.Decider`): which labels each candidate
answer holds, at the exact boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from streamml.ihomer.decision import Decider


def test_without_threshold_nor_seen_sets_a_label_needs_more_than_one_half():
    decider = Decider(None, 0.0)
    assert decider.trivial
    assert decider.answer(np.array([0.7, 0.5, 0.2]), 3) == (0,)


def test_the_first_answer_needs_more_than_one_half_the_second_reaches_the_threshold():
    decider = Decider(None, 0.2)
    assert decider.threshold(3) == 0.5  # no answer counted yet
    candidates = decider._candidates(np.array([0.5, 0.7, 0.3]), 3, None)
    assert candidates == (((1,), None), ((0, 1), None))
    decider._threshold.value = lambda n_labels: 0.25  # as after some answers
    candidates = decider._candidates(np.array([0.25, 0.2499, 0.6, 0.5]), 4, None)
    assert candidates == (((2,), None), ((0, 2, 3), None))


def test_seen_sets_decode_both_answers():
    decider = Decider(10, 0.2)
    answers = np.array([0.9, 0.45, 0.1])
    assert decider._candidates(answers, 3, None) == (((0,), None), ((0,), None))  # none seen
    decider.learn(answers, 3, None, (0, 1))
    decider._threshold.value = lambda n_labels: 0.4
    # {0} was never seen: the seen {0, 1} is the best set of both answers.
    assert decider._candidates(answers, 3, None) == (((0,), (0, 1)), ((0, 1), (0, 1)))


@pytest.mark.parametrize("n", [3, 63, 64, 300])
def test_small_and_large_label_spaces_pick_the_same_labels(n):
    # Below 64 labels the answers are picked in Python, from 64 on with array calls.
    rng = np.random.default_rng(n)
    decider = Decider(None, 0.2)
    decider._threshold.value = lambda n_labels: 0.25
    for _ in range(20):
        answers = rng.choice([0.1, 0.25, 0.2499, 0.5, 0.5001, 0.9], size=n)
        (own, _), (at_t, _) = decider._candidates(answers.astype(np.float32), n, None)
        assert own == tuple(np.flatnonzero(answers > 0.5).tolist())
        assert at_t == tuple(np.flatnonzero(answers >= 0.25).tolist())
