"""A per-label test of a rise of the error rate, vectorised over the labels."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LabelRise"]


class LabelRise:
    """Detect the labels whose error rate has risen, one test per label, all at once.

    A cluster's ADWIN watches the Hamming loss of the whole cluster, so a change confined to a
    few of its labels is diluted among the others: five labels whose error doubles in a cluster
    of twenty move its loss by a quarter of that. This test watches each label: its 0/1 error
    is averaged over a `fast` and a `slow` horizon (plain means until a horizon is full,
    exponentially faded ones after), and the label's
    error has risen when the fast mean exceeds the slow one by more than Bernstein's bound on
    the deviation of their difference, at confidence `delta`: a mean faded over `w` instances
    weighs as `2w - 1` plain ones, and the variance is that of the slow rate (at least that of
    a rate `floor`, so that rare labels, whose few errors are noise, need a clear rise).

    A label is tested once it has been watched for `slow` instances, and after an alarm its
    slow mean restarts from its fast one, so it needs `fast` more instances before another.

    The errors are taken in blocks of `every` instances: the means move by the whole block at
    once (the same means, one block's fading folded into one product once both horizons are
    full), and the labels are tested at the end of each block, so an alarm comes at most
    `every - 1` instances late, for a tenth of the cost of testing every instance.

    Parameters
    ----------
    delta
        Confidence of each test (smaller: fewer false alarms, later detections).
    fast
        Horizon (instances) of the recent error rate.
    slow
        Horizon (instances) of the reference error rate.
    floor
        The smallest error rate whose variance the bound assumes.
    every
        Instances per block: the labels are tested every `every` instances (1: at each).

    Examples
    --------
    >>> import numpy as np
    >>> rise = LabelRise(delta=1e-4)
    >>> rise.grow(3)
    >>> rng = np.random.default_rng(0)
    >>> first = None
    >>> for t in range(6000):
    ...     rate = np.array([0.1, 0.1, 0.4 if t >= 3000 else 0.1])  # label 2 drifts at 3,000
    ...     hit = rise.update(rng.random(3) < rate)
    ...     if hit.any() and first is None:
    ...         first = (t, hit.nonzero()[0].tolist())
    >>> first
    (3069, [2])

    """

    def __init__(
        self,
        delta: float,
        fast: int = 200,
        slow: int = 2000,
        floor: float = 0.02,
        every: int = 10,
    ):
        if not (isinstance(every, int) and 1 <= every <= fast):
            raise ValueError(f"every must be an int in [1, fast], got {every!r}")
        self.delta = delta
        self.fast = fast
        self.slow = slow
        self.floor = floor
        self.every = every
        self._log = math.log(1.0 / delta)
        self._spread = 1.0 / (2 * fast - 1) + 1.0 / (2 * slow - 1)
        self._range = 1.0 / (3 * (2 * fast - 1))
        self._fast = np.zeros(0)
        self._slow = np.zeros(0)
        self._seen = np.zeros(0)  # instances watched since the start or the last alarm
        self._rows: list = []  # the errors of the block so far
        self._quiet = np.zeros(0, dtype=bool)  # the answer between two tests (read-only)
        self._quiet.flags.writeable = False
        self._fold: dict[int, tuple] = {}  # block length -> its fading, for both horizons

    def __setstate__(self, state):
        # Models pickled before the blocks test at every instance, as they did.
        state.setdefault("every", 1)
        state.setdefault("_rows", [])
        state.setdefault("_fold", {})
        state.setdefault("_quiet", np.zeros(len(state["_fast"]), dtype=bool))
        self.__dict__.update(state)

    def __len__(self) -> int:
        return len(self._fast)

    def grow(self, n: int) -> None:
        """Watch `n` labels (new labels start with no errors and no history)."""
        extra = n - len(self._fast)
        if extra > 0:
            self._absorb()  # the block so far has the old labels only
            self._fast = np.concatenate([self._fast, np.zeros(extra)])
            self._slow = np.concatenate([self._slow, np.zeros(extra)])
            self._seen = np.concatenate([self._seen, np.zeros(extra)])
            self._quiet = np.zeros(n, dtype=bool)
            self._quiet.flags.writeable = False

    def update(self, errors: np.ndarray) -> np.ndarray:
        """Add one instance's errors (a bool per label); the mask of the labels whose error
        has risen (all False but at the end of a block)."""
        self._rows.append(errors)
        if len(self._rows) < self.every:
            return self._quiet
        self._absorb()
        return self._test()

    def _absorb(self) -> None:
        """Move the means by the errors of the block so far."""
        rows = self._rows
        if not rows:
            return
        self._rows = []
        block = np.asarray(rows, dtype=float)
        if self._seen.min(initial=self.slow) < self.slow:
            # A horizon is not full yet: each instance i of the block moves a mean m by
            # r_i (e_i - m) with its own rate r_i = 1 / min(seen_i, horizon), so
            # m <- prod_i (1 - r_i) m + sum_i r_i prod_(j > i) (1 - r_j) e_i.
            seen = self._seen + np.arange(1, len(rows) + 1)[:, None]
            for mean, horizon in ((self._fast, self.fast), (self._slow, self.slow)):
                rate = 1.0 / np.minimum(seen, horizon)
                after = np.cumprod((1.0 - rate)[::-1], axis=0)[::-1]  # prod over j >= i
                mean *= after[0]
                after[:-1] = after[1:]
                after[-1] = 1.0
                mean += (rate * after * block).sum(axis=0)
            self._seen += len(rows)
            return
        # Both horizons full: m <- c m + sum_i a (1 - a)^(B-1-i) e_i, as one product.
        fold = self._fold.get(len(rows))
        if fold is None:
            fold = self._fold[len(rows)] = tuple(
                ((1.0 - 1.0 / h) ** len(rows), (1.0 - 1.0 / h) ** np.arange(len(rows))[::-1] / h)
                for h in (self.fast, self.slow)
            )
        (keep_fast, add_fast), (keep_slow, add_slow) = fold
        self._fast *= keep_fast
        self._fast += add_fast @ block
        self._slow *= keep_slow
        self._slow += add_slow @ block
        self._seen += len(rows)

    def _test(self) -> np.ndarray:
        rise = self._fast - self._slow
        # The bound is at least its second term: only the labels past it need the first.
        near = np.flatnonzero((rise > self._log * self._range) & (self._seen >= self.slow))
        hit = np.zeros(len(rise), dtype=bool)
        if len(near):
            p = np.clip(self._slow[near], self.floor, 0.5)
            # A mean faded over a horizon w weighs as 2w - 1 plain instances; the difference
            # of the two means has the variance of both.
            bound = np.sqrt(2.0 * p * (1.0 - p) * self._log * self._spread)
            hit[near] = rise[near] > bound + self._log * self._range
        return hit

    def reset(self, cols: np.ndarray) -> None:
        """After an alarm on these labels: their reference is their recent rate."""
        self._absorb()
        self._slow[cols] = self._fast[cols]
        self._seen[cols] = self.slow - self.fast
