"""river's estimator checks on every streamml estimator (offline, see estimator_checks.py)."""

from __future__ import annotations

import inspect

import pytest
import river
import river.checks
from river import base

from streamml.learners import MajorityLabelset

from .estimator_checks import hook_signature, offline_checks


def _estimators() -> list[base.Estimator]:
    import streamml.learners as learners

    found = [MajorityLabelset()]
    for name in ("MLHAT", "NaiveBayes"):
        if hasattr(learners, name):
            cls = getattr(learners, name)
            found.append(cls(**next(iter(cls._unit_test_params()), {})))
    try:
        from streamml import IHOMER
    except ImportError:
        pass
    else:
        params = next(iter(IHOMER._unit_test_params()), {})
        found.append(IHOMER(**params))
    from streamml.compose import FMeasureThresholds, SeenLabelSets

    for wrapper in (FMeasureThresholds, SeenLabelSets):
        for params in wrapper._unit_test_params():
            found.append(wrapper(**params))
    return found


def _cases():
    for model in _estimators():
        for check in offline_checks(model):
            yield pytest.param(model, check, id=f"{model.__class__.__name__}-{check.__name__}")


@pytest.mark.parametrize(("model", "check"), list(_cases()))
def test_river_check(model, check):
    check(model.clone())


def test_river_dataset_hook_is_where_we_expect():
    # The hook is private river API; river is pinned to 0.26.x. If this fails after an upgrade,
    # find where river now chooses the datasets of its checks and update estimator_checks.py.
    assert river.__version__.startswith("0.26."), river.__version__
    assert list(hook_signature().parameters) == ["model", "scale"]
    source = inspect.getsource(river.checks.yield_checks)
    assert "_yield_datasets(model)" in source
    assert "datasets.Music()" in inspect.getsource(river.checks._yield_datasets) or (
        river.checks._yield_datasets.__name__ == "offline_datasets"
    )


def test_offline_hook_feeds_yeast_to_multilabel_models():
    from .estimator_checks import offline_datasets

    x, y = next(iter(next(offline_datasets(MajorityLabelset()))))
    assert "Att1" in x and "Class1" in y
