"""The online quality of delayed labels: its window and its Hamming loss's label space."""

from __future__ import annotations

import pytest

from service.quality import OnlineQuality


def test_the_default_window_keeps_the_last_1000_scored_predictions():
    q = OnlineQuality()
    q.score(predicted=set(), truth={"a"}, n_labels=1)  # wrong, then 1000 right ones
    for _ in range(999):
        q.score(predicted={"a"}, truth={"a"}, n_labels=1)
    assert q.size == 1000 and q.subset_accuracy == pytest.approx(0.999)
    q.score(predicted={"a"}, truth={"a"}, n_labels=1)
    assert q.size == 1000 and q.subset_accuracy == 1.0 and q.n_scored == 1001
    for _ in range(1000):
        q.observe(2)
    q.observe(0)
    assert q.label_cardinality == pytest.approx(1.998)


def test_hamming_loss_over_the_label_space_of_the_moment():
    q = OnlineQuality(window=10)
    q.score(predicted={"a"}, truth=set(), n_labels=1)  # one label, wrong
    assert q.hamming_loss == 1.0
    q.score(predicted={"a", "b"}, truth={"c"}, n_labels=4)  # 3 of 4 wrong
    assert q.hamming_loss == pytest.approx((1.0 + 0.75) / 2)
    empty = OnlineQuality()
    empty.score(predicted=set(), truth=set(), n_labels=0)  # no labels yet: nothing wrong
    assert empty.hamming_loss == 0.0 and empty.subset_accuracy == 1.0 and empty.micro_f1 == 1.0
