"""IHOMER's decision (`seen_sets`, `threshold_strength`): the answer at 0.5 and the answer
against a threshold learned for the micro-F1 race; the second answers while it leads on F1
without trailing on exact matches."""

from __future__ import annotations

import pickle

import pytest
from river import datasets

from benchmarks.thresholds import Replay
from streamml import IHOMER
from streamml.compose import FMeasureThresholds, SeenLabelSets
from streamml.compose.race import f1

from ..lockstep import assert_same_probabilities


def _on(answer: dict) -> set:
    return {label for label, on in answer.items() if on}


def _raced(model: IHOMER, first, second, stream, decay=0.01):
    """Check `model`'s answers against the race of the wrappers `first` and `second` over its
    probabilities (an independent implementation); return how often the second answered."""
    replays = {id(w): w for w in (first, second)}
    loss, f1_loss, seconds = [0.0, 0.0], [0.0, 0.0], 0
    for x, y in stream:
        proba = model.predict_proba_one(x)
        answers = []
        for wrapper in replays.values():
            inner = wrapper
            while not isinstance(inner, Replay):
                inner = inner.classifier
            inner.proba = proba
            answers.append(_on(wrapper.predict_one(x)))
        use_second = loss[1] <= loss[0] and f1_loss[1] < f1_loss[0]
        assert _on(model.predict_one(x)) == answers[use_second]
        seconds += use_second
        truth = _on(y)
        for i, answer in enumerate(answers):
            loss[i] += decay * (float(answer != truth) - loss[i])
            f1_loss[i] += decay * (1.0 - f1(tuple(answer), tuple(truth)) - f1_loss[i])
        for wrapper in replays.values():
            wrapper.learn_one(x, y)
        model.learn_one(x, y)
    return seconds


def test_the_default_races_seen_sets_at_one_half_and_against_the_threshold():
    first = SeenLabelSets(Replay())
    second = SeenLabelSets(FMeasureThresholds(Replay(), average="micro", strength=0.2))
    seconds = _raced(
        IHOMER(seed=3, last_set=False, label_balance=False),
        first,
        second,
        datasets.Yeast().take(1500),
    )
    assert 100 < seconds < 1400  # each answered for part of the stream


@pytest.mark.parametrize("strength", [0.2, 0.5])
def test_without_seen_sets_labels_at_one_half_race_labels_against_the_threshold(strength):
    first = FMeasureThresholds(Replay(), average="micro", strength=0.0)  # each label at 0.5
    second = FMeasureThresholds(Replay(), average="micro", strength=strength)
    model = IHOMER(
        seed=3, seen_sets=None, threshold_strength=strength, last_set=False, label_balance=False
    )
    seconds = _raced(model, first, second, datasets.Yeast().take(800))
    assert seconds > 50


def test_the_decision_changes_nothing_the_model_learns():
    plain = {"seen_sets": None, "threshold_strength": 0.0, "last_set": False}
    a, b = IHOMER(seed=3, last_set=False, label_balance=False), IHOMER(seed=3, **plain)
    assert_same_probabilities(a, b, datasets.Yeast().take(500))


def test_the_threshold_falls_below_one_half_from_the_answers():
    model, plain = IHOMER(seed=3, threshold_strength=1.0), IHOMER(seed=3, threshold_strength=0.0)
    assert model.threshold == 0.5
    for x, y in datasets.Yeast().take(200):
        for m in (model, plain):
            m.predict_one(x)
            m.learn_one(x, y)
    assert plain.threshold == 0.5
    assert 0.0 < model.threshold < 0.5  # F* / 2 of a micro-F1 below 1


def test_models_pickled_before_the_threshold_decide_as_then():
    stream = list(datasets.Yeast().take(400))
    # Built as they decided then: the seen sets at 0.5.
    built = {"threshold_strength": 0.0, "last_set": False, "label_balance": False}
    old, reference = IHOMER(seed=3, **built), IHOMER(seed=3, **built)
    for x, y in stream[:200]:
        for model in (old, reference):
            model.predict_one(x)
            model.learn_one(x, y)
    state = old.__dict__  # as an older version pickled it: the decoder on the model
    state["_decoder"], state["_decoded"] = state.pop("_decider")._decoder, None
    del state["threshold_strength"], state["last_set"], state["label_balance"]
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.threshold_strength == 0.0 and loaded.last_set is False
    assert loaded.label_balance is False
    for x, y in stream[200:]:
        assert loaded.predict_one(x) == reference.predict_one(x)
        loaded.learn_one(x, y)
        reference.learn_one(x, y)


@pytest.mark.parametrize("value", [-0.1, 1.5, True, float("nan"), "0.2", None])
def test_bad_threshold_strength(value):
    with pytest.raises(ValueError, match="threshold_strength"):
        IHOMER(threshold_strength=value)


def test_an_answer_is_for_its_own_instance():
    # The candidates are cached with the probabilities for learn_one: asking about other
    # instances in between must not answer with another instance's.
    stream = list(datasets.Yeast().take(700))
    model = IHOMER(seed=3)
    for x, y in stream[:600]:
        model.predict_one(x)
        model.learn_one(x, y)
    snapshot = pickle.dumps(model)
    expected = [pickle.loads(snapshot).predict_one(x) for x, _ in stream[600:]]  # each alone
    fresh = pickle.loads(snapshot)
    answers = [model.predict_one(x) for x, _ in stream[600:]]  # asked one after another
    assert answers == expected
    assert len({tuple(sorted(_on(a))) for a in answers}) > 5
    x, y = stream[650]
    model.predict_one(stream[651][0])  # the last answer was for another instance
    model.learn_one(x, y)
    fresh.predict_one(x)
    fresh.learn_one(x, y)
    for x, _ in stream[600:]:
        assert model.predict_one(x) == fresh.predict_one(x)
