"""Which shard holds which cluster: placement by cost, and the moves that rebalance the shards.

The cost of a cluster is the time its shard spends learning it, measured by the shard and
faded over the batches; a cluster not yet measured is estimated from its size (its labels
times the features) at the rate measured for the others. A cluster is never split.
"""

from __future__ import annotations

__all__ = ["Placement"]


class Placement:
    """Cluster -> shard, and each cluster's cost.

    Parameters
    ----------
    n_shards
        Number of shards.
    tolerance
        Rebalance when the most loaded shard carries more than this many times the mean
        load (and a move makes the largest load smaller).
    fading
        Weight of the previous cost estimate when a new measurement arrives.

    """

    def __init__(self, n_shards: int, tolerance: float = 1.25, fading: float = 0.5):
        self.n_shards = n_shards
        self.tolerance = tolerance
        self.fading = fading
        self.home: dict[frozenset, int] = {}
        self.cost: dict[frozenset, float] = {}  # seconds per instance, measured
        self.size: dict[frozenset, float] = {}  # labels x features, when placed
        self.n_moves = 0

    def estimate(self, key: frozenset) -> float:
        """The measured cost of a cluster, or its size times the measured cost per unit."""
        if key in self.cost:
            return self.cost[key]
        measured = [k for k in self.cost if k in self.size and self.size[k] > 0]
        if not measured:
            return self.size.get(key, 1.0)
        rate = sum(self.cost[k] for k in measured) / sum(self.size[k] for k in measured)
        return self.size.get(key, 1.0) * rate

    def loads(self) -> list[float]:
        loads = [0.0] * self.n_shards
        for key, shard in self.home.items():
            loads[shard] += self.estimate(key)
        return loads

    def place(self, key: frozenset, size: float) -> int:
        """Put a new cluster on the least loaded shard (the first of equals)."""
        self.size[key] = size
        loads = self.loads()
        shard = loads.index(min(loads))
        self.home[key] = shard
        return shard

    def forget(self, key: frozenset) -> None:
        self.home.pop(key, None)
        self.cost.pop(key, None)
        self.size.pop(key, None)

    def measured(self, seconds: dict[frozenset, float], instances: int) -> None:
        """Fold in the seconds each cluster took over the last `instances` instances."""
        if instances <= 0:
            return
        for key, spent in seconds.items():
            if key not in self.home:
                continue
            rate = spent / instances
            old = self.cost.get(key)
            self.cost[key] = rate if old is None else self.fading * old + (1 - self.fading) * rate

    def moves(self, max_moves: int = 8) -> list[tuple[frozenset, int, int]]:
        """Moves (cluster, from, to) that bring the largest load down, greedily: each moves
        from the most to the least loaded shard the cluster that best halves their gap."""
        out = []
        loads = self.loads()
        for _ in range(max_moves):
            mean = sum(loads) / len(loads)
            high = loads.index(max(loads))
            low = loads.index(min(loads))
            if high == low or loads[high] <= self.tolerance * mean:
                break
            gap = loads[high] - loads[low]
            best = None
            for key, shard in self.home.items():
                cost = self.estimate(key)
                if shard == high and 0 < cost < gap:
                    score = abs(gap / 2 - cost)
                    if best is None or score < best[0]:
                        best = (score, key, cost)
            if best is None:
                break
            _, key, cost = best
            self.home[key] = low
            loads[high] -= cost
            loads[low] += cost
            out.append((key, high, low))
        self.n_moves += len(out)
        return out
