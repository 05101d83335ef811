"""`ihomer.cluster` on its own: the seeds of the cluster learners, the fresh clones, the labels a
cluster's learners are taught, its error detector (against a river ADWIN fed the same losses),
its alternates and its pickles."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import zlib

import numpy as np
import pytest
from river import drift

from streamml.ihomer.cluster import Cluster, cluster_seed, fresh_learner
from streamml.ihomer.selection import Selection
from streamml.learners import MLHAT, FeatureIndex, NaiveBayes

from .stand_ins import Recorder


def _cluster(labels=("a", "b", "c"), learner=None, delta=0.002, encoded=False) -> Cluster:
    return Cluster(labels, list(range(len(labels))), learner, delta, encoded, born=0)


def test_cluster_seeds_follow_the_labels_not_their_order_and_differ_by_model_seed_and_round():
    labels = frozenset({"b", "a", "c"})
    s = cluster_seed(7, labels)
    assert s == cluster_seed(7, frozenset(["c", "b", "a"]))
    assert cluster_seed(None, labels) is None and cluster_seed(None, labels, 3) is None
    seeds = {
        cluster_seed(seed, frozenset(ls), k)
        for seed in (0, 1, 7)
        for ls in ("ab", "abc", "d")
        for k in (0, 1, 2)
    }
    assert len(seeds) == 27  # every model seed, label set and round gives its own seed
    assert all(0 <= seed < 2**31 - 1 for seed in seeds)
    assert cluster_seed(7, labels, 0) == cluster_seed(7, labels)


@pytest.mark.parametrize("k", [0, 1, 5])
@pytest.mark.parametrize("seed", [0, 42, 2**31])
def test_a_cluster_seed_is_the_model_seed_mixed_with_a_checksum_of_the_labels(seed, k):
    """(seed x 1,000,003 + CRC-32 of the sorted labels joined by "\\x1f" + 7919 k) modulo
    2**31 - 1: a model rebuilt from its parameters seeds its clusters as the original did."""
    labels = frozenset({"beta", "alpha", "gamma"})
    digest = zlib.crc32(b"alpha\x1fbeta\x1fgamma")
    assert cluster_seed(seed, labels, k) == (seed * 1_000_003 + digest + 7919 * k) % (2**31 - 1)


def test_cluster_seeds_are_the_same_in_another_process():
    """Not Python's salted string hash: a model rebuilt elsewhere seeds its clusters alike."""
    code = (
        "from streamml.ihomer.cluster import cluster_seed\n"
        "print(cluster_seed(11, frozenset({'x', 'y'}), 2), cluster_seed(0, frozenset({'z'})))"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout)
    expected = f"{cluster_seed(11, frozenset({'x', 'y'}), 2)} {cluster_seed(0, frozenset({'z'}))}\n"
    assert outputs == {expected}


def test_a_new_cluster_holds_what_it_was_given():
    watch = object()
    c = Cluster(("b", "a"), [4, 1], None, 0.01, True, born=37, watch=watch)
    assert c.labels == ("b", "a") and c.key == frozenset({"a", "b"})
    assert c.cols.dtype == np.int64 and c.cols.tolist() == [4, 1]
    assert c.watch is watch and c.born == 37 and c.encoded is True
    assert c.retired == 0 and c.n_adapted == 0 and c.n == 0 and c.alternates is None
    assert c.window == (0.0, 0) and c.adwin.delta == 0.01 and c.is_view


def test_a_fresh_learner_is_an_untrained_clone_with_the_seed_if_it_takes_one():
    template = MLHAT(grace_period=30, seed=1)
    template.learn_one({"x": 1.0}, {"a": True})
    fresh = fresh_learner(template, 5)
    assert fresh is not template and fresh.seed == 5 and fresh.grace_period == 30
    assert fresh.labels == [] and template.labels == ["a"] and template.seed == 1
    recorder = Recorder(tag=3)
    recorder.learn_one({}, {"a": True})
    clone = fresh_learner(recorder, 5)  # no seed parameter: a plain clone
    assert type(clone) is Recorder and clone.tag == 3 and clone.taught == []


