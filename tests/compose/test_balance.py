"""LabelBalance: each label's answers corrected by its own online F-measure threshold where they
are out of balance with its occurrences."""

from __future__ import annotations

import numpy as np
import pytest

from streamml.compose import LabelBalance


def _reference(stream, strength, under, over, rare, prior):
    """The corrected answers, from per-label counts in dicts, written independently of the
    class: thresholds 0.5 - strength (0.5 - a / b), a = prior / 2 + TP, b = 2 prior +
    answers + occurrences; drop where over-answered and below, add where rare, short and
    at or above."""
    tp, answered, positives, out = {}, {}, {}, []
    for t, (answer, p, truth) in enumerate(stream):

        def theta(j):
            a = prior / 2 + tp.get(j, 0)
            b = 2 * prior + answered.get(j, 0) + positives.get(j, 0)
            return 0.5 - strength * (0.5 - a / b)

        given = set()
        for j in range(len(p)):
            occurs, said = positives.get(j, 0), answered.get(j, 0)
            if j in answer:
                if not (said > over * occurs and p[j] < theta(j)):
                    given.add(j)
            elif said < under * occurs and occurs < rare * t and p[j] >= theta(j):
                given.add(j)
        out.append(tuple(sorted(given)))
        for j in given:
            answered[j] = answered.get(j, 0) + 1
        for j in truth:
            positives[j] = positives.get(j, 0) + 1
            tp[j] = tp.get(j, 0) + (j in given)
    return out


def _stream(seed, n=600, width=12):
    """(decided answer, P(True), true set): labels of decreasing frequency, some rare; the
    decision answers the labels above 0.5 and over-answers label 0."""
    rng = np.random.default_rng(seed)
    freq = np.linspace(0.5, 0.01, width)
    out = []
    for _ in range(n):
        truth = rng.random(width) < freq
        p = np.clip(0.35 * truth + rng.random(width) * 0.5, 0.0, 1.0)
        answer = set(np.flatnonzero(p > 0.5).tolist())
        if rng.random() < 0.5:
            answer.add(0)
        out.append((tuple(sorted(answer)), p, tuple(np.flatnonzero(truth).tolist())))
    return out


@pytest.mark.parametrize("width", [12, 70])  # read in Python; from 64 labels, with arrays
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"strength": 1.0, "under": 0.8, "over": 1.5, "rare": 0.3, "prior": 2.0},
        {"strength": 0.3, "under": 0.2, "over": 0.9, "rare": 0.05, "prior": 0.5},
    ],
)
def test_it_corrects_as_the_reference(seed, params, width):
    stream = _stream(seed, width=width)
    balance = LabelBalance(**params)
    defaults = {"strength": 0.55, "under": 0.4, "over": 1.0, "rare": 0.1, "prior": 1.0}
    expected = _reference(stream, **{**defaults, **params})
    got = []
    for answer, p, truth in stream:
        got.append(balance.adjust(answer, p))
        balance.learn(got[-1], truth, len(p))
    assert got == expected
    assert sum(a != b for a, b in zip(got, [s[0] for s in stream])) > 20  # it did correct


def test_a_label_answered_more_often_than_it_occurs_is_dropped_below_its_threshold():
    balance = LabelBalance()
    for _ in range(20):  # label 0 answered every time, occurs every other time: F1 2/3
        balance.learn((0,), (0,), 1)
        balance.learn((0,), (), 1)
    theta = balance.threshold(1)[0]  # 0.5 - 0.55 (0.5 - 20.5 / 62)
    assert theta == pytest.approx(0.5 - 0.55 * (0.5 - 20.5 / 62))
    assert balance.adjust((0,), np.array([theta - 1e-9])) == ()
    assert balance.adjust((0,), np.array([theta])) == (0,)
    balance = LabelBalance(over=2.0)  # answered twice per occurrence is not yet over
    for _ in range(20):
        balance.learn((0,), (0,), 1)
        balance.learn((0,), (), 1)
    assert balance.adjust((0,), np.array([0.01])) == (0,)


def test_a_rare_short_label_is_added_from_its_threshold_on():
    balance = LabelBalance()
    for t in range(100):  # label 1 in 5 instances of 100, never answered
        balance.learn((0,), (0, 1) if t % 20 == 0 else (0,), 2)
    theta = balance.threshold(2)[1]
    assert theta == pytest.approx(0.5 - 0.55 * (0.5 - 0.5 / 7))
    assert balance.adjust((0,), np.array([0.9, theta])) == (0, 1)
    assert balance.adjust((0,), np.array([0.9, theta - 1e-9])) == (0,)
    assert balance.adjust((), np.array([0.1, theta])) == (1,)


