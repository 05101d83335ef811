"""iHOMER: partition recovery, restructuring with handover, emerging labels, determinism."""

from __future__ import annotations

import pickle
import random

import pytest
from river import base, datasets, linear_model, multioutput

from streamml import IHOMER
from streamml.learners import MajorityLabelset


def grouped_stream(groups, n, seed, p_on=0.3, p_in=0.9, p_off=0.02, start=0):
    """Labels in correlated groups (independent across groups); features mark the groups."""
    rng = random.Random(seed)
    for _ in range(start, start + n):
        y, x = {}, {}
        for g, members in enumerate(groups):
            on = rng.random() < p_on
            x[f"g{g}"] = (1.0 if on else 0.0) + rng.gauss(0, 0.3)
            for label in members:
                y[label] = rng.random() < (p_in if on else p_off)
        x["noise"] = rng.gauss(0, 1)
        yield x, y


def as_set(partition):
    return {frozenset(c) for c in partition}


def random_groups(rng, n_groups):
    sizes = [rng.randint(2, 5) for _ in range(n_groups)]
    labels = [f"l{i}" for i in range(sum(sizes))]
    rng.shuffle(labels)
    groups, i = [], 0
    for size in sizes:
        groups.append(labels[i : i + size])
        i += size
    return groups


def first_match(model, stream, truth):
    for i, (x, y) in enumerate(stream):
        model.predict_one(x)
        model.learn_one(x, y)
        if as_set(model.partition) == truth:
            return i + 1
    return None


@pytest.mark.parametrize("seed", range(5))
def test_partition_recovers_true_groups_within_3000(seed):
    rng = random.Random(seed)
    groups = random_groups(rng, rng.randint(3, 5))
    model = IHOMER(cluster_learner=MajorityLabelset(), seed=seed, handover=100)
    n = first_match(model, grouped_stream(groups, 3000, seed), as_set(groups))
    assert n is not None, model.summary()
    assert any(e.level == "structure" for e in model.drift_events)


@pytest.mark.parametrize("seed", range(3))
def test_sudden_regrouping_is_followed_and_stationary_is_stable(seed):
    rng = random.Random(100 + seed)
    before = random_groups(rng, 4)
    labels = [label for g in before for label in g]
    shuffled = labels[:]
    rng.shuffle(shuffled)
    after, i = [], 0
    for g in before:
        after.append(shuffled[i : i + len(g)])
        i += len(g)
    model = IHOMER(cluster_learner=MajorityLabelset(), seed=seed, handover=100)
    assert first_match(model, grouped_stream(before, 3000, seed), as_set(before))
    r0 = model.n_restructurings
    n = first_match(model, grouped_stream(after, 3000, seed + 1), as_set(after))
    assert n is not None, model.summary()
    assert model.n_restructurings > r0

    # Stationary from here on: at most two more restructurings.
    r1 = model.n_restructurings
    for x, y in grouped_stream(after, 6000, seed + 2):
        model.learn_one(x, y)
    assert model.n_restructurings - r1 <= 2
    assert as_set(model.partition) == as_set(after)


def test_new_clusters_answer_only_after_handover():
    groups = [["a", "b", "c"], ["d", "e", "f"], ["g", "h"]]
    model = IHOMER(cluster_learner=MajorityLabelset(), seed=1, handover=250, cooldown=10**9)
    stream = grouped_stream(groups, 3000, 1)
    for x, y in stream:
        before = as_set(model.partition)
        model.learn_one(x, y)
        if model.n_restructurings:
            break
    assert model.n_restructurings == 1
    target = as_set(model.target_partition)
    assert target != before
    assert as_set(model.partition) == before  # the old learners still answer
    for _ in range(249):
        x, y = next(stream)
        model.learn_one(x, y)
    assert as_set(model.partition) == before
    x, y = next(stream)
    model.learn_one(x, y)
    assert as_set(model.partition) == target


def test_emerging_label_becomes_singleton_and_keeps_existing_learners():
    model = IHOMER(cluster_learner=MajorityLabelset(), seed=3)
    for x, y in datasets.Yeast().take(150):
        model.learn_one(x, y)
    learners = {key: c.learner for key, c in model._clusters.items()}
    x, y = next(iter(datasets.Yeast()))
    model.learn_one(x, {**y, "brand-new": True})
    assert frozenset({"brand-new"}) in model.partition
    assert "brand-new" in model.predict_one(x)
    assert set(model.predict_proba_one(x)["brand-new"]) == {False, True}
    for key, learner in learners.items():
        assert model._clusters[key].learner is learner
    # A later y without the new label counts it as False and everything keeps working.
    model.learn_one(x, y)
    assert set(model.predict_one(x)) == set(y) | {"brand-new"}


