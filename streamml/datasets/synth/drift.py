"""Concept changes of a synthetic stream: what changes, when, and how fast."""

from __future__ import annotations

import dataclasses
import math
import numbers

__all__ = ["Concept", "Drift"]


@dataclasses.dataclass(frozen=True)
class Drift:
    """One change of concept in a synthetic stream.

    The shape of the change is given by `width`: 0 is a sudden change, a positive width is a
    gradual change in which each instance of the window `[at, at + width)` comes from the new
    concept with a probability that rises linearly, `(t - at + 1) / (width + 1)` for instance
    `t`, and from the old concept otherwise. From `at + width` on, every instance comes from the
    new concept.

    What changes is given either by `regroup`/`relation`/`rate`/`split`/`merge` (a new
    concept) or by `to` (a recurring change: back to an earlier concept, exactly as it was).
    A change can be confined to some label groups (`groups`), so that the labels of the other
    groups, and the features that depend on them, keep their distribution.

    Group indices refer to the groups of the concept in force before the change, in the order of
    its latent variables (`LabelGroups.concepts[k].groups`; the initial concept has groups
    `0 .. n_groups - 1`).

    Parameters
    ----------
    at
        Index (0-based) of the first instance of the change. Must be at least 1.
    width
        0 for a sudden change, otherwise the length of the gradual transition.
    regroup
        Whether the new concept moves labels between groups. Defaults to True for a new concept,
        unless `groups`, `rate`, `split` or `merge` is given.
    relation
        Whether the new concept draws a new relation between the features and the labels
        (of the labels of `groups` only, when given). Defaults to False.
    swaps
        How labels move between groups when `regroup` is set: None draws a new random grouping
        (every group usually changes); an integer k swaps k random pairs of labels that sit in
        different groups (a smaller, harder to see change). The new grouping always differs from
        the old one.
    groups
        Confine a `relation` or `rate` change to these groups (indices); None: every group.
        A local relation change gives the informative features whose primary label is in these
        groups a new primary label among them, with a new weight; other features and other
        labels keep theirs.
    rate
        A new rate of the latent variable of the groups (`groups`, or every group).
    split
        Index of a group that splits in two: a random half of its labels (rounded down) gets a
        latent variable of its own, at the same rate; the rest keeps the old one.
    merge
        Indices of two groups that merge: the labels of the second follow the latent variable
        of the first (the second group is left empty).
    to
        Index in the generator's `concepts` of an earlier concept to return to (a recurring
        change). Excludes every other kind of change.

    Examples
    --------

    >>> from streamml.datasets.synth import Drift
    >>> Drift(at=5_000).kind, Drift(at=5_000, width=1_000).kind
    ('sudden', 'gradual')
    >>> Drift(at=9_000, to=0).recurring
    True
    >>> Drift(at=4_000, relation=True, groups=[1]).what
    ('relation',)

    """

    at: int
    width: int = 0
    regroup: bool | None = None
    relation: bool | None = None
    swaps: int | None = None
    to: int | None = None
    groups: tuple[int, ...] | None = None
    rate: float | None = None
    split: int | None = None
    merge: tuple[int, int] | None = None

    def __post_init__(self):
        for name in ("at", "width"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise TypeError(f"Drift.{name} must be an int, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.at < 1:
            raise ValueError(f"Drift.at must be at least 1, got {self.at}")
        if self.width < 0:
            raise ValueError(f"Drift.width must be at least 0, got {self.width}")
        if self.swaps is not None and not _is_index(self.swaps, 1):
            raise ValueError(f"Drift.swaps must be None or a positive int, got {self.swaps!r}")
        self._check_local()
        named = (self.rate, self.split, self.merge, self.groups)
        local = any(value is not None for value in named)
        if self.to is not None:
            if not _is_index(self.to, 0):
                raise ValueError(f"Drift.to must be a concept index (int >= 0), got {self.to!r}")
            if self.regroup is not None or self.relation is not None or self.swaps is not None:
                raise ValueError(
                    "Drift.to returns to an earlier concept as it was; "
                    "do not combine it with regroup, relation or swaps"
                )
            if local:
                raise ValueError(
                    "Drift.to returns to an earlier concept as it was; "
                    "do not combine it with groups, rate, split or merge"
                )
            return
        regroup = (not local) if self.regroup is None else bool(self.regroup)
        relation = False if self.relation is None else bool(self.relation)
        if not (
            regroup
            or relation
            or self.rate is not None
            or self.split is not None
            or self.merge is not None
        ):
            raise ValueError(
                "a Drift must change something: set regroup, relation, rate, split, merge or to"
            )
        if self.swaps is not None and not regroup:
            raise ValueError("Drift.swaps needs regroup=True")
        if regroup and (self.split is not None or self.merge is not None):
            raise ValueError(
                "Drift.regroup draws a new grouping; do not combine it with split/merge"
            )
        if self.split is not None and self.merge is not None:
            raise ValueError("a Drift either splits a group or merges two, not both")
        if self.groups is not None and not (relation or self.rate is not None):
            raise ValueError("Drift.groups confines a relation or rate change: set one of them")
        object.__setattr__(self, "regroup", regroup)
        object.__setattr__(self, "relation", relation)

    def _check_local(self):
        if self.groups is not None:
            iterable = isinstance(self.groups, tuple | list | range)
            groups = tuple(self.groups) if iterable else None
            if not groups or not all(_is_index(g, 0) for g in groups):
                raise ValueError(
                    f"Drift.groups must be a non-empty sequence of group indices, got "
                    f"{self.groups!r}"
                )
            if len(set(groups)) != len(groups):
                raise ValueError(f"Drift.groups has repeated groups: {self.groups!r}")
            object.__setattr__(self, "groups", tuple(int(g) for g in groups))
        if self.rate is not None:
            ok = isinstance(self.rate, numbers.Real) and not isinstance(self.rate, bool)
            if not ok or not 0 < self.rate < 1:
                raise ValueError(f"Drift.rate must be a probability in (0, 1), got {self.rate!r}")
        if self.split is not None and not _is_index(self.split, 0):
            raise ValueError(f"Drift.split must be a group index (int >= 0), got {self.split!r}")
        if self.merge is not None:
            iterable = isinstance(self.merge, tuple | list)
            pair = tuple(self.merge) if iterable else ()
            if len(pair) != 2 or not all(_is_index(g, 0) for g in pair) or pair[0] == pair[1]:
                raise ValueError(
                    f"Drift.merge must be two different group indices, got {self.merge!r}"
                )
            object.__setattr__(self, "merge", (int(pair[0]), int(pair[1])))

    @property
    def what(self) -> tuple[str, ...]:
        """What the change does: some of `"regroup"`, `"relation"`, `"rate"`, `"split"`,
        `"merge"`, or `("recurring",)`."""
        if self.to is not None:
            return ("recurring",)
        kinds = (
            ("regroup", self.regroup),
            ("relation", self.relation),
            ("rate", self.rate is not None),
            ("split", self.split is not None),
            ("merge", self.merge is not None),
        )
        return tuple(name for name, on in kinds if on)

    @property
    def kind(self) -> str:
        """`"sudden"` or `"gradual"`."""
        return "gradual" if self.width else "sudden"

    @property
    def recurring(self) -> bool:
        """Whether the change returns to an earlier concept."""
        return self.to is not None

    @property
    def end(self) -> int:
        """Index of the first instance that surely comes from the new concept."""
        return self.at + self.width

    @property
    def dominant_from(self) -> int:
        """Index of the first instance at which the new concept is at least as likely as the
        old one (`at` for a sudden change, about the middle of the window for a gradual one)."""
        return self.at + math.ceil((self.width - 1) / 2) if self.width else self.at

    def p_new(self, t: int) -> float:
        """Probability that instance `t` comes from the new concept."""
        if t < self.at:
            return 0.0
        if t >= self.end:
            return 1.0
        return (t - self.at + 1) / (self.width + 1)


@dataclasses.dataclass(frozen=True)
class Concept:
    """A concept of a label-group stream.

    Parameters
    ----------
    groups
        The labels of each latent group, in group order (group g is driven by the g-th latent
        variable). Every label belongs to exactly one group; a group left empty by a merge is
        an empty tuple.
    relation
        Index of the feature-label relation in force (two concepts with the same index generate
        features from labels in the same way).
    rates
        The rate of each latent variable (probability that its group is on).

    """

    groups: tuple[tuple[str, ...], ...]
    relation: int
    rates: tuple[float, ...] = ()

    @property
    def grouping(self) -> list[frozenset[str]]:
        """The non-empty groups as a list of frozensets, in group order."""
        return [frozenset(group) for group in self.groups if group]

    def same_grouping(self, other: Concept) -> bool:
        """Whether both concepts group the labels the same way (group order aside)."""
        return set(self.grouping) == set(other.grouping)


def _is_index(value, minimum: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= minimum
