"""The leaves and branches of MLHAT's tree (`learners/nodes.py`), checked against their rules
written out: what a leaf counts, which model it chooses, what it predicts and remembers, and
how its restricted copies and its children start."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from streamml.learners import MLHAT
from streamml.learners.features import EncodedInstance
from streamml.learners.gaussian import multilabel_entropy
from streamml.learners.leaves import BaggedLogisticRegression, KNNWindow, Standardiser
from streamml.learners.mixing import pair_weight
from streamml.learners.nodes import (
    EMPTY,
    KNN,
    LR,
    MIXING_DECAY,
    PURE,
    Branch,
    Leaf,
    iter_nodes,
)

D, L = 6, 4  # features and labels of the leaves below


def _leaf(mixing_rate=None, labelsets=None, depth=0, seed=0) -> Leaf:
    knn = KNNWindow(D, L, window_size=60, k=3, short_window=5)
    rng = np.random.default_rng(seed)
    lr = BaggedLogisticRegression(D, L, 4, (0.5, 2.0), (0.01, 2.0), 4, rng)
    return Leaf(depth, Standardiser(D), knn, lr, L, labelsets, None, mixing_rate)


def _tree(cardinality: int = 16, entropy: float = 0.5, batch_size: int = 4):
    return SimpleNamespace(
        batch_size=batch_size, cardinality_threshold=cardinality, entropy_threshold=entropy
    )


def _target(positives) -> tuple:
    positives = sorted(int(j) for j in positives)
    ybin = np.zeros(L, dtype=np.float32)
    ybin[positives] = 1.0
    return positives, tuple(positives), ybin


def _stream(n: int, seed: int, always: int | None = None) -> list:
    """Encoded instances (a third sparse) and targets; labels follow the features loosely,
    a fifth of the label sets are empty (none if `always` is a label in every set)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.normal(size=D) * np.arange(1, D + 1)  # features of different scales
        if rng.random() < 0.35:
            cols = np.sort(rng.choice(D, size=3, replace=False))
            v = EncodedInstance(cols.astype(np.int64), x[cols], D)
        else:
            v = EncodedInstance(np.arange(D), x, D)
        positives = {j for j in range(L) if x[j] + rng.normal() > 1.5 * (j + 1)}
        if always is not None:
            positives.add(always)
        elif rng.random() < 0.2:
            positives = set()
        out.append((v, _target(positives)))
    return out


def _rule(mode, labelsets, n, pos, n_empty, tree, force) -> str:
    """The model a leaf chooses, as its docstrings state the rule."""
    if len(labelsets) == 1:
        return PURE
    if not labelsets:
        return EMPTY
    if n < tree.cardinality_threshold:
        return KNN
    if force or mode not in (LR, KNN) or n % 16 == 0:  # the choice is revisited every 16
        entropy = multilabel_entropy(np.append(pos, n_empty), n)
        return KNN if entropy < tree.entropy_threshold else LR
    return mode


def _entropies_at_choices(stream, cardinality) -> list[float]:
    pos, n = np.zeros(L), 0
    n_empty, out = 0, []
    for _, (positives, _, ybin) in stream:
        n += 1
        pos += ybin
        n_empty += not positives
        if n >= cardinality and n % 16 == 0:
            out.append(multilabel_entropy(np.append(pos, n_empty), n))
    return out


@pytest.mark.parametrize(("cardinality", "quantile"), [(16, 0.5), (32, 0.0), (5, 0.3), (0, 0.7)])
def test_a_leaf_counts_what_it_learns_and_chooses_its_model_by_its_rule(cardinality, quantile):
    stream = _stream(400, seed=cardinality)
    # An entropy threshold that the stream crosses, equal to the entropy at one of the
    # choices (the choice is "below", strictly).
    entropies = sorted(_entropies_at_choices(stream, cardinality))
    tree = _tree(cardinality, entropies[int(quantile * (len(entropies) - 1))], batch_size=5)
    leaf = _leaf()
    assert (leaf.mode, leaf.n, leaf.n_empty, leaf.majority, leaf.active) == (EMPTY, 0, 0, (), True)
    n, pos, n_empty, labelsets = 0, np.zeros(L), 0, {}
    majority, majority_count, mode = (), 0, EMPTY
    modes, sticky = set(), 0
    for v, target in stream:
        leaf.learn(v, target, tree)
        positives, key, ybin = target
        n += 1
        pos += ybin
        n_empty += not positives
        labelsets[key] = labelsets.get(key, 0) + 1
        if labelsets[key] > majority_count:  # ties keep the older majority
            majority, majority_count = key, labelsets[key]
        mode = _rule(mode, labelsets, n, pos, n_empty, tree, force=False)
        fresh = _rule(None, labelsets, n, pos, n_empty, tree, force=True)
        sticky += mode != fresh
        modes.add(mode)
        assert (leaf.n, leaf.n_empty, leaf.labelsets) == (n, n_empty, labelsets)
        assert np.array_equal(leaf.pos, pos)
        assert (leaf.majority, leaf.majority_count) == (majority, majority_count)
        assert leaf.mode == mode, n
        # The standardisation learns in batches; the split statistics wait for an attempt.
        assert leaf.std.n == n - n % tree.batch_size and len(leaf.std_pending) == n % 5
        assert len(leaf.pending) == n
    if cardinality < 32:
        assert modes >= {KNN, LR} and sticky > 0  # the rule was exercised both ways
    else:
        assert LR in modes


