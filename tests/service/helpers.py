"""Test helpers: a small model with label clusters and drift events, a drifting stream, servers."""

from __future__ import annotations

import contextlib
import itertools
import random
import socket
import threading
import time

from river import base

from streamml.events import DriftEvent


class ToyClusterModel(base.MultiLabelClassifier):
    """Test-only model exposing what iHOMER exposes: partition, drift events, cluster errors.

    It predicts each label's recent frequency given the categorical feature `g` (or overall),
    regroups the labels every `regroup_every` instances into the connected components of
    frequent co-occurrence (a changed grouping is a structure drift event and a
    restructuring), and tracks each cluster's Hamming loss with a fast and a slow moving
    average (a fast one well above the slow one is a cluster drift event).

    Parameters
    ----------
    regroup_every
        Instances between two regroupings.
    alpha
        Weight of the newest instance in the label frequencies.

    """

    def __init__(self, regroup_every: int = 40, alpha: float = 0.1):
        self.regroup_every = regroup_every
        self.alpha = alpha
        self._labels: list[str] = []
        self._freq: dict[tuple[str, str], float] = {}
        self._co: dict[frozenset, float] = {}
        self._marg: dict[str, float] = {}
        self._partition: list[frozenset] = []
        self._fast: dict[frozenset, float] = {}
        self._slow: dict[frozenset, float] = {}
        self._n_cluster: dict[frozenset, int] = {}
        self._events: list[DriftEvent] = []
        self._n_restructurings = 0
        self._n = 0
        self._quiet_until = 0

    @property
    def partition(self) -> list[frozenset]:
        return list(self._partition)

    @property
    def drift_events(self) -> list[DriftEvent]:
        return list(self._events)

    @property
    def n_restructurings(self) -> int:
        return self._n_restructurings

    def cluster_summary(self) -> list[dict]:
        return [
            {"labels": sorted(c), "error": self._fast.get(c, 0.0), "n": self._n_cluster.get(c, 0)}
            for c in self._partition
        ]

    def predict_proba_one(self, x, **kwargs):
        g = str(x.get("g", ""))
        out = {}
        for label in self._labels:
            p = self._freq.get((g, label), self._marg.get(label, 0.0))
            out[label] = {False: 1.0 - p, True: p}
        return out

    def predict_one(self, x, **kwargs):
        return {label: p[True] > 0.5 for label, p in self.predict_proba_one(x).items()}

    def learn_one(self, x, y, **kwargs):
        for label in y:
            if label not in self._labels:
                self._labels.append(label)
                self._partition.append(frozenset([label]))
        predicted = self.predict_one(x)
        for cluster in self._partition:
            wrong = sum(predicted.get(lb, False) != y.get(lb, False) for lb in cluster)
            err = wrong / len(cluster)
            self._fast[cluster] = 0.8 * self._fast.get(cluster, err) + 0.2 * err
            self._slow[cluster] = 0.98 * self._slow.get(cluster, err) + 0.02 * err
            self._n_cluster[cluster] = self._n_cluster.get(cluster, 0) + 1
            if self._n >= self._quiet_until and self._fast[cluster] > self._slow[cluster] + 0.2:
                self._events.append(DriftEvent(self._n, "cluster", tuple(sorted(cluster)), "toy"))
                self._quiet_until = self._n + 20
        a, g = self.alpha, str(x.get("g", ""))
        on = [label for label in self._labels if y.get(label, False)]
        for label in self._labels:
            v = float(y.get(label, False))
            self._freq[(g, label)] = (1 - a) * self._freq.get((g, label), v) + a * v
            self._marg[label] = (1 - a) * self._marg.get(label, v) + a * v
        for pair in itertools.combinations(self._labels, 2):
            key = frozenset(pair)
            v = float(all(lb in on for lb in pair))
            self._co[key] = (1 - a) * self._co.get(key, 0.0) + a * v
        self._n += 1
        if self._n % self.regroup_every == 0:
            self._regroup()

    def _regroup(self):
        parent = {label: label for label in self._labels}

        def root(label):
            while parent[label] != label:
                label = parent[label]
            return label

        for key, co in self._co.items():
            a, b = sorted(key)
            low = min(self._marg.get(a, 0.0), self._marg.get(b, 0.0))
            if low > 0.05 and co / low > 0.6:
                parent[root(a)] = root(b)
        groups: dict[str, set] = {}
        for label in self._labels:
            groups.setdefault(root(label), set()).add(label)
        partition = sorted((frozenset(g) for g in groups.values()), key=sorted)
        if set(partition) != set(self._partition):
            moved = set().union(*(set(c) for c in set(partition) ^ set(self._partition)))
            self._events.append(DriftEvent(self._n, "structure", tuple(sorted(moved)), "toy"))
            self._n_restructurings += 1
            self._partition = partition