def run(model, n=400):
    out = []
    for x, y in datasets.Yeast().take(n):
        out.append(model.predict_proba_one(x))
        model.learn_one(x, y)
    return out


def test_same_seed_same_results_and_pickling_mid_stream():
    a, b = IHOMER(seed=7, n_min=50, warmup=50), IHOMER(seed=7, n_min=50, warmup=50)
    assert run(a, 300) == run(b, 300)
    c = pickle.loads(pickle.dumps(a))
    rest = list(datasets.Yeast())[300:600]
    for x, y in rest:
        assert a.predict_proba_one(x) == c.predict_proba_one(x)
        a.learn_one(x, y)
        c.learn_one(x, y)
    assert a.drift_events == c.drift_events
    assert a.partition == c.partition


def test_any_river_multilabel_learner_can_be_the_cluster_learner():
    learner = multioutput.ClassifierChain(linear_model.LogisticRegression())
    model = IHOMER(cluster_learner=learner, seed=0, n_min=50, warmup=50)
    preds = run(model, 300)
    assert all(len(p) == 14 for p in preds[1:])
    assert learner.__dict__.get("_prototype") is None  # the given learner is only cloned


def test_predictions_cover_every_label_and_summary_is_readable():
    model = IHOMER(cluster_learner=MajorityLabelset(), seed=0)
    assert model.predict_one({"Att1": 0.0}) == {}
    run(model, 500)
    x, _ = next(iter(datasets.Yeast()))
    assert len(model.predict_one(x)) == 14
    assert sorted(label for c in model.partition for label in c) == sorted(model.labels)
    text = model.summary()
    assert "Clusters" in text and "Class1" in text
    assert sum(len(r["labels"]) for r in model.cluster_summary()) == 14


def test_cluster_selection_prefers_the_better_learner_and_ties_go_to_root():
    import numpy as np

    from streamml.ihomer import Cluster

    c = Cluster(("a", "b"), [0, 1], MajorityLabelset(), drift_delta=0.002, encoded=False, born=0)
    right, wrong = np.array([True, False]), np.array([False, False])
    truth = np.array([True, False])
    c.selection.update(right, right, truth, n=10, decay=0.99)
    assert c.use_root  # a tie
    for _ in range(5):
        c.selection.update(right, wrong, truth, n=10, decay=0.99)
    assert not c.use_root and c.last_answer == 10
    for _ in range(50):
        c.selection.update(wrong, right, truth, n=11, decay=0.99)
    assert c.use_root and c.last_answer == 11  # it led for a few more instances
    c.selection.update(right, wrong, truth, n=3, decay=0.99, warmup=5)
    assert c.use_root  # not before it has learned `warmup` instances


class Frequency(base.MultiLabelClassifier):
    """Test learner: P(label) is the share of the instances it learned with the label ON."""

    def __init__(self):
        self._n = 0
        self._on: dict[str, int] = {}

    def learn_one(self, x, y):
        self._n += 1
        for label, on in y.items():
            self._on[label] = self._on.get(label, 0) + bool(on)

    def predict_proba_one(self, x):
        return {
            label: {True: on / self._n, False: 1 - on / self._n} for label, on in self._on.items()
        }

    def predict_one(self, x):
        return {label: p[True] > 0.5 for label, p in self.predict_proba_one(x).items()}