def test_a_leaf_starts_from_given_label_sets():
    leaf = _leaf(labelsets={(0,): 2, (1,): 3, (2,): 3, (): 1})
    assert (leaf.majority, leaf.majority_count) == ((1,), 3)  # the first of the largest
    assert (leaf.n, leaf.n_empty, leaf.mode) == (0, 0, KNN)
    # Nothing in its window yet: it predicts no label.
    v = EncodedInstance(np.arange(D), np.ones(D), D)
    assert np.array_equal(leaf.predict(v, L), np.zeros(L))
    assert _leaf(labelsets={(3,): 4}).mode == PURE


@pytest.mark.parametrize("mixing_rate", [None, 10.0])
def test_a_leaf_that_learnt_nothing_predicts_no_label(mixing_rate):
    leaf = _leaf(mixing_rate)
    v = EncodedInstance(np.arange(D), np.linspace(1, 2, D), D)
    assert np.array_equal(leaf.predict(v, L), np.zeros(L))


def _standardised(leaf: Leaf, v) -> tuple:
    return leaf.std.transform(v.indices, v.values, v.full)


def _knn_answer(leaf: Leaf, v, n_labels=L) -> np.ndarray:
    return leaf.knn.predict(leaf.knn.votes(*_standardised(leaf, v), cosine=True), n_labels)


def _lr_answer(leaf: Leaf, v) -> np.ndarray:
    return leaf.lr.predict(leaf.lr.forward(*_standardised(leaf, v)))


@pytest.mark.parametrize(("cardinality", "entropy"), [(10**6, 0.0), (0, 0.0), (0, 100.0)])
def test_without_a_mixture_a_leaf_predicts_with_its_model(cardinality, entropy):
    """The kNN votes with the cosine distance of the standardised instances."""
    stream = _stream(300, seed=3)
    tree = _tree(cardinality, entropy)
    leaf = _leaf()
    checked = 0
    for i, (v, target) in enumerate(stream):
        if i > 20:
            expected = _knn_answer(leaf, v) if leaf.mode == KNN else _lr_answer(leaf, v)
            assert np.array_equal(leaf.predict(v, L), expected)
            checked += 1
        leaf.learn(v, target, tree)
    assert checked > 200 and leaf.mode == (KNN if cardinality or entropy else LR)


def test_the_kNN_of_a_leaf_uses_the_cosine_distance():
    """Two neighbours in direction, far apart in the Euclidean distance: the cosine one wins."""
    leaf = _leaf()
    tree = _tree(cardinality=10**6)
    rng = np.random.default_rng(5)
    stream = _stream(40, seed=5)
    for v, target in stream:  # a spread of instances, so the standardisation is not trivial
        leaf.learn(v, target, tree)
    leaf.flush_std()
    u = np.abs(rng.normal(size=D)) + 1.0
    for scale, positives in ((20.0, [0, 1, 2, 3]), (1.2, [1])):
        for _ in range(3):
            leaf.learn(EncodedInstance(np.arange(D), u * scale, D), _target(positives), tree)
    leaf.flush_std()
    query = EncodedInstance(np.arange(D), u * 19.0, D)
    p = leaf.predict(query, L)
    u_std, z, full = _standardised(leaf, query)
    cos = leaf.knn.predict(leaf.knn.votes(u_std, z, full, cosine=True), L)
    euclid = leaf.knn.predict(leaf.knn.votes(u_std, z, full, cosine=False), L)
    assert not np.allclose(cos, euclid)  # the two distances disagree on this query
    assert np.array_equal(p, cos)


