"""river's estimator checks, run offline.

river's checks feed multi-label models `datasets.Music`, which downloads a file. We point its
private dataset hook, `river.checks._yield_datasets`, at the embedded `datasets.Yeast` instead.
That hook is private API: river is pinned to a minor version in pyproject.toml, and
`test_river_dataset_hook_is_where_we_expect` fails loudly if it moves.
"""

from __future__ import annotations

import contextlib
import inspect
import typing

import river.checks
from river import base, datasets

__all__ = ["offline_checks", "offline_datasets"]

_original_yield_datasets = river.checks._yield_datasets


def offline_datasets(model: base.Estimator, scale: int = 1) -> typing.Iterator:
    """The datasets river's checks use, with Yeast for multi-label models."""
    if isinstance(model, base.MultiLabelClassifier):
        yield datasets.Yeast().take(50 * scale)
        return
    yield from _original_yield_datasets(model, scale=scale)


@contextlib.contextmanager
def _patched_hook():
    saved = river.checks._yield_datasets
    river.checks._yield_datasets = offline_datasets
    try:
        yield
    finally:
        river.checks._yield_datasets = saved


def offline_checks(model: base.Estimator) -> list[typing.Callable]:
    """river's checks for a model, with the offline dataset hook bound into each check."""
    with _patched_hook():
        checks = list(river.checks.yield_checks(model))
    return [c for c in checks if c.__name__ not in model._unit_test_skips()]


def hook_signature() -> inspect.Signature:
    return inspect.signature(_original_yield_datasets)
