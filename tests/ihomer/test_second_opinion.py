"""LastSetDecider: IHOMER's decision of the model's P(True), or of those mixed with the last
true label set, whichever has lately been ahead at 0.5."""

from __future__ import annotations

import numpy as np
import pytest

from streamml.compose import LastSetMixture, Race
from streamml.ihomer.balanced import BalancedDecider
from streamml.ihomer.decision import Decider, above_half, make_decider
from streamml.ihomer.second_opinion import LastSetDecider


def _stream(seed: int, n: int, width: int = 6, repeat: float = 0.7):
    """P(True) and true sets: a set repeats with probability `repeat`; the P(True) are a
    noisy view of the truth."""
    rng = np.random.default_rng(seed)
    truth = rng.random(width) < 0.4
    for _ in range(n):
        if rng.random() > repeat:
            truth = rng.random(width) < 0.4
        p = np.clip(truth * 0.5 + rng.random(width) * 0.5 + rng.normal(0, 0.1, width), 0, 1)
        yield p, tuple(np.flatnonzero(truth).tolist())


def _on(p) -> tuple:
    return tuple(np.flatnonzero(p > 0.5).tolist())


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("repeat", [0.2, 0.9])
def test_at_one_half_it_is_the_race_of_the_two_probabilities(seed, repeat):
    """Without seen sets nor threshold, a reference from the parts: each instance answers
    the labels above 0.5 of the P(True) that lead the race, then the race and the mixture
    learn."""
    decider = LastSetDecider(None, 0.0, 4.0, 0.05)
    mixture, race = LastSetMixture(4.0, 0.05), Race(Decider.DECAY)
    mixed_answers = 0
    for p, truth in _stream(seed, 400, repeat=repeat):
        q = mixture.mix(p)
        lead = race.second_ahead_on_matches or race.second_ahead_on_f1
        assert decider.mixing == lead
        assert decider.answer(p, len(p)) == _on(q if lead else p)
        assert decider.probabilities(p).tolist() == (q if lead else p).tolist()
        mixed_answers += lead
        decider.learn(p, len(p), None, truth)
        race.learn(_on(p), _on(q), truth)
        mixture.learn(p, truth, len(p))
    if repeat == 0.9:
        assert mixed_answers > 300  # the last set pays on a stream that repeats itself
    else:
        assert mixed_answers < 150  # on one that does not, mostly the model's


def test_it_decides_the_mixed_probabilities_with_the_seen_sets_and_threshold():
    """With seen sets and threshold: the inner Decider decides whichever P(True) lead and
    learns from them, as a Decider fed those P(True) directly would."""
    decider, reference = LastSetDecider(1000, 0.2, 4.0, 0.05), Decider(1000, 0.2)
    mixture = LastSetMixture(4.0, 0.05)
    for p, truth in _stream(3, 500, repeat=0.85):
        decided = mixture.mix(p) if decider.mixing else p
        assert decider.answer(p, len(p)) == reference.answer(decided, len(p))
        assert decider.threshold(len(p)) == reference.threshold(len(p))
        decider.learn(p, len(p), None, truth)
        reference.learn(decided, len(p), None, truth)
        mixture.learn(p, truth, len(p))
    assert decider.mixing


def test_the_answer_is_scored_as_given_with_new_labels():
    # A label first seen while learning: the answer had 2 labels, the truth has 3.
    decider = LastSetDecider(None, 0.0, 4.0, 0.5)
    decider.learn(np.array([0.9, 0.1]), 2, None, (0,))
    decider.learn(np.array([0.9, 0.1]), 2, None, (0, 2))
    assert list(decider._mixture._last) == [1.0, 0.0, 1.0]  # the new label is known
    assert decider._mixture.weights(3).shape == (3,)
    assert decider.answer(np.array([0.9, 0.1, 0.0]), 3) in {(0,), (0, 2)}
    # The race scored the 2-label answers, each {0}, against {0, 2}: both missed alike.
    assert decider._race._f1_loss[0] == decider._race._f1_loss[1] > 0


