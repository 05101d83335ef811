"""IHOMER's bookkeeping on crafted states: retiring and re-arming own learners, starting
alternates, the summaries, and the labels a decision answers."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from river import datasets

from streamml import IHOMER
from streamml.ihomer.cluster import Cluster, cluster_seed
from streamml.learners import MLHAT

_STREAM = list(datasets.Yeast().take(200))


def _model(**params) -> IHOMER:
    model = IHOMER(seed=5, **params)
    for x, y in _STREAM:
        model.learn_one(x, y)
    return model


def _cluster(model: IHOMER, labels, learner=None) -> Cluster:
    cols = [model._labels[label] for label in labels]
    return Cluster(tuple(labels), cols, learner, 0.002, True, model._n)


def _install(model: IHOMER, clusters, shadows=()):
    """Answer with these clusters (they must cover the labels), these in handover."""
    model._clusters = {c.key: c for c in clusters}
    model._shadow = {c.key: c for c in shadows}
    model._index_clusters()


def _halves(model: IHOMER):
    labels = model.labels
    return labels[:7], labels[7:]


def test_a_retired_learner_waits_its_back_off_doubled_at_each_retirement():
    model = _model(retire_after=300)
    first, second = _halves(model)
    c = _cluster(model, first, learner=MLHAT(seed=1))
    c.n, c.retired = 57, 2
    _install(model, [c, _cluster(model, second)])
    model._n, model._n_retired = 1000, 4
    model._cache = ("stale",)
    model._retire([c])
    assert c.learner is None and c.watch is None and c.n == 57  # its count kept
    assert c.retired == 3 and model.n_retired == 5
    assert model._rearm == [(1000 + 300 * 2**3, c.labels, 3)]
    assert model._cache is None and c not in model._busy


def test_back_offs_that_ended_give_the_same_retired_clusters_a_split_test_again():
    model = _model(retire_after=300)
    first, second = _halves(model)
    due, later = _cluster(model, first), _cluster(model, second)
    due.retired, later.retired = 1, 2
    _install(model, [due, later])
    model._n = 900
    model._rearm = []
    heapq.heappush(model._rearm, (900, due.labels, 1))
    heapq.heappush(model._rearm, (901, later.labels, 2))
    model._rearm_watches()
    assert due.watch is not None and due.watch.tested == 900 and due in model._watched
    assert later.watch is None and model._rearm == [(901, later.labels, 2)]
    # A cluster retired again since (another count), or given a learner, is not re-armed.
    model._n = 2000
    later.retired = 3
    model._rearm_watches()
    assert later.watch is None and model._rearm == []


def test_a_re_armed_entry_for_a_cluster_that_learns_again_is_dropped():
    model = _model(retire_after=300)
    first, second = _halves(model)
    c = _cluster(model, first, learner=MLHAT(seed=2))
    c.retired = 1
    _install(model, [c, _cluster(model, second)])
    model._rearm = [(10, c.labels, 1)]
    model._rearm_watches()
    assert c.watch is None and model._rearm == []


def test_starting_alternates_seeds_them_from_the_model_and_counts():
    model = _model(adapt_learners=[MLHAT(seed=0)])
    first, second = _halves(model)
    c = _cluster(model, first)
    _install(model, [c, _cluster(model, second)])
    model._n_adaptations = 5
    model._start_alternates(c)
    assert model.n_adaptations == 6
    assert c.alternates.started == model._n == 200
    assert [a.seed for a in c.alternates.learners] == [cluster_seed(5, c.key, 1)]


def test_the_cluster_summary_says_who_answers():
    model = _model()
    first, second = _halves(model)
    own = _cluster(model, first, learner=MLHAT(seed=1))
    view = _cluster(model, second)
    view.adapt([MLHAT(seed=0), MLHAT(seed=0)], seed=1, started=0)
    _install(model, [own, view])
    records = {tuple(r["labels"]): r for r in model.cluster_summary()}
    mine, theirs = records[tuple(first)], records[tuple(second)]
    assert mine["own"] is True and mine["answers"] == "all labels"  # selection not won yet
    assert mine["alternates"] == 0 and mine["answer_weight"] == 1.0
    own.selection.use_root = False
    assert model.cluster_summary()[0]["answers"] == "own"
    assert theirs["own"] is False and theirs["answers"] == "all labels"
    assert theirs["alternates"] == 2
    view.alternates.n, view.alternates.scores = 50, np.array([0.4, 0.2, 0.9])
    view.alternates._weights = None  # scored since (as `score` does)
    weight = model.cluster_summary()[1]["answer_weight"]
    assert weight == pytest.approx(view.alternates.weights(model.adapt_rate)[0]) and weight < 0.5
    assert theirs["n"] == view.n and theirs["error"] == view.error


def test_without_fallback_an_own_learner_always_answers():
    model = _model(fallback=False)
    first, second = _halves(model)
    own = _cluster(model, first, learner=MLHAT(seed=1))
    _install(model, [own, _cluster(model, second)])
    assert own.use_root
    assert model.cluster_summary()[0]["answers"] == "own"


def test_the_summary_reads_as_documented():
    model = _model()
    first, second = _halves(model)
    own = _cluster(model, first, learner=MLHAT(seed=1))
    own.selection.use_root = False
    own.n = 12
    view = _cluster(model, second)
    view.adapt([MLHAT(seed=0)], seed=1, started=0)
    view.alternates.n, view.alternates.scores = 50, np.array([0.3, 0.3])
    shadow = _cluster(model, model.labels[:3])
    _install(model, [own, view], shadows=[shadow])
    model._handover_left = 37
    lines = model.summary().split("\n")
    assert lines[0] == (
        f"IHOMER after 200 instances: 14 labels, 2 clusters, {model.n_restructurings} "
        f"restructurings, {len(model.drift_events)} drift events"
    )
    assert lines[1].startswith("Decided: ")  # which probabilities (last_set)
    assert lines[2].startswith("Balanced: ")  # whether the balance answers (label_balance)
    assert lines[3] == "LabelODAC tree:"
    tree = model.odac.summary().split("\n")
    assert lines[4 : 4 + len(tree)] == tree
    rest = lines[4 + len(tree) :]
    assert rest == [
        "Clusters (labels | recent Hamming loss | instances | answered by):",
        f"  {{{', '.join(first)}}} | 0.000 | 12 | own",
        f"  {{{', '.join(second)}}} | 0.000 | {view.n} | all labels (0.50) + 1 alternates",
        "In handover (37 instances left):",
        f"  {{{', '.join(model.labels[:3])}}}",
    ]


def test_a_decision_answers_true_only_above_one_half():
    model = _model(seen_sets=None, threshold_strength=0.0)
    labels = model.labels
    crafted = np.zeros(len(labels))
    crafted[:3] = [0.5, 0.51, 0.49]
    model._answers = lambda x: crafted
    answer = model.predict_one(_STREAM[0][0])
    assert answer == {label: i == 1 for i, label in enumerate(labels)}
    assert all(type(v) is bool for v in answer.values())


def test_a_decoded_answer_is_a_dict_of_booleans():
    model = _model()
    answer = model.predict_one(_STREAM[5][0])
    assert list(answer) == model.labels and all(type(v) is bool for v in answer.values())


def test_each_view_is_tested_at_the_first_instance_its_test_is_due(monkeypatch):
    from streamml.datasets.synth import LabelGroups
    from streamml.learners.watch import SplitWatch

    calls = []
    test_log = SplitWatch.test_log

    def spy(self, log, offset, t, width):
        # the log holds instances up to t (excluded) and t is the first such end that is due
        calls.append((self.due(t), self.due(t - 1), len(log) + offset == t))
        return test_log(self, log, offset, t, width)

    monkeypatch.setattr(SplitWatch, "test_log", spy)
    stream = LabelGroups(n_labels=12, n_groups=3, n_features=12, n_samples=3000, seed=1)
    model = IHOMER(seed=0, n_min=50, warmup=50)
    for x, y in stream:
        model.learn_one(x, y)
        for c in model._watched:  # no test left waiting
            assert not c.watch.due(model._n)
    assert len(calls) >= 5
    assert all(due and not early and whole for due, early, whole in calls)


def test_a_rise_of_some_labels_starts_alternates_in_their_clusters_only(monkeypatch):
    model = _model()
    first, second = _halves(model)
    a, b = _cluster(model, first), _cluster(model, second)
    _install(model, [a, b])
    hit = np.zeros(len(model.labels), dtype=bool)
    hit[[0, 2]] = True  # two labels of the first cluster
    resets = []
    monkeypatch.setattr(model._rise, "update", lambda errors: hit)
    monkeypatch.setattr(model._rise, "reset", lambda cols: resets.append(cols.tolist()))
    events = len(model.drift_events)
    rising = []
    model._label_rise(np.zeros(len(model.labels), dtype=bool), rising)
    assert rising == [a] and resets == [a.cols.tolist()]
    new = model.drift_events[events:]
    assert [(e.level, e.labels, e.detector) for e in new] == [("cluster", a.labels, "LabelRise")]
    # a cluster already rising (its ADWIN) is reset but not recorded twice
    again = [a]
    model._label_rise(np.zeros(len(model.labels), dtype=bool), again)
    assert again == [a] and len(model.drift_events) == events + 1 and len(resets) == 2


def test_a_quiet_block_starts_nothing(monkeypatch):
    model = _model()
    monkeypatch.setattr(model._rise, "update", lambda errors: np.zeros(14, dtype=bool))
    monkeypatch.setattr(model._rise, "reset", lambda cols: pytest.fail("reset on no alarm"))
    rising = []
    model._label_rise(np.zeros(14, dtype=bool), rising)
    assert rising == []


@pytest.mark.parametrize(("age", "restarted"), [(199, False), (200, True)])
def test_young_alternates_are_kept_and_older_ones_restarted_on_a_rise(age, restarted):
    model = _model(adapt_learners=[MLHAT(seed=0)], retire_after=None)
    first, second = _halves(model)
    a = _cluster(model, first)
    _install(model, [a, _cluster(model, second)])
    model._start_alternates(a)
    before, n = a.alternates, model._n_adaptations
    model._n = a.alternates.started + age  # selection_window is 200
    model._adapt([a])
    assert (a.alternates is not before) is restarted
    assert model._n_adaptations == n + restarted


def test_alternates_that_never_lead_are_dropped_and_the_tables_rebuilt():
    model = _model(adapt_learners=[MLHAT(seed=0)], retire_after=50)
    first, second = _halves(model)
    a = _cluster(model, first)
    _install(model, [a, _cluster(model, second)])
    model._start_alternates(a)
    model._index_clusters()
    assert a in model._busy
    a.alternates.behind[:] = 49
    model._adapt([])
    assert a.alternates is not None and a in model._busy  # not yet
    a.alternates.behind[:] = 50
    model._cache = ("stale",)
    model._adapt([])
    assert a.alternates is None and a not in model._busy and model._cache is None


def test_without_retirement_alternates_are_never_dropped():
    model = _model(adapt_learners=[MLHAT(seed=0)], retire_after=None)
    first, second = _halves(model)
    a = _cluster(model, first)
    _install(model, [a, _cluster(model, second)])
    model._start_alternates(a)
    model._index_clusters()
    a.alternates.behind[:] = 10**6
    model._adapt([])
    assert a.alternates is not None


def test_a_view_whose_split_test_splits_gets_its_own_learner(monkeypatch):
    from streamml.learners.watch import SplitWatch

    model = _model(n_min=20, warmup=20)
    first, second = _halves(model)
    a, b = _cluster(model, first), _cluster(model, second)
    for c in (a, b):
        c.watch = model._base.split_watch(len(c.labels))
        c.watch.tested = model._n
    a.watch.next_test = 1  # due with the next instance
    _install(model, [a, b])
    monkeypatch.setattr(SplitWatch, "due", lambda self, t: self is a.watch)
    monkeypatch.setattr(SplitWatch, "test_log", lambda self, *args: (0, 0.5, 0.1))
    restricted = []
    original = type(model._base).restricted

    def spy(self, labels, seed=None, split=None):
        restricted.append((tuple(labels), seed, split))
        return original(self, labels, seed=seed, split=split)

    monkeypatch.setattr(type(model._base), "restricted", spy)
    n_own = model.n_own_learners
    x, y = _STREAM[10]
    model.learn_one(x, y)
    assert restricted == [(a.labels, cluster_seed(5, a.key), (0, 0.5, 0.1))]
    assert a.learner is not None and a.watch is None and a.n == 0  # counted from here
    assert model.n_own_learners == n_own + 1 and a in model._busy and a not in model._watched
    assert b.watch is not None and b in model._watched
    assert model._log_offset == b.watch.tested  # the log from b's first untested instance
