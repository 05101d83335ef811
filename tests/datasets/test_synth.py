from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from streamml.datasets import synth
from streamml.datasets.synth import Drift, LabelGroups


def _matrix(stream, n, start=0):
    rows = itertools.islice(stream, start, start + n)
    xs, ys = zip(*rows)
    X = np.array([[x[f] for f in stream.features] for x in xs])
    Y = np.array([[y[label] for label in stream.labels] for y in ys])
    return X, Y


def _jaccard_distance(a, b):
    union = np.sum(a | b)
    return 1.0 - np.sum(a & b) / union if union else 1.0


def test_exported():
    assert synth.LabelGroups is LabelGroups
    from streamml import datasets

    assert "synth" in datasets.__all__


def test_deterministic_for_a_seed_and_reiterable():
    stream = LabelGroups(seed=3, n_samples=600, drifts=[Drift(at=200, width=100)])
    first = list(stream)
    assert len(first) == 600
    assert list(stream) == first
    assert list(LabelGroups(seed=3, n_samples=600, drifts=[Drift(at=200, width=100)])) == first
    other = list(LabelGroups(seed=4, n_samples=600, drifts=[Drift(at=200, width=100)]))
    assert other != first


def test_seed_none_is_consistent_within_an_object():
    stream = LabelGroups(seed=None, n_samples=50)
    assert list(stream) == list(stream)


def test_endless_stream_and_names():
    stream = LabelGroups(n_labels=5, n_groups=2, n_features=7, seed=0)
    assert stream.n_samples is None
    rows = list(itertools.islice(stream, 1500))
    assert len(rows) == 1500
    x, y = rows[0]
    assert list(x) == [f"f{i}" for i in range(7)]
    assert list(y) == [f"l{i}" for i in range(5)]
    assert all(isinstance(v, float) for v in x.values())
    assert all(isinstance(v, bool) for v in y.values())
    assert stream.n_features == 7 and stream.n_outputs == 5


def test_groups_partition_the_labels():
    stream = LabelGroups(n_labels=11, n_groups=4, seed=1)
    groups = stream.groups_at(0)
    assert len(groups) == 4
    assert sorted(len(g) for g in groups) == [2, 3, 3, 3]
    assert set().union(*groups) == set(stream.labels)
    assert sum(len(g) for g in groups) == 11


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_measured_jaccard_matches_the_design(seed):
    stream = LabelGroups(n_labels=12, n_groups=3, seed=seed, n_samples=6000)
    _, Y = _matrix(stream, 6000)
    group_of = {label: g for g, group in enumerate(stream.groups_at(0)) for label in group}
    within, across = [], []
    for i, j in itertools.combinations(range(12), 2):
        a, b = stream.labels[i], stream.labels[j]
        measured = _jaccard_distance(Y[:, i], Y[:, j])
        assert measured == pytest.approx(stream.design_distance(a, b), abs=0.04)
        (within if group_of[a] == group_of[b] else across).append(measured)
    # the defaults are built for a partitioner: small distances inside, large across
    assert np.mean(within) < 0.3 and max(within) < 0.35
    assert np.mean(across) > 0.75 and min(across) > 0.7


def test_groups_are_independent():
    stream = LabelGroups(n_labels=6, n_groups=3, seed=5, n_samples=8000)
    _, Y = _matrix(stream, 8000)
    groups = stream.groups_at(0)
    active = np.array(
        [[Y[:, [stream.labels.index(m) for m in group]].mean(axis=1) > 0.5] for group in groups]
    )[:, 0, :]
    corr = np.corrcoef(active)
    off_diagonal = corr[~np.eye(len(groups), dtype=bool)]
    assert np.all(np.abs(off_diagonal) < 0.05)


def test_group_rates_per_group():
    stream = LabelGroups(n_labels=6, n_groups=2, group_rate=[0.1, 0.6], seed=0, n_samples=5000)
    _, Y = _matrix(stream, 5000)
    rates = Y.mean(axis=0)
    for g, group in enumerate(stream.groups_at(0)):
        q = [0.1, 0.6][g]
        expected = q * stream.p_on + (1 - q) * stream.p_off
        for label in group:
            assert rates[stream.labels.index(label)] == pytest.approx(expected, abs=0.03)


