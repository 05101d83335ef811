"""`ihomer.protocols`: how IHOMER talks to a cluster learner of each kind, and the one function
that turns any learner's answer into an array of probabilities in the cluster's order."""

from __future__ import annotations

import numpy as np
import pytest

from streamml.ihomer import protocols
from streamml.learners import MLHAT, FeatureIndex, NaiveBayes

from .stand_ins import Recorder


class _Encoded(Recorder):
    """Also learns and answers on the shared encoding (a dict of P(True))."""

    def learn_encoded(self, v, y):
        self.taught.append((v, y))

    def predict_proba_encoded(self, v):
        labels = {label for _, y in self.taught for label in y}
        return {label: float(v.values[0]) for label in sorted(labels)}


class _Vector(_Encoded):
    """Also answers with an array, in the order it first saw its labels."""

    @property
    def labels(self):
        seen = []
        for _, y in self.taught:
            seen += [label for label in y if label not in seen]
        return seen

    def predict_proba_vector(self, v):
        return np.full(len(self.labels), float(v.values[0]) / 2)


@pytest.mark.parametrize(
    ("learner", "encoded", "kind"),
    [
        (Recorder(), True, "dict"),
        (_Encoded(), True, "encoded"),
        (_Encoded(), False, "dict"),
        (_Vector(), True, "vector"),
        (_Vector(), False, "dict"),
        (MLHAT(), True, "vector"),
        (NaiveBayes(), True, "vector"),
        (NaiveBayes(), False, "dict"),
    ],
)
def test_the_kind_is_the_most_a_learner_offers_that_the_model_allows(learner, encoded, kind):
    assert protocols.kind_of(learner, encoded) == kind


def test_mlhat_is_a_sharable_learner_and_naive_bayes_is_not():
    assert isinstance(MLHAT(), protocols.SharableLearner)
    assert not isinstance(NaiveBayes(), protocols.SharableLearner)
    assert isinstance(NaiveBayes(), protocols.VectorLearner)


def _taught(learner, kind: str, index: FeatureIndex):
    for x, y in [({"p": 0.6}, {"b": True}), ({"p": 0.2}, {"b": False, "a": True})]:
        protocols.learn(learner, kind, x, index.encode(x), y)
    return learner


@pytest.mark.parametrize("cls", [Recorder, _Encoded, _Vector])
def test_each_kind_is_taught_through_its_own_interface(cls):
    index = FeatureIndex()
    kind = protocols.kind_of(cls(), True)
    learner = _taught(cls(), kind, index)
    taught = [item for item, _ in learner.taught]
    if kind == "dict":
        assert taught == [{"p": 0.6}, {"p": 0.2}]
    else:
        assert [v.values.tolist() for v in taught] == [[0.6], [0.2]]
    assert [y for _, y in learner.taught] == [{"b": True}, {"b": False, "a": True}]


def test_answers_come_in_the_clusters_order_with_zero_for_unknown_labels():
    index = FeatureIndex()
    x = {"p": 0.8}
    labels = ["b", "new", "a"]
    for cls, expected in [(Recorder, [0.8, 0.0, 0.8]), (_Encoded, [0.8, 0.0, 0.8])]:
        learner = _taught(cls(), protocols.kind_of(cls(), True), index)
        kind = protocols.kind_of(learner, True)
        answer = protocols.label_proba(learner, kind, labels, x, index.encode(x, grow=False))
        assert answer.dtype == float and answer.tolist() == expected


def test_a_vector_answer_is_used_as_it_is_and_padded_for_labels_it_does_not_know():
    index = FeatureIndex()
    learner = _taught(_Vector(), "vector", index)  # knows b, a (in that order)
    x = {"p": 0.8}
    v = index.encode(x, grow=False)
    known = protocols.label_proba(learner, "vector", ["b", "a"], x, v)
    assert known.tolist() == [0.4, 0.4]
    padded = protocols.label_proba(learner, "vector", ["b", "a", "c", "d"], x, v)
    assert padded.tolist() == [0.4, 0.4, 0.0, 0.0]


def test_the_same_answers_whichever_way_an_encoded_learner_is_asked():
    index, model = FeatureIndex(), MLHAT(seed=0)
    for k in range(60):
        x = {"f": float(k % 7), "g": float(k % 3)}
        protocols.learn(model, "vector", x, index.encode(x), {"a": k % 2 == 0, "b": k % 3 == 0})
    assert model.labels == ["a", "b"]
    x = {"f": 3.0, "g": 1.0}
    v = index.encode(x, grow=False)
    own = model.predict_proba_vector(v)
    assert own[0] != own[1]
    assert np.array_equal(protocols.label_proba(model, "vector", ["a", "b"], x, v), own)
    answer = protocols.label_proba(model, "encoded", ["b", "a", "c"], x, v)
    assert answer == pytest.approx([own[1], own[0], 0.0], abs=1e-12)
