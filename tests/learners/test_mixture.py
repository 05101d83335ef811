"""The online mixture of the kNN and the logistic regressions in MLHAT's leaves."""

from __future__ import annotations

import numpy as np
import pytest
from river import datasets

from streamml.learners import MLHAT
from streamml.learners.mixing import mixture_weights
from streamml.learners.nodes import KNN, LR, MIXING_DECAY, Leaf


def _learn(model, stream):
    for x, y in stream:
        model.predict_proba_one(x)
        model.learn_one(x, y)


def _nonlinear_stream(n, seed=0):
    """Labels a linear model cannot learn (a XOR and a disc), on two features."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        a, b = rng.uniform(-1, 1, 2)
        yield {"a": a, "b": b}, {"xor": bool(a * b > 0), "disc": bool(a * a + b * b < 0.5)}


def _linear_stream(n, seed=0, width=60):
    """Labels given by the signs of three of `width` noisy features (far neighbours)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = rng.normal(size=width)
        yield (
            {f"f{j}": float(x[j]) for j in range(width)},
            {f"y{j}": bool(x[j] > 0) for j in range(3)},
        )


@pytest.mark.parametrize("rate", [10.0, 50.0])
def test_the_mixture_follows_the_better_model(rate):
    knn_world = MLHAT(seed=0, max_depth=0, mixing_rate=rate)
    _learn(knn_world, _nonlinear_stream(1500))
    lr_world = MLHAT(seed=0, max_depth=0, mixing_rate=rate)
    _learn(lr_world, _linear_stream(1500))
    assert type(knn_world._root) is Leaf and type(lr_world._root) is Leaf
    knn_loss, lr_loss = knn_world._root.mixing_loss
    assert knn_loss < lr_loss and knn_world._root.knn_weight > 0.5
    knn_loss, lr_loss = lr_world._root.mixing_loss
    assert lr_loss < knn_loss and lr_world._root.knn_weight < 0.5
    if rate >= 50:  # a high rate all but selects the better model
        assert knn_world._root.knn_weight > 0.99 and lr_world._root.knn_weight < 0.01


def test_the_prediction_is_the_weighted_mean_of_both_models():
    stream = list(datasets.Yeast().take(301))
    for rate in (0.0, 10.0):
        model = MLHAT(seed=1, max_depth=0, mixing_rate=rate)
        _learn(model, stream[:300])
        leaf = model._root
        knn_loss, lr_loss = leaf.mixing_loss
        w = leaf.knn_weight
        assert w == pytest.approx(1.0 / (1.0 + (knn_loss / lr_loss) ** rate))
        if rate == 0.0:
            assert w == 0.5
        x, _ = stream[300]
        proba = model.predict_proba_one(x)
        memo = leaf._prepare(model._encode(x, grow=False))
        knn, lr = leaf._components(memo, len(model.labels))
        assert not np.allclose(knn, lr)
        expected = w * knn + (1.0 - w) * lr
        assert [proba[label][True] for label in model.labels] == pytest.approx(expected.tolist())


def _trained_leaf(rate=10.0):
    model = MLHAT(seed=5, max_depth=0, mixing_rate=rate)
    _learn(model, datasets.Yeast().take(200))
    return model._root


def test_the_weights_depend_on_the_ratio_of_the_scores_only():
    leaf = _trained_leaf()
    knn_loss, lr_loss = leaf.mixing_loss.tolist()
    assert knn_loss > 0 and lr_loss > 0 and knn_loss != lr_loss
    w = leaf.knn_weight
    assert 0.0 < w < 1.0
    # Many labels or a high cardinality scale both scores up: the mixture stays the same.
    for scale in (1e-3, 0.5, 14.0, 1e3):
        leaf.mixing_loss = np.array([knn_loss, lr_loss]) * scale
        assert leaf.knn_weight == pytest.approx(w)
    # The same absolute gap weighs more between small scores than between large ones.
    gap = abs(knn_loss - lr_loss)
    leaf.mixing_loss = np.array([2.0 * gap, gap])
    small = leaf.knn_weight
    leaf.mixing_loss = np.array([100.0 * gap + gap, 100.0 * gap])
    large = leaf.knn_weight
    assert small < large < 0.5


@pytest.mark.parametrize("rate", [1.0, 10.0, 50.0])
def test_the_kNN_weight_is_a_power_of_the_ratio(rate):
    leaf = _trained_leaf(rate)
    for knn_loss, lr_loss in [(2.4, 2.0), (0.03, 0.05), (0.9, 0.9)]:
        leaf.mixing_loss = np.array([knn_loss, lr_loss])
        expected = lr_loss**rate / (lr_loss**rate + knn_loss**rate)
        assert leaf.knn_weight == pytest.approx(expected)
        # Swapping the scores swaps the weights.
        leaf.mixing_loss = np.array([lr_loss, knn_loss])
        assert leaf.knn_weight == pytest.approx(1.0 - expected)