def test_groups_change_exactly_at_change_points():
    drifts = [Drift(at=1000), Drift(at=2000, relation=True, regroup=False), Drift(at=3000)]
    stream = LabelGroups(seed=0, drifts=drifts)
    assert stream.change_points == [1000, 2000, 3000]
    assert len(stream.concepts) == 4
    g = [set(stream.groups_at(t)) for t in (0, 999, 1000, 1999, 2000, 2999, 3000, 10**6)]
    assert g[0] == g[1] != g[2]
    assert g[2] == g[3] == g[4] == g[5]  # a relation-only change keeps the groups
    assert g[5] != g[6] == g[7]
    assert [stream.concept_at(t) for t in (999, 1000, 2000, 3000)] == [0, 1, 2, 3]
    assert stream.concepts[2].relation != stream.concepts[1].relation
    # the measured correlations follow the new grouping
    _, Y = _matrix(stream, 1000, start=3000)
    for group in stream.groups_at(3000):
        a, b = sorted(group)[:2]
        i, j = stream.labels.index(a), stream.labels.index(b)
        assert _jaccard_distance(Y[:, i], Y[:, j]) < 0.35


def test_regroup_swaps_moves_few_labels():
    stream = LabelGroups(n_labels=12, n_groups=3, seed=2, drifts=[Drift(at=10, swaps=1)])
    before = {label: g for g, grp in enumerate(stream.concepts[0].groups) for label in grp}
    after = {label: g for g, grp in enumerate(stream.concepts[1].groups) for label in grp}
    moved = [label for label in stream.labels if before[label] != after[label]]
    assert len(moved) == 2
    assert not stream.concepts[0].same_grouping(stream.concepts[1])


def test_gradual_change_mixes_the_concepts():
    stream = LabelGroups(seed=7, n_samples=9000, drifts=[Drift(at=2000, width=4000)])
    assert stream.change_points == [2000 + 2000]
    concepts = np.array([k for _, _, k in stream.iter_with_concept()])
    assert np.all(concepts[:2000] == 0)
    assert np.all(concepts[6000:] == 1)
    share = [concepts[s : s + 1000].mean() for s in range(2000, 6000, 1000)]
    assert share == sorted(share)  # the new concept takes over progressively
    for observed, start in zip(share, range(2000, 6000, 1000)):
        expected = np.mean([stream.drifts[0].p_new(t) for t in range(start, start + 1000)])
        assert observed == pytest.approx(expected, abs=0.06)
    assert stream.mixture_at(1999) == {0: 1.0}
    assert stream.mixture_at(4000)[1] == pytest.approx(2001 / 4001)
    assert stream.concept_at(3998) == 0 and stream.concept_at(4000) == 1


def test_recurring_change_returns_to_the_old_grouping():
    drifts = [Drift(at=1000, relation=True), Drift(at=2000, width=200, to=0)]
    stream = LabelGroups(seed=11, n_samples=4000, drifts=drifts)
    assert len(stream.concepts) == 2
    assert stream.groups_at(2500) == stream.groups_at(0) != stream.groups_at(1500)
    assert stream.concept_at(2500) == 0
    concepts = [k for _, _, k in stream.iter_with_concept()]
    assert set(concepts[2200:]) == {0}
    _, Y = _matrix(stream, 1800, start=2200)
    for i, j in itertools.combinations(range(stream.n_labels), 2):
        a, b = stream.labels[i], stream.labels[j]
        measured = _jaccard_distance(Y[:, i], Y[:, j])
        assert measured == pytest.approx(stream.design_distance(a, b, t=0), abs=0.08)


def _fit_hamming(X_train, Y_train, X_test, Y_test):
    predictions = np.column_stack(
        [
            LogisticRegression(max_iter=500).fit(X_train, Y_train[:, i]).predict(X_test)
            for i in range(Y_train.shape[1])
        ]
    )
    return np.mean(predictions != Y_test)


