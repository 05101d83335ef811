from __future__ import annotations

import numpy as np

from streamml.learners.leaves import BaggedLogisticRegression, KNNWindow, Standardiser


def _sparse(row: np.ndarray):
    cols = np.flatnonzero(row)
    return cols, row[cols], bool(len(cols) == 0 or cols[-1] == len(cols) - 1)


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
    knn = KNNWindow(n_features=2, n_labels=2, window_size=10, k=3)
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
