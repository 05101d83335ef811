"""Decoding into the most probable label set among those seen before."""

from __future__ import annotations

import collections

import numpy as np
from river import base

from ..learners.sparse_rows import row_sums
from .base import Decision, Thresholded
from .race import Race

__all__ = ["LabelSetDecoder", "SeenLabelSets"]


class SeenLabelSets(Decision):
    """Predict the most probable label set among those seen so far, when that has paid lately.

    A classifier that predicts each label on its own (binary relevance, or any model judged on
    its marginal probabilities) often answers with a label set that never occurs: a label
    without the one it always comes with, or several labels that exclude each other. Exact
    matches are won by predicting a label set that does occur. Label-powerset methods restrict
    their answers to the label sets of the training data for this reason [^1].

    This wrapper keeps the distinct label sets seen so far (the `max_sets` most recently seen)
    and scores each by its probability under the wrapped classifier's marginals, as if the
    labels were independent given x: the sum of the log-odds of its labels. The decoded
    answer is the best-scoring seen set. Streams whose label sets are mostly new (many labels
    per instance, few repeats) are poorly served by it, so the wrapper answers with the
    decoded set only while its recent subset 0/1 loss (exponentially weighted, by `decay`,
    measured before learning each instance) is below that of the wrapped classifier's own
    answer and its recent 1 - F1 against the true set is not above it; otherwise with that
    answer.

    A wrapped classifier that decides each label against a threshold of its own
    (`compose.Thresholded`, such as `FMeasureThresholds`) has the seen sets scored against
    those thresholds: each label counts its log-odds minus those of its threshold, so that,
    over all label sets, the best would be the classifier's own answer.

    The probabilities (`predict_proba_one`) are the wrapped classifier's, unchanged.

    Parameters
    ----------
    classifier
        A multi-label classifier with `predict_proba_one`.
    max_sets
        Distinct label sets kept (the least recently seen is forgotten first).
    decay
        Weight of the latest instance in the recent losses of both answers.

    Examples
    --------
    >>> from river import datasets
    >>> from streamml import IHOMER
    >>> from streamml.compose import SeenLabelSets
    >>> from streamml.evaluate import prequential
    >>> at_half = {"seen_sets": None, "threshold_strength": 0, "last_set": False}
    >>> plain = IHOMER(seed=42, label_balance=False, **at_half)  # p > 0.5
    >>> for model in (plain, SeenLabelSets(plain.clone())):
    ...     r = prequential(model, datasets.Yeast().take(1000), progress=False)
    ...     print(f"subset {r.subset_accuracy:.3f}, micro-F1 {r.micro_f1:.3f}")
    subset 0.149, micro-F1 0.613
    subset 0.184, micro-F1 0.617

    References
    ----------
    [^1]: Read, J., Pfahringer, B. and Holmes, G. (2008). Multi-label classification using
    ensembles of pruned sets. IEEE International Conference on Data Mining, pp. 995-1000.

    """

    def __init__(
        self, classifier: base.MultiLabelClassifier, max_sets: int = 1000, decay: float = 0.01
    ):
        if isinstance(max_sets, bool) or not isinstance(max_sets, int) or max_sets < 1:
            raise ValueError(f"max_sets must be an int >= 1, got {max_sets!r}")
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 < decay <= 1:
            raise ValueError(f"decay must be a number in (0, 1], got {decay!r}")
        self.classifier = classifier
        self.max_sets = max_sets
        self.decay = decay
        self._index: dict = {}  # label -> position
        self._names: list = []
        self._decoder = LabelSetDecoder(max_sets, decay)

    @classmethod
    def _unit_test_params(cls):
        from streamml import IHOMER

        yield {"classifier": cls._checked_model()}
        yield {"classifier": IHOMER(seed=1), "max_sets": 3, "decay": 0.5}

    @property
    def decoding(self) -> bool:
        """Whether the decoded set answers now (it has been more often right lately)."""
        return self._decoder.decoding

    def _proba(self, x, **kwargs) -> np.ndarray:
        """P(True) of every label the wrapper knows, from the wrapped classifier (0.5 for one
        it does not answer)."""
        proba = self.classifier.predict_proba_one(x, **kwargs)
        p = np.full(len(self._names), 0.5)
        for label, dist in proba.items():
            i = self._index.get(label)
            if i is not None:
                p[i] = dist.get(True, 0.0)
        return p

    def _decoded(self, answer: dict, best: tuple[int, ...]) -> dict:
        """The best seen set as an answer over the labels of the wrapped one and the known."""
        out = dict.fromkeys(answer, False)
        out.update(dict.fromkeys(self._names, False))
        for i in best:
            out[self._names[i]] = True
        return out

    def _thresholds(self) -> np.ndarray | None:
        """The wrapped classifier's threshold of every label the wrapper knows (0.5 for one
        it has none for), or None if it decides every label at 0.5."""
        if not isinstance(self.classifier, Thresholded):
            return None
        t = np.full(len(self._names), 0.5)
        for label, value in self.classifier.thresholds.items():
            i = self._index.get(label)
            if i is not None:
                t[i] = value
        return t

    def _best(self, x, **kwargs) -> tuple[int, ...]:
        return self._decoder.best(self._proba(x, **kwargs), threshold=self._thresholds())

    def predict_one(self, x, **kwargs):
        answer = self.classifier.predict_one(x, **kwargs)
        if not self._decoder.n_sets or not self.decoding:
            return answer
        return self._decoded(answer, self._best(x, **kwargs))

    def learn_one(self, x, y, **kwargs):
        answer = self.classifier.predict_one(x)  # before learning, as it was (or would be) given
        own = tuple(sorted(self._index.get(k, -1) for k, on in answer.items() if on))
        decoded = self._best(x) if self._decoder.n_sets else None
        for label in y:
            if label not in self._index:
                self._index[label] = len(self._names)
                self._names.append(label)
        truth = tuple(sorted(self._index[label] for label, on in y.items() if on))
        self._decoder.learn(own, truth, decoded)
        self.classifier.learn_one(x, y, **kwargs)


