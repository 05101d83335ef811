"""`ihomer.Selection`, which of a cluster's own learner and the all-labels learner answers,
against its rule written out with plain counts."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from streamml.ihomer.selection import Selection


def _score(counts):
    n, exact, tp, fp, fn = counts
    f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 1.0
    return exact / n + f1


def _faded(counts, predicted, truth, decay):
    tp = sum(p and t for p, t in zip(predicted, truth))
    fp = sum(p and not t for p, t in zip(predicted, truth))
    fn = sum(t and not p for p, t in zip(predicted, truth))
    n, exact, ftp, ffp, ffn = counts
    return [
        decay * n + 1,
        decay * exact + (fp + fn == 0),
        decay * ftp + tp,
        decay * ffp + fp,
        decay * ffn + fn,
    ]


@pytest.mark.parametrize(
    ("decay", "margin", "warmup", "seed"),
    [
        (0.9, 0.0, 0, 0),
        (0.99, 0.1, 20, 1),
        (0.5, 0.3, 5, 2),
    ],
)
def test_the_answering_learner_follows_the_rule(decay, margin, warmup, seed):
    rng = np.random.default_rng(seed)
    selection, own, root, use_root, last = Selection(n=3), [0.0] * 5, [0.0] * 5, True, 3
    switches = 0
    for n in range(400):
        truth = rng.random(4) < 0.3
        # The own learner is better in the middle of the stream, worse at both ends.
        good = 0.9 if 120 <= n < 280 else 0.5
        own_p = np.where(rng.random(4) < good, truth, ~truth)
        root_p = np.where(rng.random(4) < 0.7, truth, ~truth)
        selection.update(own_p, root_p, truth, n, decay, margin, warmup)
        own = _faded(own, own_p, truth, decay)
        root = _faded(root, root_p, truth, decay)
        lead = margin if use_root else 0.0
        now = n < warmup or _score(own) <= _score(root) + lead
        switches += now != use_root
        use_root = now
        if not use_root:
            last = n
        assert selection.use_root == use_root and selection.last_answer == last, n
        np.testing.assert_allclose(selection.own, own, rtol=1e-12)
        np.testing.assert_allclose(selection.root, root, rtol=1e-12)
    assert switches >= 2  # both ways


def test_ties_and_the_margin_keep_the_all_labels_learner():
    truth = np.array([True, False])
    selection = Selection()
    selection.update(truth, truth, truth, n=0, decay=0.9)  # both exact: a tie
    assert selection.use_root and selection.last_answer == 0
    wrong = np.array([False, True])
    selection = Selection()
    selection.update(truth, wrong, truth, n=7, decay=0.9, margin=2.0)  # a lead of 2, not more
    assert selection.use_root
    selection.update(truth, wrong, truth, n=8, decay=0.9, margin=1.99)
    assert not selection.use_root and selection.last_answer == 8
    selection.update(truth, wrong, truth, n=9, decay=0.9, margin=5.0)  # answering: no margin
    assert not selection.use_root and selection.last_answer == 9
    selection = Selection()
    selection.update(truth, wrong, truth, n=4, decay=0.9, warmup=5)  # still warming up
    assert selection.use_root
    selection.update(truth, wrong, truth, n=5, decay=0.9, warmup=5)
    assert not selection.use_root


def test_nothing_positive_scores_a_full_f1():
    none = np.zeros(3, dtype=bool)
    selection = Selection()
    selection.update(none, np.array([True, False, False]), none, n=0, decay=0.5)
    assert selection.own == (1.0, 1.0, 0.0, 0.0, 0.0)  # exact, F1 1: a score of 2
    assert selection.root == (1.0, 0.0, 0.0, 1.0, 0.0)  # a false positive: a score of 0
    assert not selection.use_root


def test_a_selection_pickles_and_continues():
    selection = Selection(n=11)
    truth = np.array([True, True])
    selection.update(truth, ~truth, truth, n=12, decay=0.8)
    copy = pickle.loads(pickle.dumps(selection))
    assert (copy.own, copy.root, copy.use_root, copy.last_answer) == (
        selection.own,
        selection.root,
        False,
        12,
    )
    assert Selection(n=11).last_answer == 11 and Selection().own == (0.0,) * 5


def test_with_nothing_positive_the_f1_counts_one():
    # Own: nothing predicted, nothing true, twice: exact, F1 1, a score of 2. Root: a false
    # positive the second time: a score of 1/3. With a margin of 2, root keeps answering.
    none, one = np.zeros(2, dtype=bool), np.array([True, False])
    selection = Selection()
    selection.update(none, none, none, n=0, decay=0.5)
    selection.update(none, one, none, n=1, decay=0.5, margin=2.0)
    assert selection.use_root
    selection.update(none, one, none, n=2, decay=0.5, margin=1.0)
    assert not selection.use_root


def test_the_default_margin_is_zero():
    truth = np.array([True, False, False, False])
    half = np.array([True, True, False, False])  # exact 0, F1 2/3
    worse = np.array([False, True, False, False])  # exact 0, F1 0
    selection = Selection()
    selection.update(half, worse, truth, n=0, decay=0.9)
    assert not selection.use_root  # a lead of 2/3 suffices without a margin
