"""Incremental multi-label metrics over a whole stream or over a sliding window."""

from __future__ import annotations

import collections
import collections.abc

__all__ = ["METRICS", "MultiLabelMetrics", "RollingMultiLabelMetrics"]

#: The metric names, in the order they are reported.
METRICS = ("subset_accuracy", "hamming_loss", "micro_f1", "macro_f1", "example_f1")


def _positives(y, name: str) -> frozenset:
    if not isinstance(y, collections.abc.Mapping):
        raise TypeError(f"{name} must be a dict of label -> bool, got {type(y).__name__}")
    return frozenset(label for label, on in y.items() if on)


class MultiLabelMetrics:
    """Subset accuracy, Hamming loss, micro, macro and example-based F1, updated one instance
    at a time.

    With y and ŷ seen as 0/1 matrices of n instances by L labels:

    - subset accuracy: mean over instances of [ŷ == y on every label];
    - Hamming loss: mean over instances and labels of [ŷ != y];
    - micro F1: 2 TP / (2 TP + FP + FN), counts summed over all labels (0 if the denominator
      is 0);
    - macro F1: mean over labels of 2 TP / (2 TP + FP + FN), 0 for a label whose denominator
      is 0 (never true, never predicted), as river and scikit-learn with `zero_division=0`;
    - example-based F1: mean over instances of 2 |y ∩ ŷ| / (|y| + |ŷ|). **When both sets are
      empty the instance scores `empty_f1`, 1 by default** (a correct prediction of "no label";
      scikit-learn's `f1_score(average="samples", zero_division=1)`). river and MOA score it 0:
      pass `empty_f1=0`, or read `example_f1_empty0`, which always uses 0.

    The label set L is every label that has been a key of `y_true`, plus every label predicted
    positive. A label first seen at instance t counts as False (in truth and in prediction)
    in the instances before t, so emerging labels are handled as columns of zeros; a label
    missing from a prediction counts as predicted False. With no instance, every metric is 0.

    Parameters
    ----------
    empty_f1
        Score of an instance whose true and predicted label sets are both empty in the
        example-based F1: 1 (default) or 0.

    Examples
    --------

    >>> from streamml.evaluate import MultiLabelMetrics

    >>> metrics = MultiLabelMetrics()
    >>> metrics.update({"a": True, "b": False}, {"a": True, "b": True})
    >>> metrics.update({"a": False, "b": False}, {"a": False})
    >>> for name, value in metrics.get().items():
    ...     print(f"{name}: {value:.3f}")
    subset_accuracy: 0.500
    hamming_loss: 0.250
    micro_f1: 0.667
    macro_f1: 0.500
    example_f1: 0.833
    >>> print(f"{metrics.example_f1_empty0:.3f}")
    0.333

    """

    def __init__(self, empty_f1: float = 1.0):
        if empty_f1 not in (0, 1):
            raise ValueError(f"empty_f1 must be 0 or 1, got {empty_f1!r}")
        self.empty_f1 = empty_f1
        self.n = 0
        self._labels: dict = {}  # label -> None, in order of first appearance
        self._exact = 0
        self._errors = 0
        self._tp: collections.Counter = collections.Counter()
        self._fp: collections.Counter = collections.Counter()
        self._fn: collections.Counter = collections.Counter()
        self._example_f1 = 0.0  # sum over instances where one of the sets is not empty
        self._n_empty = 0  # instances where both sets are empty

    # --- updating -------------------------------------------------------------------------

    def update(self, y_true: dict, y_pred: dict) -> None:
        """Add one instance: its true labels and the prediction (label -> bool dicts)."""
        self._add(self._score(y_true, y_pred))

    def _score(self, y_true, y_pred) -> tuple:
        """Everything an instance contributes, computed before any state changes."""
        truth = _positives(y_true, "y_true")
        predicted = _positives(y_pred, "y_pred")
        new = [label for label in y_true if label not in self._labels]
        new += [label for label in predicted if label not in self._labels and label not in new]
        tp = truth & predicted
        fp = predicted - truth
        fn = truth - predicted
        size = len(truth) + len(predicted)
        f1 = 2 * len(tp) / size if size else None
        return new, not fp and not fn, len(fp) + len(fn), tp, fp, fn, f1

    def _add(self, score: tuple) -> None:
        new, exact, errors, tp, fp, fn, f1 = score
        for label in new:
            self._labels[label] = None
        self.n += 1
        self._exact += exact
        self._errors += errors
        self._tp.update(tp)
        self._fp.update(fp)
        self._fn.update(fn)
        if f1 is None:
            self._n_empty += 1
        else:
            self._example_f1 += f1

    # --- reading ----------------------------------------------------------------------------

    @property
    def labels(self) -> list:
        """The labels seen so far, in order of first appearance."""
        return list(self._labels)

    @property
    def n_instances(self) -> int:
        """Number of instances the metrics are computed over."""
        return self.n

    @property
    def subset_accuracy(self) -> float:
        return self._exact / self.n_instances if self.n_instances else 0.0

    @property
    def hamming_loss(self) -> float:
        cells = self.n_instances * len(self._labels)
        return self._errors / cells if cells else 0.0

    @property
    def micro_f1(self) -> float:
        tp = sum(self._tp.values())
        denominator = 2 * tp + sum(self._fp.values()) + sum(self._fn.values())
        return 2 * tp / denominator if denominator else 0.0

    def per_label_f1(self) -> dict:
        """F1 of each label seen so far (0 where its denominator is 0)."""
        scores = {}
        for label in self._labels:
            tp = self._tp[label]
            denominator = 2 * tp + self._fp[label] + self._fn[label]
            scores[label] = 2 * tp / denominator if denominator else 0.0
        return scores

    @property
    def macro_f1(self) -> float:
        scores = self.per_label_f1()
        return sum(scores.values()) / len(scores) if scores else 0.0

    @property
    def example_f1(self) -> float:
        """Example-based F1, scoring two empty sets `empty_f1` (1 by default)."""
        n = self.n_instances
        return (self._example_f1 + self.empty_f1 * self._n_empty) / n if n else 0.0

    @property
    def example_f1_empty0(self) -> float:
        """Example-based F1 scoring two empty sets 0 (river's and MOA's convention)."""
        n = self.n_instances
        return self._example_f1 / n if n else 0.0

    def get(self) -> dict[str, float]:
        """The five metrics, by name (see `METRICS`)."""
        return {name: getattr(self, name) for name in METRICS}

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value:.4f}" for name, value in self.get().items())
        return f"{type(self).__name__}(n={self.n_instances}, {values})"


