"""Online standardisation of the inputs of a leaf, keeping sparse inputs sparse."""

from __future__ import annotations

import numpy as np

from ._arrays import grown as _grown

__all__ = ["Standardiser"]


class Standardiser:
    """Online standardisation that keeps sparse inputs sparse.

    Features that are non-zero in at least half of the instances ("dense") are centred and
    divided by their standard deviation; the others are only divided by their root mean square,
    so their zeros stay zeros. Values are clipped to [-clip, clip]. The statistics are updated
    in batches (`update`), and the transform is the one of the last batch, so that it does not
    change between the prediction and the learning of an instance.

    Parameters
    ----------
    n_features
        Initial number of features.
    clip
        Bound of the standardised values.

    """

    def __init__(self, n_features: int, clip: float = 3.0):
        d = max(n_features, 1)
        self.clip = clip
        self.n = 0.0
        self.nnz = np.zeros(d)
        self.s1 = np.zeros(d)
        self.s2 = np.zeros(d)
        self.shift = np.zeros(d)
        self.scale = np.ones(d)
        self.zero = np.zeros(d)  # standardised value of a zero
        self.is_centred = np.zeros(d, dtype=bool)
        self.centred = np.zeros(0, dtype=np.int64)

    @property
    def width(self) -> int:
        return len(self.nnz)

    def grow(self, n_features: int):
        d = len(self.nnz)
        if n_features > d:
            d = max(n_features, 2 * d)
            for name in ("nnz", "s1", "s2", "shift", "zero"):
                setattr(self, name, _grown(getattr(self, name), (d,)))
            self.scale = _grown(self.scale, (d,), 1.0)
            self.is_centred = _grown(self.is_centred, (d,), False)

    def copy(self) -> Standardiser:
        new = Standardiser.__new__(Standardiser)
        new.__dict__.update(
            {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}
        )
        return new

    def update(self, rows: list[tuple[np.ndarray, np.ndarray, bool]]):
        """Add instances given as (columns, values, full) and refresh the transform."""
        d = len(self.nnz)
        self.n += len(rows)
        if all(r[2] for r in rows):
            m = min(max(len(r[0]) for r in rows), d)
            x = np.zeros((len(rows), m))
            for i, r in enumerate(rows):
                k = min(len(r[1]), m)
                x[i, :k] = r[1][:k]
            self.nnz[:m] += np.count_nonzero(x, axis=0)
            self.s1[:m] += x.sum(axis=0)
            self.s2[:m] += (x * x).sum(axis=0)
        else:
            cols = np.concatenate([r[0] for r in rows])
            vals = np.concatenate([r[1] for r in rows])
            keep = cols < d
            cols, vals = cols[keep], vals[keep]
            np.add.at(self.nnz, cols, 1.0)
            np.add.at(self.s1, cols, vals)
            np.add.at(self.s2, cols, vals * vals)
        n = self.n
        mean = self.s1 / n
        centred = self.nnz >= 0.5 * n
        var = np.where(centred, self.s2 / n - mean * mean, self.s2 / n)
        self.shift = np.where(centred, mean, 0.0)
        self.scale = np.where(self.nnz > 0, 1.0 / np.sqrt(np.maximum(var, 0.0) + 1e-12), 1.0)
        self.is_centred = centred
        self.centred = np.flatnonzero(centred)
        self.zero = np.where(centred, np.clip(-mean * self.scale, -self.clip, self.clip), 0.0)

    def transform(self, cols: np.ndarray, vals: np.ndarray, full: bool) -> tuple:
        """The standardised instance: (columns (sorted), values, whether columns are 0..n-1).

        `full` says that `cols` are 0, 1, ..., len(cols) - 1, which avoids gathers.
        """
        d = len(self.nnz)
        n = len(cols)
        if full:
            if n > d:
                cols, vals, n = cols[:d], vals[:d], d
            z = (vals - self.shift[:n]) * self.scale[:n]
        else:
            if n and cols[-1] >= d:
                keep = cols < d
                cols, vals = cols[keep], vals[keep]
            z = (vals - self.shift[cols]) * self.scale[cols]
        c = self.clip
        np.minimum(np.maximum(z, -c, out=z), c, out=z)
        centred = self.centred
        if len(centred):
            if full:
                missing = centred[-1] >= n
            else:
                missing = np.count_nonzero(self.is_centred[cols]) < len(centred)
            if missing:
                union = np.union1d(cols, centred)
                values = self.zero[union]
                values[np.searchsorted(union, cols)] = z
                return union, values, int(union[-1]) == len(union) - 1
        return cols, z, full
