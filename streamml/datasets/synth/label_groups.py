"""A multi-label stream whose labels come in correlated groups, with concept changes."""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np
from river.datasets import base

from .concepts import Change, build_concepts, changed_labels, new_relation, split_labels
from .drift import Concept, Drift

__all__ = ["LabelGroups"]

_CHUNK = 512


class LabelGroups(base.SyntheticDataset):
    """Multi-label stream with groups of co-occurring labels and scheduled concept changes.

    The labels are split into `n_groups` groups of nearly equal size. Each group has a latent
    binary variable, on with probability `group_rate`, drawn independently of the other groups.
    When its group is on, each member label is positive with probability `p_on`; when it is off,
    with probability `p_off`. Labels inside a group therefore co-occur strongly and labels of
    different groups are independent. For two labels a, b with positive rates
    $p = q p_{on} + (1 - q) p_{off}$ (q the group rate), the Jaccard distance
    $1 - P(a, b) / (P(a) + P(b) - P(a, b))$ is

    - inside a group: $P(a, b) = q p_{on}^2 + (1 - q) p_{off}^2$; about 0.22 with the defaults,
    - across groups: $P(a, b) = p_a p_b$; about 0.84 with the defaults.

    `design_distance` gives the exact value for any pair.

    The features are generated from the labels: each of the `n_informative` informative features
    is `offset + w1 * y[a] + w2 * y[b] + noise * N(0, 1)` for a primary label a (|w1| drawn in
    [1, 2], random sign) and a secondary label b (|w2| in [0.25, 0.75]); the primary labels
    cycle through a random order of the labels, so every label drives at least one feature when
    `n_informative >= n_labels`. The other features are pure N(0, 1) noise. Which features are
    informative, and their weights, form the feature-label relation of a concept.

    A concept is a grouping of the labels, the rates of the groups and a relation. The initial
    concept has a random grouping. Each `Drift` of `drifts` either makes a new concept or
    returns to an earlier one (recurring change), suddenly or gradually. A new concept changes
    the grouping (a new random one, a few swaps, one group split in two, two groups merged),
    the relation, the rates, or several of them; a relation or rate change can be confined to
    some groups, leaving the other labels and the features they drive as they were.
    `schedule` tells which labels each change touched.
    Each instance is drawn entirely from one concept; during a gradual change, the concept is
    chosen at random for every instance (see `Drift`).

    Labels listed in `emerging` are hidden (absent from `y`) before their start index; they are
    generated all along, so the groups they belong to are the same as if they were visible.

    Parameters
    ----------
    n_labels
        Number of labels, named `"l0"`, `"l1"`, ...
    n_groups
        Number of label groups (at most `n_labels`).
    n_features
        Number of features, named `"f0"`, `"f1"`, ...
    n_informative
        How many features depend on the labels; the others are noise. Defaults to
        `n_features - n_features // 4`.
    group_rate
        Probability that a group's latent variable is on: one value for every group, or one per
        group.
    p_on
        Probability that a label is positive when its group is on.
    p_off
        Probability that a label is positive when its group is off (must be below `p_on`).
    noise
        Standard deviation of the Gaussian noise of the informative features.
    drifts
        The concept changes, sorted by `at`; a change must start after the previous one ended.
    emerging
        Label name -> index of the first instance in which that label appears.
    n_samples
        Number of instances; None for an endless stream.
    seed
        Seed of every random choice: the groupings and relations (made at construction) and the
        instances. With None, fresh entropy is drawn once at construction, so iterating twice
        over the same object gives the same stream anyway.

    Attributes
    ----------
    labels
        Label names.
    features
        Feature names.
    concepts
        The distinct concepts, in order of first appearance; `concepts[0]` is the initial one.
    change_points
        For each drift, the index of the first instance at which the new concept dominates
        (`Drift.dominant_from`). `groups_at` changes there when the grouping changes.
    schedule
        For each drift, a `Change`: when it starts, ends and dominates, what it does, and the
        labels whose group, rate or relation to the features it changed.

    Examples
    --------

    >>> from streamml.datasets.synth import Drift, LabelGroups

    >>> stream = LabelGroups(
    ...     n_labels=6, n_groups=2, n_features=8, seed=1, n_samples=3000,
    ...     drifts=[Drift(at=1000), Drift(at=2000, width=400, to=0)],
    ... )
    >>> x, y = next(iter(stream))
    >>> len(x), sorted(y)
    (8, ['l0', 'l1', 'l2', 'l3', 'l4', 'l5'])
    >>> stream.change_points
    [1000, 2200]
    >>> stream.groups_at(0) == stream.groups_at(2500) != stream.groups_at(1500)
    True

    A change of the relation of one group only:

    >>> stream = LabelGroups(
    ...     n_labels=6, n_groups=2, n_features=8, seed=1, n_samples=2000,
    ...     drifts=[Drift(at=1000, relation=True, groups=[0])],
    ... )
    >>> change = stream.schedule[0]
    >>> change.what, change.labels == set(stream.concepts[0].groups[0])
    (('relation',), True)

    """

    def __init__(
        self,
        n_labels: int = 12,
        n_groups: int = 3,
        n_features: int = 20,
        n_informative: int | None = None,
        group_rate: float | collections.abc.Sequence[float] = 0.3,
        p_on: float = 0.9,
        p_off: float = 0.01,
        noise: float = 1.0,
        drifts: collections.abc.Sequence[Drift] | None = None,
        emerging: collections.abc.Mapping[str, int] | None = None,
        n_samples: int | None = None,
        seed: int | None = None,
    ):
        _check_int("n_labels", n_labels, 1)
        _check_int("n_groups", n_groups, 1)
        _check_int("n_features", n_features, 1)
        if n_groups > n_labels:
            raise ValueError(f"n_groups ({n_groups}) cannot exceed n_labels ({n_labels})")
        if n_informative is not None:
            _check_int("n_informative", n_informative, 0)
            if n_informative > n_features:
                raise ValueError(
                    f"n_informative ({n_informative}) cannot exceed n_features ({n_features})"
                )
        rates = _group_rates(group_rate, n_groups)
        for name, value in (("p_on", p_on), ("p_off", p_off)):
            if not isinstance(value, numbers.Real) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a probability, got {value!r}")
        if p_off >= p_on:
            raise ValueError(f"p_off ({p_off}) must be below p_on ({p_on})")
        if not isinstance(noise, numbers.Real) or not noise >= 0:
            raise ValueError(f"noise must be a number >= 0, got {noise!r}")
        if n_samples is not None:
            _check_int("n_samples", n_samples, 1)
        drifts_ = list(drifts) if drifts is not None else []
        _check_drifts(drifts_, n_samples)
        labels = [f"l{i}" for i in range(n_labels)]
        emerging_ = _check_emerging(emerging, labels, n_samples)

        super().__init__(
            task=base.MO_BINARY_CLF,
            n_features=n_features,
            n_samples=n_samples,
            n_outputs=n_labels,
        )
        self.n_labels = n_labels
        self.n_groups = n_groups
        self.n_informative = n_informative
        self.group_rate = group_rate
        self.p_on = p_on
        self.p_off = p_off
        self.noise = noise
        self.drifts = drifts
        self.emerging = emerging
        self.seed = seed

        self.labels = labels
        self.features = [f"f{i}" for i in range(n_features)]
        self._rates = rates
        self._emerging = emerging_
        self._drifts = drifts_
        seq = np.random.SeedSequence(seed)
        structure_seq, self._stream_seq = seq.spawn(2)
        self._build_concepts(np.random.default_rng(structure_seq))

    # --- construction of the concepts -----------------------------------------------------

    def _build_concepts(self, rng: np.random.Generator):
        n_inf = self.n_informative
        if n_inf is None:
            n_inf = self.n_features - self.n_features // 4
        sizes = [
            self.n_labels // self.n_groups + (g < self.n_labels % self.n_groups)
            for g in range(self.n_groups)
        ]

        def make_relation():
            return new_relation(rng, self.n_labels, self.n_features, n_inf, self.noise)

        relations = [make_relation()]
        first = Concept(
            split_labels(rng.permutation(self.n_labels), sizes), 0, tuple(self._rates.tolist())
        )
        concepts, sources, targets = build_concepts(
            self._drifts, first, relations, rng, make_relation
        )
        self.concepts = concepts
        self._relations = relations
        self.change_points = [drift.dominant_from for drift in self._drifts]
        self.schedule = [
            Change(
                drift.at,
                drift.end,
                drift.dominant_from,
                drift.what,
                changed_labels(concepts[a], concepts[b], relations),
                a,
                b,
            )
            for drift, a, b in zip(self._drifts, sources, targets)
        ]
        self._sources = np.array(sources, dtype=np.int64)
        self._targets = np.array(targets, dtype=np.int64)
        self._ats = np.array([d.at for d in self._drifts], dtype=np.int64)
        self._widths = np.array([d.width for d in self._drifts], dtype=np.int64)
        # One latent variable per group slot; a split adds one, a merge leaves one unused.
        n_latent = max(len(concept.groups) for concept in concepts)
        self._latent_rates = np.zeros((len(concepts), n_latent))
        # label index -> group index, one row per concept
        self._group_of = np.zeros((len(concepts), self.n_labels), dtype=np.int64)
        for k, concept in enumerate(concepts):
            self._latent_rates[k, : len(concept.rates)] = concept.rates
            for g, group in enumerate(concept.groups):
                for label in group:
                    self._group_of[k, int(label[1:])] = g

    # --- the truth, at any time -------------------------------------------------------------

    def mixture_at(self, t: int) -> dict[int, float]:
        """Probability of each concept (index in `concepts`) generating instance `t`."""
        t = _check_index(t)
        i = int(np.searchsorted(self._ats, t, side="right")) - 1
        if i < 0:
            return {0: 1.0}
        p = self._drifts[i].p_new(t)
        source, target = int(self._sources[i]), int(self._targets[i])
        return {target: 1.0} if p == 1.0 else {source: 1.0 - p, target: p}

    def concept_at(self, t: int) -> int:
        """Index in `concepts` of the concept that dominates at instance `t`.

        During a gradual change the new concept dominates from the instance at which it is at
        least as likely as the old one (`Drift.dominant_from`); outside changes, the concept in
        force.

        """
        mixture = self.mixture_at(t)
        if len(mixture) == 1:
            return next(iter(mixture))
        (old, p_old), (new, p_new) = mixture.items()
        return new if p_new >= p_old else old

    def groups_at(self, t: int) -> list[frozenset[str]]:
        """The true label groups of the concept that dominates at instance `t`.

        Labels that have not emerged by `t` are left out, and so are groups left empty. The
        groups are listed in the order of their latent variables.

        """
        concept = self.concepts[self.concept_at(t)]
        visible = [
            frozenset(label for label in group if self._emerging.get(label, 0) <= t)
            for group in concept.groups
        ]
        return [group for group in visible if group]

    def labels_at(self, t: int) -> list[str]:
        """The labels present in `y` at instance `t`."""
        t = _check_index(t)
        return [label for label in self.labels if self._emerging.get(label, 0) <= t]

    def informative_at(self, t: int) -> list[str]:
        """The features that depend on the labels under the concept that dominates at `t`."""
        weights = self._relations[self.concepts[self.concept_at(t)].relation].weights
        return [name for name, used in zip(self.features, weights.any(axis=0)) if used]

    def design_distance(self, a: str, b: str, t: int = 0) -> float:
        """Expected Jaccard distance between labels `a` and `b` under the concept at `t`."""
        for label in (a, b):
            if label not in self.labels:
                raise ValueError(f"unknown label {label!r}")
        k = self.concept_at(t)
        group_of, rates = self._group_of[k], self._latent_rates[k]
        ga, gb = group_of[int(a[1:])], group_of[int(b[1:])]
        pa = rates[ga] * self.p_on + (1 - rates[ga]) * self.p_off
        pb = rates[gb] * self.p_on + (1 - rates[gb]) * self.p_off
        if a == b:
            both = pa
        elif ga == gb:
            both = rates[ga] * self.p_on**2 + (1 - rates[ga]) * self.p_off**2
        else:
            both = pa * pb
        union = pa + pb - both
        return 1.0 - both / union if union > 0 else 1.0

    # --- generation ---------------------------------------------------------------------------

    def iter_with_concept(self):
        """Iterate over `(x, y, k)`, with `k` the index in `concepts` that generated `(x, y)`."""
        rng = np.random.default_rng(self._stream_seq)
        labels, features = self.labels, self.features
        hidden = sorted(self._emerging.items(), key=lambda item: item[1])
        t = 0
        while self.n_samples is None or t < self.n_samples:
            stop = t + _CHUNK if self.n_samples is None else min(t + _CHUNK, self.n_samples)
            ts = np.arange(t, stop)
            concept = self._draw_concepts(ts, rng.random(len(ts)))
            on = rng.random((len(ts), self._latent_rates.shape[1])) < self._latent_rates[concept]
            member_on = np.take_along_axis(on, self._group_of[concept], axis=1)
            y = rng.random((len(ts), self.n_labels)) < np.where(member_on, self.p_on, self.p_off)
            x = rng.normal(size=(len(ts), self.n_features))
            for k in np.unique(concept):
                rows = concept == k
                r = self._relations[self.concepts[k].relation]
                x[rows] = y[rows] @ r.weights + r.offsets + x[rows] * r.scale
            for row, (xi, yi, ki) in enumerate(zip(x.tolist(), y.tolist(), concept.tolist())):
                yd = dict(zip(labels, yi))
                for label, start in hidden:
                    if t + row < start:
                        del yd[label]
                yield dict(zip(features, xi)), yd, ki
            t = stop

    def __iter__(self):
        for x, y, _ in self.iter_with_concept():
            yield x, y

    def _draw_concepts(self, ts: np.ndarray, u: np.ndarray) -> np.ndarray:
        concept = np.zeros(len(ts), dtype=np.int64)
        if not len(self._ats):
            return concept
        i = np.searchsorted(self._ats, ts, side="right") - 1
        active = i >= 0
        j = i[active]
        p = np.minimum((ts[active] - self._ats[j] + 1) / (self._widths[j] + 1), 1.0)
        p[ts[active] >= self._ats[j] + self._widths[j]] = 1.0
        concept[active] = np.where(u[active] < p, self._targets[j], self._sources[j])
        return concept