def test_features_are_informative():
    stream = LabelGroups(seed=0, n_samples=4000)
    X, Y = _matrix(stream, 4000)
    baseline = np.mean(Y[2000:])  # predicting every label False
    assert _fit_hamming(X[:2000], Y[:2000], X[2000:], Y[2000:]) < 0.5 * baseline
    # every label has a feature that correlates with it
    corr = np.corrcoef(np.hstack([X, Y]).T)[: X.shape[1], X.shape[1] :]
    assert np.all(np.abs(corr).max(axis=0) > 0.3)
    # and the noise features do not
    informative = stream.informative_at(0)
    assert len(informative) == 20 - 20 // 4
    noise = [i for i, name in enumerate(stream.features) if name not in informative]
    assert np.all(np.abs(corr[noise]) < 0.1)


def test_relation_change_breaks_a_trained_model():
    stream = LabelGroups(
        seed=1, n_samples=6000, drifts=[Drift(at=2000, regroup=False, relation=True)]
    )
    X, Y = _matrix(stream, 6000)
    assert stream.groups_at(0) == stream.groups_at(5000)
    same = _fit_hamming(X[:1500], Y[:1500], X[1500:2000], Y[1500:2000])
    after = _fit_hamming(X[:1500], Y[:1500], X[2000:4000], Y[2000:4000])
    relearned = _fit_hamming(X[2000:3500], Y[2000:3500], X[3500:], Y[3500:])
    assert after > 1.5 * same
    assert relearned < 0.7 * after


def test_emerging_labels():
    stream = LabelGroups(n_labels=6, n_groups=2, seed=0, n_samples=600, emerging={"l5": 300})
    rows = list(stream)
    assert all("l5" not in y for _, y in rows[:300])
    assert all("l5" in y for _, y in rows[300:])
    assert len(rows[0][1]) == 5
    assert "l5" not in set().union(*stream.groups_at(299))
    assert "l5" in set().union(*stream.groups_at(300))
    assert stream.labels_at(0) == ["l0", "l1", "l2", "l3", "l4"]
    # the hidden label follows its group once it is visible
    with_l5 = LabelGroups(n_labels=6, n_groups=2, seed=0, n_samples=600)
    assert [y for _, y in rows[300:]] == [y for _, y in list(with_l5)[300:]]


def test_emerging_label_alone_in_its_group_drops_the_group():
    stream = LabelGroups(n_labels=3, n_groups=3, seed=0, emerging={"l1": 50})
    assert len(stream.groups_at(0)) == 2
    assert len(stream.groups_at(50)) == 3


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"n_groups": 13}, ValueError),
        ({"n_labels": 0}, ValueError),
        ({"n_features": 2.5}, TypeError),
        ({"n_informative": 30}, ValueError),
        ({"p_on": 0.2, "p_off": 0.3}, ValueError),
        ({"p_on": 1.5}, ValueError),
        ({"group_rate": [0.2, 0.3]}, ValueError),
        ({"group_rate": 0.0}, ValueError),
        ({"noise": -1}, ValueError),
        ({"drifts": [Drift(at=500), Drift(at=100)]}, ValueError),
        ({"drifts": [Drift(at=100, width=500), Drift(at=300)]}, ValueError),
        ({"drifts": [Drift(at=100, to=1)]}, ValueError),
        ({"drifts": [Drift(at=100), Drift(at=200, to=1)]}, ValueError),
        ({"drifts": [Drift(at=100)], "n_groups": 1}, ValueError),
        ({"drifts": [Drift(at=100)], "n_samples": 50}, ValueError),
        ({"drifts": [(100, 0)]}, TypeError),
        ({"emerging": {"l99": 10}}, ValueError),
        ({"emerging": {"l1": -1}}, ValueError),
        ({"emerging": ["l1"]}, TypeError),
    ],
)
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        LabelGroups(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"at": 0},
        {"at": 10, "width": -1},
        {"at": 10, "to": 0, "regroup": True},
        {"at": 10, "to": 0, "relation": False},
        {"at": 10, "regroup": False},
        {"at": 10, "regroup": False, "relation": True, "swaps": 2},
        {"at": 10, "swaps": 0},
        {"at": 10.0},
    ],
)
def test_bad_drifts(kwargs):
    with pytest.raises((ValueError, TypeError)):
        Drift(**kwargs)


def test_bad_index():
    stream = LabelGroups(seed=0)
    with pytest.raises(ValueError):
        stream.groups_at(-1)
    with pytest.raises(ValueError):
        stream.design_distance("l0", "nope")
