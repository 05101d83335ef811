"""IHOMER's constructor checks: a bad parameter fails at construction, not while learning."""

from __future__ import annotations

import math
import numbers

from river import base

__all__ = ["check_parameters"]


def _int(name: str, value, minimum: int, optional: bool = False):
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = f"None or an int >= {minimum}" if optional else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


def _number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _real(name: str, value, low: float, high: float, closed_low: bool = False):
    ok = _number(value)
    if not ok or not (low <= value if closed_low else low < value) or not value < high:
        bracket = "[" if closed_low else "("
        raise ValueError(f"{name} must be a number in {bracket}{low}, {high}), got {value!r}")


def check_parameters(model) -> None:
    """Raise ValueError naming the first parameter of `model` (an IHOMER) that is invalid."""
    learner = model.cluster_learner
    if learner is not None and not isinstance(learner, base.MultiLabelClassifier):
        raise ValueError(f"cluster_learner must be a river MultiLabelClassifier, got {learner!r}")
    _int("n_min", model.n_min, 1)
    _real("delta", model.delta, 0.0, 1.0)
    _real("tau", model.tau, 0.0, 1.0, closed_low=True)
    _int("min_cluster_size", model.min_cluster_size, 1, optional=True)
    _int("max_cluster_size", model.max_cluster_size, 1, optional=True)
    if (
        model.min_cluster_size is not None
        and model.max_cluster_size is not None
        and model.min_cluster_size > model.max_cluster_size
    ):
        raise ValueError(
            f"min_cluster_size ({model.min_cluster_size}) exceeds max_cluster_size "
            f"({model.max_cluster_size})"
        )
    _int("warmup", model.warmup, 0)
    _int("cooldown", model.cooldown, 0, optional=True)
    _int("handover", model.handover, 0)
    _real("drift_delta", model.drift_delta, 0.0, 1.0)
    _int("selection_window", model.selection_window, 1)
    _real("selection_margin", model.selection_margin, 0.0, 2.0, closed_low=True)
    _int("retire_after", model.retire_after, 1, optional=True)
    _int("seen_sets", model.seen_sets, 1, optional=True)
    strength = model.threshold_strength
    if not _number(strength) or not 0.0 <= strength <= 1.0:
        raise ValueError(f"threshold_strength must be a number in [0, 1], got {strength!r}")
    for name in ("fallback", "share", "adapt"):
        if not isinstance(getattr(model, name), bool):
            raise ValueError(f"{name} must be True or False, got {getattr(model, name)!r}")
    templates = model.adapt_learners
    if templates is not None:
        if not isinstance(templates, list | tuple) or not templates:
            raise ValueError(f"adapt_learners must be None or a non-empty list, got {templates!r}")
        for t in templates:
            if not isinstance(t, base.MultiLabelClassifier):
                raise ValueError(f"adapt_learners holds {t!r}, not a river MultiLabelClassifier")
    _real("adapt_rate", model.adapt_rate, 0.0, math.inf, closed_low=True)
    _int("adapt_window", model.adapt_window, 1)
    if model.label_drift_delta is not None:
        _real("label_drift_delta", model.label_drift_delta, 0.0, 1.0)
    if not isinstance(model.last_set, bool):
        raise ValueError(f"last_set must be True or False, got {model.last_set!r}")
    if not isinstance(model.label_balance, bool):
        raise ValueError(f"label_balance must be True or False, got {model.label_balance!r}")
    _int("seed", model.seed, 0, optional=True)