def test_a_leaf_remembers_an_answer_for_the_same_instance_only():
    stream = _stream(120, seed=7)
    tree = _tree(cardinality=10**6)
    leaf = _leaf()
    for v, target in stream[:100]:
        leaf.learn(v, target, tree)
    for v, target in stream[100:]:
        first = leaf.predict(v, L)
        for other, _ in stream[:5]:  # another instance in between
            assert np.array_equal(leaf.predict(other, L), _knn_answer(leaf, other))
        assert np.array_equal(leaf.predict(v, L), first)
        leaf.learn(v, target, tree)
        # Learnt, the instance is its own nearest neighbour (distance 0): its label set wins.
        assert np.array_equal(leaf.predict(v, L), _knn_answer(leaf, v))
        assert np.array_equal(leaf.predict(v, L) > 0.5, target[2] > 0.5)


def _components(leaf: Leaf, v) -> tuple:
    return _knn_answer(leaf, v), _lr_answer(leaf, v)


def test_a_mixed_leaf_predicts_and_scores_both_models_as_stated():
    stream = _stream(300, seed=11)
    tree = _tree(cardinality=10**6)
    leaf = _leaf(mixing_rate=10.0)
    loss = np.zeros(2)
    knn_loss = np.zeros(2)  # the kNN's own loss of its two votes
    mixed = 0
    for v, target in stream:
        ybin = target[2]
        knn, lr = _components(leaf, v)
        if len(leaf.knn) and leaf.lr.n_learnt:
            if leaf.mode in (KNN, LR):  # (a leaf with one label set predicts it)
                w = pair_weight(loss[0], loss[1], 10.0)
                assert np.allclose(leaf.predict(v, L), w * knn + (1.0 - w) * lr, atol=1e-12)
                mixed += 1
            for i, p in enumerate((knn, lr)):
                loss[i] += MIXING_DECAY * (float((p - ybin) @ (p - ybin)) - loss[i])
            votes = leaf.knn.votes(*_standardised(leaf, v), cosine=True)
            wrong = ((votes > 0.5) != ybin).any(axis=1)
            knn_loss += leaf.knn.loss_decay * (wrong - knn_loss)
        leaf.learn(v, target, tree)
        assert np.allclose(leaf.mixing_loss, loss, rtol=1e-12, atol=0)
        assert np.allclose(leaf.knn._loss, knn_loss, rtol=1e-12, atol=0)
        assert leaf.knn_weight == pair_weight(loss[0], loss[1], 10.0)
    assert mixed > 250 and 0.0 < leaf.knn_weight < 1.0


def test_an_unmixed_kNN_leaf_scores_its_votes_and_an_LR_leaf_does_not():
    stream = _stream(200, seed=13)
    knn_leaf, lr_leaf = _leaf(), _leaf()
    for v, target in stream:
        knn_leaf.learn(v, target, _tree(cardinality=10**6))
        lr_leaf.learn(v, target, _tree(cardinality=0, entropy=0.0))
    assert knn_leaf.mode == KNN and knn_leaf.knn._loss.any()
    assert lr_leaf.mode == LR and not lr_leaf.knn._loss.any()


def test_the_window_holds_each_instance_as_standardised_when_learnt():
    """Sparse instances fill their own columns only, in a mixed leaf too."""
    stream = _stream(50, seed=17)
    tree = _tree(cardinality=10**6)
    leaf = _leaf(mixing_rate=10.0)
    expected = []
    for v, target in stream:
        leaf.predict(v, L)  # the mixture's components are remembered before learning
        cols, z, _ = _standardised(leaf, v)
        row = np.zeros(D, dtype=np.float32)
        row[cols] = z
        expected.append(row)
        leaf.learn(v, target, tree)
    held = leaf.knn._x[:D, : len(stream)].T
    assert np.array_equal(held, np.array(expected))


def test_a_pure_leaf_predicts_its_label_set():
    leaf = _leaf()
    tree = _tree()
    v = EncodedInstance(np.arange(D), np.ones(D), D)
    leaf.learn(v, _target([1, 3]), tree)
    assert (leaf.mode, leaf.majority, leaf.majority_count) == (PURE, (1, 3), 1)
    assert leaf.predict(v, L).tolist() == [0.0, 1.0, 0.0, 1.0]
    for _ in range(2):
        leaf.learn(v, _target([1, 3]), tree)
    assert leaf.predict(v, L).tolist() == [0.0, 1.0, 0.0, 1.0]
    leaf.grow(D, L + 2)  # new labels: not in its label set
    assert leaf.predict(v, L + 2).tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]


