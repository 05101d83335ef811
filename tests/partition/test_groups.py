"""LabelODAC + refinement on label streams with known groups: finding them, following a
regrouping, staying still on a stationary stream."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from streamml.partition import LabelODAC

from .helpers import check_tree, first_match, follow
from .streams import group_stream, random_groups, regroup

# (group rates range, p_on, p_off): clean groups, and weaker, noisier, rarer groups
CONFIGS = {
    "clean": ((0.1, 0.5), 0.9, 0.01),
    "noisy": ((0.05, 0.3), 0.8, 0.03),
}


def _stream(rng, groups, n, config):
    (low, high), p_on, p_off = CONFIGS[config]
    rates = rng.uniform(low, high, size=len(groups))
    return group_stream(rng, groups, n, rates, p_on, p_off)


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("n_groups", [3, 4, 5])
def test_finds_groups_then_follows_a_regrouping(config, n_groups):
    found, recovered = [], []
    for seed in range(5):
        rng = np.random.default_rng(1000 * n_groups + seed)
        before = random_groups(rng, n_groups)
        after = regroup(rng, before)
        odac = LabelODAC()
        found.append(first_match(odac, _stream(rng, before, 3000, config), before))
        check_tree(odac)
        # the whole stream so far came from the old grouping; now it changes suddenly
        t = first_match(odac, _stream(rng, after, 3000, config), after)
        recovered.append(t)
        check_tree(odac)
    assert all(t is not None and t < 3000 for t in found), found
    assert all(t is not None and t < 3000 for t in recovered), recovered


def _changes_after_match(seed, n_groups, config, n):
    rng = np.random.default_rng(seed)
    groups = random_groups(rng, n_groups)
    truth = {frozenset(g) for g in groups}
    odac = LabelODAC()
    matched, current, changes = None, None, 0
    for t, refined in follow(odac, _stream(rng, groups, n, config)):
        if matched is None and refined == truth:
            matched = t
        elif matched is not None and refined != current:
            changes += 1
        current = refined
    return matched, changes, odac


@pytest.mark.parametrize("seed", range(3))
def test_stationary_stream_stays_still(seed):
    matched, changes, odac = _changes_after_match(seed, 4, "clean", 10_000)
    assert matched is not None and matched < 3000
    assert changes <= 2
    check_tree(odac)


@pytest.mark.slow
@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("n_groups", [3, 4, 5])
def test_stationary_stream_stays_still_long(config, n_groups):
    for seed in range(5):
        matched, changes, _ = _changes_after_match(100 + seed, n_groups, config, 20_000)
        assert matched is not None and matched < 3000, (seed, matched)
        assert changes <= 2, (seed, changes)


def test_a_third_group_is_not_scattered():
    """The first split of a leaf holding three groups keeps each group on one side."""
    scattered_without_passes = 0
    for seed in range(8):
        rng = np.random.default_rng(seed)
        groups = random_groups(rng, 3, low=4, high=6)
        data = list(_stream(rng, groups, 1000, "clean"))
        for passes in (5, 0):
            odac = LabelODAC(refine_passes=passes, gap_test=False, split_unrelated=False)
            for y in data:
                odac.learn_one(y)
                if odac.structure_changed:
                    break
            assert odac.structure_changed
            parts = odac.last_change.parts
            whole = all(any(set(g) <= part for part in parts) for g in groups)
            if passes:
                assert whole, (seed, parts, groups)
            else:
                scattered_without_passes += not whole
    # the passes matter: closest-pivot assignment alone scatters a group in some streams
    assert scattered_without_passes > 0


def test_labels_that_appear_later():
    rng = np.random.default_rng(7)
    groups = random_groups(rng, 3)
    odac = LabelODAC()
    data = list(_stream(rng, groups, 4000, "clean"))
    late = set(groups[0]) | {"solo"}
    seen_late = set()
    for t, y in enumerate(data):
        if t < 1500:
            y = {label: on for label, on in y.items() if label not in late}
        else:
            y = dict(y)
            y["solo"] = bool(rng.random() < 0.2)
        odac.learn_one(y)
        new = set(y) - seen_late - (set(odac.labels) - late)
        if t == 1500:
            assert late <= set(odac.labels)
            assert odac.refine_due
            # in the partition at once, together in the leaf made of this instance's new labels
            assert any(late == set(leaf) for leaf in odac.partition)
            check_tree(odac)
        seen_late |= new
    check_tree(odac)
    refined = set(odac.refined_partition(min_size=1))
    assert refined == {frozenset(g) for g in groups} | {frozenset({"solo"})}


def test_new_labels_join_the_root_while_it_is_a_leaf():
    odac = LabelODAC()
    odac.learn_one({"a": True, "b": False})
    odac.learn_one({"a": True, "c": True})
    assert odac.partition == [frozenset("abc")]
    assert odac.labels == ["a", "b", "c"]
    assert not odac.structure_changed and odac.refine_due
    check_tree(odac)


def test_same_stream_same_tree():
    rng = np.random.default_rng(3)
    groups = random_groups(rng, 4)
    data = list(_stream(rng, groups, 3000, "noisy"))
    runs = []
    for _ in range(2):
        odac = LabelODAC()
        changes = []
        for y in data:
            odac.learn_one(y)
            if odac.structure_changed:
                changes.append(odac.last_change)
        runs.append((changes, odac.tree(), odac.refined_partition(min_size=1)))
    assert runs[0] == runs[1]
    assert len(runs[0][0]) == odac.n_changes > 0


def test_changes_are_recorded():
    kinds = set()
    for seed in range(6):
        rng = np.random.default_rng(seed)
        before = random_groups(rng, 4)
        after = regroup(rng, before)
        odac = LabelODAC()
        stream = itertools.chain(
            _stream(rng, before, 2500, "clean"), _stream(rng, after, 2500, "clean")
        )
        n_flags = 0
        for t, y in enumerate(stream):
            before_tree = {node.id: node for node in odac.tree()}
            odac.learn_one(y)
            if not odac.structure_changed:
                continue
            n_flags += 1
            change = odac.last_change
            assert change.index == t
            kinds.add(change.kind)
            assert frozenset().union(*change.parts) == change.labels
            after_tree = {node.id: node for node in odac.tree()}
            if change.kind == "split":
                assert before_tree[change.node].is_leaf and not after_tree[change.node].is_leaf
                assert set(change.parts) <= set(odac.partition)
                assert change.test in {"odac", "gap", "unrelated"}
            else:
                assert not before_tree[change.node].is_leaf and after_tree[change.node].is_leaf
                assert change.labels in odac.partition
                assert change.test == "aggregate"
            check_tree(odac)
        assert n_flags == odac.n_changes
    assert kinds == {"split", "aggregate"}


def test_a_child_wider_than_its_parent_was_undoes_the_split():
    """{a, b} and {c, d} split apart; then a and b never occur together any more: the leaf
    {a, b} is now wider than its parent was when it split, so the parent becomes a leaf."""
    rng = np.random.default_rng(0)
    odac = LabelODAC(split_unrelated=False)
    for _ in range(1500):
        ab, cd = rng.random(2) < 0.5
        odac.learn_one({"a": ab, "b": ab, "c": cd, "d": cd})
    assert sorted(map(sorted, odac.partition)) == [["a", "b"], ["c", "d"]]
    split_d1 = odac.tree()[0].d1
    for t in range(3000):
        a, cd = rng.random(2) < 0.5
        odac.learn_one({"a": a, "b": not a, "c": cd, "d": cd})
        if odac.structure_changed:
            break
    change = odac.last_change
    assert change.kind == "aggregate"
    assert change.labels == frozenset("abcd")
    assert change.d1 > split_d1 + change.eps
    assert odac.partition == [frozenset("abcd")]
    check_tree(odac)


@pytest.mark.parametrize("seed", range(3))
def test_a_return_to_the_first_grouping_is_followed(seed):
    """Back to the first grouping: the leaves built for the second one may all stay pure (its
    groups are unions of them), so no leaf test fires; the periodic refinement sees it."""
    rng = np.random.default_rng(200 + seed)
    first = random_groups(rng, 4)
    second = regroup(rng, first)
    odac = LabelODAC()
    assert first_match(odac, _stream(rng, first, 3000, "clean"), first) is not None
    assert first_match(odac, _stream(rng, second, 3000, "clean"), second) is not None
    t = first_match(odac, _stream(rng, first, 3000, "clean"), first)
    assert t is not None and t < 3000
