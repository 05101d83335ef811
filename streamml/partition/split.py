"""The statistics of a leaf's distance matrix and the assignment of its labels at a split."""

from __future__ import annotations

import numpy as np

from ..bounds import hoeffding_bound

__all__ = [
    "leaf_statistics",
    "assign_to_pivots",
    "assign_sparse",
    "gap_excess",
    "association_excess",
    "pair_bounds",
]


def leaf_statistics(dist: np.ndarray, need_d2: bool = True):
    """d1, pivots, d2, d0 and the mean over the pairs of a symmetric distance matrix.

    The matrix is modified during the call and restored (its diagonal is set to 0).
    `d2` is None unless asked for (it costs a pass over the matrix) or with fewer than 3
    labels. Ties between equal largest distances go to the first pair in row order.

    >>> import numpy as np
    >>> d = np.array([[0, .2, .9], [.2, 0, .7], [.9, .7, 0]])
    >>> d1, pivots, d2, d0, avg = leaf_statistics(d)
    >>> d1, pivots, d2, d0, round(avg, 3)
    (0.9, (0, 2), 0.7, 0.2, 0.6)

    """
    k = dist.shape[0]
    if k < 2:
        raise ValueError("a distance matrix of at least two labels is needed")
    np.fill_diagonal(dist, -1.0)
    flat = int(dist.argmax())
    i, j = divmod(flat, k)
    d1 = float(dist[i, j])
    d2 = None
    if need_d2 and k >= 3:
        dist[i, j] = dist[j, i] = -1.0
        d2 = float(dist.max())
        dist[i, j] = dist[j, i] = d1
    np.fill_diagonal(dist, 2.0)
    d0 = float(dist.min())
    np.fill_diagonal(dist, 0.0)
    avg = float(dist.sum()) / (k * (k - 1))
    return d1, (min(i, j), max(i, j)), d2, d0, avg


def _closest_pivot(near_a: np.ndarray, near_b: np.ndarray, a: int, b: int) -> tuple[list, list]:
    """Every label's side when each (pivots excepted) joins the closer of pivots a and b, in
    index order, ties going to the side with fewer labels (side 0 on equal sizes); and the
    sizes of the two sides. `near_a`, `near_b`: the labels' distances to each pivot."""
    side = [0] * len(near_a)
    side[b] = 1
    sizes = [1, 1]
    for label, (da, db) in enumerate(zip(near_a.tolist(), near_b.tolist())):
        if label == a or label == b:
            continue
        if da < db or (da == db and sizes[0] <= sizes[1]):
            sizes[0] += 1
        else:
            side[label] = 1
            sizes[1] += 1
    return side, sizes


def assign_to_pivots(dist: np.ndarray, a: int, b: int, passes: int) -> np.ndarray:
    """Side (0 for pivot a, 1 for pivot b) of every label of a leaf that splits.

    Each label first joins the closer pivot, in index order; then up to `passes` passes move
    each label (pivots excepted) to the side with the smaller mean distance to that side's
    other members, stopping early when a pass moves nothing. Ties go to the side with fewer
    labels (to side 0 when the sizes are equal too). The diagonal of `dist` must be 0.

    Closest-pivot assignment alone scatters a group that is about as far from both pivots
    between the two sides; the mean-distance passes pull such a group to one side, since its
    members are close to each other.

    >>> import numpy as np
    >>> d = np.array([[0, .9, .2, .8], [.9, 0, .8, .3], [.2, .8, 0, .9], [.8, .3, .9, 0]])
    >>> assign_to_pivots(d, 0, 1, passes=3).tolist()
    [0, 1, 0, 1]

    """
    k = dist.shape[0]
    first, sizes = _closest_pivot(dist[:, a], dist[:, b], a, b)
    side = np.array(first, dtype=np.int8)
    if passes <= 0 or k <= 3:
        return side
    sums = [dist[:, side == 0].sum(axis=1), dist[:, side == 1].sum(axis=1)]
    for _ in range(passes):
        moved = False
        for label in range(k):
            if label == a or label == b:
                continue
            own = int(side[label])
            other = 1 - own
            n_own = sizes[own] - 1  # without the label itself
            mean_own = sums[own][label] / n_own
            mean_other = sums[other][label] / sizes[other]
            if mean_other < mean_own or (mean_other == mean_own and sizes[other] < n_own):
                side[label] = other
                sizes[own] -= 1
                sizes[other] += 1
                column = dist[:, label]
                sums[own] -= column
                sums[other] += column
                moved = True
        if not moved:
            break
    return side


