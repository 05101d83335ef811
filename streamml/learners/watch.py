"""Watching whether a tree on a subset of the labels would split its root leaf."""

from __future__ import annotations

from .gaussian import SplitStatistics
from .nodes import split_test

__all__ = ["SplitWatch"]


class SplitWatch:
    """The split test of a root leaf that predicts some of the labels, without its models.

    IHOMER's clusters share the leaf models of one tree on all the labels (for binary relevance
    and a label-powerset vote, a leaf restricted to some labels is the same model) until a tree
    on a cluster's labels alone would split: the split statistics of such a tree are the only
    part that depends on the cluster. A `SplitWatch` keeps them and returns the split when the
    Hoeffding test accepts it. It tests every `grace_period` instances like `MLHAT` does, except
    that after a rejected test it waits until the bound could fall below the current lead of
    the best split (at most `max_wait` grace periods): most clusters never split, and their
    tests are then ten times rarer.

    Parameters
    ----------
    n_labels
        Number of labels watched.
    grace_period, n_split_points, min_branch_fraction, split_delta, tie_threshold
        As in `MLHAT`.
    max_wait
        Most grace periods between two tests.

    """

    __slots__ = (
        "n_labels",
        "grace_period",
        "n_split_points",
        "min_branch_fraction",
        "split_delta",
        "tie_threshold",
        "stats",
        "pending",
        "labelsets",
        "n",
        "width",
        "max_wait",
        "next_test",
        "hits",
        "tested",
    )

    def __init__(
        self,
        n_labels: int,
        grace_period: int,
        n_split_points: int,
        min_branch_fraction: float,
        split_delta: float,
        tie_threshold: float,
        max_wait: int = 10,
    ):
        self.n_labels = n_labels
        self.grace_period = grace_period
        self.n_split_points = n_split_points
        self.min_branch_fraction = min_branch_fraction
        self.split_delta = split_delta
        self.tie_threshold = tie_threshold
        self.stats = SplitStatistics(n_labels, 0)
        self.pending: list = []
        self.labelsets: set[tuple[int, ...]] = set()
        self.n = 0
        self.width = 0
        self.max_wait = max_wait
        self.next_test = grace_period
        self.hits: dict[int, tuple[int, ...]] = {}  # see `note`
        self.tested = 0

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)

    def learn(self, v, positives: tuple[int, ...]) -> tuple[int, float, float] | None:
        """Add an encoded instance with its positive labels (sorted indices among the watched
        ones); return the accepted split (feature, threshold, gain) or None."""
        self.pending.append((v.indices, v.values, positives))
        self.labelsets.add(positives)
        self.n += 1
        if v.width > self.width:
            self.width = v.width
        if self.n < self.next_test:
            return None
        rows, self.pending = self.pending, []
        return self._test(rows)

    # A caller that watches many label subsets of the same instances keeps the instances once,
    # in a log, and tells each watch only its positive labels, when it has any (`note`); the
    # watch reads the log when a test is due (`due`, `test_log`).

    def note(self, t: int, positives: tuple[int, ...]):
        """Instance `t` of the caller's log has these (non-empty) positive labels."""
        self.hits[t] = positives
        self.labelsets.add(positives)

    def due(self, t: int) -> bool:
        """Whether a test is due once the log holds instances up to `t` (excluded), the watch
        having started at instance `self.tested` of the log when `n` was 0."""
        return self.n + t - self.tested >= self.next_test

    def test_log(self, log: list, offset: int, t: int, width: int):
        """Test with the instances `self.tested` to `t` (excluded) of the caller's log, whose
        item i is instance `offset + i` as (feature indices, values); `width` bounds the
        feature indices. Returns the accepted split or None."""
        hits = self.hits
        first = self.tested
        rows = [
            (indices, values, hits.pop(i, ()))
            for i, (indices, values) in enumerate(log[first - offset : t - offset], first)
        ]
        if hits:  # notes beyond t (none when the caller tests before noting further)
            self.hits = {i: p for i, p in hits.items() if i >= t}
        if any(not positives for _, _, positives in rows):
            self.labelsets.add(())
        self.n += t - self.tested
        self.tested = t
        self.width = max(self.width, width)
        return self._test(rows)

    def _test(self, rows: list):
        self.stats.grow(self.n_labels, self.width)
        self.stats.update(rows)
        grace = self.grace_period
        self.next_test = self.n + grace
        if len(self.labelsets) <= 1:
            return None
        decision, needed = split_test(
            self.stats,
            len(self.labelsets),
            self.n_split_points,
            self.min_branch_fraction,
            self.split_delta,
            self.tie_threshold,
        )
        if decision is None:
            wait = min(max(needed - self.stats.weight, grace), self.max_wait * grace)
            self.next_test = self.n + int(wait)
        return decision
