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

    def __init__(self, delta: float, fast: int = 200, slow: int = 2000, floor: float = 0.02):
        self.delta = delta
        self.fast = fast
        self.slow = slow
        self.floor = floor
        self._log = math.log(1.0 / delta)
        self._spread = 1.0 / (2 * fast - 1) + 1.0 / (2 * slow - 1)
        self._range = 1.0 / (3 * (2 * fast - 1))
        self._fast = np.zeros(0)
        self._slow = np.zeros(0)
        self._seen = np.zeros(0)  # instances watched since the start or the last alarm

    def __len__(self) -> int:
        return len(self._fast)

    def grow(self, n: int) -> None:
        """Watch `n` labels (new labels start with no errors and no history)."""
        extra = n - len(self._fast)
        if extra > 0:
            self._fast = np.concatenate([self._fast, np.zeros(extra)])
            self._slow = np.concatenate([self._slow, np.zeros(extra)])
            self._seen = np.concatenate([self._seen, np.zeros(extra)])

    def update(self, errors: np.ndarray) -> np.ndarray:
        """Add one instance's errors (a bool per label); the mask of the labels whose error
        has risen."""
        e = np.asarray(errors, dtype=float)
        self._seen += 1
        # Plain means until a horizon is full, then faded ones (no bias towards 0 at the start).
        self._fast += (e - self._fast) / np.minimum(self._seen, self.fast)
        self._slow += (e - self._slow) / np.minimum(self._seen, self.slow)
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
        self._slow[cols] = self._fast[cols]
        self._seen[cols] = self.slow - self.fast
