"""Sparse rows times a wide weight matrix: scipy's kernel against numpy's products."""

from __future__ import annotations

import numpy as np
import pytest

from streamml.learners import sparse_rows
from streamml.learners.sparse_rows import column_sums, row_product, row_sums, subtract_products


def _case(seed: int, width: int, dtype=np.float32):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(30, width)).astype(dtype)
    x = rng.normal(size=(6, width)).astype(dtype)
    # Entries in any order, rows repeated within and across instances.
    rows = rng.integers(0, 30, size=40)
    instances = rng.integers(0, 6, size=40)
    values = rng.normal(size=40)
    return w, x, rows, instances, values


def _reference(w, rows, instances, values, x):
    out = w.astype(float)
    for r, i, v in zip(rows, instances, values):
        out[r] -= v * x[i].astype(float)
    return out


def test_the_kernel_is_where_this_scipy_keeps_it():
    # scipy.sparse._sparsetools is private: this notices if a scipy release moves it (the
    # models then fall back on numpy, slower on sparse streams).
    assert sparse_rows.KERNEL and sparse_rows._csr_matvecs is not None
    assert sparse_rows._csc_matvecs is not None


@pytest.mark.parametrize("kernel", [True, False])
@pytest.mark.parametrize("width", [7, 4096])  # numpy: gathered update, and row by row
def test_subtract_products_against_entry_by_entry(monkeypatch, kernel, width):
    if not kernel:
        monkeypatch.setattr(sparse_rows, "_csr_matvecs", None)
    w, x, rows, instances, values = _case(1, width)
    expected = _reference(w, rows, instances, values, x)
    before = w.copy()
    subtract_products(w, rows, instances, values, x)
    np.testing.assert_allclose(w, expected, rtol=1e-4, atol=1e-4)
    untouched = np.setdiff1d(np.arange(30), rows)
    np.testing.assert_array_equal(w[untouched], before[untouched])


def test_subtract_products_updates_a_view_in_place():
    # A matrix that is not contiguous (a view) cannot go through the kernel: numpy updates it
    # in place all the same, so the caller's matrix changes.
    w, x, rows, instances, values = _case(2, 16)
    big = np.zeros((30, 32), dtype=np.float32)
    big[:, ::2] = w
    view = big[:, ::2]
    expected = _reference(w, rows, instances, values, x)
    subtract_products(view, rows, instances, values, x)
    np.testing.assert_allclose(big[:, ::2], expected, rtol=1e-4, atol=1e-4)
    assert not big[:, 1::2].any()


def test_subtract_products_of_float64_weights_and_no_entries():
    w, x, rows, instances, values = _case(3, 5, dtype=np.float64)
    expected = _reference(w, rows, instances, values, x)
    subtract_products(w, rows, instances, values, x)
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    before = w.copy()
    empty = np.zeros(0, dtype=np.int64)
    subtract_products(w, empty, empty, np.zeros(0), x)
    np.testing.assert_array_equal(w, before)


@pytest.mark.parametrize("kernel", [True, False])
def test_row_product_reads_the_rows_it_names(monkeypatch, kernel):
    if not kernel:
        monkeypatch.setattr(sparse_rows, "_csr_matvecs", None)
    rng = np.random.default_rng(4)
    w = rng.normal(size=(50, 300)).astype(np.float32)
    cols = np.array([41, 3, 17, 0])  # in any order
    values = rng.normal(size=4)
    expected = sum(v * w[c].astype(float) for c, v in zip(cols, values))
    out = row_product(cols, values, w)
    assert out.dtype == np.float32 and out.shape == (300,)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(row_product(cols[:0], values[:0], w), np.zeros(300))


@pytest.mark.parametrize("kernel", [True, False])
def test_row_sums_against_a_loop(monkeypatch, kernel):
    if not kernel:
        monkeypatch.setattr(sparse_rows, "_csr_matvec", None)
    rng = np.random.default_rng(8)
    lengths = [3, 0, 1, 5, 0, 0, 2, 0]  # empty rows inside and at the end
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    indices = rng.integers(0, 10, size=indptr[-1]).astype(np.int64)
    weights = rng.normal(size=10)
    weights[7] = -np.inf  # a label the caller does not know
    expected = [sum(weights[indices[a:b]]) for a, b in zip(indptr[:-1], indptr[1:])]
    np.testing.assert_array_equal(row_sums(indptr, indices, weights), expected)
    # Entries past indptr[-1] (a buffer's spare room) are not read.
    spare = np.r_[indices, 7, 7]
    np.testing.assert_array_equal(row_sums(indptr, spare, weights), expected)
    assert row_sums(np.zeros(1, dtype=np.int64), indices[:0], weights).shape == (0,)


