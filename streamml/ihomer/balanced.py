"""IHOMER's decision with each label's answers kept in balance (`label_balance`)."""

from __future__ import annotations

import numpy as np

from ..compose.balance import LabelBalance

__all__ = ["BalancedDecider"]


class BalancedDecider:
    """A decision (`Decider` or `LastSetDecider`) whose label sets `compose.LabelBalance`
    corrects, label by label, against the P(True) decided.

    The interface is `Decider`'s; the P(True) (`probabilities`) and the threshold are the
    inner decision's, which learns from its own answers, as without the balance.

    Parameters
    ----------
    decider
        The decision corrected.
    balance
        The correction.

    """

    def __init__(self, decider, balance: LabelBalance):
        self._decider = decider
        self._balance = balance
        self._cached = None  # (key, answer) of the instance answered

    trivial = False  # the balance needs every answer counted

    @property
    def mixing(self) -> bool:
        """Whether the inner decision decides P(True) mixed with the last label set."""
        return getattr(self._decider, "mixing", False)

    def threshold(self, n_labels: int) -> float:
        """The inner decision's micro-F1 threshold."""
        return self._decider.threshold(n_labels)

    def probabilities(self, answers: np.ndarray, key=None) -> np.ndarray:
        """The P(True) decided."""
        return self._decider.probabilities(answers, key)

    def answer(self, answers: np.ndarray, n_labels: int, key=None) -> tuple[int, ...]:
        """The label set answered for these P(True) of the known labels (cached under `key`,
        the caller's cache of the P(True), until `learn`)."""
        cached = self._cached
        if key is not None and cached is not None and cached[0] is key:
            return cached[1]
        decided = self._decider.answer(answers, n_labels, key)
        answer = self._balance.adjust(decided, self._decider.probabilities(answers, key))
        self._cached = (key, answer)
        return answer

    def learn(self, answers: np.ndarray, n_labels: int, key, truth: tuple[int, ...]) -> None:
        """Count the answer (as given, or as it would have been, with `n_labels` labels known
        then) against the true set (sorted positions); then let the inner decision learn."""
        given = self.answer(answers, n_labels, key)  # before the inner decision forgets it
        self._decider.learn(answers, n_labels, key, truth)
        self._balance.learn(given, truth, n_labels)
        self._cached = None
