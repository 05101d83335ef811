"""Products of sparse rows with a wide weight matrix, reading only the rows they touch.

A leaf's logistic regressions hold one row of `bags x labels` weights per feature (on
delicious, 976 x 9,830 floats). An instance of a sparse stream has a few tens of non-zero
features, and a batch of them a few hundred: gathering those rows (`w[cols]`) copies them before
the product, and the update of a batch (`w[touched] -= z.T @ grad`) computes a dense product in
which most of `z` is zeros. Here both read each touched row once, in place.

The kernels are scipy's compiled products of a CSR matrix with a dense block or vector
(`scipy.sparse._sparsetools.csr_matvecs`, `csr_matvec` and `csc_matvecs`, private to scipy:
if a scipy release moves them, the same numbers come from numpy or scipy's public sparse
matrices, slower, and `tests/learners/test_sparse_rows.py` says so). `row_sums` serves the seen
label sets of `compose.LabelSetDecoder`, scored by the sum of their labels' weights at every
instance; `column_sums` the split statistics of a leaf (`learners.gaussian`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

try:
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - a scipy without the kernels: numpy does it
    _csr_matvec = _csr_matvecs = _csc_matvecs = None

__all__ = ["column_sums", "row_product", "row_sums", "subtract_products", "KERNEL"]

#: Columns of `w` from which the numpy path adds a product row by row (no gather and scatter).
_ROW_LOOP_FROM = 2048

#: Whether scipy's compiled kernels are used (False: numpy's gathers and dense products).
KERNEL = _csr_matvecs is not None and _csr_matvec is not None and _csc_matvecs is not None

_ones = np.ones(0)  # the unit weights of row_sums' entries, grown as needed


def row_product(cols: np.ndarray, values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """`values @ w[cols]`: one sparse row (its columns, in any order, and their values) times
    the rows of `w` that it names (an `IndexError` if one is not a row); the result has
    `w.shape[1]` entries, in `w`'s dtype.

    >>> w = np.arange(12, dtype=np.float32).reshape(4, 3)
    >>> row_product(np.array([1, 3]), np.array([1.0, 2.0], dtype=np.float32), w)
    array([21., 24., 27.], dtype=float32)

    """
    values = np.ascontiguousarray(values, dtype=w.dtype)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    _check_below(cols, w.shape[0], "column")
    if _csr_matvecs is None or not w.flags.c_contiguous:
        return values @ w[cols]
    out = np.zeros(w.shape[1], dtype=w.dtype)
    indptr = np.array([0, len(cols)], dtype=np.int64)
    _csr_matvecs(1, w.shape[0], w.shape[1], indptr, cols, values, w, out)
    return out


def _check_below(indices: np.ndarray, bound: int, what: str) -> None:
    """The kernels read and write where the indices say, unchecked: refuse any index outside
    [0, bound) before anything is read or written (numpy's route too, for the same answer)."""
    if len(indices) and (indices.min() < 0 or indices.max() >= bound):
        raise IndexError(f"a {what} index is out of range [0, {bound})")


def subtract_products(
    w: np.ndarray, rows: np.ndarray, instances: np.ndarray, values: np.ndarray, x: np.ndarray
) -> None:
    """`w[r] -= v * x[i]` for every entry `(r, i, v)` of `rows`, `instances` and `values`,
    in place: the product of a sparse `w.shape[0] x len(x)` matrix (entries at `(rows,
    instances)`, repeated entries adding up) with `x`, subtracted from `w`. A row not in `w`
    or an instance not in `x` is an `IndexError`, and `w` is left unchanged.

    >>> w = np.zeros((3, 2), dtype=np.float32)
    >>> x = np.array([[1.0, 2.0], [10.0, 20.0]], dtype=np.float32)
    >>> subtract_products(w, np.array([2, 0, 2]), np.array([0, 1, 1]),
    ...                   np.array([1.0, 1.0, 0.5], dtype=np.float32), x)
    >>> w
    array([[-10., -20.],
           [  0.,   0.],
           [ -6., -12.]], dtype=float32)

    """
    rows = np.asarray(rows, dtype=np.int64)
    instances = np.asarray(instances, dtype=np.int64)
    _check_below(rows, w.shape[0], "row")
    _check_below(instances, len(x), "instance")
    x = np.ascontiguousarray(x, dtype=w.dtype)
    negated = -np.asarray(values, dtype=w.dtype)
    if _csr_matvecs is None or not (w.flags.c_contiguous and w.flags.writeable):
        _subtract_dense(w, rows, instances, negated, x)
        return
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(w.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=w.shape[0]), out=indptr[1:])
    indices = np.ascontiguousarray(instances[order])
    _csr_matvecs(w.shape[0], len(x), w.shape[1], indptr, indices, negated[order], x, w)