def test_answers_come_from_the_selected_learner():
    """Each cluster answers with the learner its summary names: the one on all the labels
    (the label's frequency over the whole stream) or its own (over its last `n` instances).
    (Without alternates, `adapt=False`: they would mix their answers in.)"""

    def phase(groups, n, seed, p_on):  # one group per stream, each group with its own rate
        parts = [
            grouped_stream([g], n, seed + k, p_on=p) for k, (g, p) in enumerate(zip(groups, p_on))
        ]
        for pieces in zip(*parts):
            yield (
                {f"{k}{name}": v for k, (x, _) in enumerate(pieces) for name, v in x.items()},
                {label: on for _, y in pieces for label, on in y.items()},
            )

    before, after = (
        [["a", "b", "c"], ["d", "e", "f"], ["i", "j"]],
        [["a", "d"], ["b", "c", "e", "f"], ["i", "j"]],
    )
    stream = list(phase(before, 2500, 1, [0.3, 0.3, 0.3])) + list(
        phase(after, 2000, 5, [1.0, 0.3, 0.3])
    )
    model = IHOMER(cluster_learner=Frequency(), seed=1, handover=50, adapt=False, last_set=False)
    probe, kinds = {"0g0": 1.0}, set()
    for t, (x, y) in enumerate(stream, 1):
        model.learn_one(x, y)
        if t % 250:
            continue
        answers = model.predict_proba_one(probe)
        for c in model.cluster_summary():
            assert c["alternates"] == 0 and c["answer_weight"] == 1.0
            kinds.add(c["answers"])
            seen = stream[:t] if c["answers"] == "all labels" else stream[t - c["n"] : t]
            for label in c["labels"]:
                expected = sum(y[label] for _, y in seen) / len(seen)
                assert answers[label][True] == pytest.approx(expected, abs=1e-12), (t, label, c)
    assert kinds == {"own", "all labels"}, model.summary()

    without = IHOMER(cluster_learner=Frequency(), seed=1, handover=50, fallback=False, adapt=False)
    for x, y in stream:
        without.learn_one(x, y)
    assert {c["answers"] for c in without.cluster_summary()} == {"own"}


@pytest.mark.parametrize(("n_groups", "n_labels"), [(3, 9), (4, 14), (5, 20)])
def test_follows_the_groups_of_a_synthetic_stream_through_a_regrouping(n_groups, n_labels):
    from streamml.datasets.synth import Drift, LabelGroups

    for seed in range(5):
        stream = LabelGroups(
            n_labels=n_labels, n_groups=n_groups, seed=seed, drifts=[Drift(at=3000)], n_samples=9000
        )
        model = IHOMER(cluster_learner=MajorityLabelset(), seed=seed)
        first = again = restructurings = None
        for t, (x, y) in enumerate(stream):
            model.learn_one(x, y)
            match = as_set(model.partition) == set(stream.groups_at(t))
            if match and first is None:
                first = t + 1
            if match and t >= 3000 and again is None:
                again, restructurings = t + 1 - 3000, model.n_restructurings
        assert first is not None and first <= 3000, (seed, model.summary())
        assert again is not None and again <= 3000, (seed, model.summary())
        assert model.n_restructurings - restructurings <= 2
        assert as_set(model.partition) == set(stream.groups_at(8999))


@pytest.mark.parametrize("name", ["ihomer", "mlhat"])
def test_predicting_unknown_features_does_not_change_what_is_learned(name):
    from streamml import models

    train = list(datasets.Yeast().take(300))
    quiet, busy = models.make(name, seed=5), models.make(name, seed=5)
    for k, (x, y) in enumerate(train):
        if k >= 150:  # a feature that training sees only from here on
            x = {**x, "late": 1.0 + k % 3}
        if k % 5 == 0:
            busy.predict_proba_one({**x, "late": 2.0, f"never-{k}": 1.0})
            busy.predict_one(train[-1 - k][0])
        quiet.learn_one(x, y)
        busy.learn_one(x, y)
    probes = [{**x, "late": 1.5} for x, _ in datasets.Yeast().take(20)]
    assert [busy.predict_proba_one(x) for x in probes] == [
        quiet.predict_proba_one(x) for x in probes
    ]


def test_shared_clusters_predict_as_the_all_labels_learner_until_one_answers_itself():
    from streamml.learners import MLHAT

    model, alone = IHOMER(seed=5, n_min=50, warmup=50, last_set=False), MLHAT(seed=5)
    compared = 0
    for x, y in datasets.Yeast().take(800):
        if all(c.learner is None or c.use_root for c in model._clusters.values()):
            assert model.predict_proba_one(x) == alone.predict_proba_one(x)
            compared += 1
        model.learn_one(x, y)
        alone.learn_one(x, y)
    assert compared > 700 and len(model.partition) > 1


