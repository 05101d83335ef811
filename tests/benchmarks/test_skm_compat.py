from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from skmultilearn.cluster import LabelCooccurrenceGraphBuilder

from benchmarks.batch_reference import batch_partition, lspc_scores
from benchmarks.skm_compat import LouvainClusterer, communities_array

# the batch reference's optional dependencies (pyproject extra "bench")
pytest.importorskip("networkx")
pytest.importorskip("community", reason="python-louvain is not installed")


def _labels(seed=0, n=400):
    """Two blocks of labels that co-occur inside a block and never across."""
    rng = np.random.default_rng(seed)
    block = rng.random(n) < 0.5
    Y = np.zeros((n, 5), dtype=int)
    Y[block, :3] = rng.random((block.sum(), 3)) < 0.8
    Y[~block, 3:] = rng.random(((~block).sum(), 2)) < 0.8
    return Y


def test_communities_array_is_always_one_dimensional():
    assert communities_array([[0, 1], [2, 3]]).shape == (2,)
    ragged = communities_array([[0, 1, 2], [3]])
    assert ragged.dtype == object and list(ragged[1]) == [3]


def test_louvain_clusterer_finds_unequal_communities():
    builder = LabelCooccurrenceGraphBuilder(weighted=True, include_self_edges=False)
    groups = LouvainClusterer(builder, random_state=0).fit_predict(None, sp.csr_matrix(_labels()))
    assert sorted(sorted(g) for g in groups) == [[0, 1, 2], [3, 4]]


def test_batch_partition_names_the_labels():
    names = ["a", "b", "c", "d", "e"]
    assert batch_partition(sp.csr_matrix(_labels()), names) == [["a", "b", "c"], ["d", "e"]]


def test_label_space_partitioning_classifier_trains_and_scores():
    Y = _labels(1, 300)
    rng = np.random.default_rng(1)
    X = sp.csr_matrix(Y * 2.0 + rng.normal(scale=0.3, size=Y.shape))  # informative features
    names = ["a", "b", "c", "d", "e"]
    scores = lspc_scores(X, sp.csr_matrix(Y), names, split=150, n_estimators=10)
    assert scores["n"] == 150
    assert scores["partition"] == [["a", "b", "c"], ["d", "e"]]
    assert scores["micro_f1"] > 0.8  # the features give the labels away
