"""IHOMER's constructor checks (`ihomer.parameters`): every limit, on both sides, with the
message a user reads; the sharded model runs the same checks."""

from __future__ import annotations

import math

import pytest
from river import datasets

from streamml import IHOMER
from streamml.learners import MLHAT, NaiveBayes

#: (name, smallest valid value, optional)
_INTS = [
    ("n_min", 1, False),
    ("min_cluster_size", 1, True),
    ("max_cluster_size", 1, True),
    ("warmup", 0, False),
    ("cooldown", 0, True),
    ("handover", 0, False),
    ("selection_window", 1, False),
    ("retire_after", 1, True),
    ("seen_sets", 1, True),
    ("adapt_window", 1, False),
    ("seed", 0, True),
]

#: (name, low, high, low included, optional)
_REALS = [
    ("delta", 0.0, 1.0, False, False),
    ("tau", 0.0, 1.0, True, False),
    ("drift_delta", 0.0, 1.0, False, False),
    ("selection_margin", 0.0, 2.0, True, False),
    ("adapt_rate", 0.0, math.inf, True, False),
    ("label_drift_delta", 0.0, 1.0, False, True),
]


def _refused(message: str, **params):
    with pytest.raises(ValueError) as raised:
        IHOMER(**params)
    assert str(raised.value) == message


@pytest.mark.parametrize(("name", "minimum", "optional"), _INTS)
def test_integer_parameters_take_ints_from_their_minimum(name, minimum, optional):
    kind = f"None or an int >= {minimum}" if optional else f"an int >= {minimum}"
    for bad in (minimum - 1, float(minimum), True, "3"):
        _refused(f"{name} must be {kind}, got {bad!r}", **{name: bad})
    if not optional:
        _refused(f"{name} must be {kind}, got None", **{name: None})
    for good in (minimum, minimum + 7) + ((None,) if optional else ()):
        assert getattr(IHOMER(**{name: good}), name) == good


@pytest.mark.parametrize(("name", "low", "high", "closed", "optional"), _REALS)
def test_real_parameters_take_numbers_inside_their_interval(name, low, high, closed, optional):
    message = f"{name} must be a number in {'[' if closed else '('}{low}, {high}), got "
    below = low - 0.01
    outside = [below, high, math.nan, "0.5", True] + ([] if closed else [low])
    if not optional:
        outside.append(None)
    for bad in outside:
        _refused(message + repr(bad), **{name: bad})
    inside = [low + 0.01, (low + min(high, 10.0)) / 2] + ([low] if closed else [])
    for good in inside + ([None] if optional else []):
        assert getattr(IHOMER(**{name: good}), name) == good


def test_cluster_sizes_must_not_cross():
    _refused(
        "min_cluster_size (3) exceeds max_cluster_size (2)", min_cluster_size=3, max_cluster_size=2
    )
    model = IHOMER(min_cluster_size=2, max_cluster_size=2)
    assert (model.min_cluster_size, model.max_cluster_size) == (2, 2)
    IHOMER(min_cluster_size=3)  # either alone is fine
    IHOMER(max_cluster_size=1)


def test_the_threshold_strength_is_a_number_from_0_to_1():
    for bad in (-0.01, 1.01, math.nan, math.inf, "0.2", None, True):
        _refused(
            f"threshold_strength must be a number in [0, 1], got {bad!r}", threshold_strength=bad
        )
    for good in (0.0, 0.5, 1.0, 1):
        assert IHOMER(threshold_strength=good).threshold_strength == good


@pytest.mark.parametrize("name", ["fallback", "share", "adapt", "last_set"])
def test_switches_are_booleans(name):
    for bad in (1, 0, "yes", None):
        _refused(f"{name} must be True or False, got {bad!r}", **{name: bad})
    for good in (True, False):
        assert getattr(IHOMER(**{name: good}), name) is good


def test_learners_must_be_river_multi_label_classifiers():
    _refused(
        "cluster_learner must be a river MultiLabelClassifier, got 'mlhat'", cluster_learner="mlhat"
    )
    assert isinstance(IHOMER(cluster_learner=NaiveBayes()).cluster_learner, NaiveBayes)
    for bad in ([], (), "nb", NaiveBayes()):
        _refused(
            f"adapt_learners must be None or a non-empty list, got {bad!r}", adapt_learners=bad
        )
    template = object()
    _refused(
        f"adapt_learners holds {template!r}, not a river MultiLabelClassifier",
        adapt_learners=[NaiveBayes(), template],
    )
    for good in ([MLHAT()], (NaiveBayes(), MLHAT()), None):
        assert IHOMER(adapt_learners=good).adapt_learners is good


def test_a_refused_parameter_is_named_before_the_next_one():
    """Checks go in the constructor's order: the first bad parameter is the one named."""
    _refused("n_min must be an int >= 1, got 0", n_min=0, delta=2.0, seed=-1)
    _refused("delta must be a number in (0.0, 1.0), got 2.0", delta=2.0, seed=-1)


def test_every_default_passes_and_learns():
    model = IHOMER(seed=1)
    for x, y in datasets.Yeast().take(30):
        model.learn_one(x, y)
    assert model.n_learned == 30


def test_the_sharded_model_runs_the_same_checks():
    from streamml.distributed import ShardedIHOMER

    for name, bad, message in [
        ("seen_sets", 0, "seen_sets must be None or an int >= 1, got 0"),
        ("threshold_strength", 2.0, "threshold_strength must be a number in [0, 1], got 2.0"),
        ("selection_window", 0, "selection_window must be an int >= 1, got 0"),
        ("last_set", 1, "last_set must be True or False, got 1"),
    ]:
        with pytest.raises(ValueError) as raised:
            ShardedIHOMER(backend="local", **{name: bad})
        assert str(raised.value) == message
    model = ShardedIHOMER(backend="local", seen_sets=None, threshold_strength=0.0)
    assert model.seen_sets is None and model.threshold_strength == 0.0