def _recording(monkeypatch, name):
    calls = []
    kernel = getattr(sparse_rows, name)

    def record(*args):
        calls.append(args)
        return kernel(*args)

    monkeypatch.setattr(sparse_rows, name, record)
    return calls


def test_contiguous_matrices_go_through_the_kernel_from_any_integer_inputs(monkeypatch):
    # Falling back on numpy gives the same numbers, only slower: the kernel must be taken
    # whenever it can be, whatever the integer and float types the caller passes.
    calls = _recording(monkeypatch, "_csr_matvecs")
    w, x, rows, instances, values = _case(5, 9)
    expected = _reference(w, rows, instances, values, x)
    subtract_products(w, rows.astype(np.int32), instances.astype(np.int32), values, x)
    np.testing.assert_allclose(w, expected, rtol=1e-4, atol=1e-4)
    cols = np.array([4, 1], dtype=np.int32)
    out = row_product(cols, [2.0, 3.0], w)
    np.testing.assert_allclose(out, 2.0 * w[4] + 3.0 * w[1], rtol=1e-5)
    assert len(calls) == 2


def test_views_and_read_only_matrices_are_left_to_numpy(monkeypatch):
    calls = _recording(monkeypatch, "_csr_matvecs")
    w, x, rows, instances, values = _case(6, 8)
    strided = np.zeros((30, 16), dtype=np.float32)[:, ::2]
    strided[:] = w
    np.testing.assert_allclose(row_product([3], [1.0], strided), w[3])
    locked = w.copy()
    locked.flags.writeable = False
    np.testing.assert_allclose(row_product([3], [1.0], locked), w[3])  # reading is fine
    assert len(calls) == 1
    with pytest.raises(ValueError, match="read-only"):
        subtract_products(locked, rows, instances, values, x)
    assert len(calls) == 1


def test_row_sums_grow_their_unit_weights_as_needed(monkeypatch):
    calls = _recording(monkeypatch, "_csr_matvec")
    monkeypatch.setattr(sparse_rows, "_ones", np.ones(2))
    indptr = np.array([0, 1, 11], dtype=np.int64)
    indices = np.arange(11, dtype=np.int64) % 4
    weights = [1, 2, 3, 4]  # any numbers
    np.testing.assert_array_equal(
        row_sums(indptr, indices, weights), [1.0, 2 + 3 + 4 + 1 + 2 + 3 + 4 + 1 + 2 + 3]
    )
    assert len(sparse_rows._ones) == 11 and len(calls) == 1
    np.testing.assert_array_equal(row_sums(indptr[:2], indices, weights), [1.0])  # one row
    assert len(sparse_rows._ones) == 11 and len(calls) == 2
    monkeypatch.setattr(sparse_rows, "_ones", np.ones(0))  # as at import
    np.testing.assert_array_equal(row_sums(indptr[:2], indices, weights), [1.0])
    assert len(sparse_rows._ones) == 1


@pytest.mark.parametrize("kernel", [True, False])
def test_indices_out_of_range_are_refused_before_anything_is_written(monkeypatch, kernel):
    # The kernel does not check its indices: a row past the matrix would be a write past its
    # memory. Both routes refuse it, as numpy's indexing refuses a row it does not have.
    if not kernel:
        monkeypatch.setattr(sparse_rows, "_csr_matvecs", None)
    w, x, rows, instances, values = _case(7, 4)
    before = w.copy()
    for bad_rows, bad_instances, what in [
        (np.r_[rows[:-1], 30], instances, "row"),
        (np.r_[rows[:-1], -1], instances, "row"),
        (rows, np.r_[instances[:-1], 6], "instance"),
    ]:
        with pytest.raises(IndexError, match=f"a {what} index is out of range"):
            subtract_products(w, bad_rows, bad_instances, values, x)
        np.testing.assert_array_equal(w, before)
    for cols in ([0, 30], [-1]):
        with pytest.raises(IndexError, match=r"a column index is out of range \[0, 30\)"):
            row_product(np.array(cols), np.ones(len(cols)), w)


