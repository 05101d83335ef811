"""Each label's answers kept in balance with its occurrences, by its own F-measure threshold."""

from __future__ import annotations

import math

import numpy as np

from .fmeasure import check_prior, check_strength, shrunk_threshold

__all__ = ["LabelBalance"]

_SMALL = 64  # labels: below, the answers are read in Python; from here on, with arrays


class LabelBalance:
    """Corrects the label sets a decision answers, label by label, where a label's answers
    are out of balance with its occurrences.

    A decision that picks whole label sets, for exact matches and the micro-F1, serves the
    frequent labels: on sparse label spaces it rarely or never answers a rare label, whose
    F1 is then 0, and it may answer a label far more often than the label occurs. Each label
    here keeps its own F-measure threshold, learned online from the answers given[^1]:
    a / b, with a its true positives and b its positives plus its answers (plus `prior`
    pseudo-counts: a threshold of 0.25 at the start), shrunk by `strength` from 0.5
    (`compose.shrunk_threshold`). Then, instance by instance:

    - a label answered more often than `over` times its occurrences so far is dropped from
      the answer if its P(True) is below its threshold;
    - a rare label (occurring in under `rare` of the instances so far) answered less than
      `under` times as often as it occurs is added if its P(True) reaches its threshold.

    Elsewhere the answer is left as the decision gave it. Labels are positions in the
    caller's order; their number may grow.

    Parameters
    ----------
    strength
        How far each label's threshold goes from 0.5 towards its F-measure's (0 to 1).
    under
        A rare label answered less than this many times per occurrence may be added.
    over
        A label answered more than this many times per occurrence may be dropped.
    rare
        Labels occurring in under this share of the instances are rare.
    prior
        Pseudo-counts of the start: `prior` / 2 true positives out of 2 `prior`.

    Examples
    --------
    >>> balance = LabelBalance()
    >>> for t in range(40):  # label 1 occurs in 1 instance of 20, and is never answered
    ...     answer = balance.adjust((0,), np.array([0.9, 0.1]))
    ...     balance.learn(answer, (0, 1) if t % 20 == 0 else (0,), n_labels=2)
    >>> balance.threshold(2).round(3).tolist()
    [0.497, 0.294]
    >>> balance.adjust((0,), np.array([0.9, 0.3])), balance.adjust((0,), np.array([0.9, 0.2]))
    ((0, 1), (0,))

    References
    ----------
    [^1]: Busa-Fekete, R., Szörényi, B., Dembczyński, K. and Hüllermeier, E. (2015). Online
        F-measure optimization. Advances in Neural Information Processing Systems 28.

    """

    def __init__(
        self,
        strength: float = 0.55,
        under: float = 0.4,
        over: float = 1.0,
        rare: float = 0.1,
        prior: float = 1.0,
    ):
        check_strength(strength)
        check_prior(prior)
        for name, value, high in (
            ("under", under, math.inf),
            ("over", over, math.inf),
            ("rare", rare, 1.0),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not 0.0 <= value <= high:
                raise ValueError(f"{name} must be in [0, {high}], got {value!r}")
        self.strength = strength
        self.under = under
        self.over = over
        self.rare = rare
        self.prior = prior
        self._tp: list[float] = []  # per label: true positives among the answers
        self._answered: list[float] = []  # answers
        self._positives: list[float] = []  # occurrences
        self._theta: list[float] = []  # each label's threshold
        self._short: set[int] = set()  # the labels answered less than `under` per occurrence
        # The same thresholds and short labels in arrays, for large label spaces.
        self._theta_array = np.zeros(0)
        self._short_array = np.zeros(0, dtype=bool)
        self._n = 0  # instances learnt

    def _grow(self, n_labels: int) -> None:
        extra = n_labels - len(self._tp)
        if extra > 0:
            self._tp += [0.0] * extra
            self._answered += [0.0] * extra
            self._positives += [0.0] * extra
            start = shrunk_threshold(0.25, self.strength)  # the prior: an F-measure of 0.5
            self._theta += [start] * extra
            self._theta_array = np.concatenate([self._theta_array, np.full(extra, start)])
            self._short_array = np.concatenate([self._short_array, np.zeros(extra, dtype=bool)])

    @property
    def n_learnt(self) -> int:
        """Instances learnt (true sets seen)."""
        return self._n

    def threshold(self, n_labels: int) -> np.ndarray:
        """Each label's threshold."""
        self._grow(n_labels)
        return np.array(self._theta[:n_labels])

    def adjust(self, answer: tuple[int, ...], proba: np.ndarray) -> tuple[int, ...]:
        """The answer (sorted positions) corrected for these P(True) of the first labels."""
        n = len(proba)
        self._grow(n)
        # Below _SMALL labels, read in Python; from there on, the short labels reaching their
        # thresholds are found with array calls, and only the answer's labels are read.
        p = proba.tolist() if n < _SMALL else proba
        theta, answered, positives = self._theta, self._answered, self._positives
        over = self.over
        keep = [  # a position beyond the P(True) given (a seen set's label) is kept
            j for j in answer if j >= n or answered[j] <= over * positives[j] or p[j] >= theta[j]
        ]
        if self._short:
            if n < _SMALL:
                candidates = [j for j in self._short if j < n and p[j] >= theta[j]]
            else:
                reaching = self._short_array[:n] & (proba >= self._theta_array[:n])
                candidates = np.flatnonzero(reaching).tolist()
            limit = self.rare * self._n
            added = [j for j in candidates if positives[j] < limit]
            if added:
                return tuple(sorted(set(keep).union(added)))
        return answer if len(keep) == len(answer) else tuple(keep)

    def learn(self, answer: tuple[int, ...], truth: tuple[int, ...], n_labels: int) -> None:
        """Count the answer given against the true set (both sorted positions), with
        `n_labels` labels known (more if either names more)."""
        self._grow(max(n_labels, answer[-1] + 1 if answer else 0, truth[-1] + 1 if truth else 0))
        tp, answered, positives = self._tp, self._answered, self._positives
        for j in answer:
            answered[j] += 1.0
        for j in truth:
            positives[j] += 1.0
        hits = set(answer).intersection(truth)
        for j in hits:
            tp[j] += 1.0
        half, prior, strength = 0.5 * self.prior, 2.0 * self.prior, self.strength
        theta, short, under = self._theta, self._short, self.under
        theta_array, short_array = self._theta_array, self._short_array
        for j in set(answer).union(truth):
            f = (half + tp[j]) / (prior + answered[j] + positives[j])
            theta[j] = theta_array[j] = shrunk_threshold(f, strength)
            is_short = answered[j] < under * positives[j]
            short_array[j] = is_short
            if is_short:
                short.add(j)
            else:
                short.discard(j)
        self._n += 1