def test_deactivated_leaves_stay_inactive_in_their_copies():
    leaf = _leaf()
    for v, target in _stream(30, seed=19):
        leaf.learn(v, target, _tree())
    rng = np.random.default_rng(0)
    assert leaf.restricted(np.array([0, 2]), rng, _tree()).active
    leaf.deactivate()
    assert not leaf.active and leaf.pending is None
    assert not leaf.restricted(np.array([0, 2]), rng, _tree()).active


@pytest.mark.parametrize("mixing_rate", [None, 10.0])
@pytest.mark.parametrize("labels", [[2, 0], [3], [1, 2, 3]])
def test_a_restricted_copy_counts_and_predicts_the_parents_labels(mixing_rate, labels):
    stream = _stream(150, seed=23)
    tree = _tree(cardinality=10**6 if mixing_rate is None else 16, entropy=0.5)
    leaf = _leaf(mixing_rate)
    for v, target in stream[:-9]:
        leaf.learn(v, target, tree)
    assert leaf.std_pending  # instances not yet in the standardisation
    copy = leaf.restricted(np.array(labels), np.random.default_rng(1), tree)
    projected = {}
    for key, count in leaf.labelsets.items():
        sub = tuple(sorted(labels.index(j) for j in key if j in labels))
        projected[sub] = projected.get(sub, 0) + count
    assert copy.labelsets == projected
    assert (copy.n, copy.n_empty, copy.last_attempt) == (leaf.n, projected.get((), 0), leaf.n)
    assert np.array_equal(copy.pos, leaf.pos[labels])
    assert copy.std_pending == leaf.std_pending and copy.std_pending is not leaf.std_pending
    assert copy.mode == leaf.mode and copy.depth == leaf.depth
    for v, _ in stream[-9:]:  # the same model answers for the copy's labels
        assert np.allclose(copy.predict(v, len(labels)), leaf.predict(v, L)[labels], atol=1e-6)


def test_a_restricted_copy_with_one_label_set_is_pure():
    stream = _stream(60, seed=29, always=1)  # label 1 in every set: never an empty set
    leaf = _leaf()
    for v, target in stream:
        leaf.learn(v, target, _tree(cardinality=0, entropy=100.0))
    assert leaf.mode == KNN and () not in leaf.labelsets
    copy = leaf.restricted(np.array([1]), np.random.default_rng(0), _tree())
    assert copy.labelsets == {(0,): 60} and copy.n_empty == 0 and copy.mode == PURE
    assert copy.predict(stream[0][0], 1).tolist() == [1.0]


def test_a_restricted_copy_with_two_label_sets_keeps_the_parents_model():
    """The copy's own choice waits for its next revision, as it would in the parent."""
    stream = _stream(200, seed=31)
    tree = _tree(cardinality=0, entropy=0.0)  # the parent chooses the regressions
    leaf = _leaf()
    for v, target in stream[:-3]:
        leaf.learn(v, target, tree)
    assert leaf.mode == LR
    sparse_label = int(np.argmin(leaf.pos))
    copy = leaf.restricted(np.array([sparse_label]), np.random.default_rng(0), _tree(0, 10.0))
    assert len(copy.labelsets) == 2 and copy.mode == LR


def test_children_split_the_parents_window_and_start_one_level_down():
    stream = _stream(58, seed=37)  # within the window (60)
    tree = _tree(cardinality=10**6)
    leaf = _leaf(mixing_rate=10.0, depth=2)
    for v, target in stream:
        leaf.learn(v, target, tree)
    assert leaf.std_pending
    left, right = leaf.split(1, 0.25, np.random.default_rng(0))
    raw = [v.dense()[1] for v, _ in stream]
    sets_left, sets_right = {}, {}
    for value, (_, target) in zip(raw, stream):
        side = sets_left if value <= 0.25 else sets_right
        side[target[1]] = side.get(target[1], 0) + 1
    assert (left.labelsets, right.labelsets) == (sets_left, sets_right)
    assert (len(left.knn), len(right.knn)) == (sum(sets_left.values()), sum(sets_right.values()))
    for child in (left, right):
        assert child.depth == 3 and child.n == 0
        assert child.std_pending == leaf.std_pending and child.std_pending is not leaf.std_pending
        assert np.array_equal(child.mixing_loss, leaf.mixing_loss)


