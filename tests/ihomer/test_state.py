"""`ihomer.state.PartitionState` on a stand-in model: when the partition is looked at again,
the handover countdown, the back-off of looks on large label spaces, what counts as a drift
of the label structure, and the refined partition read from LabelODAC."""

from __future__ import annotations

import pytest

from streamml.events import DriftEvent
from streamml.ihomer.state import PartitionState


class _ODAC:
    def __init__(self, refined):
        self.refined = refined
        self.asked: list = []

    def refined_partition(self, min_size=None, max_size=None):
        self.asked.append((min_size, max_size))
        return [set(s) for s in self.refined]


class _Model(PartitionState):
    """The fields PartitionState reads, and records of the calls it makes."""

    def __init__(self, n_labels: int = 4, warmup: int = 10, n_min: int = 5, cooldown=None):
        self._labels = {f"l{i}": i for i in range(n_labels)}
        self._clusters = {frozenset({"l0", "l1"}): "c01", frozenset({"l2"}): "c2"}
        self._target = dict(self._clusters)
        self._events = [DriftEvent(3, "tree", ("l0",), "x")]
        self._n_restructurings = 0
        self._n = 0
        self._odac = _ODAC([])
        self.warmup, self.n_min, self.cooldown = warmup, n_min, cooldown
        self.min_cluster_size = self.max_cluster_size = None
        self._last_check = self._last_restructure = None
        self._shadow: dict = {}
        self._handover_left = 0
        self._recheck = False
        self._structure_drift = False
        self.calls: list = []
        self.changes = False  # whether _restructure changes the partition

    def _complete_handover(self):
        self.calls.append(("handover", self._n))
        self._shadow = {}

    def _restructure(self):
        self.calls.append(("restructure", self._n))
        if self.changes:
            self._n_restructurings += 1
            self._last_restructure = self._n


def test_the_read_only_views_are_copies():
    model = _Model()
    assert model.partition == [frozenset({"l0", "l1"}), frozenset({"l2"})]
    assert model.target_partition == model.partition
    model.partition.append("x")
    model.drift_events.clear()
    model.labels.clear()
    assert len(model.partition) == 2 and len(model.drift_events) == 1
    assert model.labels == ["l0", "l1", "l2", "l3"]
    model._n, model._n_restructurings = 17, 2
    assert (model.n_learned, model.n_restructurings) == (17, 2)
    assert model.odac is model._odac


def test_labels_are_put_in_the_order_the_model_saw_them():
    model = _Model()
    assert model._ordered({"l3", "l0", "l2"}) == ("l0", "l2", "l3")
    assert model._ordered(["l1", "unknown"]) == ("l1",)


@pytest.mark.parametrize("cooldown", [None, 7])
def test_a_look_waits_for_the_warmup_the_look_gap_and_the_cooldown(cooldown):
    model = _Model(warmup=10, n_min=5, cooldown=cooldown)
    wait = 10 if cooldown is None else cooldown  # 2 n_min by default
    model._n = 9
    assert not model._may_restructure()
    model._n = 10
    assert model._may_restructure()  # never looked, never restructured
    model._last_check = 10
    model._n = 19
    assert not model._may_restructure()  # looks are 2 n_min = 10 apart
    model._n = 20
    assert model._may_restructure()
    model._last_check, model._last_restructure = None, 20
    model._n = 20 + wait - 1
    assert not model._may_restructure()
    model._n = 20 + wait
    assert model._may_restructure()


def test_the_handover_counts_down_and_ends_at_zero():
    model = _Model()
    model._shadow = {"k": "shadow"}
    model._handover_left = 3
    model._advance(2)
    assert model._handover_left == 1 and model.calls == []
    model._n = 5
    model._advance(1)
    assert model.calls == [("handover", 5)] and model._handover_left == 0
    model._advance(1)  # no handover going on: nothing counts down
    assert model._handover_left == 0 and model.calls == [("handover", 5)]


def test_a_due_look_restructures_when_allowed_and_is_then_no_longer_due():
    model = _Model(warmup=10, n_min=5)
    model._recheck, model._n = True, 4
    model._advance(1)
    assert model.calls == [] and model._recheck  # in the warm-up: it waits
    model._n = 12
    model._advance(1)
    assert model.calls == [("restructure", 12)]
    assert not model._recheck and model._last_check == 12 and model._look_wait() == 10
    model._advance(1)
    assert len(model.calls) == 1  # not due again until asked


@pytest.mark.parametrize(
    ("n_labels", "changes", "before", "gaps"),
    [
        (256, False, 1, [20, 40, 40]),  # the same partition on many labels: looks back off
        (255, False, 1, [10, 10, 10]),  # fewer labels: a look costs little, no back-off
        (256, True, 1, [10, 10, 10]),  # a changing partition is looked at again soon
        (256, False, 0, [10, 10, 10]),  # no partition formed yet
    ],
)
def test_looks_back_off_only_on_many_labels_while_the_partition_stays(
    n_labels, changes, before, gaps
):
    model = _Model(n_labels=n_labels, warmup=0, n_min=5)
    model._n_restructurings, model.changes = before, changes
    seen = []
    for _ in gaps:
        model._recheck = True
        model._n = (model._last_check or 0) + model._look_wait()
        model._last_restructure = None  # the cooldown aside
        model._advance(1)
        seen.append(model._look_wait())
    assert seen == gaps


def test_a_model_pickled_before_the_back_off_waits_two_n_min():
    model = _Model(n_min=7)
    assert "_look_gap" not in model.__dict__ and model._look_wait() == 14
    model._look_gap = 30
    assert model._look_wait() == 30


def test_a_tree_change_is_a_structure_drift_once_the_partition_was_stable():
    model = _Model(n_min=5)
    model._tree_changed(49)  # 49 instances since the start: still forming
    assert not model._structure_drift
    model._tree_changed(50)
    assert model._structure_drift
    model._tree_changed(51)
    assert model._structure_drift  # kept until the restructuring reads it
    model._structure_drift, model._last_restructure = False, 100
    model._tree_changed(149)
    assert not model._structure_drift
    model._tree_changed(150)
    assert model._structure_drift


def test_the_refined_partition_places_every_label_in_the_models_order():
    model = _Model()
    model.min_cluster_size, model.max_cluster_size = 2, 3
    model._odac = _ODAC([{"l3", "l1"}])
    assert model._refined() == [("l1", "l3"), ("l0",), ("l2",)]
    assert model._odac.asked == [(2, 3)]
    model._odac = _ODAC([])
    assert model._refined() == [("l0",), ("l1",), ("l2",), ("l3",)]


def test_the_refined_partition_is_none_when_it_is_the_target_already():
    model = _Model(n_labels=3)
    model._odac = _ODAC([{"l1", "l0"}])
    assert model._refined() is None  # {l0, l1} and {l2}: the target
    model._target = {frozenset({"l0"}): 1, frozenset({"l1", "l2"}): 2}
    assert model._refined() == [("l0", "l1"), ("l2",)]
