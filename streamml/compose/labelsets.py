"""Decoding into the most probable label set among those seen before."""

from __future__ import annotations

import collections

import numpy as np
from river import base
from scipy import sparse

__all__ = ["LabelSetDecoder", "SeenLabelSets"]


class SeenLabelSets(base.Wrapper, base.MultiLabelClassifier):
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
    answer; otherwise with that answer.

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
    >>> plain = IHOMER(seed=42, seen_sets=None)  # IHOMER decodes by default: not here
    >>> for model in (plain, SeenLabelSets(plain.clone())):
    ...     r = prequential(model, datasets.Yeast().take(1000), progress=False)
    ...     print(f"subset {r.subset_accuracy:.3f}, micro-F1 {r.micro_f1:.3f}")
    subset 0.136, micro-F1 0.601
    subset 0.163, micro-F1 0.602

    References
    ----------
    [^1]: Read, J., Pfahringer, B. and Holmes, G. (2008). Multi-label classification using
    ensembles of pruned sets. IEEE International Conference on Data Mining, pp. 995-1000.

    """

    def __init__(
        self, classifier: base.MultiLabelClassifier, max_sets: int = 5000, decay: float = 0.01
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

    @property
    def _wrapped_model(self):
        return self.classifier

    @classmethod
    def _unit_test_params(cls):
        from streamml import IHOMER

        yield {"classifier": IHOMER(**next(iter(IHOMER._unit_test_params())))}
        yield {"classifier": IHOMER(seed=1), "max_sets": 3, "decay": 0.5}

    @property
    def decoding(self) -> bool:
        """Whether the decoded set answers now (it has been more often right lately)."""
        return self._decoder.decoding

    def _answers(self, x, **kwargs) -> tuple[dict, tuple[int, ...] | None]:
        """The wrapped classifier's answer, and the best seen set (positions; None when no
        set was seen)."""
        answer = self.classifier.predict_one(x, **kwargs)
        if not self._decoder.n_sets:
            return answer, None
        proba = self.classifier.predict_proba_one(x, **kwargs)
        p = np.full(len(self._names), 0.5)
        for label, dist in proba.items():
            i = self._index.get(label)
            if i is not None:
                p[i] = dist.get(True, 0.0)
        return answer, self._decoder.best(p)

    def _decoded(self, answer: dict, best: tuple[int, ...]) -> dict:
        """The best seen set as an answer over the labels of the wrapped one and the known."""
        out = dict.fromkeys(answer, False)
        out.update(dict.fromkeys(self._names, False))
        for i in best:
            out[self._names[i]] = True
        return out

    def predict_proba_one(self, x, **kwargs):
        return self.classifier.predict_proba_one(x, **kwargs)

    def predict_one(self, x, **kwargs):
        answer, best = self._answers(x, **kwargs)
        if best is None or not self.decoding:
            return answer
        return self._decoded(answer, best)

    def learn_one(self, x, y, **kwargs):
        answer, best = self._answers(x)  # before learning, as they were (or would be) given
        for label in y:
            if label not in self._index:
                self._index[label] = len(self._names)
                self._names.append(label)
        truth = tuple(sorted(self._index[label] for label, on in y.items() if on))
        own = tuple(sorted(self._index.get(k, -1) for k, on in answer.items() if on))
        self._decoder.learn(own, best, truth)
        self.classifier.learn_one(x, y, **kwargs)


class LabelSetDecoder:
    """The label sets seen so far, the most probable of them given marginal probabilities,
    and whether answering with it has paid lately.

    Labels are positions (ints) in the caller's order. A set is scored by the sum of the
    log-odds of its labels (its probability if the labels were independent, up to a constant
    of the instance); the best of the `max_sets` most recently seen distinct sets is the
    decoded answer. The caller's own answer and the decoded one are both scored on every
    instance by their recent subset 0/1 loss (weight `decay` on the latest); `decoding` says
    which has the smaller. `SeenLabelSets` wraps a classifier with one; `IHOMER` holds one
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
        self._loss = [0.0, 0.0]  # recent subset 0/1 loss: the caller's answer, the decoded one

    @property
    def n_sets(self) -> int:
        """Distinct label sets kept."""
        return len(self._sets)

    @property
    def decoding(self) -> bool:
        """Whether the decoded set has the smaller recent loss (ties: the caller's answer)."""
        return self._loss[1] < self._loss[0]

    def best(self, proba: np.ndarray, mode: tuple[int, ...] | None = None):
        """The seen set of largest probability under these marginals (P(True) of each label
        known to the caller), or None if no set was seen. `mode`: the labels whose
        probability exceeds 0.5, when the caller has it; if it was seen, it is the best."""
        if not len(self._sets):
            return None
        if mode is not None and mode in self._sets:
            return mode
        p = np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0 - 1e-12)
        return self._sets.best(np.log(p) - np.log1p(-p))

    def learn(self, own: tuple, best: tuple | None, truth: tuple) -> None:
        """Score the caller's answer `own` and the decoded `best` (both given before learning;
        sorted positions) against `truth`, then remember `truth`."""
        if best is not None:
            loss, a = self._loss, self.decay
            loss[0] += a * (float(own != truth) - loss[0])
            loss[1] += a * (float(tuple(sorted(best)) != truth) - loss[1])
        self._sets.add(truth)