def test_a_leaf_pickles_without_its_remembered_answer():
    stream = _stream(60, seed=41)
    leaf = _leaf(mixing_rate=10.0)
    for v, target in stream[:-1]:
        leaf.learn(v, target, _tree())
    v = stream[-1][0]
    p = leaf.predict(v, L)
    assert "_memo" not in leaf.__getstate__()
    copy = pickle.loads(pickle.dumps(leaf))
    assert copy._memo is None and np.array_equal(copy.predict(v, L), p)


def test_a_branch_routes_by_its_test_and_reads_missing_features_as_zero():
    left, right = _leaf(), _leaf()
    branch = Branch(2, 0.5, left, right, 1, None, 0.25)
    assert (branch.alt, branch.alt_n, branch.alt_loss, branch.main_loss) == (None, 0, 0.0, 0.0)
    assert branch.merit == 0.25
    xd = np.array([9.0, 9.0, 0.5, 9.0])
    assert branch.child(xd, 4) is left  # equal to the threshold: left
    assert branch.child(np.array([9.0, 9.0, 0.51, 9.0]), 4) is right
    assert branch.child(np.array([1.0, 1.0]), 2) is left  # feature 2 unknown: 0 <= 0.5
    assert Branch(4, -1.0, left, right, 1, None, 0.1).child(xd, 4) is right  # 0 > -1
    assert Branch(4, 0.0, left, right, 1, None, 0.1).child(xd, 4) is left  # 0 <= 0


def test_iter_nodes_walks_depth_first_with_or_without_alternates():
    a, b, c, d, e = (_leaf() for _ in range(5))
    inner = Branch(1, 0.0, b, c, 1, None, 0.1)
    root = Branch(0, 0.0, a, inner, 0, None, 0.1)
    root.alt = d
    inner_alt = Branch(3, 0.0, e, _leaf(), 2, None, 0.1)
    inner.alt = inner_alt
    walk = list(iter_nodes(root))
    assert walk[:5] == [root, d, a, inner, inner_alt]
    assert walk[5] is e and len(walk) == 9 and all(n is not None for n in walk)
    assert list(iter_nodes(root, alternates=False)) == [root, a, inner, b, c]
    assert list(iter_nodes(a)) == [a]


def test_the_first_split_attempt_comes_after_a_grace_period():
    """One label set: each attempt only flushes the statistics, at grace-period intervals."""
    model = MLHAT(grace_period=30, seed=0)
    rng = np.random.default_rng(0)
    for i in range(1, 95):
        model.learn_one({"a": float(rng.normal()), "b": float(rng.normal())}, {"y": True})
        leaf = model._root
        assert leaf.last_attempt == 30 * (i // 30), i
        assert len(leaf.pending) == i % 30


def test_ties_keep_the_older_majority():
    leaf = _leaf()
    v = EncodedInstance(np.arange(D), np.ones(D), D)
    for positives, majority in (([0], (0,)), ([2], (0,)), ([2], (2,)), ([0], (2,))):
        leaf.learn(v, _target(positives), _tree())
        assert leaf.majority == majority


@pytest.mark.parametrize("mixing_rate", [None, 10.0])
def test_a_leaf_asked_for_labels_it_has_not_seen_answers_zero_for_them(mixing_rate):
    stream = _stream(100, seed=43)
    leaf = _leaf(mixing_rate)
    for v, target in stream[:-1]:
        leaf.learn(v, target, _tree(cardinality=40))
    v = stream[-1][0]
    known = leaf.predict(v, L)
    assert known.any()
    wider = leaf.predict(v, L + 2)  # labels that appeared since it last learnt
    assert np.allclose(wider, np.concatenate([known, np.zeros(2)]), rtol=1e-6, atol=0)


@pytest.mark.parametrize("mixing_rate", [None, 10.0])
def test_a_child_without_instances_answers_with_its_copy_of_the_regressions(mixing_rate):
    stream = _stream(57, seed=47)
    leaf = _leaf(mixing_rate)
    for v, target in stream:
        leaf.learn(v, target, _tree(cardinality=10**6))
    left, right = leaf.split(0, 1e9, np.random.default_rng(0))  # nothing goes right
    assert len(right.knn) == 0 and right.mode == EMPTY
    leaf.flush_std()
    right.flush_std()
    v = stream[0][0]
    assert right.predict(v, L).any()
    assert np.allclose(right.predict(v, L), _lr_answer(leaf, v))
