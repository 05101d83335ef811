"""The concepts of a label-group stream: groupings, rates and feature-label relations, and how
each scheduled change makes a new concept from the one in force."""

from __future__ import annotations

import dataclasses

import numpy as np

from .drift import Concept, Drift

__all__ = ["Change", "Relation", "build_concepts", "new_relation"]


@dataclasses.dataclass(frozen=True)
class Relation:
    """How features are generated from labels: `x = y @ weights + offsets + scale * N(0, 1)`.

    `primary[f]` is the label that drives informative feature f (weight of magnitude 1-2), -1
    for a noise feature; a feature may also depend weakly on a secondary label.
    """

    weights: np.ndarray
    offsets: np.ndarray
    scale: np.ndarray
    primary: np.ndarray


@dataclasses.dataclass(frozen=True)
class Change:
    """One scheduled change of a stream, with the labels it touches.

    Attributes
    ----------
    at
        First instance of the change.
    end
        First instance that surely comes from the new concept (`at` for a sudden change).
    dominant_from
        First instance at which the new concept is at least as likely as the old one.
    what
        What changes (`Drift.what`).
    labels
        The labels whose group members, group rate or relation to the features differ between
        the old and the new concept. The other labels, and the features that depend on them
        only, keep their joint distribution.
    source, target
        Indices in `LabelGroups.concepts` of the concepts before and after.

    """

    at: int
    end: int
    dominant_from: int
    what: tuple[str, ...]
    labels: frozenset[str]
    source: int
    target: int


def new_relation(
    rng: np.random.Generator, n_labels: int, n_features: int, n_informative: int, noise: float
) -> Relation:
    """A random relation: informative features cycle through a random order of the labels as
    primary labels (|weight| in [1, 2]), each with a random secondary label (|weight| in
    [0.25, 0.75]) and a random offset; the other features are noise."""
    weights = np.zeros((n_labels, n_features))
    offsets = np.zeros(n_features)
    primary = np.full(n_features, -1, dtype=np.int64)
    informative = rng.choice(n_features, size=n_informative, replace=False)
    order = rng.permutation(n_labels)
    for j, feature in enumerate(informative):
        first = order[j % n_labels]
        primary[feature] = first
        weights[first, feature] = rng.choice((-1.0, 1.0)) * rng.uniform(1.0, 2.0)
        if n_labels > 1:
            secondary = (first + rng.integers(1, n_labels)) % n_labels
            weights[secondary, feature] = rng.choice((-1.0, 1.0)) * rng.uniform(0.25, 0.75)
        offsets[feature] = rng.normal()
    scale = np.ones(n_features)
    scale[informative] = noise
    return Relation(weights, offsets, scale, primary)


def local_relation(old: Relation, labels: np.ndarray, rng: np.random.Generator) -> Relation:
    """`old`, except that the features whose primary label is one of `labels` get a new primary
    label among them (cycling through a random order) with a new weight; secondary weights and
    every other feature stay as they were."""
    weights = old.weights.copy()
    primary = old.primary.copy()
    features = np.flatnonzero(np.isin(old.primary, labels))
    order = rng.permutation(labels)
    for j, feature in enumerate(features.tolist()):
        weights[primary[feature], feature] = 0.0
        first = order[j % len(order)]
        primary[feature] = first
        weights[first, feature] = rng.choice((-1.0, 1.0)) * rng.uniform(1.0, 2.0)
    return Relation(weights, old.offsets, old.scale, primary)


def split_labels(order: np.ndarray, sizes: list[int]) -> tuple[tuple[str, ...], ...]:
    """Cut a permutation of the label indices into groups of the given sizes."""
    groups, start = [], 0
    for size in sizes:
        members = sorted(int(i) for i in order[start : start + size])
        groups.append(tuple(f"l{i}" for i in members))
        start += size
    return tuple(groups)