def assign_sparse(pairs, a: int, b: int, passes: int) -> np.ndarray:
    """`assign_to_pivots` for a leaf given as `sparse.PairDistances` (pairs with no cell are
    at distance 1), in time linear in the labels and the stored pairs per pass.

    The sum of a label's distances to a side is the side's other labels minus the sum of
    1 - d over its stored pairs with them; only the latter is kept, and a move updates it
    for the moving label's stored pairs only. Sums of distances are exact for labels with
    no stored pair, as in the dense computation; for the others they may differ from it in
    the last bits (the order of the sums).
    """
    k = pairs.k
    side, sizes = _closest_pivot(pairs.to_pivot(a), pairs.to_pivot(b), a, b)
    if passes <= 0 or k <= 3:
        return np.array(side, dtype=np.int8)
    start, others, weights = pairs.neighbours()
    sides = np.array(side, dtype=np.int8)
    w = 1.0 - pairs.d
    # close[s][l]: the sum of 1 - d over the stored pairs of label l with the labels of side s
    close = [
        np.bincount(pairs.i, w * (sides[pairs.j] == s), k)
        + np.bincount(pairs.j, w * (sides[pairs.i] == s), k)
        for s in (0, 1)
    ]
    has_pairs = (start[1:] > start[:-1]).tolist()
    for _ in range(passes):
        moved = False
        for label in range(k):
            if label == a or label == b:
                continue
            own = side[label]
            other = 1 - own
            n_own = sizes[own] - 1  # without the label itself
            if has_pairs[label]:
                mean_own = (n_own - float(close[own][label])) / n_own
                mean_other = (sizes[other] - float(close[other][label])) / sizes[other]
            else:
                mean_own = mean_other = 1.0
            if mean_other < mean_own or (mean_other == mean_own and sizes[other] < n_own):
                side[label] = other
                sizes[own] -= 1
                sizes[other] += 1
                near = others[start[label] : start[label + 1]]
                step = weights[start[label] : start[label + 1]]
                close[own][near] -= step
                close[other][near] += step
                moved = True
        if not moved:
            break
    return np.array(side, dtype=np.int8)


def pair_bounds(support: np.ndarray, delta: float) -> np.ndarray:
    """Hoeffding bound of each pair's Jaccard distance.

    The Jaccard similarity of two labels is the mean, over the instances where either is
    positive (the pair's support), of [both positive]: its bound uses that support, not the
    number of instances, which would be far too optimistic for rare labels. Capped at 1 (a
    pair that never occurred tells nothing).
    """
    bounds = hoeffding_bound(support, delta)
    return np.minimum(bounds, 1.0, out=bounds)  # 1: no evidence at all (distances are in [0, 1])


def gap_excess(dist: np.ndarray, a: int, b: int, bounds: np.ndarray) -> float:
    """How far the gap between the two sides of the closest-pivot assignment exceeds its bound.

    The gap is the mean distance across the sides minus the mean distance inside them; its
    bound is the mean pair bound across. Positive means the leaf is significantly made of two
    groups, or of a group and a label that does not belong to it (split); -inf when neither
    side has a pair.

    A leaf made of two groups has a large gap even when the ODAC test misses it (two groups of
    similar size put the mean distance half way between d0 and d1).

    >>> import numpy as np
    >>> d = np.array([[0, .9, .2, .8], [.9, 0, .8, .3], [.2, .8, 0, .9], [.8, .3, .9, 0]])
    >>> round(gap_excess(d, 0, 1, np.full((4, 4), 0.1)), 3)
    0.5

    """
    side = dist[:, b] < dist[:, a]
    side[a], side[b] = False, True
    ones = side.astype(float)
    n1 = ones.sum()
    n0 = len(ones) - n1
    pairs = n0 * (n0 - 1) / 2.0 + n1 * (n1 - 1) / 2.0
    if pairs == 0:
        return -np.inf
    to_one = dist @ ones
    within_one = to_one @ ones  # twice the sum over pairs inside side 1
    across = to_one.sum() - within_one
    within_zero = dist.sum() - within_one - 2.0 * across
    bound = (bounds @ ones) @ (1.0 - ones) / (n0 * n1)
    return float(across / (n0 * n1) - (within_zero + within_one) / 2.0 / pairs - bound)


def association_excess(dist: np.ndarray, independent: np.ndarray, bounds: np.ndarray) -> float:
    """Largest amount by which a pair is closer than if independent, beyond its bound.

    At most 0 means no pair of the leaf is significantly associated.
    """
    excess = independent - dist - bounds
    np.fill_diagonal(excess, -np.inf)
    return float(excess.max())