def toy_factory():
    return ToyClusterModel()


def drifting_stream(n: int, seed: int = 1, period: int = 150):
    """(features, labels ON) with label groups that swap every `period` instances."""
    rng = random.Random(seed)
    layouts = [[("a", "b"), ("c", "d"), ("e",)], [("a", "c"), ("b", "d", "e")]]
    for i in range(n):
        groups = layouts[(i // period) % len(layouts)]
        k = rng.randrange(len(groups))
        labels = [lb for lb in groups[k] if rng.random() < 0.9]
        if rng.random() < 0.1:
            labels.append(rng.choice("abcde"))
        features = {"g": f"g{k}", "x": round(rng.gauss(k, 1.0), 6), "y": rng.random()}
        yield features, sorted(set(labels))


def wait_ready(client, timeout: float = 30.0) -> None:
    """Poll `/readyz` until 200 (client: anything with `.get(url)`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.get("/readyz").status_code == 200:
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise TimeoutError("the service did not become ready")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_in_thread(app, port: int | None = None):
    """Run `app` with uvicorn on 127.0.0.1 in a thread; yields the base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def feed(model, stream, labels=()):
    """Learn (features, labels ON) like the service does: y over the labels seen so far.

    Like the service, an instance the model raises an error on is skipped.
    """
    space = list(labels)
    for x, on in stream:
        space += [label for label in on if label not in space]
        try:
            model.learn_one(x, {label: label in on for label in space})
        except Exception:
            pass
    return space


def expected_quality(scored, learned, window: int) -> dict:
    """The online quality the service should report, recomputed from what a client sent.

    `scored` holds (predicted labels, true labels, label space size then) of the labelled
    predictions in log order; `learned` the learned (features, labels ON), in log order.
    """
    recent = scored[-window:]
    tp = sum(len(p & t) for p, t, _ in recent)
    fp = sum(len(p - t) for p, t, _ in recent)
    fn = sum(len(t - p) for p, t, _ in recent)
    cards = [len(on) for _, on in learned[-window:]]
    return {
        "window": len(recent),
        "subset_accuracy": sum(p == t for p, t, _ in recent) / len(recent),
        "hamming_loss": sum(len(p ^ t) / n for p, t, n in recent) / len(recent),
        "micro_f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
        "label_cardinality": sum(cards) / len(cards),
    }


def regrouping_stream(n: int = 2600, at: int = 1000, seed: int = 1):
    """A `LabelGroups` stream (9 labels in 3 groups, features little noisy) whose groups and
    feature relation change suddenly at `at`; returns the generator and its (features, labels
    ON) list."""
    from streamml.datasets.synth import Drift, LabelGroups

    stream = LabelGroups(
        n_labels=9,
        n_groups=3,
        n_features=12,
        noise=0.3,
        seed=seed,
        drifts=[Drift(at=at, regroup=True, relation=True)],
        n_samples=n,
    )
    return stream, [(x, [label for label, on in y.items() if on]) for x, y in stream]
