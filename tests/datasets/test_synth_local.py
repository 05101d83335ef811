"""Changes confined to some label groups (`Drift(groups=..., rate=..., split=..., merge=...)`)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from streamml.datasets.synth import Change, Drift, LabelGroups


def _matrix(stream, n):
    xs, ys = zip(*itertools.islice(stream, n))
    X = np.array([[x[f] for f in stream.features] for x in xs])
    Y = np.array([[y[label] for label in stream.labels] for y in ys])
    return X, Y


def _columns(stream, labels):
    return [stream.labels.index(label) for label in sorted(labels)]


def _errors(X_train, Y_train, X_test, Y_test):
    """Hamming loss of each label's logistic regression trained on the first part."""
    errors = []
    for j in range(Y_train.shape[1]):
        model = LogisticRegression(max_iter=500).fit(X_train, Y_train[:, j])
        errors.append(np.mean(model.predict(X_test) != Y_test[:, j]))
    return np.array(errors)


def _stream(drift, seed=3, n=6000):
    return LabelGroups(
        n_labels=16, n_groups=4, n_features=32, n_samples=n, seed=seed, drifts=[drift]
    )


def test_local_relation_change_breaks_only_the_chosen_group():
    stream = _stream(Drift(at=2000, relation=True, groups=[1]))
    (change,) = stream.schedule
    assert isinstance(change, Change)
    assert change.labels == set(stream.concepts[0].groups[1])
    assert (change.at, change.end, change.what) == (2000, 2000, ("relation",))
    assert stream.groups_at(0) == stream.groups_at(5000)  # the grouping stays
    X, Y = _matrix(stream, 6000)
    same = _errors(X[:1500], Y[:1500], X[1500:2000], Y[1500:2000])
    after = _errors(X[:1500], Y[:1500], X[2000:4000], Y[2000:4000])
    hit = _columns(stream, change.labels)
    kept = [j for j in range(16) if j not in hit]
    assert after[hit].mean() > 2 * same[hit].mean()
    # The other labels' models do not notice (a few points of sampling noise at most).
    assert after[kept].mean() < same[kept].mean() + 0.02


def test_local_relation_change_keeps_every_other_feature():
    stream = _stream(Drift(at=1000, relation=True, groups=[0, 2]))
    old, new = stream._relations
    changed = np.flatnonzero((old.weights != new.weights).any(axis=0))
    owners = {int(label[1:]) for g in (0, 2) for label in stream.concepts[0].groups[g]}
    # exactly the features driven by a label of the chosen groups changed, and their new
    # primary label is in those groups too
    assert set(changed.tolist()) == {f for f in range(32) if old.primary[f] in owners}
    assert all(new.primary[f] in owners for f in changed)
    assert np.array_equal(old.offsets, new.offsets)


@pytest.mark.parametrize("width", [0, 800])
def test_rate_change_of_some_groups(width):
    stream = _stream(Drift(at=2000, width=width, rate=0.7, groups=[0]), n=6000)
    (change,) = stream.schedule
    assert change.labels == set(stream.concepts[0].groups[0]) and change.what == ("rate",)
    _, Y = _matrix(stream, 6000)
    hit = _columns(stream, change.labels)
    kept = [j for j in range(16) if j not in hit]
    before, after = Y[:2000].mean(axis=0), Y[2000 + width :].mean(axis=0)
    p = lambda q: q * stream.p_on + (1 - q) * stream.p_off  # noqa: E731
    assert np.allclose(before[hit], p(0.3), atol=0.05)
    assert np.allclose(after[hit], p(0.7), atol=0.05)
    assert np.allclose(after[kept], p(0.3), atol=0.05)
    assert stream.groups_at(0) == stream.groups_at(5999)


