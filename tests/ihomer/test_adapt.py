"""Clusters that adapt on their own: alternates grown when a cluster's error rises."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from streamml import IHOMER
from streamml.datasets.synth import Drift, LabelGroups
from streamml.ihomer.alternates import WARMUP, Alternates
from streamml.learners import MLHAT, MajorityLabelset, NaiveBayes

CHANGE = 3000


def local_stream(seed=0, n=6000, groups=(0,), width=0):
    """20 labels in 4 groups; only the relation of `groups` to the features changes."""
    return LabelGroups(
        n_labels=20,
        n_groups=4,
        n_features=40,
        n_samples=n,
        seed=seed,
        drifts=[Drift(at=CHANGE, width=width, relation=True, groups=list(groups))],
    )


@pytest.fixture(scope="module")
def local_run():
    """IHOMER and MLHAT with the same seed on the same stream: their predictions, and IHOMER
    after each instance's adaptations."""
    stream = local_stream()
    model, alone = IHOMER(seed=0, last_set=False), MLHAT(seed=0)
    ours, theirs, adapted = [], [], {}
    for t, (x, y) in enumerate(stream):
        ours.append(model.predict_proba_one(x))
        theirs.append(alone.predict_proba_one(x))
        model.learn_one(x, y)
        alone.learn_one(x, y)
        for c in model._clusters.values():
            if c.alternates is not None:
                adapted.setdefault(c.key, t)
    return stream, model, ours, theirs, adapted


def test_a_local_change_gives_only_the_affected_cluster_alternates(local_run):
    stream, model, _, _, adapted = local_run
    changed = stream.schedule[0].labels
    assert adapted, "no cluster adapted to the change"
    for key, t in adapted.items():
        assert key & changed, f"cluster {sorted(key)} has no changed label but adapted at {t}"
        assert t >= CHANGE
    for c in model._clusters.values():
        if not c.key & changed:  # the other clusters stay views of the shared learner
            assert c.learner is None and c.alternates is None and c.n_adapted == 0
    assert model.n_adaptations == sum(c.n_adapted for c in model._clusters.values())


def test_unaffected_labels_are_predicted_as_by_the_cluster_learner_alone(local_run):
    stream, _, ours, theirs, adapted = local_run
    changed = stream.schedule[0].labels
    first = min(adapted.values())
    differ = 0
    for t, (a, b) in enumerate(zip(ours, theirs)):
        for label in stream.labels:
            if label not in changed or t <= first:
                assert a.get(label) == b.get(label), (t, label)
            else:
                differ += a[label] != b[label]
    assert differ > 100  # where a cluster adapted, the partition changed the predictions


def test_adaptation_lifts_the_drifting_labels(local_run):
    stream, _, ours, theirs, _ = local_run
    changed = sorted(stream.schedule[0].labels)

    def exact(predictions):
        rows = list(stream)[CHANGE : CHANGE + 2000]
        return np.mean(
            [
                all((p[label][True] > 0.5) == y[label] for label in changed)
                for p, (_, y) in zip(predictions[CHANGE : CHANGE + 2000], rows)
            ]
        )

    assert exact(ours) > exact(theirs) + 0.02


def test_pickled_mid_adaptation_continues_identically():
    rows = list(local_stream(n=4500))
    model = IHOMER(seed=0)
    t = 0
    while not any(c.alternates is not None for c in model._clusters.values()):
        model.learn_one(*rows[t])
        t += 1
    for x, y in rows[t : t + 50]:
        model.learn_one(x, y)
    copy = pickle.loads(pickle.dumps(model))
    for x, y in rows[t + 50 : t + 600]:
        assert copy.predict_proba_one(x) == model.predict_proba_one(x)
        copy.learn_one(x, y)
        model.learn_one(x, y)
    assert copy.cluster_summary() == model.cluster_summary()


def test_without_adapt_no_cluster_grows_alternates():
    model = IHOMER(seed=0, adapt=False)
    for x, y in local_stream(n=4500):
        model.learn_one(x, y)
    assert model.n_adaptations == 0
    assert all(c.alternates is None for c in model._clusters.values())
    assert any(e.level == "cluster" for e in model.drift_events)  # the detector still watches


def test_a_structure_drift_gives_the_new_clusters_alternates():
    stream = LabelGroups(
        n_labels=12, n_groups=3, n_features=24, n_samples=7000, seed=2, drifts=[Drift(at=4000)]
    )
    # No rise of the error is ever seen (neither by the clusters nor by the labels).
    model = IHOMER(seed=2, drift_delta=1e-9, label_drift_delta=None)
    restructured = []
    for t, (x, y) in enumerate(stream):
        before = model.n_restructurings, model.n_adaptations
        model.learn_one(x, y)
        if model.n_restructurings > before[0]:
            restructured.append((t, model.n_adaptations - before[1]))
    early = [k for t, k in restructured if t < 2000]
    late = [k for t, k in restructured if t >= 4000]
    assert early and not any(early)  # the partition forming is not a drift
    assert any(late)  # the regrouping is
    events = [e for e in model.drift_events if e.level == "cluster"]
    assert not events