def _rows(seed: int, n_rows: int, width: int):
    """A CSR batch (rows of sorted distinct columns, some empty) and a 0/1 membership."""
    rng = np.random.default_rng(seed)
    lens = rng.integers(0, width + 1, size=n_rows)
    lens[::7] = 0
    indices = np.concatenate(
        [np.sort(rng.choice(width, size=k, replace=False)) for k in lens]
    ).astype(np.int64)
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    values = rng.normal(size=len(indices)) * 10.0 ** rng.integers(-3, 4, size=len(indices))
    member = (rng.random((n_rows, 5)) < 0.4).astype(float)
    return indptr, indices, values, member


@pytest.mark.parametrize("kernel", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_column_sums_are_the_floats_of_scipys_product(monkeypatch, kernel, seed):
    # The same floats as the public product (rows added in their order), with the kernel or
    # without: split statistics, and so the trees' splits, do not depend on which runs.
    import scipy.sparse

    if not kernel:
        monkeypatch.setattr(sparse_rows, "_csc_matvecs", None)
    indptr, indices, values, member = _rows(seed, 300, 40)
    x = scipy.sparse.csr_matrix((values, indices, indptr), shape=(300, 40))
    expected = np.asarray((x.T @ member).T)
    (out,) = column_sums(indptr, indices, member, 40, values)
    assert out.shape == (5, 40)
    np.testing.assert_array_equal(out, expected)
    dense = np.zeros((300, 40))
    for r in range(300):
        dense[r, indices[indptr[r] : indptr[r + 1]]] = values[indptr[r] : indptr[r + 1]]
    np.testing.assert_allclose(out, member.T @ dense, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("bad", [-1, 40])
def test_column_sums_refuse_a_column_outside_the_width(bad):
    indptr, indices, values, member = _rows(3, 20, 40)
    indices = indices.copy()
    indices[len(indices) // 2] = bad
    with pytest.raises(IndexError, match=r"a column index is out of range \[0, 40\)"):
        column_sums(indptr, indices, member, 40, values)


@pytest.mark.parametrize(
    "indptr",
    [[0, 2, 3], [0, 2, 3, 3, 4], [1, 2, 3, 4], [0, 3, 2, 4], [0, 2, 3, 5]],
)
def test_column_sums_refuse_rows_that_do_not_hold_the_entries(indptr):
    # 3 rows of member over 4 entries: the rows must start at 0, never go back and end at 4.
    with pytest.raises(ValueError, match="indptr must delimit 3 rows of the 4 entries"):
        column_sums(np.array(indptr), np.arange(4), np.ones((3, 2)), 4, np.ones(4))


@pytest.mark.parametrize("kernel", [True, False])
def test_column_sums_take_any_number_and_index_types_and_keep_empty_last_columns(
    monkeypatch, kernel
):
    # float32 values and membership, int32 indices: the sums are those of the same numbers
    # in float64; the last columns, never used, are there all the same (zeros).
    if not kernel:
        monkeypatch.setattr(sparse_rows, "_csc_matvecs", None)
    indptr, indices, values, member = _rows(6, 50, 12)
    (expected,) = column_sums(indptr, indices, member, 20, values.astype(np.float32).astype(float))
    (out,) = column_sums(
        indptr.astype(np.int32),
        indices.astype(np.int32),
        member.astype(np.float32),
        20,
        values.astype(np.float32),
    )
    assert out.shape == (5, 20) and out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)
    assert not out[:, 12:].any()


def test_column_sums_of_several_value_arrays_are_those_of_each_alone():
    indptr, indices, values, member = _rows(7, 40, 9)
    arrays = (np.ones(len(values)), values, values * values)
    together = column_sums(indptr, indices, member, 9, *arrays)
    assert len(together) == 3
    for out, array in zip(together, arrays):
        np.testing.assert_array_equal(out, column_sums(indptr, indices, member, 9, array)[0])
    assert column_sums(indptr, indices, member, 9) == ()
    with pytest.raises(ValueError, match="indptr must delimit 40 rows"):
        column_sums(indptr, indices, member, 9, values, values[:-1])  # one short
