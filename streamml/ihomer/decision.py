"""How IHOMER turns its per-label probabilities into one label set."""

from __future__ import annotations

import numpy as np

from ..compose.labelsets import LabelSetDecoder
from ..compose.race import Race
from ..compose.threshold import MicroFThreshold

__all__ = ["Decider", "above_half", "make_decider"]

#: Label spaces below this size pick their labels in Python rather than with array calls.
_SMALL = 64


def above_half(p: np.ndarray) -> tuple[int, ...]:
    """The positions of the P(True) above 0.5.

    >>> above_half(np.array([0.7, 0.5, 0.51]))
    (0, 2)

    """
    if len(p) < _SMALL:  # one array call: the rest is cheaper in Python
        return tuple([i for i, q in enumerate(p.tolist()) if q > 0.5])
    return tuple(np.flatnonzero(p > 0.5).tolist())


class Decider:
    """IHOMER's decision (`seen_sets`, `threshold_strength`), at vector level.

    Two answers race:

    - the first decides each label at 0.5, decoded into the most probable seen label set
      while that has paid lately (`compose.LabelSetDecoder`);
    - the second decides each label against one threshold learned for the micro-F1
      (`compose.MicroFThreshold`), decoded likewise with the seen sets scored against the
      threshold.

    The second answers while it has lately been closer to the truth label by label (F1) and
    no less often exact (`compose.Race`): the threshold trades exact matches for F1 only
    where it has not cost them. Without a threshold (strength 0) the first answers alone;
    without `seen_sets` neither is decoded.

    Labels are positions in the caller's order; answers are sorted tuples of positions.
    """

    DECAY = 0.01  # weight of the latest instance in every recent loss

    def __init__(self, seen_sets: int | None, threshold_strength: float):
        self._decoder = None if seen_sets is None else LabelSetDecoder(seen_sets, self.DECAY)
        self._threshold = MicroFThreshold(threshold_strength) if threshold_strength else None
        self._second = None  # the decoder of the second answer (the same seen sets)
        self._race = None  # the first answer against the second
        if self._threshold is not None:
            self._race = Race(self.DECAY)
            if self._decoder is not None:
                self._second = self._decoder.shares_sets()
        self._cached: tuple | None = None  # (key, candidates)

    @classmethod
    def of_decoder(cls, decoder: LabelSetDecoder | None) -> Decider:
        """The decision of a model pickled before the threshold: `decoder` alone."""
        decider = cls(None, 0.0)
        decider._decoder = decoder
        return decider

    @property
    def trivial(self) -> bool:
        """Each label at 0.5, nothing decoded."""
        return self._decoder is None and self._threshold is None

    def probabilities(self, answers: np.ndarray, key=None) -> np.ndarray:
        """The P(True) it decides: the model's (see `LastSetDecider`)."""
        return answers

    def threshold(self, n_labels: int) -> float:
        """The threshold of the second answer, with `n_labels` labels known (0.5 without)."""
        return 0.5 if self._threshold is None else self._threshold.value(n_labels)

    def _candidates(self, answers: np.ndarray, n_labels: int, key) -> tuple:
        """((labels above 0.5, their decoded set), (labels from the threshold on, theirs))
        (a decoded set is None without seen sets; the second pair None without a threshold),
        cached under `key` (the caller's cache of the probabilities) for `learn`."""
        cached = self._cached
        if cached is not None and key is not None and cached[0] is key:
            return cached[1]
        if self._threshold is None:
            own = tuple(np.flatnonzero(answers > 0.5).tolist())
            decoded = None if self._decoder is None else self._decoder.best(answers, own)
            candidates = ((own, decoded), None)
        else:
            # At most 0.5 (from 0.5 towards F* / 2): the labels above 0.5 are among those
            # from the threshold on.
            t = self._threshold.value(n_labels)
            if len(answers) < _SMALL:  # one array call: the rest is cheaper in Python
                p = answers.tolist()
                at_t = tuple([i for i, q in enumerate(p) if q >= t])
                own = tuple([i for i in at_t if p[i] > 0.5])
            else:
                above = np.flatnonzero(answers >= t)
                at_t = tuple(above.tolist())
                own = tuple(above[answers[above] > 0.5].tolist())
            decoded = decoded_t = None
            if self._decoder is not None:  # the second decoder shares the first's sets
                decoded, decoded_t = self._decoder.best_twice(answers, own, t, at_t)
            candidates = ((own, decoded), (at_t, decoded_t))
        self._cached = (key, candidates)
        return candidates

    def _answers(self, candidates: tuple) -> tuple:
        """The answer of each decision."""
        (own, decoded), second = candidates
        first = decoded if decoded is not None and self._decoder.decoding else own
        if second is None:
            return first, None
        own, decoded = second
        return first, decoded if decoded is not None and self._second.decoding else own

    def answer(self, answers: np.ndarray, n_labels: int, key=None) -> tuple[int, ...]:
        """The label set answered for these probabilities of the known labels."""
        first, second = self._answers(self._candidates(answers, n_labels, key))
        return second if second is not None and self._race.second_ahead_on_f1 else first

    def learn(self, answers: np.ndarray, n_labels: int, key, truth: tuple[int, ...]) -> None:
        """Score the answers given (or that would have been) for these probabilities, with
        `n_labels` labels known then, against the true set; then remember it."""
        candidates = self._candidates(answers, n_labels, key)
        first, second = self._answers(candidates)
        if second is not None:
            self._race.learn(first, second, truth)  # both sorted, as the true set
            own, decoded = candidates[1]
            if self._second is not None:
                self._second.learn(own, truth, decoded, remember=False)
            hits = len(set(own).intersection(truth))
            self._threshold.learn(hits, len(truth), len(own))
        if self._decoder is not None:
            own, decoded = candidates[0]
            self._decoder.learn(own, truth, decoded)
        self._cached = None


def make_decider(model):
    """The decision of an IHOMER (or `ShardedIHOMER`) as its parameters ask: `Decider`, or
    `LastSetDecider` with `last_set` (its mixture weighed as the alternates are: `adapt_rate`,
    over `adapt_window` instances; its race over `selection_window` instances, and from the
    `selection_window`-th on, as the choice between a cluster's learner and the all-labels
    learner); its answers corrected by `BalancedDecider` with `label_balance` (its race over
    `selection_window` instances, and from the `selection_window`-th on)."""
    if not model.last_set:
        decider = Decider(model.seen_sets, model.threshold_strength)
    else:
        from .second_opinion import LastSetDecider

        decider = LastSetDecider(
            model.seen_sets,
            model.threshold_strength,
            model.adapt_rate,
            1.0 / model.adapt_window,
            1.0 / model.selection_window,
            model.selection_window,
        )
    if not model.label_balance:
        return decider
    from ..compose.balance import LabelBalance
    from .balanced import BalancedDecider

    window = model.selection_window
    return BalancedDecider(decider, LabelBalance(), 1.0 / window, window)
