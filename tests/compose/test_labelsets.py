"""SeenLabelSets: decode into the most probable label set seen so far, when that pays."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from river import base, datasets

from streamml import IHOMER
from streamml.compose import SeenLabelSets
from streamml.compose.labelsets import _SeenSets

from ..continuation import assert_pickle_continues
from .fixed import Fixed


class Oracle(base.MultiLabelClassifier):
    """Reads the true label set from x (`"on"`), with probabilities 0.9 and 0.1."""

    def __init__(self, labels: tuple = ()):
        self.labels = labels

    def predict_proba_one(self, x, **kwargs):
        on = x.get("on", ())
        return {
            label: {False: 0.1, True: 0.9} if label in on else {False: 0.9, True: 0.1}
            for label in self.labels
        }

    def learn_one(self, x, y, **kwargs):
        pass


def test_an_unseen_marginal_answer_is_replaced_by_the_most_probable_seen_set():
    # a and b always come together; the marginals (0.9, 0.4) answer {a} alone, which never
    # occurs. Of the seen sets, {a, b} (log-odds 2.20 - 0.41) beats {} (0) and {c} (-2.20).
    inner = Fixed({"a": 0.9, "b": 0.4, "c": 0.1})
    model = SeenLabelSets(inner, decay=0.1)
    stream = [{"a": True, "b": True, "c": False}] * 3 + [{"a": False, "b": False, "c": True}]
    hits = []
    for y in stream * 10:
        hits.append(model.predict_one({}) == y)
        model.learn_one({}, y)
    assert inner.learned == 40
    assert model.decoding
    assert model.predict_one({}) == {"a": True, "b": True, "c": False}
    assert model.predict_proba_one({}) == inner.predict_proba_one({})  # unchanged
    # The wrapped answer {a} is never right; the decoded one is right 3 times in 4.
    assert np.mean(hits[8:]) == 0.75


def test_it_keeps_the_wrapped_answer_where_label_sets_are_mostly_new():
    # Label sets drawn at random over 12 labels are nearly all new: the decoded set (a seen
    # one) is rarely right, the oracle always. The wrapper must follow the oracle.
    rng = np.random.default_rng(1)
    labels = tuple(f"l{i}" for i in range(12))
    model = SeenLabelSets(Oracle(labels))
    hits = []
    for _ in range(400):
        on = tuple(label for label in labels if rng.random() < 0.4)
        x, y = {"on": on}, {label: label in on for label in labels}
        hits.append(model.predict_one(x) == y)
        model.learn_one(x, y)
    assert not model.decoding
    assert all(hits[1:])


@pytest.mark.parametrize("kernel", [True, False])  # scipy's CSR product, numpy's reduceat
def test_seen_sets_score_like_brute_force_and_forget_the_least_recent_first(kernel, monkeypatch):
    from streamml.learners import sparse_rows

    if not kernel:
        monkeypatch.setattr(sparse_rows, "_csr_matvec", None)
    rng = np.random.default_rng(2)
    seen = _SeenSets(capacity=5)
    history = []
    for _ in range(300):
        labels = tuple(sorted(rng.choice(6, size=rng.integers(0, 4), replace=False).tolist()))
        seen.add(labels)
        if labels in history:
            history.remove(labels)
        history.append(labels)
        kept = history[-5:]  # the 5 most recently seen distinct sets
        assert len(seen) == len(kept)
        weights = rng.normal(size=6)
        best = seen.best(weights)
        assert best in kept
        assert np.isclose(sum(weights[list(best)]), max(sum(weights[list(s)]) for s in kept))


def test_only_the_empty_set_seen():
    seen = _SeenSets(capacity=3)
    seen.add(())
    assert seen.best(np.array([2.0, -1.0])) == ()


def test_a_set_with_labels_the_caller_does_not_know_is_never_chosen():
    seen = _SeenSets(capacity=10)
    seen.add((0, 3))  # label 3 is beyond the weights given below
    seen.add((1,))
    assert seen.best(np.array([5.0, -1.0, 0.0])) == (1,)


def test_yeast_gains_exact_matches():
    stream = list(datasets.Yeast().take(1200))
    hits = {"plain": 0, "seen": 0}
    models = {
        "plain": IHOMER(seed=3, seen_sets=None, threshold_strength=0.0),
        "seen": SeenLabelSets(IHOMER(seed=3, seen_sets=None, threshold_strength=0.0)),
    }
    for x, y in stream:
        for name, model in models.items():
            hits[name] += model.predict_one(x) == y
            model.learn_one(x, y)
    assert hits["seen"] > hits["plain"] * 1.1


def test_pickle_continues_identically():
    stream = list(datasets.Yeast().take(300))
    assert_pickle_continues(SeenLabelSets(IHOMER(seed=1, seen_sets=None), max_sets=20), stream, 150)


def test_parameters_are_kept_and_their_ends_accepted():
    model = SeenLabelSets(Fixed({"a": 0.5}), max_sets=1, decay=1)
    assert (model.max_sets, model.decay) == (1, 1)
    assert (model._decoder.max_sets, model._decoder.decay) == (1, 1)
    assert model.clone()._get_params() == model._get_params()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_sets": 0},
        {"max_sets": 2.5},
        {"max_sets": True},
        {"decay": 0},
        {"decay": 1.5},
        {"decay": "x"},
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError, match="max_sets|decay"):
        SeenLabelSets(Fixed({"a": 0.5}), **kwargs)


def test_a_decoded_answer_covers_the_wrapped_labels_it_never_saw_positive():
    # z is answered by the wrapped classifier but never occurs in a label set: the wrapped
    # answer {a, z} is always wrong, the decoded {a} always right, and it answers z too.
    inner = Fixed({"a": 0.9, "z": 0.8})
    model = SeenLabelSets(inner)
    for y in itertools.repeat({"a": True}, 5):
        model.learn_one({}, y)
    assert model.decoding
    assert model.predict_one({}) == {"a": True, "z": False}


def test_decoding_needs_more_exact_matches_and_no_worse_f1():
    # Label sets mostly new (delicious): the decoded set, a seen one, is right on the few
    # repeats but shares nothing with the others; the own answer is never exact but misses
    # one label in four. More exact matches, much worse F1: not used.
    from streamml.compose import LabelSetDecoder

    decoder = LabelSetDecoder(100)
    repeat = (0, 1)
    for i in range(500):
        truth = repeat if i % 5 == 0 else (10 + 3 * i, 11 + 3 * i, 12 + 3 * i, 13 + 3 * i)
        own = truth[:-1]  # one label missed
        decoder.learn(own, tuple(sorted(truth)), repeat)
    assert decoder._race._loss[1] < decoder._race._loss[0]  # ahead on exact matches...
    assert not decoder.decoding  # ...but far behind on F1
    # The same, with a decoded set as close as the own answer when it is not exact: used.
    decoder = LabelSetDecoder(100)
    for i in range(500):
        truth = repeat if i % 5 == 0 else (10 + 3 * i, 11 + 3 * i, 12 + 3 * i, 13 + 3 * i)
        own = truth[:-1]
        decoder.learn(own, tuple(sorted(truth)), repeat if truth == repeat else truth[1:])
    assert decoder.decoding


def test_f1_of_label_sets():
    from streamml.compose.race import f1 as _f1

    assert _f1((), ()) == 1.0  # both empty: right
    assert _f1((0,), ()) == 0.0
    assert _f1((0, 1), (0,)) == pytest.approx(2 / 3)
    assert _f1((0, 1), (2, 3)) == 0.0


def test_the_losses_fade_by_decay():
    # Exact fades: after a wrong, then a right answer, the loss is (a(1 - a)) with a = decay.
    from streamml.compose import LabelSetDecoder

    decoder, a = LabelSetDecoder(10, decay=0.25), 0.25
    decoder.learn((), (0,), None)  # nothing seen yet: no score
    assert decoder._race._loss == [0.0, 0.0]
    decoder.learn((1,), (0,), (0,))  # own wrong (F1 0), decoded right
    decoder.learn((0,), (0,), (1,))  # own right, decoded wrong (F1 0)
    assert decoder._race._loss == pytest.approx([a * (1 - a), a])
    assert decoder._race._f1_loss == pytest.approx([a * (1 - a), a])


@pytest.mark.parametrize("kernel", [True, False])
def test_sets_added_several_at_a_time_score_as_brute_force(kernel, monkeypatch):
    # Several sets between two calls fill the buffers in one go; a call with nothing new
    # scores the same buffers again.
    from streamml.learners import sparse_rows

    if not kernel:
        monkeypatch.setattr(sparse_rows, "_csr_matvec", None)
    rng = np.random.default_rng(9)
    seen, kept = _SeenSets(capacity=50), []
    for _ in range(60):
        for _ in range(rng.integers(1, 4)):
            labels = tuple(sorted(rng.choice(20, size=rng.integers(1, 5), replace=False).tolist()))
            seen.add(labels)
            if labels in kept:
                kept.remove(labels)
            kept.append(labels)
        kept = kept[-50:]
        for _ in range(2):  # the second call finds nothing new to add to the buffers
            weights = rng.normal(size=20)
            best = seen.best(weights)
            assert best in kept
            assert np.isclose(sum(weights[list(best)]), max(sum(weights[list(s)]) for s in kept))


def test_labels_the_wrapped_classifier_does_not_answer_weigh_nothing():
    # b is known (taught) but the wrapped classifier gives no probability for it: it counts as
    # 0.5 (log-odds 0), so {a, b} and {a} tie and the first seen is chosen.
    inner = Fixed({"a": 0.9})
    model = SeenLabelSets(inner)
    for y in [{"a": True, "b": True}, {"a": True, "b": False}] * 5 + [{"a": True, "b": True}]:
        model.learn_one({}, y)
    assert np.allclose(model._proba({}), [0.9, 0.5])


def test_a_decoder_sharing_the_sets_races_on_its_own():
    from streamml.compose import LabelSetDecoder

    first = LabelSetDecoder(10, decay=0.5)
    second = first.shares_sets()
    assert (second.max_sets, second.decay) == (10, 0.5)
    first.learn((), (0, 1), None)
    assert second.n_sets == 1 and second.best([0.9, 0.9]) == (0, 1)  # seen through the first
    second.learn((0,), (2,), (0, 1), remember=False)
    assert first.n_sets == 1  # the second remembered nothing
    assert second._race._loss == [0.5, 0.5] and first._race._loss == [0.0, 0.0]
    first.learn((0, 1), (0, 1), (0, 1))
    assert second._race._loss == [0.5, 0.5]  # the first's race is its own


def test_decoders_pickled_before_the_race_keep_their_losses():
    import pickle

    from streamml.compose import LabelSetDecoder

    decoder = LabelSetDecoder(10, decay=0.25)
    decoder.learn((), (0,), None)
    decoder.learn((1,), (0,), (0,))
    state = decoder.__dict__  # as an older version pickled it: the losses on the decoder
    race = state.pop("_race")
    state["_loss"], state["_f1_loss"] = list(race._loss), list(race._f1_loss)
    loaded = pickle.loads(pickle.dumps(decoder))
    assert loaded._race._loss == race._loss and loaded._race._f1_loss == race._f1_loss
    assert loaded._race.decay == 0.25
    assert not hasattr(loaded, "_loss")
    assert loaded.decoding == race.second_ahead_on_matches
    loaded.learn((0,), (0,), (1,))
    race.learn((0,), (1,), (0,))
    assert loaded._race._loss == race._loss


def test_decoding_twice_from_one_scoring_equals_decoding_each_on_its_own():
    # best_twice scores the sets once and shifts the scores by the threshold's log-odds per
    # label; it must pick what best picks for each answer, modes and forgotten sets included.
    from streamml.compose import LabelSetDecoder

    rng = np.random.default_rng(4)
    decoder = LabelSetDecoder(8, decay=0.1)
    assert decoder.best_twice(np.full(6, 0.5), (), 0.3, ()) == (None, None)
    moved = 0
    for _ in range(400):
        truth = tuple(sorted(rng.choice(6, size=rng.integers(0, 4), replace=False).tolist()))
        proba = rng.uniform(size=6) ** 2
        t = float(rng.uniform(0.05, 0.6))
        mode = tuple(np.flatnonzero(proba > 0.5).tolist())
        mode_t = tuple(np.flatnonzero(proba >= t).tolist())
        first, second = decoder.best_twice(proba, mode, t, mode_t)
        assert first == decoder.best(proba, mode)
        assert second == decoder.best(proba, mode_t, t)
        moved += first != second
        decoder.learn(mode, truth, first)
    assert moved > 20  # the threshold changes the decoded set often enough to test the shift


def test_sets_pickled_with_their_sparse_matrix_load_without_it():
    seen = _SeenSets(capacity=5)
    seen.add((0, 1))
    state = dict(seen.__dict__, _matrix="a csr matrix", _unchanged=True)  # before 6 December
    old = _SeenSets.__new__(_SeenSets)
    old.__setstate__(state)
    assert not hasattr(old, "_matrix") and not hasattr(old, "_unchanged")
    assert old.best(np.array([1.0, 1.0])) == (0, 1)


def test_the_sizes_are_those_of_each_slots_set_forgotten_or_not():
    rng = np.random.default_rng(5)
    seen = _SeenSets(capacity=4)
    for _ in range(60):
        seen.add(tuple(sorted(rng.choice(7, size=rng.integers(0, 5), replace=False).tolist())))
        seen.scores(np.zeros(7))  # brings the buffers up to date
        sizes = seen.sizes()
        assert sizes.tolist() == [len(seen.at(slot)) for slot in range(len(sizes))]


def test_log_odds_are_clipped_into_a_copy():
    from streamml.compose.labelsets import _logit, _scalar_logit

    p = np.array([0.0, 0.25, 0.5, 1.0], dtype=np.float32)
    out = _logit(p)
    assert p.tolist() == [0.0, 0.25, 0.5, 1.0]  # the caller's array is left as it was
    assert out.dtype == np.float64 and np.isfinite(out).all()
    assert out[2] == 0.0 and out[1] == np.log(1 / 3) and out[0] < -27 < 27 < out[3]
    assert [_scalar_logit(q) for q in p.tolist()] == out.tolist()
