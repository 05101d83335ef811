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

    What changes is given either by `regroup`/`relation` (a new concept) or by `to` (a recurring
    change: back to an earlier concept, exactly as it was).

    Parameters
    ----------
    at
        Index (0-based) of the first instance of the change. Must be at least 1.
    width
        0 for a sudden change, otherwise the length of the gradual transition.
    regroup
        Whether the new concept moves labels between groups. Defaults to True for a new concept.
    relation
        Whether the new concept draws a new relation between the features and the labels.
        Defaults to False for a new concept.
    swaps
        How labels move between groups when `regroup` is set: None draws a new random grouping
        (every group usually changes); an integer k swaps k random pairs of labels that sit in
        different groups (a smaller, harder to see change). The new grouping always differs from
        the old one.
    to
        Index in the generator's `concepts` of an earlier concept to return to (a recurring
        change). Excludes `regroup`, `relation` and `swaps`.

    Examples
    --------

    >>> from streamml.datasets.synth import Drift
    >>> Drift(at=5_000).kind, Drift(at=5_000, width=1_000).kind
    ('sudden', 'gradual')
    >>> Drift(at=9_000, to=0).recurring
    True

    """

    at: int
    width: int = 0
    regroup: bool | None = None
    relation: bool | None = None
    swaps: int | None = None
    to: int | None = None

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
        if self.swaps is not None and (
            not isinstance(self.swaps, int) or isinstance(self.swaps, bool) or self.swaps < 1
        ):
            raise ValueError(f"Drift.swaps must be None or a positive int, got {self.swaps!r}")
        if self.to is not None:
            if not isinstance(self.to, int) or isinstance(self.to, bool) or self.to < 0:
                raise ValueError(f"Drift.to must be a concept index (int >= 0), got {self.to!r}")
            if self.regroup is not None or self.relation is not None or self.swaps is not None:
                raise ValueError(
                    "Drift.to returns to an earlier concept as it was; "
                    "do not combine it with regroup, relation or swaps"
                )
            return
        regroup = True if self.regroup is None else bool(self.regroup)
        relation = False if self.relation is None else bool(self.relation)
        if not (regroup or relation):
            raise ValueError("a Drift must change something: set regroup, relation or to")
        if self.swaps is not None and not regroup:
            raise ValueError("Drift.swaps needs regroup=True")
        object.__setattr__(self, "regroup", regroup)
        object.__setattr__(self, "relation", relation)

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
        variable). Every label belongs to exactly one group.
    relation
        Index of the feature-label relation in force (two concepts with the same index generate
        features from labels in the same way).

    """

    groups: tuple[tuple[str, ...], ...]
    relation: int

    @property
    def grouping(self) -> list[frozenset[str]]:
        """The groups as a list of frozensets, in group order."""
        return [frozenset(group) for group in self.groups]

    def same_grouping(self, other: Concept) -> bool:
        """Whether both concepts group the labels the same way (group order aside)."""
        return set(self.grouping) == set(other.grouping)
