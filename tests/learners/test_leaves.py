from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from streamml.learners.leaves import BaggedLogisticRegression, KNNWindow, Standardiser


def _sparse(row: np.ndarray):
    cols = np.flatnonzero(row)
    return cols, row[cols], bool(len(cols) == 0 or cols[-1] == len(cols) - 1)


def _add(knn, row: np.ndarray, y: np.ndarray):
    """Add a dense row to a window (as the leaf does: standardised non-zeros, raw non-zeros)."""
    cols, vals, full = _sparse(row)
    knn.add(cols, vals, full, y, (cols, vals))


def _ybin(positives, n_labels):
    y = np.zeros(n_labels, dtype=np.float32)
    y[positives] = 1.0
    return y


def test_standardiser_centres_dense_and_scales_sparse_features():
    rng = np.random.default_rng(0)
    n = 800
    dense = rng.normal(1000.0, 5.0, size=n)  # features in the thousands
    sparse = (rng.random(n) < 0.1) * 2.0
    x = np.column_stack([dense, sparse])
    std = Standardiser(2)
    for start in range(0, n, 100):
        std.update([_sparse(r) for r in x[start : start + 100]])
    assert std.centred.tolist() == [0]
    cols, z, _ = std.transform(np.array([0, 1]), np.array([1005.0, 2.0]), True)
    assert abs(z[0] - (1005.0 - dense.mean()) / dense.std()) < 1e-6
    assert abs(z[1] - min(2.0 / np.sqrt(np.mean(sparse**2)), std.clip)) < 1e-6
    # A zero of the dense feature is standardised (and clipped); sparse zeros stay zeros.
    cols, z, full = std.transform(np.array([1]), np.array([2.0]), False)
    assert cols.tolist() == [0, 1] and z[0] == -std.clip and full


def test_knn_finds_the_label_set_of_the_nearest_instance():
    rng = np.random.default_rng(1)
    knn = KNNWindow(n_features=5, n_labels=3, window_size=50, k=1, short_window=0)
    centres = np.eye(5)[:3] * 5
    for i in range(50):
        c = i % 3
        row = centres[c] + rng.normal(0, 0.1, 5)
        cols, vals, full = _sparse(row)
        knn.add(cols, vals, full, _ybin([c], 3), (cols, vals))
    assert len(knn) == 50
    for c in range(3):
        cols, vals, full = _sparse(centres[c] + 0.05)
        proba = knn.votes(cols, vals, full, cosine=True)[0]
        assert proba.argmax() == c and proba[c] == 1.0


def test_knn_window_is_bounded_and_splits_by_raw_values():
    knn = KNNWindow(n_features=2, n_labels=2, window_size=10, k=3, short_window=20)
    for i in range(25):
        row = np.array([float(i), 1.0])
        cols, vals, full = _sparse(row)
        knn.add(cols, vals, full, _ybin([i % 2], 2), (cols, vals))
    assert len(knn) == 10
    left, right = knn.split(0, 19.5)
    assert len(left) == 5 and len(right) == 5  # window holds 15..24
    assert left.labelsets() == [(1,), (0,), (1,), (0,), (1,)]  # 15..19, oldest first


