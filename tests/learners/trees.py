"""Checks shared by the tests of MLHAT's trees."""

from __future__ import annotations

from river import drift

from streamml.learners import MLHAT
from streamml.learners.nodes import Branch


def assert_root_split(model: MLHAT, split: tuple, drift_delta: float) -> None:
    """The model's root is a fresh branch on `split` (feature, threshold, merit) with a
    detector of `drift_delta`, over two leaves one level down, counted once."""
    root = model._root
    assert type(root) is Branch
    assert (root.feature, root.threshold, root.merit, root.depth) == (*split, 0)
    assert type(root.adwin) is drift.ADWIN and root.adwin.delta == drift_delta
    assert root.left.depth == root.right.depth == 1
    summary = model.summary
    assert summary["n_splits"] == 1 and summary["n_leaves"] == 2 == model._n_leaves
    assert summary["height"] == 1 and summary["n_nodes"] == 3