@pytest.mark.parametrize(
    "y",
    [
        {"a": True, "b": False, "c": True, "d": True},  # more labels than the cluster's
        {"a": True, "c": True},  # the positives only: the others are False
        {"c": True, "x": True, "a": False},  # as many keys, not all the cluster's
    ],
)
def test_the_learners_are_taught_the_clusters_labels_only_in_its_order(y):
    c = _cluster(learner=Recorder())
    c.adapt([Recorder(tag=1), Recorder(tag=2)], seed=3, started=10)
    x = {"f": 1.0}
    c.learn(x, None, y)
    expected = {label: bool(y.get(label, False)) for label in ("a", "b", "c")}
    for learner in [c.learner, *c.alternates.learners]:
        assert len(learner.taught) == 1
        taught_x, taught_y = learner.taught[0]
        assert taught_x is x and taught_y == expected and list(taught_y) == ["a", "b", "c"]


def test_the_learners_of_a_model_that_shares_the_encoding_read_it_not_x():
    model = MLHAT(seed=0)
    c = _cluster(labels=("a", "b"), learner=model, encoded=True)
    c.adapt([MLHAT(seed=0)], seed=1, started=0)
    assert c.kind == "vector" and c.alternates.kinds == ["vector"]
    index = FeatureIndex()
    for x, y in [({"f": 1.0}, {"a": True}), ({"f": 2.0}, {"b": True})] * 3:
        c.learn(None, index.encode(x), y)  # x itself is never read
    assert model.labels == ["a", "b"] and c.alternates.learners[0].labels == ["a", "b"]
    v = index.encode({"f": 1.5}, grow=False)
    assert np.array_equal(c.proba(None, v), model.predict_proba_vector(v))


def test_a_view_teaches_only_its_alternates():
    c = _cluster()
    c.learn({"f": 1.0}, None, {"a": True})  # neither learner nor alternates: nothing to do
    c.adapt([Recorder()], seed=None, started=0)
    c.learn({"f": 1.0}, None, {"a": True})
    assert c.alternates.learners[0].taught == [({"f": 1.0}, {"a": True, "b": False, "c": False})]
    assert c.is_view and c.learner is None


def test_a_clusters_own_answer_comes_from_its_learner_in_its_labels_order():
    learner = Recorder()
    learner.learn_one({}, {"b": True})
    c = _cluster(learner=learner)
    assert c.proba({"p": 0.4}, None).tolist() == [0.0, 0.4, 0.0]  # unknown labels: 0


def _losses(seed: int = 3):
    """Wrong labels out of 4 per instance: low, then high, then low again."""
    rng = np.random.default_rng(seed)
    for rate in (0.1, 0.6, 0.05):
        yield from (int(k) for k in rng.binomial(4, rate, size=600))


@pytest.mark.parametrize("delta", [0.002, 0.1])
def test_the_detector_reports_a_rise_of_the_error_as_a_river_adwin_sees_it(delta):
    c = _cluster(labels=("a", "b", "c", "d"), delta=delta)
    reference = drift.ADWIN(delta=delta)
    rises = falls = 0
    for wrong in _losses():
        before = reference.estimation
        reference.update(wrong / 4)
        expected = reference.drift_detected and reference.estimation > before
        assert c.track(float(wrong)) is expected
        rises += expected
        falls += reference.drift_detected and not expected
        total, count = c.window
        if reference.drift_detected:  # river's ADWIN starts afresh at its next update
            assert (total, count) == (0.0, 0)
        else:
            assert count == reference.width
            assert total / count == pytest.approx(reference.estimation, rel=1e-9, abs=1e-12)
        assert c.error == pytest.approx(reference.estimation)
    assert rises >= 1 and falls >= 1


def test_set_learner_restarts_the_count_and_the_selection():
    c = _cluster()
    c.n = 40
    c.selection.last_answer = 12
    selection = c.selection
    c.set_learner(Recorder())
    assert c.n == 0 and c.selection is not selection and c.kind == "dict" and not c.is_view
    assert c.last_answer == 0 and c.use_root
    c.set_learner(None)
    assert c.is_view and c.kind is None


def test_the_kind_follows_the_learner_and_what_the_model_shares():
    assert _cluster(learner=MLHAT(), encoded=True).kind == "vector"
    assert _cluster(learner=NaiveBayes(), encoded=False).kind == "dict"
    assert _cluster(learner=Recorder(), encoded=True).kind == "dict"


