"""IHOMER on real streams: the partition must help or stay out of the way (slow)."""

from __future__ import annotations

import pytest

from streamml import IHOMER
from streamml.datasets import ARFF
from streamml.evaluate import prequential
from streamml.learners import MLHAT


@pytest.mark.slow
@pytest.mark.parametrize("name", ["yeast", "emotions", "scene", "medical"])
def test_ihomer_is_at_least_its_cluster_learner_alone(name, shared_data):
    alone = prequential(MLHAT(seed=42), ARFF(shared_data / f"{name}.arff"))
    model = IHOMER(seed=42)
    ihomer = prequential(model, ARFF(shared_data / f"{name}.arff"))
    assert ihomer.subset_accuracy >= alone.subset_accuracy
    assert ihomer.micro_f1 >= alone.micro_f1
    assert len(model.partition) >= 1 and model.n_restructurings >= 1
