"""IHOMER on real streams: the partition must help or stay out of the way (slow)."""

from __future__ import annotations

import itertools

import pytest

from streamml import IHOMER
from streamml.datasets import ARFF
from streamml.evaluate import prequential
from streamml.learners import MLHAT


def jaccard(stream) -> dict[frozenset, float]:
    """Jaccard similarity of the occurrences of every pair of labels over a whole stream."""
    rows = [y for _, y in stream]
    on = {label: {i for i, y in enumerate(rows) if y[label]} for label in rows[0]}
    return {
        frozenset((a, b)): len(on[a] & on[b]) / max(len(on[a] | on[b]), 1)
        for a, b in itertools.combinations(on, 2)
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", ["yeast", "emotions", "scene", "medical"])
def test_ihomer_is_within_0_003_of_its_cluster_learner_alone(name, shared_data):
    path = shared_data / f"{name}.arff"
    alone = prequential(MLHAT(seed=42), ARFF(path))
    model = IHOMER(seed=42)
    ihomer = prequential(model, ARFF(path))
    # Alternates may change a few answers where a cluster's error rises (scene: one
    # adaptation, one instance); the bar is issue 11's, 0.003 below MLHAT at most.
    assert ihomer.subset_accuracy >= alone.subset_accuracy - 0.003
    assert ihomer.micro_f1 >= alone.micro_f1 - 0.003

    # The partition covers every label once and follows the label co-occurrences of the stream.
    similarity = jaccard(ARFF(path))
    labels = sorted({label for pair in similarity for label in pair})
    assert sorted(label for c in model.partition for label in c) == labels
    cluster = {label: k for k, c in enumerate(model.partition) for label in c}
    together = [s for pair, s in similarity.items() if len({cluster[lb] for lb in pair}) == 1]
    apart = [s for pair, s in similarity.items() if len({cluster[lb] for lb in pair}) == 2]
    for pair, s in similarity.items():
        if s >= 0.5:  # labels that are ON together at least half the time share a cluster
            assert len({cluster[lb] for lb in pair}) == 1, (sorted(pair), s, model.summary())
    if max(similarity.values()) >= 0.25:  # labels that co-occur are grouped, not all apart
        assert together, model.summary()
    if together:
        assert sum(together) / len(together) > 1.5 * sum(apart) / len(apart), model.summary()
    assert model.n_restructurings >= 1
    assert any(e.level == "structure" for e in model.drift_events)