def test_adapting_starts_fresh_alternates_with_seeds_of_each_round():
    c = _cluster()
    templates = [MLHAT(seed=0), MLHAT(seed=0)]
    c.adapt(templates, seed=9, started=120)
    first = c.alternates
    assert c.n_adapted == 1 and first.started == 120 and len(first) == 2
    assert [a.seed for a in first.learners] == [cluster_seed(9, c.key, 1)] * 2
    assert all(a is not t for a, t in zip(first.learners, templates))
    assert [t.seed for t in templates] == [0, 0]
    c.adapt(templates, seed=9, started=300)
    assert c.alternates is not first and c.n_adapted == 2 and c.alternates.started == 300
    assert [a.seed for a in c.alternates.learners] == [cluster_seed(9, c.key, 2)] * 2
    c.adapt(None, seed=None, started=301)  # the default alternates
    assert [type(a) for a in c.alternates.learners] == [NaiveBayes, NaiveBayes]
    assert c.n_adapted == 3


@pytest.mark.parametrize(("behind", "left"), [([5, 5], None), ([5, 4], 1), ([4, 0], 2)])
def test_alternates_behind_for_too_long_are_dropped_and_none_left_means_none(behind, left):
    c = _cluster()
    c.adapt([Recorder(tag=1), Recorder(tag=2)], seed=None, started=0)
    c.alternates.behind = np.array(behind, dtype=np.int64)
    c.prune_alternates(5)
    if left is None:
        assert c.alternates is None
    else:
        assert len(c.alternates) == left
    c.alternates = None
    c.prune_alternates(5)  # nothing to prune
    assert c.alternates is None


def test_a_pickled_cluster_goes_on_as_the_original():
    c = _cluster(learner=Recorder(), delta=0.1)
    c.adapt([Recorder(tag=1)], seed=2, started=5)
    for wrong in list(_losses())[:700]:
        c.track(float(wrong))
    copy = pickle.loads(pickle.dumps(c))
    for name in Cluster.__slots__:
        if name not in ("learner", "alternates", "adwin", "selection"):
            assert np.array_equal(getattr(copy, name), getattr(c, name)) or (
                getattr(copy, name) == getattr(c, name)
            ), name
    c.selection.update(
        np.array([True, False]), np.array([False, False]), np.array([True, False]), 3, 0.9, 0.0, 2
    )
    copy = pickle.loads(pickle.dumps(c))
    assert copy.selection.own == c.selection.own != Selection().own
    assert (copy.selection.root, copy.use_root, copy.last_answer) == (
        c.selection.root,
        c.use_root,
        c.last_answer,
    )
    for wrong in list(_losses(seed=4))[:900]:
        assert copy.track(float(wrong)) is c.track(float(wrong))
    assert copy.window == c.window and copy.n_adapted == c.n_adapted == 1


def test_a_cluster_pickled_before_the_selection_and_the_alternates_loads():
    c = _cluster(learner=Recorder())
    state = c.__getstate__()
    for name in ("selection", "kind", "retired", "alternates", "n_adapted"):
        del state[name]
    state.update(own_stats=(1.0, 2.0), root_stats=(3.0, 4.0), use_root=False, last_answer=17)
    old = Cluster.__new__(Cluster)
    old.__setstate__(state)
    assert old.selection.own == (1.0, 2.0) and old.selection.root == (3.0, 4.0)
    assert old.use_root is False and old.last_answer == 17
    assert old.kind == "dict" and old.retired == 0 and old.alternates is None
    assert old.n_adapted == 0
    view = c.__getstate__()
    for name in ("selection", "kind"):
        del view[name]
    view.update(learner=None, n=8)
    older = Cluster.__new__(Cluster)
    older.__setstate__(view)  # no stats kept: a fresh selection that last answered at n
    assert older.kind is None and older.use_root is True and older.last_answer == 8
    assert older.selection.own == older.selection.root == Selection().own
    del view["n"]
    oldest = Cluster.__new__(Cluster)
    oldest.__setstate__(view)
    assert oldest.last_answer == 0
    encoded = _cluster(learner=MLHAT(), encoded=True).__getstate__()
    for name in ("selection", "kind"):
        del encoded[name]
    vector = Cluster.__new__(Cluster)
    vector.__setstate__(encoded)
    assert vector.kind == "vector"
