from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from streamml.evaluate import METRICS, MultiLabelMetrics, RollingMultiLabelMetrics


def _random_stream(seed: int, n: int = 400, n_labels: int = 9):
    """Random (y_true, y_pred) dicts with every awkward case of the protocol.

    - rows where truth, prediction or both are empty;
    - a label never positive in truth ("l0") and one never predicted positive ("l1");
    - emerging labels: "l7" is a key of y_true only from row n // 3 on, "l8" from 2n // 3;
    - predictions that omit labels (False) and a label predicted but never a key of y_true
      ("ghost", positive now and then) or only ever predicted False ("phantom").
    """
    rng = np.random.default_rng(seed)
    labels = [f"l{i}" for i in range(n_labels)]
    rates = rng.uniform(0.05, 0.6, size=n_labels)
    rates[0] = 0.0
    starts = {"l7": n // 3, "l8": 2 * n // 3}
    rows = []
    for t in range(n):
        present = [label for label in labels if starts.get(label, 0) <= t]
        truth = {label: bool(rng.random() < rates[int(label[1:])]) for label in present}
        if rng.random() < 0.15:
            truth = dict.fromkeys(truth, False)
        guess = {}
        for label in present:
            if rng.random() < 0.8:  # sometimes the key is left out (= False)
                if label == "l1":
                    guess[label] = False
                elif rng.random() < 0.7:  # a noisy copy of the truth
                    guess[label] = truth[label]
                else:
                    guess[label] = bool(rng.random() < 0.4)
        if rng.random() < 0.15:
            guess = dict.fromkeys(guess, False)
        if rng.random() < 0.05:
            guess["ghost"] = True
        guess["phantom"] = False
        rows.append((truth, guess))
    return rows


def _matrices(rows):
    """Dense 0/1 matrices over the protocol's label set, built independently of the code."""
    columns = []
    for truth, guess in rows:
        for label in list(truth) + [label for label, on in guess.items() if on]:
            if label not in columns:
                columns.append(label)
    Y = np.array([[bool(t.get(label, False)) for label in columns] for t, _ in rows])
    P = np.array([[bool(g.get(label, False)) for label in columns] for _, g in rows])
    return Y, P, columns


def _sklearn(Y, P):
    return {
        "subset_accuracy": skm.accuracy_score(Y, P),
        "hamming_loss": skm.hamming_loss(Y, P),
        "micro_f1": skm.f1_score(Y, P, average="micro", zero_division=0),
        "macro_f1": skm.f1_score(Y, P, average="macro", zero_division=0),
        "example_f1": skm.f1_score(Y, P, average="samples", zero_division=1),
        "example_f1_empty0": skm.f1_score(Y, P, average="samples", zero_division=0),
    }


@pytest.mark.parametrize("seed", range(6))
def test_whole_stream_metrics_equal_sklearn(seed):
    rows = _random_stream(seed)
    Y, P, columns = _matrices(rows)
    # the generator really produced the awkward cases
    assert (~Y.any(axis=1) & ~P.any(axis=1)).any()
    assert "ghost" in columns and "phantom" not in columns
    assert not Y[:, columns.index("l0")].any() and not P[:, columns.index("l1")].any()

    metrics = MultiLabelMetrics()
    for truth, guess in rows:
        metrics.update(truth, guess)
    expected = _sklearn(Y, P)
    assert metrics.n == len(rows)
    assert set(metrics.labels) == set(columns)
    for name in METRICS:
        assert getattr(metrics, name) == pytest.approx(expected[name], abs=1e-12), name
    assert metrics.get() == {name: getattr(metrics, name) for name in METRICS}
    assert metrics.example_f1_empty0 == pytest.approx(expected["example_f1_empty0"], abs=1e-12)
    assert metrics.example_f1 > metrics.example_f1_empty0


@pytest.mark.parametrize("seed", range(3))
def test_metrics_at_every_prefix_equal_sklearn(seed):
    """Emerging labels: after each instance, the metrics match the matrices so far."""
    rows = _random_stream(seed, n=120, n_labels=5)
    metrics = MultiLabelMetrics()
    for t, (truth, guess) in enumerate(rows):
        metrics.update(truth, guess)
        if t % 7 == 0 or t == len(rows) - 1:
            expected = _sklearn(*_matrices(rows[: t + 1])[:2])
            for name in METRICS:
                assert getattr(metrics, name) == pytest.approx(expected[name], abs=1e-12)


def test_empty_f1_zero_convention():
    rows = _random_stream(3)
    Y, P, _ = _matrices(rows)
    metrics = MultiLabelMetrics(empty_f1=0)
    for truth, guess in rows:
        metrics.update(truth, guess)
    expected = skm.f1_score(Y, P, average="samples", zero_division=0)
    assert metrics.example_f1 == pytest.approx(expected, abs=1e-12)
    assert metrics.example_f1 == metrics.example_f1_empty0


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("window", [1, 25, 1000])
def test_rolling_metrics_equal_sklearn_on_the_last_rows(seed, window):
    rows = _random_stream(seed, n=300, n_labels=6)
    rolling = RollingMultiLabelMetrics(window)
    for t, (truth, guess) in enumerate(rows):
        rolling.update(truth, guess)
        if t % 11 and t != len(rows) - 1:
            continue
        Y, P, _ = _matrices(rows[: t + 1])  # the label set is everything seen so far
        start = max(0, t + 1 - window)
        expected = _sklearn(Y[start:], P[start:])
        assert rolling.n == t + 1
        assert rolling.n_instances == t + 1 - start
        for name in METRICS:
            assert getattr(rolling, name) == pytest.approx(expected[name], abs=1e-9), name
        assert rolling.example_f1_empty0 == pytest.approx(expected["example_f1_empty0"], abs=1e-9)


def test_rolling_with_a_large_window_equals_the_whole_stream():
    rows = _random_stream(9, n=200)
    whole, rolling = MultiLabelMetrics(), RollingMultiLabelMetrics(window=10_000)
    for truth, guess in rows:
        whole.update(truth, guess)
        rolling.update(truth, guess)
    for name in METRICS:
        assert getattr(rolling, name) == pytest.approx(getattr(whole, name), abs=1e-12)


def test_no_instance_gives_zeros():
    assert MultiLabelMetrics().get() == dict.fromkeys(METRICS, 0.0)
    assert RollingMultiLabelMetrics(5).get() == dict.fromkeys(METRICS, 0.0)


def test_hand_computed_example():
    metrics = MultiLabelMetrics()
    metrics.update({"a": True, "b": True, "c": False}, {"a": True, "c": True})
    metrics.update({"a": False, "b": False, "c": False}, {})
    metrics.update({"a": False, "b": True, "c": False}, {"b": True})
    # a: tp 1; b: tp 1, fn 1; c: fp 1
    assert metrics.subset_accuracy == pytest.approx(2 / 3)
    assert metrics.hamming_loss == pytest.approx(2 / 9)
    assert metrics.micro_f1 == pytest.approx(4 / 6)
    assert metrics.macro_f1 == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert metrics.example_f1 == pytest.approx((2 / 4 + 1 + 1) / 3)
    assert metrics.example_f1_empty0 == pytest.approx((2 / 4 + 0 + 1) / 3)


def test_bad_input_raises_and_changes_nothing():
    metrics = MultiLabelMetrics()
    metrics.update({"a": True}, {"a": True})
    before = metrics.get()
    with pytest.raises(TypeError, match=r"^y_pred must be a dict of label -> bool, got list$"):
        metrics.update({"a": True, "z": True}, ["a"])
    with pytest.raises(TypeError, match=r"^y_true must be a dict of label -> bool, got list$"):
        metrics.update([("a", True)], {"a": True})
    assert metrics.n == 1 and metrics.labels == ["a"] and metrics.get() == before
    with pytest.raises(ValueError, match=r"^empty_f1 must be 0 or 1, got 0\.5$"):
        MultiLabelMetrics(empty_f1=0.5)
    for window in (0, -3, True, 2.0, "5"):
        with pytest.raises(ValueError, match=rf"^window must be a positive int, got {window!r}$"):
            RollingMultiLabelMetrics(window=window)
    assert RollingMultiLabelMetrics(window=1).window == 1


def test_repr_shows_the_instances_and_every_metric():
    metrics = MultiLabelMetrics()
    metrics.update({"a": True, "b": False}, {"a": True, "b": True})
    metrics.update({"a": False, "b": True}, {"b": True})
    assert repr(metrics) == (
        "MultiLabelMetrics(n=2, subset_accuracy=0.5000, hamming_loss=0.2500, micro_f1=0.8000, "
        "macro_f1=0.8333, example_f1=0.8333)"
    )
    rolling = RollingMultiLabelMetrics(window=1)
    rolling.update({"a": True}, {"a": False})
    assert repr(rolling).startswith("RollingMultiLabelMetrics(n=1, subset_accuracy=0.0000, ")
