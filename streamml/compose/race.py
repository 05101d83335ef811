"""Two answers to the same instances, compared on their recent exact matches and F1."""

from __future__ import annotations

__all__ = ["Race"]


class Race:
    """The recent subset 0/1 loss and 1 - F1 of two answers to the same instances.

    Both losses are faded exponentially, with weight `decay` on the latest instance. Answers
    and true sets are sorted tuples of label positions.

    Parameters
    ----------
    decay
        Weight of the latest instance in the recent losses.

    Examples
    --------
    >>> race = Race(decay=0.5)
    >>> race.learn((0, 1), (0,), truth=(0,))  # the second is exact, the first is not
    >>> race.second_ahead_on_matches, race.second_ahead_on_f1
    (True, True)
    >>> race.learn((0,), (0, 1), truth=(0,))
    >>> race.second_ahead_on_matches, race.second_ahead_on_f1
    (False, False)

    """

    def __init__(self, decay: float):
        self.decay = decay
        self._loss = [0.0, 0.0]  # subset 0/1 of the first and the second answer
        self._f1_loss = [0.0, 0.0]  # 1 - F1

    def learn(self, first: tuple, second: tuple, truth: tuple) -> None:
        """Score both answers against the true set."""
        a, loss, f1_loss = self.decay, self._loss, self._f1_loss
        miss, gap = float(first != truth), 1.0 - f1(first, truth)
        loss[0] += a * (miss - loss[0])
        f1_loss[0] += a * (gap - f1_loss[0])
        if second != first:  # the same answer scores the same
            miss, gap = float(second != truth), 1.0 - f1(second, truth)
        loss[1] += a * (miss - loss[1])
        f1_loss[1] += a * (gap - f1_loss[1])

    @property
    def second_ahead_on_matches(self) -> bool:
        """The second answer has lately been exact more often, and is not behind on F1."""
        return self._loss[1] < self._loss[0] and self._f1_loss[1] <= self._f1_loss[0]

    @property
    def second_not_behind_on_matches(self) -> bool:
        """The second answer has lately been exact at least as often as the first."""
        return self._loss[1] <= self._loss[0]

    @property
    def second_ahead_on_f1(self) -> bool:
        """The second answer has lately been closer to the truth label by label (F1), and is
        not behind on exact matches."""
        return self._loss[1] <= self._loss[0] and self._f1_loss[1] < self._f1_loss[0]


def f1(answer: tuple, truth: tuple) -> float:
    """The F1 of a label set against the true one (1 when both are empty).

    >>> f1((0, 1), (0,))
    0.6666666666666666

    """
    if not answer and not truth:
        return 1.0
    return 2.0 * len(set(answer).intersection(truth)) / (len(answer) + len(truth))
