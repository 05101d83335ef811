"""IHOMER models pickled by earlier versions (service snapshots): each feature added since
loads switched off, as those models behaved, and the model goes on learning."""

from __future__ import annotations

import copy

import pytest
from river import datasets

from streamml import IHOMER
from streamml.compose.labelsets import LabelSetDecoder

#: What a model pickled before each feature gets on loading (the behaviour it had then).
_BEFORE = {
    "retire_after": None,
    "_n_retired": 0,
    "_rearm": [],
    "adapt": False,
    "adapt_learners": None,
    "adapt_rate": 4.0,
    "adapt_window": 100,
    "_n_adaptations": 0,
    "_structure_drift": False,
    "label_drift_delta": None,
    "_rise": None,
    "seen_sets": None,
    "threshold_strength": 0.0,
}

_STREAM = list(datasets.Yeast().take(450))


def _learnt(n: int = 400, **params) -> IHOMER:
    """A model in a handover (at 400 instances: two clusters in the making, with split
    tests)."""
    model = IHOMER(seed=3, n_min=20, warmup=20, **params)
    for x, y in _STREAM[:n]:
        model.learn_one(x, y)
    return model


def _old(state: dict) -> IHOMER:
    model = IHOMER.__new__(IHOMER)
    model.__setstate__(state)
    return model


def _goes_on(model: IHOMER):
    for x, y in _STREAM[400:450]:
        model.predict_one(x)
        model.learn_one(x, y)
    assert model.n_learned == 450


def test_a_model_pickled_before_every_feature_loads_with_each_switched_off():
    model = _learnt()
    state = copy.deepcopy(model).__dict__
    for name in _BEFORE:
        del state[name]
    decoder = LabelSetDecoder(50)
    del state["_decider"], state["_base_kind"], state["_busy"]
    for table in ("_order", "_owner", "_watched", "_homes", "_next_due"):  # rebuilt on loading
        del state[table]
    state["_decoder"], state["_decoded"] = decoder, ("a cache", "dropped")
    old = _old(state)
    for name, value in _BEFORE.items():
        assert getattr(old, name) == value, name
    assert old._decider._decoder is decoder and old._decider._threshold is None
    assert "_decoder" not in old.__dict__ and "_decoded" not in old.__dict__
    assert old._base_kind == "vector"  # its all-labels learner is an MLHAT, encoded
    assert old._cache is None
    assert [c.labels for c in old._busy] == [c.labels for c in model._busy] != []
    assert [c.labels for c in old._order] == [c.labels for c in model._order]
    assert old._owner.tolist() == model._owner.tolist()
    assert [c.labels for c in old._watched] == [c.labels for c in model._watched] != []
    assert old._next_due == model._next_due
    assert set(old._clusters) == set(model._clusters)
    _goes_on(old)
    assert old.n_adaptations == 0  # adapt off, as it was


def test_a_model_pickled_before_the_seen_sets_decides_each_label_alone():
    state = copy.deepcopy(_learnt()).__dict__
    del state["_decider"]
    old = _old(state)
    assert old._decider.trivial
    x = _STREAM[420][0]
    answers = old._answers(x)
    assert old.predict_one(x) == {label: p > 0.5 for label, p in zip(old.labels, answers)}


def test_a_model_without_an_all_labels_learner_loads_talking_dicts():
    model = _learnt(share=False, fallback=False)
    assert model._base is None
    state = copy.deepcopy(model).__dict__
    del state["_base_kind"]
    old = _old(state)
    assert old._base_kind == "dict"
    _goes_on(old)


@pytest.mark.parametrize("name", ["_busy", "_base_kind", "_decider"])
def test_a_current_pickle_keeps_what_it_holds(name):
    model = _learnt()
    state = copy.deepcopy(model).__dict__
    kept = state[name]
    loaded = _old(state)
    assert loaded.__dict__[name] is kept
    _goes_on(loaded)
