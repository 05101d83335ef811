"""Race: two answers compared on their recent exact matches and F1."""

from __future__ import annotations

import pytest

from streamml.compose import Race
from streamml.compose.race import f1


def test_the_losses_fade_by_decay():
    race, a = Race(decay=0.25), 0.25
    race.learn((1,), (0,), truth=(0,))  # first wrong (F1 0), second right
    race.learn((0,), (0, 1), truth=(0,))  # first right, second not exact (F1 2/3)
    assert race._loss == pytest.approx([a * (1 - a), a])
    assert race._f1_loss == pytest.approx([a * (1 - a), a * (1 - 2 / 3)])


def test_ahead_on_f1_needs_no_fewer_exact_matches():
    # Neither is ever exact; the second is closer label by label: ahead on F1.
    race = Race(decay=0.1)
    for _ in range(20):
        race.learn((0,), (0, 1), truth=(0, 1, 2))
    assert race.second_ahead_on_f1
    assert not race.second_ahead_on_matches  # equal exact matches: not ahead on them
    # One exact match for the first, none for the second: no longer ahead on F1.
    race.learn((0, 1, 2), (0, 1), truth=(0, 1, 2))
    assert not race.second_ahead_on_f1


def test_ahead_on_matches_needs_no_worse_f1():
    race = Race(decay=0.1)
    for i in range(20):
        truth = (0,) if i % 2 else (1, 2, 3, 4)
        # The second is exact on the small sets and shares nothing with the large ones.
        race.learn((0, 2) if i % 2 else (1, 2, 3), (0,) if i % 2 else (5,), truth)
    assert race._loss[1] < race._loss[0]
    assert not race.second_ahead_on_matches
    race = Race(decay=0.1)
    for _ in range(20):
        race.learn((0, 1), (0,), truth=(0,))
    assert race.second_ahead_on_matches and race.second_ahead_on_f1
    assert not Race(decay=0.1).second_ahead_on_matches  # nothing seen: neither is ahead
    assert not Race(decay=0.1).second_ahead_on_f1


def test_f1_of_label_sets():
    assert f1((), ()) == 1.0
    assert f1((0,), ()) == 0.0
    assert f1((0, 1), (0,)) == pytest.approx(2 / 3)
    assert f1((0, 1), (2, 3)) == 0.0


def test_not_behind_on_matches_allows_a_tie_and_ignores_f1():
    assert Race(decay=0.1).second_not_behind_on_matches  # nothing seen: a tie
    race = Race(decay=0.1)
    race.learn((0,), (0, 1), truth=(0, 1, 2))  # both miss; the second is closer on F1
    assert race.second_not_behind_on_matches
    race.learn((0,), (0, 1), truth=(0,))  # the first is exact, the second not
    assert not race.second_not_behind_on_matches
    for _ in range(30):
        race.learn((1,), (0,), truth=(0,))
    assert race.second_not_behind_on_matches