def test_extreme_and_zero_scores():
    leaf = _trained_leaf(50.0)
    cases = [
        ((1e-300, 1e300), 1.0),  # no overflow: the far better kNN takes everything
        ((1e300, 1e-300), 0.0),
        ((0.0, 0.3), 1.0),  # a model without error wins
        ((0.3, 0.0), 0.0),
        ((0.0, 0.0), 0.5),  # nothing measured yet: an even mixture
    ]
    for losses, expected in cases:
        leaf.mixing_loss = np.array(losses)
        assert leaf.knn_weight == expected
    leaf.mixing_rate = 0.0
    leaf.mixing_loss = np.array([0.2, 0.4])
    assert leaf.knn_weight == 0.5


@pytest.mark.parametrize(
    "scores", [[0.2, 0.4, 0.8], [1e-5, 2e-5, 4e-5], [3e4, 6e4, 1.2e5], [1e-200, 2e-200, 4e-200]]
)
def test_mixture_weights_are_powers_of_the_score_ratios_at_any_scale(scores):
    """Many predictors (IHOMER's alternates): weight proportional to score ** -rate, whatever
    the scale of the scores (no overflow of the exponentials)."""
    for rate in (1.0, 10.0, 50.0):
        w = mixture_weights(np.array(scores), rate)
        expected = np.array([1.0, 2.0**-rate, 4.0**-rate])
        assert w == pytest.approx(expected / expected.sum(), rel=1e-9, abs=1e-300)
        assert w.sum() == pytest.approx(1.0)


def test_the_scores_are_recent_brier_scores():
    stream = list(datasets.Yeast().take(201))
    model = MLHAT(seed=2, max_depth=0)
    _learn(model, stream[:200])
    leaf = model._root
    before = leaf.mixing_loss.copy()
    x, y = stream[200]
    model.predict_proba_one(x)
    memo = leaf._prepare(model._encode(x))
    knn, lr = (p.copy() for p in leaf._components(memo, len(model.labels)))
    truth = np.array([y[label] for label in model.labels], dtype=float)
    model.learn_one(x, y)
    brier = np.array([((knn - truth) ** 2).sum(), ((lr - truth) ** 2).sum()])
    expected = before + MIXING_DECAY * (brier - before)
    assert leaf.mixing_loss == pytest.approx(expected)


def test_without_mixture_a_leaf_uses_one_model():
    model = MLHAT(seed=3, max_depth=0, mixing_rate=None, cardinality_threshold=150)
    stream = list(datasets.Yeast().take(300))
    for i, (x, y) in enumerate(stream):
        proba = model.predict_proba_one(x)
        leaf = model._root
        if leaf.mode in (KNN, LR):
            assert leaf.knn_weight == float(leaf.mode == KNN)
            memo = leaf._prepare(model._encode(x, grow=False))
            if leaf.mode == KNN:
                alone = leaf.knn.predict(leaf._votes(memo), len(model.labels))
            else:
                alone = leaf._lr_proba(memo, len(model.labels))
            assert [proba[label][True] for label in model.labels] == pytest.approx(alone.tolist())
        model.learn_one(x, y)
    assert model._root.mode == LR and not model._root.mixing_loss.any()


def test_children_inherit_the_mixture():
    model = MLHAT(seed=4, max_depth=0)
    _learn(model, _nonlinear_stream(400))
    leaf = model._root
    left, right = leaf.split(model.feature_index.column("a"), 0.0, np.random.default_rng(0))
    for child in (left, right):
        assert child.mixing_rate == leaf.mixing_rate
        assert child.mixing_loss.tolist() == leaf.mixing_loss.tolist()
        assert child.mixing_loss is not leaf.mixing_loss


@pytest.mark.parametrize("rate", [-1.0, float("nan"), float("inf"), "10"])
def test_invalid_mixing_rate(rate):
    with pytest.raises(ValueError):
        MLHAT(mixing_rate=rate)


@pytest.mark.slow
def test_mixture_reaches_the_yeast_target(shared_data):
    from streamml.datasets import ARFF
    from streamml.evaluate import prequential

    data = list(ARFF(shared_data / "yeast.arff"))
    result = prequential(MLHAT(seed=42), data)
    assert result.subset_accuracy >= 0.14
    assert result.micro_f1 >= 0.62


def test_pair_weights_are_pair_weight_column_by_column():
    from streamml.learners.mixing import pair_weight, pair_weights

    rng = np.random.default_rng(3)
    # Scales down to 1e-250: the floor of 1e-300 that makes two zeros a pair of ones is
    # then below the scores' last digit.
    scores = (0.1 + rng.random((2, 200))) * 10.0 ** rng.integers(-250, 3, size=(2, 200))
    scores[:, :20] = 0.0  # both without error
    scores[0, 20:40] = 0.0  # only the first without error
    scores[1, 40:60] = 0.0  # only the second
    for rate in (0.5, 1.0, 4.0, 10.0):
        got = pair_weights(scores, rate)
        expected = [pair_weight(a, b, rate) for a, b in scores.T.tolist()]
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