def test_knn_prefers_its_recent_instances_on_an_ordered_stream():
    # Blocks of instances with one label set each; features do not tell the blocks apart.
    rng = np.random.default_rng(2)
    knn = KNNWindow(n_features=3, n_labels=2, window_size=100, k=4, short_window=10)
    for i in range(600):
        label = (i // 50) % 2
        cols, vals, full = _sparse(rng.random(3) + 0.1)
        if len(knn):
            knn.track(knn.votes(cols, vals, full, cosine=False), _ybin([label], 2))
        knn.add(cols, vals, full, _ybin([label], 2), (cols, vals))
    assert knn.recent


def test_bagged_logistic_regression_learns_a_linear_concept():
    rng = np.random.default_rng(3)
    lr = BaggedLogisticRegression(
        4,
        2,
        n_bags=10,
        learning_rates=(0.5, 2.0),
        bias_learning_rates=(0.01, 2.0),
        batch_size=8,
        rng=np.random.default_rng(0),
    )
    std = Standardiser(4)
    hits = []
    for i in range(3000):
        x = rng.normal(size=4)
        positives = [j for j, on in enumerate((x[0] + x[1] > 0, x[2] < 0.5)) if on]
        cols, z, full = std.transform(np.arange(4), x, True)
        forward = lr.forward(cols, z, full)
        proba = lr.predict(forward)
        hits.append(np.flatnonzero(proba > 0.5).tolist() == positives)
        lr.learn(cols, z, full, _ybin(positives, 2), forward)
        std.update([(np.arange(4), x, True)])
    assert np.mean(hits[-1000:]) > 0.9


def test_logistic_regression_grows_and_copies_independently():
    lr = BaggedLogisticRegression(2, 1, 10, (0.5,), (0.1,), 4, np.random.default_rng(0))
    cols, z = np.array([0, 1]), np.array([1.0, -1.0])
    for _ in range(8):
        lr.learn(cols, z, True, _ybin([0], 1), lr.forward(cols, z, True))
    before = lr.predict(lr.forward(cols, z, True))
    lr.grow(5, 3)
    after = lr.predict(lr.forward(cols, z, True))
    assert after.shape == (3,)
    np.testing.assert_allclose(after[:1], before, rtol=1e-6)
    np.testing.assert_allclose(after[1:], 0.5)  # new labels: no evidence yet
    twin = lr.copy(np.random.default_rng(1))
    for _ in range(8):
        twin.learn(cols, z, True, _ybin([1], 3), twin.forward(cols, z, True))
    np.testing.assert_allclose(lr.predict(lr.forward(cols, z, True)), after)


def _reference_votes(window, query, k, short, cosine):
    """The kNN votes computed directly: `window` is [(x, y)] oldest first (dense arrays)."""

    def distance(x):
        if cosine:
            nq, nx = np.linalg.norm(query), np.linalg.norm(x)
            cos = query @ x / (nq * nx) if nq > 0 and nx > 0 else 0.0
            d2 = 2.0 - 2.0 * cos
        else:
            d2 = float((query - x) @ (query - x))
        return np.sqrt(max(d2, 1e-24))

    def vote(items):
        nearest = sorted(items, key=lambda item: distance(item[0]))[:k]
        weights = np.array([1.0 / distance(x) for x, _ in nearest])
        return weights @ np.array([y for _, y in nearest]) / weights.sum()

    recent = window[-short:] if 0 < short < len(window) else window
    return np.array([vote(window), vote(recent)])


def _instance(rng, n_features):
    row = rng.normal(0.0, 1.0, n_features) * (rng.random(n_features) < 0.5)
    row[rng.integers(n_features)] = rng.normal(0.0, 1.0)  # never 0
    if rng.random() < 0.2:
        row *= 0.1  # norms under 1 too
    return row


@pytest.mark.parametrize("cosine", [True, False])
@pytest.mark.parametrize(
    ("k", "short", "size", "n_features"),
    [(3, 8, 12, 6), (3, 1, 12, 6), (4, 4, 12, 6), (5, 0, 12, 6), (4, 20, 150, 12)],
)
def test_knn_votes_match_a_direct_computation(cosine, k, short, size, n_features):
    """Sparse and dense rows, a zero row (one at a time: no ties), a ring that wraps around
    (after its slots grew, for the window of 150; with more features, so that rows of one
    non-zero in the same column, at equal distances, are rare), queries of any norm."""
    rng = np.random.default_rng(4)
    n_labels = 3
    knn = KNNWindow(n_features, n_labels, window_size=size, k=k, short_window=short)
    assert knn.votes(np.array([0]), np.array([1.0]), False, cosine) is None
    seen = []
    for i in range(3 * size + 4):
        zero = i % max(13, size + 7) == 4  # one zero row in the window at a time
        row = np.zeros(n_features) if zero else _instance(rng, n_features)
        y = _ybin(list(np.flatnonzero(rng.random(n_labels) < 0.4)), n_labels)
        cols, vals, full = _sparse(row)
        knn.add(cols, vals, full, y, (cols, vals))
        seen.append((row, y))
        window = seen[-size:]
        queries = [rng.normal(0.0, 1.0, n_features) * rng.choice([0.1, 1.0])]  # no zero
        if not cosine:  # (all as far from 0 by the cosine distance, or from a sparse query)
            queries.append(np.zeros(n_features))
        for query in queries:
            cols, vals, full = _sparse(query)
            got = knn.votes(cols, vals, full, cosine)
            expected = _reference_votes(window, query, k, short, cosine)
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert knn.labelsets() == [tuple(np.flatnonzero(y).tolist()) for _, y in seen[-size:]]


def test_knn_predicts_with_the_vote_of_smaller_recent_loss():
    rng = np.random.default_rng(5)
    knn = KNNWindow(4, 2, window_size=30, k=3, short_window=5, loss_decay=0.1)
    assert knn.predict(None, 3).tolist() == [0.0, 0.0, 0.0]  # an empty window
    losses = np.zeros(2)
    for i in range(200):
        row = _instance(rng, 4)
        y = _ybin([(i // 20) % 2], 2)
        cols, vals, full = _sparse(row)
        votes = knn.votes(cols, vals, full, cosine=False)
        if votes is not None:
            chosen = votes[1] if losses[1] < losses[0] else votes[0]  # the whole on a tie
            assert knn.predict(votes, 3).tolist() == [*chosen.tolist(), 0.0]
            assert knn.recent == (losses[1] < losses[0])
            wrong = ((votes > 0.5) != y).any(axis=1)
            losses += 0.1 * (wrong - losses)
        knn.track(votes, y)
        np.testing.assert_allclose(knn._loss, losses)
        knn.add(cols, vals, full, y, (cols, vals))
    assert knn.recent and losses[1] < losses[0]
    # A vote of exactly 0.5 is not a positive: the whole window's vote is right here.
    knn.track(np.array([[0.5, 0.0], [0.5, 1.0]], dtype=np.float32), _ybin([], 2))
    np.testing.assert_allclose(knn._loss, losses + 0.1 * (np.array([0.0, 1.0]) - losses))


def test_knn_split_and_restricted_windows_vote_as_windows_of_their_instances():
    rng = np.random.default_rng(6)
    knn = KNNWindow(3, 3, window_size=10, k=3, short_window=4)
    rows = []
    for i in range(25):
        row = np.array([float(i % 7), *np.abs(rng.normal(0, 1, 2))])
        y = _ybin([i % 3], 3)
        rows.append((row, y))
        cols, vals, full = _sparse(row)
        knn.add(cols, vals, full, y, (cols, vals))
    left, right = knn.split(0, 3.0)  # feature 0 at exactly 3.0 goes left
    window = rows[-10:]
    for child, side in (
        (left, [r for r in window if r[0][0] <= 3.0]),
        (right, [r for r in window if r[0][0] > 3.0]),
    ):
        fresh = KNNWindow(3, 3, window_size=10, k=3, short_window=4)
        for row, y in side:
            cols, vals, full = _sparse(row)
            fresh.add(cols, vals, full, y, (cols, vals))
        assert len(child) == len(side) and child.labelsets() == fresh.labelsets()
        for cosine in (True, False):
            query = np.array([2.0, 0.5, 1.0])
            cols, vals, full = _sparse(query)
            np.testing.assert_allclose(
                child.votes(cols, vals, full, cosine), fresh.votes(cols, vals, full, cosine)
            )
    restricted = knn.restricted(np.array([2, 0]))
    cols, vals, full = _sparse(np.array([1.0, 0.2, 0.3]))
    np.testing.assert_allclose(
        restricted.votes(cols, vals, full, True), knn.votes(cols, vals, full, True)[:, [2, 0]]
    )
    before = knn.votes(cols, vals, full, True)
    for _ in range(10):  # the copy learns on its own
        restricted.add(cols, vals * 2, full, _ybin([0, 1], 2), (cols, vals * 2))
        restricted.track(restricted.votes(cols, vals, full, True), _ybin([0], 2))
    np.testing.assert_array_equal(knn.votes(cols, vals, full, True), before)
    assert knn._loss.tolist() != restricted._loss.tolist()


def test_a_restricted_logistic_regression_goes_on_as_the_original_on_its_labels():
    rng = np.random.default_rng(7)

    def instance():
        x = rng.normal(size=4) * (rng.random(4) < 0.7)
        y = _ybin([j for j, on in enumerate((x[0] > 0, x[1] + x[2] > 0, x[3] < 0.2)) if on], 3)
        cols = np.flatnonzero(x)
        return cols, x[cols], False, y

    lr = BaggedLogisticRegression(4, 3, 6, (0.5, 2.0), (0.01, 1.0), 8, np.random.default_rng(0))
    for _ in range(203):  # (3 instances waiting for the next batch update)
        cols, z, full, y = instance()
        lr.learn(cols, z, full, y, lr.forward(cols, z, full))
    labels = np.array([2, 0])
    sub = lr.restricted(labels, copy.deepcopy(lr.rng))
    assert sub.n_labels == 2
    for _ in range(300):
        cols, z, full, y = instance()
        forward, sub_forward = lr.forward(cols, z, full), sub.forward(cols, z, full)
        np.testing.assert_allclose(sub.predict(sub_forward), lr.predict(forward)[labels], rtol=1e-5)
        lr.learn(cols, z, full, y, forward)
        sub.learn(cols, z, full, y[labels], sub_forward)


def test_sparse_updates_with_the_kernel_equal_those_of_numpy(monkeypatch):
    # Sparse batches reach the weights through sparse_rows (scipy's kernel when present); the
    # model must learn the same weights and predict the same as with numpy's products, for a
    # wide model (row-by-row numpy path) and a narrow one.
    from streamml.learners import sparse_rows

    def run(n_labels):
        rng = np.random.default_rng(5)
        lr = BaggedLogisticRegression(50, n_labels, 10, (0.5, 2.0), (0.01, 2.0), 8, rng)
        data = np.random.default_rng(6)
        probas = []
        for _ in range(80):
            cols = np.sort(data.choice(50, size=4, replace=False))
            z = data.normal(size=4)
            forward = lr.forward(cols, z, False)
            probas.append(lr.predict(forward))
            lr.learn(cols, z, False, (data.random(n_labels) < 0.1).astype(float), forward)
        return lr._w.copy(), lr._updates, np.array(probas)

    assert sparse_rows.KERNEL
    for n_labels in (240, 3):  # 2,400 and 30 weights per feature
        kernel, updates, kernel_probas = run(n_labels)
        assert updates == 10 and np.abs(kernel).max() > 0
        with monkeypatch.context() as patched:
            patched.setattr(sparse_rows, "_csr_matvecs", None)
            numpy_w, _, numpy_probas = run(n_labels)
        np.testing.assert_allclose(kernel, numpy_w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(kernel_probas, numpy_probas, rtol=1e-5, atol=1e-6)


def test_sparse_batches_update_in_place_and_dense_ones_through_numpy(monkeypatch):
    from streamml.learners import logistic

    used = []
    kernel = logistic.subtract_products
    monkeypatch.setattr(
        logistic, "subtract_products", lambda *args: used.append(len(args[1])) or kernel(*args)
    )
    rng = np.random.default_rng(3)
    lr = BaggedLogisticRegression(6, 2, 10, (0.5, 2.0), (0.01, 2.0), 2, rng)
    lr._averaging_decided = True  # no averaging: sparse rows stay sparse
    for cols, z, full in [
        (np.array([1, 4]), np.array([0.5, -1.0]), False),
        (np.array([0]), np.array([2.0]), False),  # a sparse batch: in place
        (np.arange(6), np.ones(6), True),
        (np.arange(6), -np.ones(6), True),  # a dense batch: numpy
        (np.zeros(0, dtype=np.int64), np.zeros(0), False),
        (np.zeros(0, dtype=np.int64), np.zeros(0), False),  # empty instances (no feature)
    ]:
        lr.learn(cols, z, full, np.array([1.0, 0.0]), lr.forward(cols, z, full))
    assert used == [3, 0] and lr._updates == 3
    assert lr._w[[2, 3, 5]].any()  # the dense batch reached the features the sparse one did not


@pytest.mark.parametrize("averaging", [False, True])
def test_features_beyond_the_weight_rows_are_left_out(averaging):
    # A column at or past the rows of the weights (a feature the model has not grown for)
    # counts as a zero input, in the prediction and in the update, averaged or not (it still
    # counts in the normalisation of the step by the number of inputs).
    def run(cols, z):
        rng = np.random.default_rng(4)
        lr = BaggedLogisticRegression(3, 2, 10, (0.5, 2.0), (0.01, 2.0), 2, rng)
        first = np.arange(3) if averaging else np.array([2])  # dense rows: averaging
        for _ in range(2):
            z0 = np.ones(len(first))
            lr.learn(first, z0, False, np.array([1.0, 0.0]), lr.forward(first, z0, False))
        assert bool(lr._a) == averaging and lr._w.shape[0] == 3
        probas = []
        for _ in range(4):
            forward = lr.forward(cols, z, False)
            probas.append(lr.predict(forward))
            lr.learn(cols, z, False, np.array([0.0, 1.0]), forward)
        # The bags' weights (an average, kept up to date lazily, is read through forward).
        return np.array(probas), lr._w[:, lr._a * 2 :].copy()

    for beyond, zeros in [
        (([1, 3], [0.5, 2.0]), ([0, 1], [0.0, 0.5])),  # the first row past the weights
        (([1, 3, 4], [0.5, 2.0, 2.0]), ([0, 1, 2], [0.0, 0.5, 0.0])),
    ]:
        got = run(np.array(beyond[0]), np.array(beyond[1]))
        want = run(np.array(zeros[0]), np.array(zeros[1]))
        np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6, atol=1e-7)


def test_knn_window_allocates_its_slots_as_instances_arrive():
    """A window holds room for the instances it has seen (doubling), never more than its size;
    the votes are those of a window that had all its room from the start."""
    rng = np.random.default_rng(7)
    knn = KNNWindow(5, 2, window_size=300, k=3, short_window=10)
    full = KNNWindow(5, 2, window_size=300, k=3, short_window=10)
    full._reserve(299)
    assert knn._x.shape[1] < 300 and full._x.shape[1] == 300
    assert knn._x.dtype == np.float32  # single precision: half the memory
    slots = []
    for i in range(700):
        row = _instance(rng, 5)
        cols, vals, dense = _sparse(row)
        y = _ybin([i % 2], 2)
        for window in (knn, full):
            window.add(cols, vals, dense, y, (cols, vals))
        slots.append(knn._x.shape[1])
        if i % 7 == 0:
            query = _sparse(_instance(rng, 5))
            np.testing.assert_array_equal(knn.votes(*query, True), full.votes(*query, True))
    assert slots[:64] == [64] * 64 and slots[64] == 128 and slots[-1] == 300
    assert knn._y.shape[0] == len(knn._raw) == len(knn._slot_cols) == 300
    assert knn.labelsets() == full.labelsets()


def test_knn_split_child_grows_past_the_instances_it_kept():
    rng = np.random.default_rng(8)
    knn = KNNWindow(3, 2, window_size=200, k=3, short_window=5)
    features = np.abs(rng.normal(0, 1, (150, 3)))
    features[:, 0] = np.arange(150) % 2  # the split's feature: 0 (left) or 1
    rows = [(row, _ybin([int(i % 4 == 0)], 2)) for i, row in enumerate(features)]
    for row, y in rows:
        _add(knn, row, y)
    left, _ = knn.split(0, 0.5)
    fresh = KNNWindow(3, 2, window_size=200, k=3, short_window=5)
    for row, y in rows:
        if row[0] <= 0.5:
            _add(fresh, row, y)
    assert len(left) == len(fresh) == 75 and left.labelsets() == fresh.labelsets()
    for i in range(300):  # past the 200 of the window: both rings grow, then wrap
        row = np.array([0.0, *np.abs(rng.normal(0, 1, 2))])
        y = _ybin([int(i % 3 == 0)], 2)
        _add(left, row, y)
        _add(fresh, row, y)
        if i % 10 == 0:
            query = _sparse(np.array([0.0, *np.abs(rng.normal(0, 1, 2))]))
            np.testing.assert_allclose(left.votes(*query, True), fresh.votes(*query, True))
    assert len(left) == 200 and left.labelsets() == fresh.labelsets()


def test_knn_window_pickled_before_max_cells_loads_without_a_bound():
    """A window pickled before the recent slots were computed and before `max_cells`:
    double precision, every slot allocated."""
    rng = np.random.default_rng(12)
    knn = KNNWindow(4, 2, window_size=40, k=3, short_window=6)
    for i in range(60):
        _add(knn, _instance(rng, 4), _ybin([i % 2], 2))
    state = knn.__dict__.copy()
    for name in ("_back", "_limit", "_width", "max_cells"):
        del state[name]
    state["_x"] = state["_x"].astype(float)
    back = np.arange(1, 7)
    state["_recent_slots"] = [(pos - back) % 40 for pos in range(40)]
    old = KNNWindow.__new__(KNNWindow)
    old.__setstate__(state)
    assert old.max_cells is None and old._limit == 40 and old._width == 4
    assert not hasattr(old, "_recent_slots")
    for _ in range(5):
        query = _sparse(_instance(rng, 4))
        np.testing.assert_allclose(old.votes(*query, True), knn.votes(*query, True), rtol=1e-4)
    old.grow(400, 2)  # no bound: it keeps its 40
    row = _instance(rng, 400)
    _add(old, row, _ybin([0], 2))
    assert len(old) == 40 and old.labelsets()[-1] == (0,)


def test_knn_split_of_a_window_on_more_features_than_instances():
    """300 sparse features, 50 instances: the children hold every feature of theirs."""
    rng = np.random.default_rng(13)
    knn = KNNWindow(300, 2, window_size=50, k=3, short_window=5)
    rows = []
    for i in range(50):
        row = np.zeros(300)
        row[rng.choice(300, 5, replace=False)] = rng.normal(size=5)
        row[299] = 1.0 + i % 2  # the split's feature
        rows.append((row, _ybin([i % 2], 2)))
        _add(knn, *rows[-1])
    left, right = knn.split(299, 1.5)
    for child, side in ((left, 0), (right, 1)):
        fresh = KNNWindow(300, 2, window_size=50, k=3, short_window=5)
        for row, y in rows[side::2]:
            _add(fresh, row, y)
        np.testing.assert_array_equal(child._x[:, : len(child)], fresh._x[:, : len(fresh)])
        query = _sparse(rows[side][0])
        np.testing.assert_array_equal(child.votes(*query, True), fresh.votes(*query, True))


def test_knn_window_votes_the_same_after_pickling():
    """(Windows pickled before `_back` and `max_cells`: see the test above.)"""
    rng = np.random.default_rng(9)
    knn = KNNWindow(4, 2, window_size=40, k=3, short_window=6)
    for i in range(60):
        _add(knn, _instance(rng, 4), _ybin([i % 2], 2))
    query = _sparse(_instance(rng, 4))
    restored = pickle.loads(pickle.dumps(knn))
    np.testing.assert_array_equal(restored.votes(*query, True), knn.votes(*query, True))


def test_knn_window_within_max_cells_keeps_the_newest_instances_that_fit():
    """10 features and 5,000 values: 500 instances; 20 features: 250, the newest; the votes
    are those of an unbounded window of the same instances. Zero rows count no feature."""
    rng = np.random.default_rng(10)
    knn = KNNWindow(10, 2, window_size=1000, k=3, short_window=5, max_cells=5000)
    rows = []
    for i in range(800):
        row = _instance(rng, 10) if i % 50 else np.zeros(10)
        rows.append((row, _ybin([i % 2], 2)))
        _add(knn, row, rows[-1][1])
    assert len(knn) == 500 and knn._x.shape[1] == 500
    knn.grow(11, 2)  # room for 20 features; 454 instances allowed: within a tenth of 500
    assert len(knn) == 500 and knn._x.shape[0] == 20
    wide = np.zeros(20)  # 20 features seen: the window narrows to 250 as it adds this one
    wide[[3, 19]] = [1.0, -2.0]
    rows.append((wide, _ybin([1], 2)))
    _add(knn, wide, rows[-1][1])
    assert len(knn) == 250 and knn._x.shape[1] == 250
    unbounded = KNNWindow(20, 2, window_size=250, k=3, short_window=5)
    for row, y in rows[-250:]:
        _add(unbounded, row, y)
    assert knn.labelsets() == unbounded.labelsets()
    for _ in range(5):
        query = _sparse(_instance(rng, 20))
        np.testing.assert_array_equal(knn.votes(*query, True), unbounded.votes(*query, True))
    knn.grow(15, 2)  # fewer features than it knows: nothing changes
    assert len(knn) == 250
    knn.grow(40, 2)  # 125 allowed: 128, the floor
    assert len(knn) == 128 and knn.labelsets() == unbounded.labelsets()[-128:]
    knn.add(np.zeros(0, dtype=np.int64), np.zeros(0), False, _ybin([0], 2), (None, None))
    assert len(knn) == 128 and knn._width == 40  # a sparse instance without non-zeros
    restored = pickle.loads(pickle.dumps(knn))  # keeps its bound
    assert (restored.max_cells, restored._limit, restored._width) == (5000, 128, 40)


def test_knn_window_narrows_only_once_it_holds_a_tenth_too_many():
    knn = KNNWindow(100, 1, window_size=1000, k=3, short_window=5, max_cells=50_000)
    rng = np.random.default_rng(11)
    for _ in range(600):
        cols, vals, dense = _sparse(_instance(rng, 100))
        knn.add(cols, vals, dense, _ybin([0], 1), (cols, vals))
    assert len(knn) == 500
    knn.grow(111, 1)  # 450 allowed: a tenth less exactly, kept as it is
    assert len(knn) == 500
    knn.grow(120, 1)  # 416 allowed: narrowed
    assert len(knn) == 416
    one = KNNWindow(1, 1, window_size=1000, k=1, short_window=0, max_cells=300)
    for i in range(400):
        _add(one, np.array([1.0 + i]), _ybin([0], 1))
    assert len(one) == 300  # one feature: 300 instances
