"""IHOMER's decision with each label's answers kept in balance (`label_balance`)."""

from __future__ import annotations

import numpy as np

from ..compose.balance import LabelBalance
from ..compose.race import Race
from .decision import Decider, above_half

__all__ = ["BalancedDecider"]


class BalancedDecider:
    """A decision (`Decider` or `LastSetDecider`) whose label sets `compose.LabelBalance`
    corrects, label by label, against the P(True) decided, while that has not cost exact
    matches.

    The balance trades exact matches for the F1 of labels that the decision answers far
    too often or (rare ones) far too seldom. It answers while it has lately (over about
    `1 / race_decay` instances) been exact at least as often as the model's own P(True)
    decided at 0.5, each label on its own, as the model's learner alone would decide
    (`compose.Race`): it spends on the F1 of those labels only the exact matches that the
    decision has won over that plain answer. It waits for `warmup` instances, so that the
    labels' counts mean something. Otherwise the decision answers, and the balance counts
    the answers given.

    The interface is `Decider`'s; the P(True) (`probabilities`) and the threshold are the
    inner decision's, which learns from its own answers, as without the balance.

    Parameters
    ----------
    decider
        The decision corrected.
    balance
        The correction.
    race_decay
        Weight of the latest instance in the race's recent losses.
    warmup
        Instances before the balance may answer.

    """

    def __init__(
        self,
        decider,
        balance: LabelBalance,
        race_decay: float = Decider.DECAY,
        warmup: int = 0,
    ):
        self._decider = decider
        self._balance = balance
        self._race = Race(race_decay)  # the P(True) at 0.5 against the balanced answers
        self._warmup = warmup
        self._cached = None  # (key, (the decision's answer, the balanced one))

    trivial = False  # the balance needs every answer counted

    @property
    def mixing(self) -> bool:
        """Whether the inner decision decides P(True) mixed with the last label set."""
        return getattr(self._decider, "mixing", False)

    @property
    def balancing(self) -> bool:
        """Whether the balanced answers are given now."""
        return self._balance.n_learnt >= self._warmup and self._race.second_not_behind_on_matches

    def threshold(self, n_labels: int) -> float:
        """The inner decision's micro-F1 threshold."""
        return self._decider.threshold(n_labels)

    def probabilities(self, answers: np.ndarray, key=None) -> np.ndarray:
        """The P(True) decided."""
        return self._decider.probabilities(answers, key)

    def _both(self, answers: np.ndarray, n_labels: int, key) -> tuple:
        """(the inner decision's answer, the balanced one), cached under `key` (the caller's
        cache of the P(True)) until `learn`."""
        cached = self._cached
        if key is not None and cached is not None and cached[0] is key:
            return cached[1]
        decided = self._decider.answer(answers, n_labels, key)
        both = decided, self._balance.adjust(decided, self._decider.probabilities(answers, key))
        self._cached = (key, both)
        return both

    def answer(self, answers: np.ndarray, n_labels: int, key=None) -> tuple[int, ...]:
        """The label set answered for these P(True) of the known labels."""
        decided, balanced = self._both(answers, n_labels, key)
        return balanced if self.balancing else decided

    def learn(self, answers: np.ndarray, n_labels: int, key, truth: tuple[int, ...]) -> None:
        """Score and count the answers (as given, or as they would have been, with
        `n_labels` labels known then) against the true set (sorted positions); then let the
        inner decision learn."""
        decided, balanced = self._both(answers, n_labels, key)  # before the inner forgets
        given = balanced if self.balancing else decided
        self._decider.learn(answers, n_labels, key, truth)
        self._race.learn(above_half(answers), balanced, truth)
        self._balance.learn(given, truth, n_labels)
        self._cached = None