def test_make_decider_follows_the_model_parameters():
    class Params:
        seen_sets, threshold_strength, adapt_rate, adapt_window = 10, 0.3, 2.0, 50
        selection_window = 40
        last_set, label_balance = True, False

    decider = make_decider(Params)
    assert isinstance(decider, LastSetDecider) and not decider.trivial
    assert decider._mixture.rate == 2.0 and decider._mixture.decay == 1.0 / 50
    assert decider._race.decay == 1.0 / 40 and decider._warmup == 40
    assert decider._decider._threshold.strength == 0.3
    assert decider._decider._decoder.max_sets == 10
    Params.last_set = False
    plain = make_decider(Params)
    assert type(plain) is Decider and plain._threshold.strength == 0.3
    probabilities = np.array([0.2, 0.7])
    assert plain.probabilities(probabilities) is probabilities
    Params.label_balance = True
    balanced = make_decider(Params)
    assert isinstance(balanced, BalancedDecider) and type(balanced._decider) is Decider
    assert balanced._race.decay == 1.0 / 40 and balanced._warmup == 40
    assert balanced._decider._threshold.strength == 0.3
    Params.last_set = True
    assert isinstance(make_decider(Params)._decider, LastSetDecider)


def test_the_race_decides_each_label_above_one_half_exactly():
    # P(True) exactly 0.5 on a true label: the model's answer leaves it out; the mixed one
    # (0.5 moved towards the last set, which had it) takes it, and leads.
    decider = LastSetDecider(None, 0.0, 4.0, 0.5)
    for _ in range(3):
        decider.learn(np.array([0.5]), 1, None, (0,))
    assert decider.mixing
    # The model is exact on an alternating label, the last set never: the mixed P(True)
    # are the model's, and 0.5 is decided as the model's answer, not as the label.
    decider = LastSetDecider(None, 0.0, 4.0, 0.5)
    for t in range(6):
        on = t % 2 == 0
        decider.learn(np.array([1.0 if on else 0.0]), 1, None, (0,) if on else ())
    assert decider._mixture.weights(1).tolist() == [0.0]
    decider.learn(np.array([0.5]), 1, None, (0,))
    assert not decider.mixing  # both answered {} for {0}: neither leads


def test_the_mixed_probabilities_wait_for_the_warmup():
    decider = LastSetDecider(None, 0.0, 4.0, 0.5, race_decay=0.5, warmup=5)
    for t in range(5):
        assert not decider.mixing  # the last set would lead from the second instance
        decider.learn(np.array([0.5]), 1, None, (0,))
    assert decider.mixing


def test_a_decider_pickled_before_the_cache_answers():
    decider = LastSetDecider(None, 0.0, 4.0, 0.5)
    for _ in range(3):
        decider.learn(np.array([0.9, 0.0]), 2, None, (0,))
    state = dict(decider.__dict__)
    del state["_cached"]  # as pickled before the cache of the mixed P(True)
    old = LastSetDecider.__new__(LastSetDecider)
    old.__setstate__(state)
    key, p = object(), np.array([0.9, 0.8])
    assert old.answer(p, 2, key) == decider.answer(p, 2, key)
    assert old.probabilities(p, key).tolist() == decider.probabilities(p, key).tolist()
    old.learn(p, 2, key, (0,))  # reads the cache of the mixed P(True)
    decider.learn(p, 2, key, (0,))
    assert old.answer(p, 2) == decider.answer(p, 2)


def test_the_mixed_probabilities_are_reused_under_one_key_only():
    decider = LastSetDecider(None, 0.0, 4.0, 0.5)
    for _ in range(3):  # label 1 never on, and never given: both sides exact, weights 1/2
        decider.learn(np.array([0.9, 0.0]), 2, None, (0,))
    key = object()
    first = decider._mix(np.array([0.9, 0.8]), key)
    assert first.tolist()[1] == pytest.approx(0.4)
    assert decider._mix(np.array([0.9, 0.2]), key) is first  # the caller's key: the same P
    assert decider._mix(np.array([0.9, 0.2]), None).tolist()[1] == pytest.approx(0.1)
    assert decider._mix(np.array([0.9, 0.8]), None).tolist()[1] == pytest.approx(0.4)
    decider.learn(np.array([0.9, 0.8]), 2, key, (0,))
    assert decider._mix(np.array([0.9, 0.2]), key) is not first  # learning forgets it


def test_above_half_in_python_and_with_arrays():
    for width in (10, 70):  # below 64 labels in Python; from there on, with array calls
        p = np.zeros(width)
        p[[0, 3, width - 1]] = [0.51, 0.5, 0.9]
        assert above_half(p) == (0, width - 1)
