"""The river plumbing of learners that work on encoded instances (`FeatureIndex`).

A learner that implements `learn_encoded(v, y)` and `predict_proba_vector(v)` on an
`EncodedInstance` gets from `EncodedLearner` the river methods on dicts (`learn_one`,
`predict_proba_one`, `predict_one`), the mini-batch methods on DataFrames or arrays, and the
registration of the labels it is taught. A caller driving many learners (IHOMER) encodes each
instance once and calls the encoded methods of each.
"""

from __future__ import annotations

import math

import numpy as np

from ._answers import label_sets
from .features import EncodedInstance, FeatureIndex

__all__ = ["EncodedLearner", "label_rows", "rows"]


class EncodedLearner:
    """Mixin: river's multi-label interface on top of the encoded one.

    The learner keeps `_index` (its `FeatureIndex`), `_labels` (the labels it knows, in order)
    and `_label_index` (label -> position); `_reset_encoding` creates them.
    """

    def _reset_encoding(self):
        self._index = FeatureIndex()
        self._labels: list = []
        self._label_index: dict = {}
        self._label_keys: tuple | None = None  # fast path for dicts y with the same keys
        self._label_cols: np.ndarray | None = None
        self._forget_last()

    def _forget_last(self):
        self._last_x = self._last_x_copy = self._last_v = None

    @property
    def labels(self) -> list:
        """The labels known to the learner, in the order of its probability vectors."""
        return list(self._labels)

    @property
    def feature_index(self) -> FeatureIndex:
        """The learner's own feature index (used by `learn_one` / `predict_one`)."""
        return self._index

    def _encode(self, x: dict, grow: bool = True) -> EncodedInstance:
        """Encode x; predictions (`grow=False`) never add features to the index."""
        if not isinstance(x, dict):
            raise TypeError(f"x must be a dict, got {type(x).__name__}")
        last = self._last_v
        if x is self._last_x and x == self._last_x_copy and (last.complete or not grow):
            return last
        v = self._index.encode(x, grow=grow)
        self._last_x, self._last_x_copy, self._last_v = x, dict(x), v
        return v

    def _positives(self, y: dict) -> list[int]:
        """Indices of the positive labels of y (sorted), registering new labels."""
        if not isinstance(y, dict):
            raise TypeError(f"y must be a dict of label -> bool, got {type(y).__name__}")
        if len(y) > 32:
            # Many labels: when the keys are those of the previous y, select with numpy.
            keys = tuple(y)
            if keys == self._label_keys:
                on = np.fromiter(y.values(), dtype=bool, count=len(keys))
                return sorted(self._label_cols[on].tolist())
        index = self._label_index
        positives = []
        new: dict = {}
        for label, on in y.items():
            i = index.get(label)
            if i is None:
                i = new[label] = len(self._labels) + len(new)
            if on:
                positives.append(i)
        for label in new:
            index[label] = len(self._labels)
            self._labels.append(label)
        if len(y) > 32:
            self._label_keys = tuple(y)
            self._label_cols = np.fromiter((index[k] for k in y), dtype=np.int64, count=len(y))
        positives.sort()
        return positives

    def predict_proba_encoded(self, v: EncodedInstance) -> dict:
        """P(label is True) for every known label, for an instance encoded by the caller."""
        if not self._labels:
            return {}
        return dict(zip(self._labels, self.predict_proba_vector(v).tolist()))

    def predict_encoded(self, v: EncodedInstance) -> dict:
        """The predicted label set (label -> bool) for an instance encoded by the caller."""
        if not self._labels:
            return {}
        return label_sets(self)(self._labels, self.predict_proba_vector(v) > 0.5)

    def predict_proba_one(self, x: dict, **kwargs) -> dict:
        if not self._labels:
            return {}
        proba = self.predict_proba_vector(self._encode(x, grow=False)).tolist()
        return {label: {False: 1.0 - p, True: p} for label, p in zip(self._labels, proba)}

    def predict_one(self, x: dict, **kwargs) -> dict:
        if not self._labels:
            return {}
        return self.predict_encoded(self._encode(x, grow=False))

    def learn_one(self, x: dict, y: dict) -> None:
        self.learn_encoded(self._encode(x), y)

    def learn_many(self, X, Y) -> None:
        """Learn the rows of `X` in order, with the labels in the rows of `Y`.

        `X` is a pandas DataFrame (columns are feature names; NaN means missing, i.e. 0) or a
        2-d numpy array (features named 0, 1, ...); `Y` is a DataFrame of booleans (columns
        are labels) or a 2-d array (labels named 0, 1, ...). Same as `learn_one` on each row.
        """
        xs, ys = rows(X), label_rows(Y)
        if len(xs) != len(ys):
            raise ValueError(f"X has {len(xs)} rows but Y has {len(ys)}")
        for x, y in zip(xs, ys):
            self.learn_one(x, y)

    def predict_proba_many(self, X):
        """P(True) of every known label for each row of `X`, as a DataFrame (rows of `X`)."""
        import pandas as pd

        proba = [self.predict_proba_encoded(self._encode(x, grow=False)) for x in rows(X)]
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(proba, index=index, columns=self.labels, dtype=float)

    def predict_many(self, X):
        """The predicted label sets of the rows of `X`, as a DataFrame of booleans."""
        return self.predict_proba_many(X) > 0.5


def _table(X, name: str) -> tuple[list, np.ndarray]:
    """Column names and values of a DataFrame, or of a 2-d array (columns named 0, 1, ...)."""
    if hasattr(X, "to_dict") and hasattr(X, "columns"):
        return list(X.columns), X.to_numpy()
    values = np.asarray(X)
    if values.ndim != 2:
        raise ValueError(f"{name} must be 2-d, got shape {values.shape}")
    return list(range(values.shape[1])), values


def rows(X) -> list[dict]:
    """The rows of a DataFrame or 2-d array as dicts (NaN left out: missing means 0)."""
    names, values = _table(X, "X")
    out = []
    for i, row in enumerate(values.tolist()):
        x = {k: v for k, v in zip(names, row) if v is not None and v == v}
        for k, v in x.items():  # check everything before learning anything
            if not isinstance(v, str) and not _finite(v):
                raise ValueError(f"row {i}, feature {k!r}: {v!r} is not a finite number")
        out.append(x)
    return out


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def label_rows(Y) -> list[dict]:
    """The rows of a DataFrame or 2-d array of booleans as label dicts."""
    names, values = _table(Y, "Y")
    return [dict(zip(names, map(bool, row))) for row in values.tolist()]
