"""The looks at LabelODAC's refined partition back off while it stays the same."""

from __future__ import annotations

from river import datasets

from streamml import IHOMER
from streamml.ihomer.state import PartitionState

from .test_ihomer import grouped_stream


def _looks(monkeypatch, model, stream) -> list[tuple[int, bool]]:
    """(instance, whether the refined partition differed) of every look."""
    looks = []
    refined = PartitionState._refined

    def recorded(self):
        partition = refined(self)
        looks.append((self._n, partition is not None))
        return partition

    monkeypatch.setattr(PartitionState, "_refined", recorded)
    for x, y in stream:
        model.learn_one(x, y)
    return looks


def _check_gaps(looks, n_min, backoff=True):
    gap, formed = 2 * n_min, False
    for (before, changed), (after, _) in zip(looks, looks[1:]):
        formed = formed or changed
        gap = min(2 * gap, 8 * n_min) if backoff and formed and not changed else 2 * n_min
        assert after - before >= gap, (before, after, gap)


def test_a_stable_partition_is_looked_at_less_and_less_often(monkeypatch):
    monkeypatch.setattr(PartitionState, "BACKOFF_FROM", 0)  # as on a large label space
    groups = [["a", "b", "c"], ["d", "e", "f"], ["g", "h"], ["i", "j", "k"]]
    model = IHOMER(seed=0, n_min=50, warmup=50)
    looks = _looks(monkeypatch, model, grouped_stream(groups, 6000, 3))
    _check_gaps(looks, 50)
    gaps = [b - a for (a, _), (b, _) in zip(looks, looks[1:])]
    assert max(gaps) >= 8 * 50  # it backed off to the longest wait
    assert len(looks) < 6000 // (2 * 50) // 2  # less than half the looks without the back-off
    assert model.partition and {len(c) for c in model.partition} != {11}


def test_a_changing_partition_is_looked_at_again_soon(monkeypatch):
    monkeypatch.setattr(PartitionState, "BACKOFF_FROM", 0)
    model = IHOMER(seed=1, n_min=50, warmup=50)
    looks = _looks(monkeypatch, model, datasets.Yeast())
    _check_gaps(looks, 50)
    # After a look that found a new partition the wait is 2 n_min again, however long it was:
    # some look came after a longer wait, found a change, and the next came 2 n_min later.
    gaps = [b - a for (a, _), (b, _) in zip(looks, looks[1:])]
    reset = [
        (looks[i][0], gaps[i - 1], gaps[i])
        for i in range(1, len(gaps))
        if looks[i][1] and gaps[i - 1] > 2 * 50 and gaps[i] == 2 * 50
    ]
    assert reset, looks


def test_a_small_label_space_does_not_back_off(monkeypatch):
    groups = [["a", "b", "c"], ["d", "e", "f"], ["g", "h"], ["i", "j", "k"]]
    small = _looks(
        monkeypatch, IHOMER(seed=0, n_min=50, warmup=50), grouped_stream(groups, 4000, 3)
    )
    _check_gaps(small, 50, backoff=False)
    monkeypatch.setattr(PartitionState, "BACKOFF_FROM", 0)
    large = _looks(
        monkeypatch, IHOMER(seed=0, n_min=50, warmup=50), grouped_stream(groups, 4000, 3)
    )
    assert len(small) > 1.5 * len(large)