def build_concepts(
    drifts: list[Drift],
    first: Concept,
    relations: list[Relation],
    rng: np.random.Generator,
    make_relation,
) -> tuple[list[Concept], list[int], list[int]]:
    """The concepts of a stream: `first`, then one per change that is not a return.

    `relations` starts with the relation of `first` and is extended in place;
    `make_relation()` draws a new relation of every label. Returns the concepts and, per
    drift, the index of the concept before and after it.
    """
    concepts = [first]
    sources, targets = [], []
    current = 0
    for i, drift in enumerate(drifts):
        if drift.to is not None:
            if drift.to >= len(concepts):
                raise ValueError(
                    f"drift {i} returns to concept {drift.to}, but only concepts "
                    f"0..{len(concepts) - 1} exist before it"
                )
            if drift.to == current:
                raise ValueError(
                    f"drift {i} returns to concept {drift.to}, which is already in force"
                )
            target = drift.to
        else:
            concepts.append(_changed(concepts[current], drift, i, relations, rng, make_relation))
            target = len(concepts) - 1
        sources.append(current)
        targets.append(target)
        current = target
    return concepts, sources, targets


def _changed(old: Concept, drift: Drift, i, relations, rng, make_relation) -> Concept:
    groups, rates = list(old.groups), list(old.rates)
    named = [g for g in (drift.groups or ()) + ((drift.split,) if drift.split is not None else ())]
    named += list(drift.merge or ())
    for g in named:
        if g >= len(groups) or not groups[g]:
            raise ValueError(
                f"drift {i} names group {g}, but the concept in force has groups "
                f"{[k for k, group in enumerate(groups) if group]}"
            )
    chosen = list(drift.groups) if drift.groups is not None else range(len(groups))
    if drift.regroup:
        if sum(1 for group in groups if group) == 1:
            raise ValueError(f"drift {i} regroups, but there is only one group")
        groups = list(_regroup(old, drift.swaps, rng))
    if drift.split is not None:
        members = groups[drift.split]
        if len(members) < 2:
            raise ValueError(f"drift {i} splits group {drift.split}, which has one label")
        moved = set(rng.permutation(members)[: len(members) // 2].tolist())
        groups[drift.split] = tuple(label for label in members if label not in moved)
        groups.append(tuple(label for label in members if label in moved))
        rates.append(rates[drift.split])
    if drift.merge is not None:
        g, h = drift.merge
        groups[g] = tuple(sorted(groups[g] + groups[h], key=lambda label: int(label[1:])))
        groups[h] = ()
    if drift.rate is not None:
        for g in chosen:
            rates[g] = float(drift.rate)
    relation = old.relation
    if drift.relation:
        if drift.groups is None:
            relations.append(make_relation())
        else:
            labels = np.array([int(label[1:]) for g in chosen for label in groups[g]])
            relations.append(local_relation(relations[old.relation], labels, rng))
        relation = len(relations) - 1
    return Concept(tuple(groups), relation, tuple(rates))


def _regroup(old: Concept, swaps: int | None, rng) -> tuple[tuple[str, ...], ...]:
    """A different grouping with the same group sizes; empty groups (left by a merge) stay
    empty, so every group keeps its latent variable and its rate."""
    old_grouping = set(old.grouping)
    slots = [g for g, group in enumerate(old.groups) if group]
    sizes = [len(old.groups[g]) for g in slots]
    n_labels = sum(sizes)
    for _ in range(1000):
        if swaps is None:
            live = split_labels(rng.permutation(n_labels), sizes)
        else:
            members = [[int(label[1:]) for label in old.groups[g]] for g in slots]
            for _ in range(swaps):
                g, h = rng.choice(len(members), size=2, replace=False)
                a, b = rng.integers(len(members[g])), rng.integers(len(members[h]))
                members[g][a], members[h][b] = members[h][b], members[g][a]
            live = tuple(tuple(f"l{i}" for i in sorted(group)) for group in members)
        if {frozenset(group) for group in live} != old_grouping:
            groups = list(old.groups)
            for g, group in zip(slots, live):
                groups[g] = group
            return tuple(groups)
    raise ValueError("could not draw a grouping different from the previous one")


def changed_labels(a: Concept, b: Concept, relations: list[Relation]) -> frozenset[str]:
    """Labels whose group members, group rate or relation row differ between two concepts."""
    changed = set()
    where_a = {label: g for g, group in enumerate(a.groups) for label in group}
    where_b = {label: g for g, group in enumerate(b.groups) for label in group}
    ra, rb = relations[a.relation].weights, relations[b.relation].weights
    for label, g in where_a.items():
        h = where_b[label]
        i = int(label[1:])
        if (
            set(a.groups[g]) != set(b.groups[h])
            or a.rates[g] != b.rates[h]
            or not np.array_equal(ra[i], rb[i])
        ):
            changed.add(label)
    return frozenset(changed)