class RollingMultiLabelMetrics(MultiLabelMetrics):
    """The same metrics over the last `window` instances only.

    The label set is still every label seen since the start (a label absent from the window
    is a column of zeros in it), so the windowed numbers are the whole-stream definitions
    applied to the last `window` rows of the same matrices.

    Parameters
    ----------
    window
        Number of most recent instances the metrics are computed over.
    empty_f1
        Score of two empty label sets in the example-based F1: 1 (default) or 0.

    Examples
    --------

    >>> from streamml.evaluate import RollingMultiLabelMetrics

    >>> metrics = RollingMultiLabelMetrics(window=2)
    >>> for y_true, y_pred in [({"a": True}, {"a": False}), ({"a": True}, {"a": True}),
    ...                        ({"a": False}, {"a": False})]:
    ...     metrics.update(y_true, y_pred)
    >>> metrics.n, metrics.n_instances, metrics.subset_accuracy
    (3, 2, 1.0)

    """

    def __init__(self, window: int, empty_f1: float = 1.0):
        if not isinstance(window, int) or isinstance(window, bool) or window < 1:
            raise ValueError(f"window must be a positive int, got {window!r}")
        super().__init__(empty_f1=empty_f1)
        self.window = window
        self._recent: collections.deque = collections.deque()

    def update(self, y_true: dict, y_pred: dict) -> None:
        score = self._score(y_true, y_pred)
        self._add(score)
        self._recent.append(score)
        if len(self._recent) > self.window:
            self._remove(self._recent.popleft())

    def _remove(self, score: tuple) -> None:
        _, exact, errors, tp, fp, fn, f1 = score
        self._exact -= exact
        self._errors -= errors
        self._tp.subtract(tp)
        self._fp.subtract(fp)
        self._fn.subtract(fn)
        if f1 is None:
            self._n_empty -= 1
        else:
            self._example_f1 -= f1

    @property
    def n_instances(self) -> int:
        return len(self._recent)