class LabelSetDecoder:
    """The label sets seen so far, the most probable of them given marginal probabilities,
    and whether answering with it has paid lately.

    Labels are positions (ints) in the caller's order. A set is scored by the sum of the
    log-odds of its labels (its probability if the labels were independent, up to a constant
    of the instance); the best of the `max_sets` most recently seen distinct sets is the
    decoded answer. The caller's own answer and the decoded one are both scored on every
    instance by their recent subset 0/1 loss and their recent 1 - F1 against the true set
    (weight `decay` on the latest); `decoding` says whether the decoded one is ahead on exact
    matches and not behind on F1: on a stream where exact matches are rare (hundreds of
    labels, label sets mostly new), a decoded set wins a few of them while missing many
    labels, and is not used. `SeenLabelSets` wraps a classifier with one; `IHOMER` holds one
    (`seen_sets`).

    Parameters
    ----------
    max_sets
        Distinct label sets kept (the least recently seen is forgotten first).
    decay
        Weight of the latest instance in the recent losses of both answers.

    """

    def __init__(self, max_sets: int, decay: float = 0.01):
        self.max_sets = max_sets
        self.decay = decay
        self._sets = _SeenSets(max_sets)
        self._race = Race(decay)  # the caller's answer against the decoded one

    def __setstate__(self, state):
        if "_race" not in state:  # pickled before the losses moved to a Race
            race = state["_race"] = Race(state["decay"])
            race._loss, race._f1_loss = state.pop("_loss"), state.pop("_f1_loss")
        self.__dict__.update(state)

    def shares_sets(self) -> LabelSetDecoder:
        """A decoder over the same seen sets (remembered by this one only: learn it with
        `remember=False`), with a race of its own, for a second decision of the caller."""
        other = LabelSetDecoder.__new__(LabelSetDecoder)
        other.max_sets, other.decay, other._sets = self.max_sets, self.decay, self._sets
        other._race = Race(self.decay)
        return other

    @property
    def n_sets(self) -> int:
        """Distinct label sets kept."""
        return len(self._sets)

    @property
    def decoding(self) -> bool:
        """Whether the decoded set has lately been right more often than the caller's answer
        and no further from the truth label by label (F1)."""
        return self._race.second_ahead_on_matches

    def best(self, proba: np.ndarray, mode: tuple[int, ...] | None = None, threshold=None):
        """The seen set of largest probability under these marginals (P(True) of each label
        known to the caller), or None if no set was seen.

        `threshold` (a number, or one per label): the caller decides a label against it, not
        0.5; each label then counts its log-odds minus those of its threshold. `mode`: the
        labels above their threshold, when the caller has them; if that set was seen, it is
        the best."""
        if not len(self._sets):
            return None
        if mode is not None and mode in self._sets:
            return mode
        weights = _logit(proba)
        if threshold is not None:
            weights -= _logit(threshold)
        return self._sets.best(weights)

    def best_twice(
        self, proba: np.ndarray, mode: tuple[int, ...], threshold: float, threshold_mode: tuple
    ) -> tuple:
        """`best(proba, mode)` and `best(proba, threshold_mode, threshold)` (one threshold for
        every label) from one scoring of the seen sets: against the threshold, a set's score
        is its score against 0.5 minus its size times the threshold's log-odds."""
        if not len(self._sets):
            return None, None
        first = mode if mode in self._sets else None
        second = threshold_mode if threshold_mode in self._sets else None
        if first is None or second is None:
            scores = self._sets.scores(_logit(proba))
            if first is None:
                first = self._sets.at(int(np.argmax(scores)))
            if second is None:
                shifted = scores - self._sets.sizes() * _scalar_logit(threshold)
                second = self._sets.at(int(np.argmax(shifted)))
        return first, second

    def learn(self, own: tuple, truth: tuple, decoded: tuple | None, remember: bool = True) -> None:
        """Score the caller's answer `own` and the decoded set (`best` as it was, or would have
        been, before learning; None while no set was seen) against `truth` (sorted positions),
        then remember `truth` (unless `remember` is False)."""
        if decoded is not None:
            self._race.learn(own, tuple(sorted(decoded)), truth)
        if remember:
            self._sets.add(truth)


