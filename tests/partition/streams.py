"""Label-only streams with known groups, for the partition tests."""

from __future__ import annotations

import numpy as np

__all__ = ["random_groups", "group_stream", "regroup"]


def random_groups(rng: np.random.Generator, n_groups: int, low: int = 2, high: int = 6):
    """`n_groups` groups of random sizes in [low, high] over labels named l0, l1, ..."""
    sizes = rng.integers(low, high + 1, size=n_groups)
    names = [f"l{i}" for i in range(int(sizes.sum()))]
    order = rng.permutation(len(names))
    groups, start = [], 0
    for size in sizes:
        groups.append([names[i] for i in order[start : start + size]])
        start += size
    return groups


def regroup(rng: np.random.Generator, groups, n_groups: int | None = None):
    """A new random grouping of the same labels (sizes in [2, 6]) that differs from `groups`."""
    labels = sorted(label for group in groups for label in group)
    old = {frozenset(g) for g in groups}
    while True:
        k = n_groups or len(groups)
        cuts = np.sort(rng.choice(np.arange(2, len(labels) - 1), size=k - 1, replace=False))
        sizes = np.diff(np.r_[0, cuts, len(labels)])
        if sizes.min() < 2 or sizes.max() > 6:
            continue
        order = rng.permutation(len(labels))
        new, start = [], 0
        for size in sizes:
            new.append([labels[i] for i in order[start : start + size]])
            start += size
        if {frozenset(g) for g in new} != old:
            return new


def group_stream(
    rng: np.random.Generator,
    groups,
    n: int,
    rates=None,
    p_on: float = 0.9,
    p_off: float = 0.01,
):
    """`n` label vectors: each group is on independently with its rate; a label of an active
    group is positive with probability p_on, otherwise with p_off. Every vector has every
    label."""
    labels = sorted((label for group in groups for label in group), key=lambda s: int(s[1:]))
    column = {label: i for i, label in enumerate(labels)}
    rates = rng.uniform(0.1, 0.5, size=len(groups)) if rates is None else np.asarray(rates)
    member = np.zeros((len(groups), len(labels)), dtype=bool)
    for g, group in enumerate(groups):
        member[g, [column[label] for label in group]] = True
    for _ in range(n):
        on = rng.random(len(groups)) < rates
        active = on @ member
        y = rng.random(len(labels)) < np.where(active, p_on, p_off)
        yield dict(zip(labels, y.tolist()))
