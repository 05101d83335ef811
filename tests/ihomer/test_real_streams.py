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
def test_ihomer_is_at_least_its_cluster_learner_alone(name, shared_data):
    path = shared_data / f"{name}.arff"
    alone = prequential(MLHAT(seed=42), ARFF(path))
    model = IHOMER(seed=42)
    ihomer = prequential(model, ARFF(path))
    assert ihomer.subset_accuracy >= alone.subset_accuracy
    assert ihomer.micro_f1 >= alone.micro_f1

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