def test_split_makes_two_independent_groups():
    stream = _stream(Drift(at=2000, split=3))
    (change,) = stream.schedule
    old = set(stream.concepts[0].groups[3])
    assert change.labels == old and change.what == ("split",)
    after = stream.groups_at(2000)
    assert len(after) == 5
    halves = [g for g in after if g <= old]
    assert len(halves) == 2 and halves[0] | halves[1] == old
    _, Y = _matrix(stream, 6000)
    a, b = (_columns(stream, h) for h in halves)
    late = Y[2000:]
    # inside each half labels co-occur; across the halves they no longer do
    assert stream.design_distance(stream.labels[a[0]], stream.labels[b[0]], t=3000) > 0.7
    assert stream.design_distance(stream.labels[a[0]], stream.labels[b[0]], t=0) < 0.3
    both = np.mean(late[:, a[0]] & late[:, b[0]])
    assert both == pytest.approx(late[:, a[0]].mean() * late[:, b[0]].mean(), abs=0.02)


def test_merge_makes_one_group():
    stream = _stream(Drift(at=2000, merge=(0, 2)))
    first = stream.concepts[0].groups
    (change,) = stream.schedule
    assert change.labels == set(first[0]) | set(first[2])
    after = stream.groups_at(3000)
    assert len(after) == 3 and frozenset(first[0] + first[2]) in after
    l0, l2 = first[0][0], first[2][0]
    assert stream.design_distance(l0, l2, t=0) > 0.7 > 0.3 > stream.design_distance(l0, l2, 3000)
    _, Y = _matrix(stream, 6000)
    i, j = stream.labels.index(l0), stream.labels.index(l2)
    late = Y[2000:]
    jaccard = 1 - np.sum(late[:, i] & late[:, j]) / np.sum(late[:, i] | late[:, j])
    assert jaccard == pytest.approx(stream.design_distance(l0, l2, 3000), abs=0.05)


def test_regroup_after_merge_keeps_group_slots():
    stream = LabelGroups(
        n_labels=12,
        n_groups=3,
        n_samples=3000,
        seed=0,
        drifts=[Drift(at=1000, merge=(0, 1)), Drift(at=2000, swaps=1)],
    )
    assert len(stream.groups_at(2500)) == 2
    assert stream.concepts[2].groups[1] == ()
    assert len(list(stream)) == 3000


def test_schedule_of_a_return_lists_what_comes_back():
    stream = _stream(Drift(at=1000, relation=True, groups=[2]))
    back = LabelGroups(
        n_labels=16,
        n_groups=4,
        n_features=32,
        n_samples=4000,
        seed=3,
        drifts=[Drift(at=1000, relation=True, groups=[2]), Drift(at=2000, width=500, to=0)],
    )
    assert back.schedule[1].labels == stream.schedule[0].labels
    assert back.schedule[1].what == ("recurring",)
    assert (back.schedule[1].end, back.schedule[1].dominant_from) == (2500, 2250)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"at": 10, "groups": [0]},  # confines nothing
        {"at": 10, "split": 0, "merge": (1, 2)},
        {"at": 10, "merge": (1, 1)},
        {"at": 10, "merge": 1},
        {"at": 10, "rate": 1.5},
        {"at": 10, "rate": 0.5, "groups": []},
        {"at": 10, "rate": 0.5, "groups": [0, 0]},
        {"at": 10, "split": 0, "regroup": True},
        {"at": 10, "to": 0, "rate": 0.4},
        {"at": 10, "split": -1},
    ],
)
def test_bad_local_drifts(kwargs):
    with pytest.raises(ValueError):
        Drift(**kwargs)


@pytest.mark.parametrize(
    "drift", [Drift(at=10, split=7), Drift(at=10, rate=0.4, groups=[4]), Drift(at=10, merge=(0, 9))]
)
def test_unknown_groups_name_the_drift(drift):
    with pytest.raises(ValueError, match="drift 0 names group"):
        _stream(drift)


def test_streams_without_local_changes_are_unchanged_by_them():
    # A stream with a local change is the same as one without it before the change.
    plain = LabelGroups(n_labels=16, n_groups=4, n_features=32, n_samples=500, seed=5)
    local = _stream(Drift(at=400, rate=0.6, groups=[1]), seed=5, n=500)
    assert list(itertools.islice(local, 400)) == list(itertools.islice(plain, 400))