def _scalar_logit(p: float) -> float:
    """`_logit` of one probability (the same float), with one array call instead of six."""
    p = min(max(float(p), 1e-12), 1.0 - 1e-12)
    return float(np.log(p / (1.0 - p)))


def _logit(p) -> np.ndarray:
    """The log-odds of probabilities, kept finite."""
    p = np.array(p, dtype=float)  # a copy, clipped in place
    np.maximum(p, 1e-12, out=p)
    np.minimum(p, 1.0 - 1e-12, out=p)
    return np.log(p / (1.0 - p))


class _SeenSets:
    """Distinct label sets (tuples of label positions), the least recently seen forgotten
    first beyond `capacity`, scored all at once: the sum of a weight per label over each
    set's run of labels in one flat buffer (`learners.sparse_rows.row_sums`)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._slots: collections.OrderedDict = collections.OrderedDict()  # set -> slot
        self._sets: list = []  # slot -> set
        # The labels of every slot, slot after slot; where each slot's labels start; 0 for a
        # slot in use, -inf for a forgotten one. Buffers with room to grow, used up to
        # _n_entries and len(_sets).
        self._flat = np.zeros(64, dtype=np.int64)
        self._indptr = np.zeros(65, dtype=np.int64)
        self._forgotten = np.zeros(64)
        self._n_entries = 0
        self._built = 0  # slots in the buffers
        self._dropped: list = []  # slots forgotten since the buffers were last updated
        self._top = -1  # the largest label of any set kept

    def __setstate__(self, state):
        # Pickled when a sparse matrix of the sets could be kept beside the buffers.
        state.pop("_matrix", None)
        state.pop("_unchanged", None)
        self.__dict__.update(state)

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, labels: tuple) -> bool:
        return labels in self._slots

    def add(self, labels: tuple[int, ...]) -> None:
        if labels in self._slots:
            self._slots.move_to_end(labels)
            return
        self._slots[labels] = len(self._sets)
        self._sets.append(labels)
        self._top = max(self._top, max(labels, default=-1))
        if len(self._slots) > self.capacity:
            self._dropped.append(self._slots.popitem(last=False)[1])

    def best(self, weights: np.ndarray) -> tuple[int, ...]:
        """The set whose labels' weights have the largest sum (a label beyond `weights`
        counts as -inf: a set with a label the caller does not know is never chosen)."""
        return self.at(int(np.argmax(self.scores(weights))))

    def at(self, slot: int) -> tuple[int, ...]:
        """The set in this slot (of `scores`)."""
        return self._sets[slot]

    def sizes(self) -> np.ndarray:
        """The number of labels of each slot's set (as of the last `scores`)."""
        indptr = self._indptr
        n = len(self._sets)
        return indptr[1 : n + 1] - indptr[:n]  # (np.diff costs three times as much)

    def scores(self, weights: np.ndarray) -> np.ndarray:
        """The sum of the weights of each slot's labels (-inf for a forgotten slot, or one
        with a label beyond `weights`)."""
        self._build()
        if self._top >= len(weights):
            weights = np.append(weights, np.full(self._top + 1 - len(weights), -np.inf))
        n, k = len(self._sets), self._n_entries
        indptr = self._indptr[: n + 1]
        return row_sums(indptr, self._flat[:k], weights) + self._forgotten[:n]

    def _build(self) -> None:
        if len(self._sets) > 2 * len(self._slots):  # mostly forgotten slots: start again
            live = list(self._slots)
            self._slots = collections.OrderedDict((s, i) for i, s in enumerate(live))
            self._sets = live
            self._n_entries = self._built = 0
            self._dropped = []
        new = self._sets[self._built :]
        if len(new) == 1:  # the usual case, without the array calls
            labels, k, slot = new[0], self._n_entries, self._built
            self._reserve(k + len(labels), slot + 1)
            self._flat[k : k + len(labels)] = labels
            self._indptr[slot + 1] = k + len(labels)
            self._forgotten[slot] = 0.0
            self._n_entries, self._built = k + len(labels), slot + 1
        elif new:
            lengths = [len(s) for s in new]
            k, added = self._n_entries, sum(lengths)
            n = self._built + len(new)
            self._reserve(k + added, n)
            self._flat[k : k + added] = [label for s in new for label in s]
            np.cumsum(lengths, out=self._indptr[self._built + 1 : n + 1])
            self._indptr[self._built + 1 : n + 1] += k
            self._forgotten[self._built : n] = 0.0
            self._n_entries, self._built = k + added, n
        if self._dropped:
            self._forgotten[self._dropped] = -np.inf
            self._dropped = []

    def _reserve(self, entries: int, slots: int) -> None:
        """Room in the buffers for this many entries and slots (doubling as they grow)."""
        if entries > len(self._flat):
            size = max(entries, 2 * len(self._flat))
            grown = np.zeros(size, dtype=np.int64)
            grown[: len(self._flat)] = self._flat
            self._flat = grown
        if slots > len(self._forgotten):
            size = max(slots, 2 * len(self._forgotten))
            forgotten = np.zeros(size)
            forgotten[: len(self._forgotten)] = self._forgotten
            indptr = np.zeros(size + 1, dtype=np.int64)
            indptr[: len(self._indptr)] = self._indptr
            self._forgotten, self._indptr = forgotten, indptr
