"""Feature index: turns river's `dict` instances into sparse numpy vectors, once per instance.

One `FeatureIndex` can be shared by many learners: the caller encodes each instance once and
hands the same `EncodedInstance` to every learner, which only reads it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["EncodedInstance", "FeatureIndex"]

_NUMERIC_TYPES = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.int32})


class EncodedInstance:
    """One instance as the non-zero entries of a vector over the columns of a `FeatureIndex`.

    Parameters
    ----------
    indices
        Columns of the non-zero entries (int64, sorted ascending, no duplicates).
    values
        Their values (float64, non-zero and finite).
    width
        Number of columns of the index when the instance was encoded. Every index is below it.
        A consumer whose arrays are wider treats the missing columns as zeros; a consumer whose
        arrays are narrower grows them.
    full
        Whether `indices` are exactly 0, 1, ..., nnz - 1 (a dense instance), which lets
        consumers slice their arrays instead of gathering columns. Computed if not given.
    complete
        False when the instance had non-zero features the index does not know and was encoded
        without adding them (`FeatureIndex.encode(x, grow=False)`, for predictions).

    """

    __slots__ = ("indices", "values", "width", "full", "complete", "_dense")

    def __init__(
        self,
        indices: np.ndarray,
        values: np.ndarray,
        width: int,
        full: bool | None = None,
        complete: bool = True,
    ):
        self.indices = indices
        self.values = values
        self.width = width
        self.complete = complete
        if full is None:
            n = len(indices)
            full = n == 0 or int(indices[-1]) == n - 1
        self.full = full
        self._dense: np.ndarray | None = None

    def dense(self) -> np.ndarray:
        """The dense vector of length `width`, computed on first use and cached (do not modify)."""
        if self._dense is None:
            d = np.zeros(self.width)
            d[self.indices] = self.values
            self._dense = d
        return self._dense

    @property
    def nnz(self) -> int:
        """Number of non-zero entries."""
        return len(self.indices)

    def __getstate__(self):
        return (self.indices, self.values, self.width, self.full, self.complete)

    def __setstate__(self, state):
        self.indices, self.values, self.width, self.full, self.complete = state
        self._dense = None

    def __repr__(self) -> str:
        return f"EncodedInstance(nnz={self.nnz}, width={self.width})"


class FeatureIndex:
    """Map feature names to column indices, growing as new features appear.

    Encoding rules:

    - A numeric value (`int`, `float`, `bool`, numpy scalars) goes to the column of its name.
    - A string is a nominal value: it becomes the column `"name=value"` with value 1.0
      (one-hot encoding; the other values of the same feature are 0).
    - A missing key, `None` and NaN all mean 0. This suits sparse data (text, tags) where an
      absent key is a zero; for dense data with truly unknown values it treats "unknown" as 0.
    - Zeros are not stored. A column is created the first time its feature is non-zero, so a
      stream gets the same columns whether its zeros are written out or left out; the new
      features of one instance get their columns in the order of their names, so the order of
      the keys of a dict does not matter either.

    Infinite values, values that are neither numbers nor strings, and a column given twice (a
    numeric key `"name=value"` beside the nominal value of `name`) raise a `ValueError`, and the
    index is left unchanged.

    Instances whose keys come in the same order as the previous instance (dense streams) take a
    fast path; the cost of encoding otherwise follows the number of keys.

    Examples
    --------

    >>> from streamml.learners import FeatureIndex
    >>> index = FeatureIndex()
    >>> v = index.encode({"a": 1.5, "colour": "red", "b": 0})
    >>> v.indices.tolist(), v.values.tolist(), v.width
    ([0, 1], [1.5, 1.0], 2)
    >>> index.names
    ['a', 'colour=red']
    >>> index.encode({"b": 2.0, "colour": "blue"}).dense().tolist()
    [0.0, 0.0, 2.0, 1.0]

    """

    def __init__(self):
        self._index: dict = {}
        self.names: list = []
        # Fast path for dense streams: the keys of the last instance and their columns.
        self._keys: tuple | None = None
        self._cols: np.ndarray | None = None  # sorted columns (-1: never non-zero)
        self._perm: np.ndarray | None = None  # key positions in column order (None: as is)
        self._full = False  # whether the cached columns are 0, 1, ..., n - 1

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name) -> bool:
        return name in self._index

    def column(self, name) -> int:
        """The column of a feature name (a numeric feature, or `"name=value"` for a nominal)."""
        return self._index[name]

    @staticmethod
    def nominal_column(name, value: str) -> str:
        """The name of the one-hot column of a nominal (string) value of feature `name`."""
        return f"{name}={value}"

    def encode(self, x: dict, grow: bool = True) -> EncodedInstance:
        """Encode one instance, adding the columns of features never seen non-zero before.

        With `grow=False` (predictions), unknown features are left out instead and the index
        does not change: what a model learns must not depend on what it was asked to predict.
        """
        keys = tuple(x)
        if keys == self._keys and set(map(type, x.values())) <= _NUMERIC_TYPES:
            vals = np.fromiter(x.values(), dtype=float, count=len(keys))
            if self._perm is not None:
                vals = vals[self._perm]
            if math.isfinite(vals.sum()):
                if self._full and np.count_nonzero(vals) == len(vals):
                    return EncodedInstance(self._cols, vals, len(self.names), True)
                mask = vals != 0
                cols = self._cols[mask]
                if len(cols) == 0 or cols[0] >= 0:
                    return EncodedInstance(cols, vals[mask], len(self.names))
        return self._encode_slow(x, keys, grow)

    def _encode_slow(self, x: dict, keys: tuple, grow: bool = True) -> EncodedInstance:
        index = self._index
        cols: list[int] = []
        vals: list[float] = []
        new: dict = {}
        numeric = True
        complete = True
        for name, value in x.items():
            if isinstance(value, str):
                numeric = False
                column_name = self.nominal_column(name, value)
                value = 1.0
            elif value is None:
                continue
            else:
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    raise ValueError(
                        f"feature {name!r} has value {value!r}: expected a number or a string"
                    ) from None
                if value == 0.0 or value != value:
                    continue
                if math.isinf(value):
                    raise ValueError(f"feature {name!r} is infinite")
                column_name = name
            col = index.get(column_name)
            if col is None and not grow:
                complete = False
                continue
            if col is None:
                col = new.get(column_name)
                if col is None:
                    col = new[column_name] = len(self.names) + len(new)
            cols.append(col)
            vals.append(value)
        if len(set(cols)) < len(cols):
            names = {**index, **new}
            twice = next(name for name, col in names.items() if cols.count(col) > 1)
            raise ValueError(
                f"feature {twice!r} is given twice (as a number and as the value of a nominal)"
            )
        if new:
            # Columns in the order of the names, whatever the order of the keys.
            first = len(self.names)
            names = sorted(new, key=lambda name: (type(name).__name__, str(name)))
            remap = {new[name]: first + i for i, name in enumerate(names)}
            cols = [remap.get(col, col) for col in cols]
            for name in names:
                index[name] = remap[new[name]]
                self.names.append(name)
        if numeric:
            all_cols = np.fromiter((index.get(k, -1) for k in keys), dtype=np.int64)
            perm = np.argsort(all_cols, kind="stable")
            self._keys, self._cols = keys, all_cols[perm]
            self._perm = None if np.array_equal(perm, np.arange(len(perm))) else perm
            self._full = bool(np.array_equal(self._cols, np.arange(len(perm))))
        else:
            self._keys = self._cols = self._perm = None
        cols_array = np.array(cols, dtype=np.int64)
        order = np.argsort(cols_array)
        return EncodedInstance(
            cols_array[order],
            np.array(vals, dtype=float)[order],
            len(self.names),
            complete=complete,
        )
