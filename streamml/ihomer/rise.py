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

    The errors are taken in blocks of `every` instances: once both horizons are full, the
    means after each instance of the block come from one matrix product, and every one of them
    is tested, as one instance at a time would; the alarms of a block are reported at its end
    (at most `every - 1` instances late), for a fraction of the cost of one call per instance.

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
        Instances per block: the alarms are reported every `every` instances (1: at each).

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
        self._held = np.zeros(0, dtype=bool)  # alarms found before a block ended early
        self._quiet = np.zeros(0, dtype=bool)  # the answer between two blocks (read-only)
        self._quiet.flags.writeable = False
        self._fold: dict[int, tuple] = {}  # block length -> its fading, for both horizons

    def __setstate__(self, state):
        # Models pickled before the blocks test at every instance, as they did.
        state.setdefault("every", 1)
        state.setdefault("_rows", [])
        state.setdefault("_fold", {})
        state.setdefault("_held", np.zeros(len(state["_fast"]), dtype=bool))
        state.setdefault("_quiet", np.zeros(len(state["_fast"]), dtype=bool))
        self.__dict__.update(state)

    def __len__(self) -> int:
        return len(self._fast)

    @property
    def quiet(self) -> np.ndarray:
        """What `update` returns between two blocks: no alarm (the same read-only array
        each time, so that a caller can tell it by identity)."""
        return self._quiet

    def grow(self, n: int) -> None:
        """Watch `n` labels (new labels start with no errors and no history)."""
        extra = n - len(self._fast)
        if extra > 0:
            held = self._held | self._absorb()  # the block so far has the old labels only
            self._fast = np.concatenate([self._fast, np.zeros(extra)])
            self._slow = np.concatenate([self._slow, np.zeros(extra)])
            self._seen = np.concatenate([self._seen, np.zeros(extra)])
            self._held = np.concatenate([held, np.zeros(extra, dtype=bool)])
            self._quiet = np.zeros(n, dtype=bool)
            self._quiet.flags.writeable = False

    def update(self, errors: np.ndarray) -> np.ndarray:
        """Add one instance's errors (a bool per label); the mask of the labels whose error
        has risen during the block (all False but at the end of a block)."""
        self._rows.append(errors)
        if len(self._rows) < self.every:
            return self._quiet
        hit = self._absorb()
        if self._held.any():
            hit |= self._held
            self._held = np.zeros(len(hit), dtype=bool)
        return hit

    def _absorb(self) -> np.ndarray:
        """Move the means by the errors of the block so far; the labels whose error rose after
        any of its instances."""
        rows = self._rows
        if not rows:
            return np.zeros(len(self._fast), dtype=bool)
        self._rows = []
        block = np.asarray(rows, dtype=float)
        if self._seen.max(initial=0) + len(rows) < self.slow:
            # No label is tested yet: each instance i moves a mean m by r_i (e_i - m), with
            # r_i = 1 / min(seen_i, horizon), so m <- prod_i (1 - r_i) m
            # + sum_i r_i prod_(j > i) (1 - r_j) e_i.
            # Both horizons at once: axis 0 is the horizon, axis 1 the instance.
            seen = self._seen + np.arange(1, len(rows) + 1)[:, None]
            horizons = np.array([self.fast, self.slow])[:, None, None]
            rate = 1.0 / np.minimum(seen, horizons)
            after = np.cumprod((1.0 - rate)[:, ::-1], axis=1)[:, ::-1]  # products over j >= i
            self._fast *= after[0, 0]
            self._slow *= after[1, 0]
            after[:, :-1] = after[:, 1:]
            after[:, -1] = 1.0
            moved = (rate * after * block).sum(axis=1)
            self._fast += moved[0]
            self._slow += moved[1]
            self._seen += len(rows)
            return np.zeros(len(self._fast), dtype=bool)
        if self._seen.min(initial=self.slow) < self.slow:
            # Some labels are tested, others not yet: plain means, one instance at a time.
            hit = np.zeros(len(self._fast), dtype=bool)
            for e in block:
                self._seen += 1
                self._fast += (e - self._fast) / np.minimum(self._seen, self.fast)
                self._slow += (e - self._slow) / np.minimum(self._seen, self.slow)
                hit |= self._test(self._fast, self._slow, self._seen >= self.slow)
            return hit
        # Both horizons full: after instance i of the block a mean m0 is
        # c^(i+1) m0 + sum_(j <= i) a c^(i-j) e_j, with a = 1 / horizon and c = 1 - a.
        fold = self._fold.get(len(rows))
        if fold is None:
            fold = self._fold[len(rows)] = tuple(
                _fold(len(rows), h) for h in (self.fast, self.slow)
            )
        (keep_fast, add_fast), (keep_slow, add_slow) = fold
        fast = keep_fast * self._fast + add_fast @ block
        slow = keep_slow * self._slow + add_slow @ block
        self._fast, self._slow = fast[-1].copy(), slow[-1].copy()
        self._seen += len(rows)
        return self._test(fast, slow, None)

    def _test(self, fast: np.ndarray, slow: np.ndarray, tested: np.ndarray | None) -> np.ndarray:
        """The labels whose fast mean exceeds the slow one by more than the bound, after any
        instance (rows of `fast` and `slow`), among the `tested` ones (None: all)."""
        rise = fast - slow
        # The bound is at least its second term: only the labels past it need the first.
        past = rise > self._log * self._range
        if tested is not None:
            past &= tested
        near = np.nonzero(past)
        hit = np.zeros(fast.shape[-1], dtype=bool)
        if len(near[0]):
            p = np.clip(slow[near], self.floor, 0.5)
            # A mean faded over a horizon w weighs as 2w - 1 plain instances; the difference
            # of the two means has the variance of both.
            bound = np.sqrt(2.0 * p * (1.0 - p) * self._log * self._spread)
            hit[near[-1][rise[near] > bound + self._log * self._range]] = True
        return hit

    def reset(self, cols: np.ndarray) -> None:
        """After an alarm on these labels: their reference is their recent rate."""
        self._held |= self._absorb()
        self._slow[cols] = self._fast[cols]
        self._seen[cols] = self.slow - self.fast


def _fold(length: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The factors of a faded mean over a block of `length` instances: (c^(i+1) for each
    instance i, as a column; the lower-triangular a c^(i-j) that weighs instance j in row i)."""
    a = 1.0 / horizon
    c = 1.0 - a
    i = np.arange(length)
    lag = i[:, None] - i[None, :]
    weights = np.where(lag >= 0, a * c ** np.maximum(lag, 0), 0.0)
    return c ** (i + 1.0)[:, None], weights