def test_a_cluster_gets_its_own_learner_split_on_the_features_of_its_labels():
    groups = [["a", "b", "c"], ["d", "e", "f"], ["g", "h"], ["i", "j", "k"]]
    model = IHOMER(seed=0, retire_after=None)  # keep them even if they never answer
    for x, y in grouped_stream(groups, 4000, 0):
        model.learn_one(x, y)
    own = [c for c in model._clusters.values() if c.learner is not None]
    assert len(own) >= 2
    for c in own:
        group = {k for k, members in enumerate(groups) if set(members) & set(c.labels)}
        features = {model._features.column(f"g{k}") for k in group}
        assert c.learner._root.feature in features, (c.labels, c.learner._root.feature)
        assert set(c.learner.labels) == set(c.labels)


def test_without_sharing_every_cluster_trains_its_own_learner():
    groups = [["a", "b", "c"], ["d", "e", "f"], ["g", "h"]]
    model = IHOMER(seed=2, share=False, handover=50)
    assert first_match(model, grouped_stream(groups, 3000, 2), as_set(groups))
    learners = [c.learner for c in model._clusters.values()]
    assert all(learner is not None for learner in learners)
    assert len({id(learner) for learner in learners}) == 3
    x, _ = next(grouped_stream(groups, 1, 9))
    assert set(model.predict_one(x)) == set("abcdefgh")


def test_shared_model_takes_an_emerging_label_and_keeps_its_log_short():
    model = IHOMER(seed=4, n_min=50, warmup=50)
    stream = list(datasets.Yeast().take(1200))
    for x, y in stream[:600]:
        model.learn_one(x, y)
    assert len(model._log) <= 10 * 200  # at most max_wait grace periods of instances
    x, y = stream[600]
    model.learn_one(x, {**y, "brand-new": True})
    singleton = model._clusters[frozenset({"brand-new"})]
    assert singleton.learner is None and singleton.watch is not None
    assert "brand-new" in model._base.labels
    for x, y in stream[601:]:
        model.learn_one(x, {**y, "brand-new": y["Class1"]})
    assert model.predict_proba_one(stream[0][0])["brand-new"][True] > 0.0
    assert len(model._log) <= 10 * 200


def _answering(model) -> bool:
    return any(c.learner is not None and not c.use_root for c in model._clusters.values())


def test_own_learners_that_do_not_answer_retire_without_changing_predictions():
    groups = [["a", "b", "c"], ["d", "e", "f"], ["g", "h"], ["i", "j", "k"]]
    model, keeper = IHOMER(seed=0, retire_after=300), IHOMER(seed=0, retire_after=None)
    compared, retired_at, rearmed = 0, {}, set()
    for t, (x, y) in enumerate(grouped_stream(groups, 5000, 0)):
        if not _answering(model) and not _answering(keeper):
            assert model.predict_proba_one(x) == keeper.predict_proba_one(x)
            compared += 1
        model.learn_one(x, y)
        keeper.learn_one(x, y)
        for c in model._clusters.values():
            if c.learner is not None:  # an own learner is answering or has answered lately
                assert c.n - c.last_answer <= 300 or not c.use_root
            elif c.watch is None and c.retired and (c.key, c.retired) not in retired_at:
                retired_at[c.key, c.retired] = t
            elif c.watch is not None and (c.key, c.retired) in retired_at:
                waited = t - retired_at[c.key, c.retired]
                assert waited >= 300 * 2**c.retired - 1  # its back-off before a new test
                rearmed.add((c.key, c.retired))
    assert compared > 4000
    assert model.n_retired >= 2 and rearmed
    assert model.n_own_learners > keeper.n_own_learners  # tested again, and split again
    assert sum(c.learner is not None for c in model._clusters.values()) < sum(
        c.learner is not None for c in keeper._clusters.values()
    )


def test_a_model_pickled_before_retirement_existed_loads_and_learns():
    model = IHOMER(seed=1, n_min=50, warmup=50)
    stream = list(datasets.Yeast().take(600))
    for x, y in stream[:300]:
        model.learn_one(x, y)
    state = model.__dict__.copy()
    for name in ("retire_after", "_n_retired", "_rearm"):
        del state[name]
    old = IHOMER.__new__(IHOMER)
    old.__setstate__(state)
    old = pickle.loads(pickle.dumps(old))
    for c in old._clusters.values():
        c.__setstate__({k: v for k, v in c.__getstate__().items() if k not in ("retired",)})
    for x, y in stream[300:]:
        old.learn_one(x, y)
    assert old.n_learned == 600 and old.retire_after is None and old.n_retired == 0