def test_frequent_or_balanced_labels_are_not_added():
    frequent = LabelBalance()
    for t in range(100):  # label 1 in 1 instance of 5 (over `rare`), never answered
        frequent.learn((0,), (0, 1) if t % 5 == 0 else (0,), 2)
    assert frequent.adjust((0,), np.array([0.9, 0.45])) == (0,)
    assert LabelBalance(rare=0.25).adjust((0,), np.array([0.9, 0.45])) == (0,)  # nothing seen
    balanced = LabelBalance()
    for t in range(100):  # label 1 rare, and answered half as often as it occurs
        truth = (0, 1) if t % 20 == 0 else (0,)
        balanced.learn((0, 1) if t % 40 == 0 else (0,), truth, 2)
    assert balanced.adjust((0,), np.array([0.9, 0.45])) == (0,)  # 0.5 per occurrence: fine
    assert LabelBalance(under=0.6).adjust((0,), np.array([0.9, 0.45])) == (0,)  # no counts


def test_rare_is_a_share_of_the_instances_learnt():
    # 2 occurrences in 20 instances is a share of 0.1: not under 0.1; in 21, it is.
    balance = LabelBalance()
    for t in range(20):
        balance.learn((), (0,) if t < 2 else (), 1)
    assert balance.adjust((), np.array([0.49])) == ()
    balance.learn((), (), 1)
    assert balance.adjust((), np.array([0.49])) == (0,)


def test_new_labels_start_at_the_prior_threshold_and_positions_beyond_are_kept():
    balance = LabelBalance(strength=1.0, prior=4.0)
    assert balance.threshold(3).tolist() == [0.25, 0.25, 0.25]  # 2 true positives of 8
    balance.learn((0,), (0, 4), 2)  # the true set names a label beyond those known
    assert len(balance.threshold(5)) == 5
    assert balance.threshold(5)[4] == pytest.approx(2 / 9)
    # A seen set may name a label beyond the P(True) given: kept as the decision gave it.
    assert balance.adjust((0, 3), np.array([0.9, 0.1])) == (0, 3)


def test_an_answer_unchanged_is_the_same_tuple():
    balance = LabelBalance()
    answer = (0, 2)
    assert balance.adjust(answer, np.array([0.9, 0.1, 0.8])) is answer


def test_counts_grow_to_every_position_named():
    balance = LabelBalance(strength=1.0)
    balance.learn((5,), (0,), 2)  # an answer naming a label beyond those known
    assert balance.threshold(6)[5] == pytest.approx(0.5 / 3)  # answered once, never right
    balance.learn((), (7,), 2)  # a true set likewise
    assert balance.threshold(8)[7] == pytest.approx(0.5 / 3)  # occurs once, never answered


def test_labels_beyond_the_probabilities_given_are_neither_judged_nor_added():
    balance = LabelBalance()
    for t in range(60):  # label 2: over-answered; label 3: rare and never answered
        balance.learn((0, 2), (0, 3) if t % 20 == 0 else (0,), 4)
    p = np.array([0.9, 0.1])  # P(True) of the first two labels only
    assert balance.adjust((0, 2), p) == (0, 2)
    assert balance.adjust((0,), np.array([0.9, 0.1, 0.1])) == (0,)  # label 3 not given
    assert balance.adjust((0,), np.array([0.9, 0.1, 0.1, 0.45])) == (0, 3)  # when given


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"strength": 1.5}, "strength"),
        ({"strength": -0.1}, "strength"),
        ({"under": -1.0}, "under"),
        ({"over": float("nan")}, "over"),
        ({"rare": 2.0}, "rare"),
        ({"rare": "0.1"}, "rare"),
        ({"under": True}, "under"),
        ({"prior": 0.0}, "prior"),
        ({"prior": None}, "prior"),
    ],
)
def test_bad_parameters_are_refused(params, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        LabelBalance(**params)


def test_bounds_are_allowed():
    LabelBalance(strength=0.0, under=0.0, over=0.0, rare=0.0, prior=0.5)
    LabelBalance(strength=1, rare=1)


def test_with_arrays_a_rare_short_label_is_added_from_its_threshold_on():
    balance = LabelBalance()
    for t in range(100):  # as with two labels, among 70
        balance.learn((0,), (0, 1) if t % 20 == 0 else (0,), 70)
    p = np.zeros(70)
    p[0], p[1] = 0.9, balance.threshold(70)[1]
    assert balance.adjust((0,), p) == (0, 1)
    p[1] = np.nextafter(p[1], 0.0)
    assert balance.adjust((0,), p) == (0,)


def test_it_counts_the_instances_learnt():
    balance = LabelBalance()
    assert balance.n_learnt == 0
    balance.learn((0,), (), 1)
    balance.learn((), (1,), 2)
    assert balance.n_learnt == 2
