"""IHOMER's decision with the last true label set as a second opinion (`last_set`)."""

from __future__ import annotations

import numpy as np

from ..compose.last_set import LastSetMixture
from ..compose.race import Race
from .decision import Decider, above_half

__all__ = ["LastSetDecider"]


class LastSetDecider:
    """IHOMER's decision (`Decider`) of the model's P(True), or of those P(True) mixed label
    by label with the last true label set (`compose.LastSetMixture`).

    The mixed P(True) are decided while, each label at 0.5, they have lately (over about
    `1 / race_decay` instances) been exact more often or closer to the truth label by label
    (F1) than the model's, and behind on neither (`compose.Race`): on a stream whose
    instances do not repeat their predecessor's labels, the model's P(True) are decided; and
    so they are during the race's first `warmup` instances.
    The interface is `Decider`'s; `probabilities` gives the P(True) decided.

    Parameters
    ----------
    seen_sets
        As `Decider`'s.
    threshold_strength
        As `Decider`'s.
    rate
        The mixture's `rate`.
    decay
        Weight of the latest instance in the mixture's Brier scores.
    race_decay
        Weight of the latest instance in the race's recent losses.
    warmup
        Instances the race scores before the mixed P(True) may be decided.

    """

    def __init__(
        self,
        seen_sets: int | None,
        threshold_strength: float,
        rate: float,
        decay: float,
        race_decay: float = Decider.DECAY,
        warmup: int = 0,
    ):
        self._decider = Decider(seen_sets, threshold_strength)
        self._mixture = LastSetMixture(rate, decay)
        self._race = Race(race_decay)  # the model's P(True) at 0.5 against the mixed ones
        self._warmup = warmup
        self._cached = None  # (key, mixed P(True)) of the instance answered

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_cached", None)  # pickled before the cache

    trivial = False  # the race needs every answer scored

    @property
    def mixing(self) -> bool:
        """Whether the mixed P(True) are decided now."""
        race = self._race
        return self._mixture.n_learnt >= self._warmup and (
            race.second_ahead_on_matches or race.second_ahead_on_f1
        )

    def threshold(self, n_labels: int) -> float:
        """The decision's micro-F1 threshold."""
        return self._decider.threshold(n_labels)

    def probabilities(self, answers: np.ndarray, key=None) -> np.ndarray:
        """The P(True) decided: mixed, or the model's (the mixed ones cached under `key` as
        in `answer`)."""
        return self._mix(answers, key) if self.mixing else answers

    def _mix(self, answers: np.ndarray, key) -> np.ndarray:
        """The mixed P(True), cached under `key` (the caller's cache of the P(True), as the
        inner decision's) until `learn`."""
        cached = self._cached
        if key is not None and cached is not None and cached[0] is key:
            return cached[1]
        mixed = self._mixture.mix(answers)
        self._cached = (key, mixed)
        return mixed

    def answer(self, answers: np.ndarray, n_labels: int, key=None) -> tuple[int, ...]:
        """The label set answered for these P(True) of the known labels."""
        return self._decider.answer(self.probabilities(answers, key), n_labels, key)

    def learn(self, answers: np.ndarray, n_labels: int, key, truth: tuple[int, ...]) -> None:
        """Score the decision (as given, or as it would have been) for these P(True), with
        `n_labels` labels known then, and both P(True) at 0.5, against the true set (sorted
        positions); then remember it."""
        mixed = self._mix(answers, key)
        decided = mixed if self.mixing else answers
        self._decider.learn(decided, n_labels, key, truth)
        self._race.learn(above_half(answers), above_half(mixed), truth)
        self._mixture.learn(answers, truth, max(len(answers), truth[-1] + 1 if truth else 0))
        self._cached = None