def test_alternates_warm_up_then_follow_their_brier_scores():
    alternates = Alternates([MajorityLabelset(), MajorityLabelset()], ["dict", "dict"], 0)
    truth = np.array([1.0, 0.0])
    good, bad, answer = np.array([0.9, 0.1]), np.array([0.2, 0.7]), np.array([0.6, 0.4])
    for _ in range(WARMUP - 1):
        alternates.score(answer, [good, bad], truth, decay=0.1)
        assert alternates.weights(2.0).tolist() == [1.0, 0.0, 0.0]
        assert np.array_equal(alternates.mix(answer, [good, bad], 2.0), answer)
    alternates.score(answer, [good, bad], truth, decay=0.1)
    w = alternates.weights(2.0)
    assert w[1] > w[0] > w[2] and w.sum() == pytest.approx(1.0)
    expected = w[0] * answer + w[1] * good + w[2] * bad
    assert np.allclose(alternates.mix(answer, [good, bad], 2.0), expected)
    assert alternates.weights(8.0)[1] > w[1]  # a larger rate follows the scores more sharply


def test_alternates_that_are_never_the_best_are_dropped():
    alternates = Alternates([MajorityLabelset(), MajorityLabelset()], ["dict", "dict"], 0)
    truth = np.array([1.0])
    best, middle, worst = np.array([0.9]), np.array([0.6]), np.array([0.1])
    for _ in range(30):  # the first alternate is the best; the second is behind everyone
        alternates.score(middle, [best, worst], truth, decay=0.05)
    assert alternates.prune(patience=40) == 2
    assert alternates.prune(patience=30) == 1
    assert alternates.learners[0] is not None and len(alternates.scores) == 2
    for _ in range(10):  # now the answer is the best
        alternates.score(best, [middle], truth, decay=0.5)
    assert alternates.prune(patience=10) == 0


def test_an_alternate_is_behind_while_any_other_predictor_beats_it():
    # With decay 1 a score is the last Brier score. An alternate is behind while the answer or
    # another alternate has a strictly better score; a tie or a win starts its count afresh.
    truth = np.array([1.0, 0.0])
    p = {
        b: np.array(q)
        for b, q in [(0.02, [0.9, 0.1]), (0.18, [0.7, 0.3]), (0.5, [0.5, 0.5]), (0.98, [0.3, 0.7])]
    }
    alternates = Alternates([MajorityLabelset()] * 3, ["dict"] * 3, 0)
    alternates.score(p[0.18], [p[0.02], p[0.02], p[0.5]], truth, decay=1.0)
    np.testing.assert_allclose(alternates.scores, [0.18, 0.02, 0.02, 0.5])
    assert alternates.behind.tolist() == [0, 0, 1]  # the tied best are not behind each other
    alternates.score(p[0.5], [p[0.18], p[0.02], p[0.98]], truth, decay=1.0)
    assert alternates.behind.tolist() == [1, 0, 2]  # the first is beaten by an alternate only
    alternates.score(p[0.5], [p[0.02], p[0.18], p[0.98]], truth, decay=1.0)
    assert alternates.behind.tolist() == [0, 1, 3]  # the first is the best again
    assert alternates.prune(patience=3) == 2 and len(alternates.scores) == 3
    # Faded: each score moves by `decay` towards the latest Brier score.
    faded = Alternates([MajorityLabelset()], ["dict"], 0)
    for _ in range(2):
        faded.score(p[0.18], [p[0.5]], truth, decay=0.5)
    np.testing.assert_allclose(faded.scores, [0.75 * 0.18, 0.75 * 0.5])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"selection_window": 0},
        {"n_min": 0},
        {"delta": 1.5},
        {"tau": -0.1},
        {"handover": -1},
        {"drift_delta": 0.0},
        {"retire_after": 0},
        {"share": "yes"},
        {"adapt": 1},
        {"adapt_learners": []},
        {"adapt_learners": [object()]},
        {"adapt_rate": -1.0},
        {"adapt_window": 0},
        {"min_cluster_size": 5, "max_cluster_size": 2},
        {"cluster_learner": "mlhat"},
        {"seed": -3},
        {"warmup": 2.5},
    ],
)
def test_bad_parameters_fail_at_construction(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs)).split("_")[0]):
        IHOMER(**kwargs)


def test_adapt_learners_are_cloned_fresh_with_derived_seeds():
    template = NaiveBayes(prior_weight=2.0)
    model = IHOMER(seed=0, adapt_learners=[template], drift_delta=0.3)
    for x, y in local_stream(n=3500):
        model.learn_one(x, y)
    grown = [c.alternates for c in model._clusters.values() if c.alternates is not None]
    assert grown
    for alternates in grown:
        (learner,) = alternates.learners
        assert learner is not template and learner.prior_weight == 2.0
    assert template.n_learned == 0


def test_by_default_a_cluster_grows_a_naive_bayes_that_keeps_and_one_that_forgets():
    """The default alternates, as they start (their effect is measured by the drift study:
    about +0.005 exact match on the drifting labels in the gradual scenarios)."""
    model = IHOMER(seed=0)
    for x, y in local_stream():
        model.learn_one(x, y)
        grown = [c for c in model._clusters.values() if c.alternates is not None]
        if grown:
            break
    assert grown
    for c in grown:
        kept, faded = c.alternates.learners
        assert isinstance(kept, NaiveBayes) and isinstance(faded, NaiveBayes)
        assert kept.fading == 1.0 and faded.fading == 0.995