def _subtract_dense(w, rows, instances, negated, x) -> None:
    """`subtract_products` with numpy: the touched rows' dense product, added to them."""
    touched, inverse = np.unique(rows, return_inverse=True)
    z = np.zeros((len(touched), len(x)), dtype=w.dtype)
    np.add.at(z, (inverse, instances), negated)
    step = z @ x
    if w.shape[1] >= _ROW_LOOP_FROM:
        # Wide rows: adding row by row avoids the fancy-indexed gather and scatter.
        for i, row in enumerate(touched.tolist()):
            w[row] += step[i]
    else:
        w[touched] += step


def row_sums(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each row r of a CSR pattern (`indptr`, `indices`, int64), the sum of `weights`
    over its indices `indices[indptr[r]:indptr[r + 1]]` (0 for an empty row).

    >>> row_sums(np.array([0, 2, 2, 3]), np.array([0, 2, 1]), np.array([1.0, 10.0, 100.0]))
    array([101.,   0.,  10.])

    """
    global _ones
    n = len(indptr) - 1
    if n <= 0:
        return np.zeros(0)
    k = int(indptr[-1])
    weights = np.ascontiguousarray(weights, dtype=float)
    if _csr_matvec is None:
        values = np.empty(k + 1)
        np.take(weights, indices[:k], out=values[:k])
        values[k] = 0.0  # keeps every start in range (empty rows at the end)
        starts = indptr[:n]
        sums = np.add.reduceat(values, starts)
        sums[starts == indptr[1:]] = 0.0  # an empty row: reduceat gives its start's entry
        return sums
    if len(_ones) < k:
        _ones = np.ones(max(k, 2 * len(_ones)))
    out = np.zeros(n)
    _csr_matvec(n, len(weights), indptr, indices, _ones, weights, out)
    return out


def column_sums(
    indptr: np.ndarray, indices: np.ndarray, member: np.ndarray, width: int, *values: np.ndarray
) -> tuple[np.ndarray, ...]:
    """`member.T @ X` for each of the sparse matrices X of `len(member)` rows and `width`
    columns whose row r has the entries `indices[indptr[r]:indptr[r + 1]]` (int64), each X
    with one of the arrays `values` at them (the pattern is checked once for all): for every
    column m of `member` and every column f, the sum over the rows r of
    `member[r, m] * X[r, f]`, added row after row in their order (so the same floats as
    through `scipy.sparse`). A column index outside [0, width) is an `IndexError`; an
    `indptr` that does not delimit `len(member)` rows within `indices`, or values not one per
    entry, a `ValueError`.

    >>> member = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> column_sums(np.array([0, 2, 3]), np.array([0, 2, 2]), member, 3, np.array([1.0, 2.0, 5.0]))
    (array([[1., 0., 7.],
           [0., 0., 5.]]),)

    """
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    _check_below(indices, width, "column")
    member = np.ascontiguousarray(member, dtype=float)
    n_rows, _ = member.shape
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    values = [np.ascontiguousarray(v, dtype=float) for v in values]
    if not (
        len(indptr) == n_rows + 1
        and indptr[0] == 0
        and indptr[-1] == len(indices)
        and all(len(v) == len(indices) for v in values)
        and (n_rows == 0 or (np.diff(indptr) >= 0).all())
    ):
        raise ValueError(f"indptr must delimit {n_rows} rows of the {len(indices)} entries")
    return tuple(_column_sums(indptr, indices, v, member, width) for v in values)


def _column_sums(indptr, indices, values, member, width: int) -> np.ndarray:
    """`column_sums` of one values array, the arrays checked."""
    n_rows, n_vecs = member.shape
    if _csc_matvecs is None:
        x = sparse.csr_matrix((values, indices, indptr), shape=(n_rows, width))
        return np.asarray((x.T @ member).T)
    out = np.zeros((width, n_vecs))
    # X.T is a CSC matrix with X's arrays: its product walks the rows of X in order.
    _csc_matvecs(width, n_rows, n_vecs, indptr, indices, values, member, out)
    return out.T