def _check_int(name: str, value, minimum: int):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def _check_index(t) -> int:
    if not isinstance(t, numbers.Integral) or isinstance(t, bool) or t < 0:
        raise ValueError(f"an instance index must be an int >= 0, got {t!r}")
    return int(t)


def _group_rates(group_rate, n_groups: int) -> np.ndarray:
    if isinstance(group_rate, numbers.Real):
        rates = [float(group_rate)] * n_groups
    else:
        rates = list(group_rate)
        if len(rates) != n_groups:
            raise ValueError(f"group_rate has {len(rates)} values for {n_groups} groups")
    if not all(isinstance(r, numbers.Real) and 0 < r < 1 for r in rates):
        raise ValueError(f"group rates must be probabilities in (0, 1), got {group_rate!r}")
    return np.array(rates, dtype=float)


def _check_drifts(drifts: list, n_samples: int | None):
    previous = None
    for i, drift in enumerate(drifts):
        if not isinstance(drift, Drift):
            raise TypeError(f"drifts[{i}] must be a Drift, got {drift!r}")
        if previous is not None and drift.at < previous.end:
            raise ValueError(
                f"drifts[{i}] starts at {drift.at}, before drifts[{i - 1}] ends at "
                f"{previous.end} (drifts must be sorted and must not overlap)"
            )
        if n_samples is not None and drift.at >= n_samples:
            raise ValueError(f"drifts[{i}] starts at {drift.at}, beyond n_samples={n_samples}")
        previous = drift


def _check_emerging(emerging, labels: list[str], n_samples: int | None) -> dict[str, int]:
    if emerging is None:
        return {}
    if not isinstance(emerging, collections.abc.Mapping):
        raise TypeError(f"emerging must map label names to start indices, got {emerging!r}")
    checked = {}
    for label, start in emerging.items():
        if label not in labels:
            raise ValueError(f"emerging label {label!r} is not one of l0..l{len(labels) - 1}")
        if not isinstance(start, numbers.Integral) or isinstance(start, bool) or start < 0:
            raise ValueError(f"emerging[{label!r}] must be an int >= 0, got {start!r}")
        if n_samples is not None and start >= n_samples:
            raise ValueError(f"emerging[{label!r}] = {start} is beyond n_samples={n_samples}")
        checked[label] = int(start)
    return checked