class _SeenSets:
    """Distinct label sets (tuples of label positions), the least recently seen forgotten
    first beyond `capacity`, scored all at once: the sum of a weight per label, as the product
    of a sparse sets x labels matrix with the weights."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._slots: collections.OrderedDict = collections.OrderedDict()  # set -> slot
        self._sets: list = []  # slot -> set
        self._flat = np.zeros(0, dtype=np.int64)  # labels of every slot, slot after slot
        self._indptr = np.zeros(1, dtype=np.int64)  # where each slot's labels start in _flat
        self._forgotten = np.zeros(0)  # 0 for a slot in use, -inf for a forgotten one
        self._pending: list = []  # slots added since the arrays were last built
        self._dropped: list = []  # slots forgotten since then
        self._top = -1  # the largest label of any set kept
        self._matrix = None  # the sets x labels matrix of the arrays, once built

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_matrix"] = None  # rebuilt from the arrays
        return state

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, labels: tuple) -> bool:
        return labels in self._slots

    def add(self, labels: tuple[int, ...]) -> None:
        if labels in self._slots:
            self._slots.move_to_end(labels)
            return
        self._slots[labels] = len(self._sets)
        self._top = max(self._top, max(labels, default=-1))
        self._pending.append(len(self._sets))
        self._sets.append(labels)
        if len(self._slots) > self.capacity:
            self._dropped.append(self._slots.popitem(last=False)[1])

    def best(self, weights: np.ndarray) -> tuple[int, ...]:
        """The set whose labels' weights have the largest sum (a label beyond `weights`
        counts as -inf: a set with a label the caller does not know is never chosen)."""
        self._build()
        if self._top >= len(weights):
            weights = np.append(weights, np.full(self._top + 1 - len(weights), -np.inf))
        matrix = self._matrix
        if matrix is None or matrix.shape != (len(self._sets), len(weights)):
            data = np.ones(len(self._flat))
            shape = (len(self._sets), len(weights))
            matrix = self._matrix = sparse.csr_array((data, self._flat, self._indptr), shape)
        scores = matrix @ weights + self._forgotten
        return self._sets[int(np.argmax(scores))]

    def _build(self) -> None:
        if len(self._sets) > 2 * len(self._slots):  # mostly forgotten slots: start again
            live = list(self._slots)
            self._slots = collections.OrderedDict((s, i) for i, s in enumerate(live))
            self._sets = live
            self._flat = np.zeros(0, dtype=np.int64)
            self._indptr = np.zeros(1, dtype=np.int64)
            self._forgotten = np.zeros(0)
            self._pending = list(range(len(live)))
            self._dropped = []
        if self._pending:
            sets = [self._sets[i] for i in self._pending]
            flat = [label for s in sets for label in s]
            ends = self._indptr[-1] + np.cumsum([len(s) for s in sets])
            self._flat = np.concatenate([self._flat, np.asarray(flat, dtype=np.int64)])
            self._indptr = np.concatenate([self._indptr, ends.astype(np.int64)])
            self._forgotten = np.append(self._forgotten, np.zeros(len(sets)))
            self._pending = []
            self._matrix = None
        if self._dropped:
            self._forgotten[self._dropped] = -np.inf
            self._dropped = []
