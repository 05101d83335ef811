"""The learning half of `ShardedIHOMER`: micro-batches, new labels, restructuring, balance."""

from __future__ import annotations

import itertools

from ..events import DriftEvent
from .packing import pack_instances
from .shard import BASE

__all__ = ["Learning"]


class Learning:
    """`learn_one`, `learn_many` and what the driver does between two micro-batches."""

    def learn_one(self, x: dict, y: dict, **kwargs) -> None:
        self.learn_batch([x], [y])

    def learn_many(self, X, Y, **kwargs) -> None:
        """Learn a micro-batch: pandas DataFrames of features and of labels (truthy = ON; a
        NaN feature is missing), rows in stream order."""
        from ..evaluate.batches import records_of

        if len(X) != len(Y):
            raise ValueError(f"X has {len(X)} rows but Y has {len(Y)}")
        ys = [{label: bool(v) for label, v in row.items()} for row in Y.to_dict("records")]
        self.learn_batch(records_of(X), ys)

    def learn_batch(self, xs: list[dict], ys: list[dict]) -> None:
        """Learn a micro-batch given as lists of dicts (river's `x` and `y`), in order."""
        if len(xs) != len(ys):
            raise ValueError(f"{len(xs)} instances but {len(ys)} label sets")
        for y in ys:
            if not isinstance(y, dict):
                raise TypeError(f"y must be a dict of label -> bool, got {type(y).__name__}")
        if not xs:
            return
        shards = self._shards()
        if self._encoded:
            if len(xs) > 1:  # a bad x raises before the index takes the features of the others
                for x in xs:
                    self._features.encode(x, grow=False)
            vs = [self._features.encode(x, grow=True) for x in xs]
        else:
            vs = None
        n_known = len(self._labels)  # as when the answers were given
        self._add_labels(ys)
        index = self._labels
        positives = [[index[label] for label in itertools.compress(y, y.values())] for y in ys]
        packed = shards.share(pack_instances(vs) if vs is not None else None)
        dicts = None if self._encoded else shards.share(list(xs))
        start, width = self._n, len(index)
        answers, root, key = self._before(xs, packed, dicts)
        root = shards.share(root) if self.fallback else None
        self._last = None
        # The shards learn while the driver scores its decision and updates the partition.
        learning = self._start(
            [(i, "learn", packed, dicts, positives, start, width, root) for i in range(len(shards))]
        )
        if not self._decider.trivial:
            for p, on in zip(answers, positives):
                self._decider.learn(p, n_known, key, tuple(sorted(on)))
        structure_events = []
        for t, y in enumerate(ys):
            self._odac.learn_one(y)
            if self._odac.structure_changed:
                change = self._odac.last_change
                labels = self._ordered(change.labels)
                structure_events.append((start + t, labels, f"LabelODAC.{change.kind}"))
                self._tree_changed(start + t)
            if self._odac.refine_due:
                self._recheck = True
        cluster_events = sorted(event for events in self._wait(learning) for event in events)
        self._record_events(cluster_events, structure_events)
        self._n += len(ys)
        self._advance(len(ys))
        self._maybe_rebalance()

    def _record_events(self, cluster_events: list, structure_events: list) -> None:
        """In IHOMER's order: by instance, the clusters' (in partition order), then the
        structure's."""
        order = {key: k for k, key in enumerate(self._clusters)}
        keyed = [
            ((n, 0, order.get(frozenset(labels), 0)), DriftEvent(n, "cluster", labels, "ADWIN"))
            for n, labels in cluster_events
        ]
        keyed += [
            ((n, 1, 0), DriftEvent(n, "structure", tuple(labels), detector))
            for n, labels, detector in structure_events
        ]
        self._events.extend(event for _, event in sorted(keyed, key=lambda item: item[0]))

    def _add_labels(self, ys: list[dict]) -> None:
        """New labels, as IHOMER takes them: the first instance's labels form one cluster,
        every later new label a cluster of its own; they answer at once. With `fallback`, the
        learner on all the labels is told of them (and made on the first)."""
        specs = []
        for y in ys:
            if y.keys() <= self._labels.keys():
                continue
            new = [label for label in y if label not in self._labels]
            first = not self._labels
            for label in new:
                self._labels[label] = len(self._labels)
            for labels in [tuple(new)] if first else [(label,) for label in new]:
                key = frozenset(labels)
                self._clusters[key] = labels
                self._target.append(key)
                specs.append((labels, True))
        if specs and self.fallback:
            home = self._placement.home
            shard = home.get(BASE)
            size = len(self._labels) * self._width()
            if shard is None:
                shard = self._placement.place(BASE, size)
            self._placement.size[BASE] = size
            labels = tuple(self._labels)
            self._run([(shard, "set_base", labels, list(range(len(labels))), self._n)])
        self._place_new(specs)

    def _width(self) -> int:
        return max(1, len(self._features)) if self._features is not None else 1

    def _place_new(self, specs: list[tuple]) -> None:
        """Create clusters (labels, answering) on the shards, each on the least loaded; with
        `fallback`, one with every label is a view of the learner on all the labels."""
        if not specs:
            return
        width = self._width()
        everything = len(self._labels)
        by_shard: dict[int, list] = {}
        for labels, answering in specs:
            shard = self._placement.place(frozenset(labels), len(labels) * width)
            cols = [self._labels[label] for label in labels]
            view = self.fallback and len(labels) == everything
            by_shard.setdefault(shard, []).append((labels, cols, answering, view))
        self._run([(shard, "create", made, self._n) for shard, made in by_shard.items()])

    def _before(self, xs: list[dict], packed, dicts) -> tuple:
        """What learning `xs` scores, as answered before: (P(True) of every label for each,
        or None when the decision needs none; P(True) of every label from the learner on all
        the labels, or None without it; the last prediction when it served one instance, for
        the decision's cache). From the last prediction if it was of these xs (with complete
        encodings, and no label added since), else asked of the shards: all of them for the
        decision, that of the learner on all the labels without one."""
        last = self._last
        if last is not None and last[4] and last[3] == len(self._labels) and last[0] == xs:
            return last[1], last[2], last if len(xs) == 1 else None
        if not self._decider.trivial:
            return (*self._ask(packed, dicts, len(xs)), None)
        if self.fallback:
            (root,) = self._run([(self._placement.home[BASE], "predict_base", packed, dicts)])
            return None, root, None
        return None, None, None

    # -- restructuring (as IHOMER's, at the end of a micro-batch) --------------------------

    def _restructure(self) -> None:
        partition = self._refined()
        if partition is None:
            return
        if self._shadow:
            self._complete_handover()
        self._structure_drift = False
        self._last_restructure = self._n
        self._n_restructurings += 1
        self._target = [frozenset(s) for s in partition]
        new = []
        for labels in partition:
            key = frozenset(labels)
            if key not in self._clusters:
                self._shadow[key] = labels
                new.append((labels, False))
        self._place_new(new)
        if self.handover <= 0:
            self._complete_handover()
        else:
            self._handover_left = self.handover

    def _complete_handover(self) -> None:
        target = set(self._target)
        dropped = [key for key in self._clusters if key not in target]
        answering = list(self._shadow)
        kept = {key: labels for key, labels in self._clusters.items() if key in target}
        kept.update(self._shadow)
        self._clusters = {key: kept[key] for key in self._target}
        self._shadow = {}
        self._handover_left = 0
        home = self._placement.home
        calls: dict[int, tuple[list, list]] = {}
        for key in dropped:
            calls.setdefault(home[key], ([], []))[0].append(key)
            self._placement.forget(key)
        for key in answering:
            calls.setdefault(home[key], ([], []))[1].append(key)
        self._run([(shard, "drop", drop) for shard, (drop, _) in calls.items() if drop])
        self._run([(shard, "answer_for", keys) for shard, (_, keys) in calls.items() if keys])
        self._rebalance()

    # -- balance ----------------------------------------------------------------------------

    def _maybe_rebalance(self) -> None:
        if self.shards > 1 and self._n - self._measured_at >= self.rebalance_every:
            self._rebalance()

    def _rebalance(self) -> None:
        """Fold in the shards' measured costs, then move clusters (with their state) from the
        most to the least loaded shards while the loads are out of balance."""
        if self.shards == 1:
            return
        costs = self._run([(i, "costs") for i in range(self.shards)])
        merged = {key: seconds for shard_costs in costs for key, seconds in shard_costs.items()}
        self._placement.measured(merged, self._n - self._measured_at)
        self._measured_at = self._n
        for key, source, destination in self._placement.moves():
            self._ship(key, source, destination)

    def _ship(self, key: frozenset, source: int, destination: int) -> None:
        """Move a cluster's state from shard `source` to `destination` (shard to shard: on Ray,
        the driver passes a reference, not the state)."""
        moved = self._backend.submit(source, "take", [key])
        self._run([(destination, "put", moved)])
