from __future__ import annotations

import io
import json

import numpy as np
import pytest
from river import datasets

from streamml import DriftEvent
from streamml.datasets.synth import LabelGroups
from streamml.evaluate import METRICS, CurvePoint, Result, prequential
from streamml.learners import MajorityLabelset


class EchoPrevious:
    """Predicts the label set of the previous instance it learned, as a dict of its positive
    labels only (every other label is left out of the prediction)."""

    def __init__(self):
        self.calls = []
        self._last: dict = {}

    def predict_one(self, x):
        self.calls.append(("predict", x["i"]))
        return {label: True for label, on in self._last.items() if on}

    def learn_one(self, x, y):
        self.calls.append(("learn", x["i"]))
        self._last = dict(y)


def _stream(n=60, seed=0, n_labels=4, emerge_at=20):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        labels = [f"y{j}" for j in range(n_labels) if j < n_labels - 1 or i >= emerge_at]
        rows.append(
            ({"i": i, "v": float(rng.normal())}, {k: bool(rng.random() < 0.4) for k in labels})
        )
    return rows


def _by_hand(truths, guesses):
    """The §4 formulas written out directly on 0/1 matrices."""
    columns = sorted(
        {label for t in truths for label in t}
        | {label for g in guesses for label, on in g.items() if on}
    )
    Y = np.array([[t.get(c, False) for c in columns] for t in truths], dtype=int)
    P = np.array([[g.get(c, False) for c in columns] for g in guesses], dtype=int)
    tp, fp, fn = (Y & P).sum(0), ((1 - Y) & P).sum(0), (Y & (1 - P)).sum(0)
    per_label = [2 * a / (2 * a + b + c) if 2 * a + b + c else 0.0 for a, b, c in zip(tp, fp, fn)]
    sizes = Y.sum(1) + P.sum(1)
    examples = [2 * (y & p).sum() / s if s else 1.0 for y, p, s in zip(Y, P, sizes)]
    return {
        "subset_accuracy": np.mean(np.all(Y == P, axis=1)),
        "hamming_loss": np.mean(Y != P),
        "micro_f1": 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()),
        "macro_f1": np.mean(per_label),
        "example_f1": np.mean(examples),
    }


def test_result_equals_the_metrics_by_hand():
    rows = _stream()
    model = EchoPrevious()
    result = prequential(model, rows, window=10, curve_every=5)
    guesses = [{}] + [{k: True for k, on in y.items() if on} for _, y in rows[:-1]]
    expected = _by_hand([y for _, y in rows], guesses)
    assert result.n == len(rows)
    assert result.n_labels == 4
    for name in METRICS:
        assert getattr(result, name) == pytest.approx(expected[name], abs=1e-12), name
    # test, then train: every instance is predicted before it is learned, in order
    assert model.calls == [(step, i) for i in range(len(rows)) for step in ("predict", "learn")]


def test_curve_points_are_the_windowed_metrics():
    rows = _stream(n=53, seed=2)
    result = prequential(EchoPrevious(), rows, window=10, curve_every=7)
    assert [p.index for p in result.curve] == [6, 13, 20, 27, 34, 41, 48, 52]
    guesses = [{}] + [{k: True for k, on in y.items() if on} for _, y in rows[:-1]]
    for point in result.curve:
        start = max(0, point.index + 1 - 10)
        # the label set of the window is every label seen up to its end
        truths = [y for _, y in rows[start : point.index + 1]]
        seen = {label for _, y in rows[: point.index + 1] for label in y}
        truths[0] = {**dict.fromkeys(seen, False), **truths[0]}
        expected = _by_hand(truths, guesses[start : point.index + 1])
        for name in METRICS:
            assert getattr(point, name) == pytest.approx(expected[name], abs=1e-12)
        assert point.n_clusters is None


def test_default_curve_sampling():
    result = prequential(EchoPrevious(), _stream(n=45), window=20)
    assert [p.index for p in result.curve] == [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 44]
    exact = prequential(EchoPrevious(), _stream(n=40), window=20)
    assert exact.curve[-1].index == 39 and len(exact.curve) == 10


def test_limit():
    model = EchoPrevious()
    result = prequential(model, _stream(n=60), limit=25)
    assert result.n == 25
    assert model.calls[-1] == ("learn", 24)
    assert prequential(EchoPrevious(), _stream(n=10), limit=1000).n == 10
    stream = LabelGroups(seed=0)  # endless
    assert prequential(MajorityLabelset(), stream, limit=300).n == 300


def test_omitted_labels_count_as_false():
    class Nothing:
        def predict_one(self, x):
            return {}

        def learn_one(self, x, y):
            pass

    rows = _stream(n=30, seed=4)
    result = prequential(Nothing(), rows)
    explicit = [{k: False for k in y} for _, y in rows]
    expected = _by_hand([y for _, y in rows], explicit)
    for name in METRICS:
        assert getattr(result, name) == pytest.approx(expected[name], abs=1e-12)


class Drifting(EchoPrevious):
    """Exposes drift events and a partition that grows over time."""

    def __init__(self):
        super().__init__()
        self._events: list[DriftEvent] = []
        self._n = 0

    def learn_one(self, x, y):
        super().learn_one(x, y)
        if self._n in (10, 30):
            self._events.append(DriftEvent(self._n, "structure", ("y0", "y1"), "LabelODAC.split"))
        if self._n % 7 == 3:
            self._events.append(DriftEvent(self._n, "cluster", ("y2",), "ADWIN"))
        self._n += 1

    @property
    def drift_events(self):
        return list(self._events)

    @property
    def partition(self):
        k = 1 + self._n // 20  # 1 cluster, then 2 after 20 instances, 3 after 40
        labels = [f"y{j}" for j in range(6)]
        return [frozenset(labels[j::k]) for j in range(k)]


def test_drift_events_and_partition_are_picked_up():
    model = Drifting()
    result = prequential(model, _stream(n=50), curve_every=5, window=10)
    assert result.drift_events == model.drift_events
    assert [e.index for e in result.drift_events if e.level == "structure"] == [10, 30]
    assert [p.n_clusters for p in result.curve] == [1 + (p.index + 1) // 20 for p in result.curve]
    assert result.partition == model.partition and len(result.partition) == 3
    full = result.to_dict(full=True)
    assert full["drift_events"][0] == model.drift_events[0].to_dict()
    assert full["drift_events"][0]["index"] == 3
    assert sorted(map(len, full["partition"])) == [2, 2, 2]
    json.dumps(full)


def test_no_drift_attributes():
    result = prequential(EchoPrevious(), _stream(n=20))
    assert result.drift_events == [] and result.partition is None


def test_result_fields_and_dict():
    result = prequential(MajorityLabelset(), datasets.Yeast(), limit=150)
    assert isinstance(result, Result)
    assert isinstance(result.curve[0], CurvePoint)
    out = result.to_dict()
    assert list(out) == [
        "subset_accuracy",
        "hamming_loss",
        "micro_f1",
        "macro_f1",
        "example_f1",
        "n",
        "seconds",
        "instances_per_second",
        "learn_seconds",
        "predict_seconds",
        "peak_memory_mb",
    ]
    json.dumps(out)
    assert out["n"] == 150
    assert result.seconds == pytest.approx(result.learn_seconds + result.predict_seconds)
    assert result.instances_per_second == pytest.approx(150 / result.seconds)
    assert result.wall_seconds >= result.seconds > 0
    assert result.peak_memory_mb > 10  # a Python process with numpy and river
    assert result.peak_memory_growth_mb >= 0
    assert result.traced_memory_mb is None
    assert result.n_labels == 14
    assert result.example_f1 >= result.example_f1_empty0


def test_traced_memory():
    class Hoarder(EchoPrevious):
        def learn_one(self, x, y):
            super().learn_one(x, y)
            self.__dict__.setdefault("blob", bytearray(4 * 2**20))

    result = prequential(Hoarder(), _stream(n=10), trace_memory=True)
    assert result.traced_memory_mb >= 4


def test_empty_f1_convention_is_passed_on():
    rows = [({"i": i}, {"a": False}) for i in range(5)]
    assert prequential(EchoPrevious(), rows).example_f1 == 1.0
    zero = prequential(EchoPrevious(), rows, empty_f1=0)
    assert zero.example_f1 == 0.0 == zero.example_f1_empty0
    assert "= 0 for two empty" in zero.table().caption


def test_table_renders():
    from rich.console import Console

    result = prequential(Drifting(), _stream(n=30))
    console = Console(file=io.StringIO(), width=120)
    console.print(result.table(title="echo on toy"))
    text = console.file.getvalue()
    for words in ("echo on toy", "subset accuracy", "Hamming loss", "macro F1", "drift events"):
        assert words in text
    assert f"{result.micro_f1:.4f}" in text


def test_progress_bar(capsys):
    stream = LabelGroups(seed=1, n_samples=200)
    result = prequential(MajorityLabelset(), stream, progress=True)
    assert result.n == 200
    err = capsys.readouterr().err
    assert "200/200" in err


def test_empty_stream():
    result = prequential(EchoPrevious(), [])
    assert result.n == 0 and result.curve == [] and result.subset_accuracy == 0.0
    assert result.instances_per_second == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 0}, {"limit": 2.5}, {"window": 0}, {"curve_every": -1}, {"empty_f1": 0.5}],
)
def test_bad_arguments(kwargs):
    model = EchoPrevious()
    with pytest.raises(ValueError):
        prequential(model, _stream(n=5), **kwargs)
    assert model.calls == []


def test_bad_model_and_stream():
    with pytest.raises(TypeError):
        prequential(object(), _stream(n=5))
    with pytest.raises(TypeError):
        prequential(EchoPrevious(), 42)
    model = EchoPrevious()
    with pytest.raises(TypeError, match="instance 1"):
        prequential(model, [({"i": 0}, {"a": True}), ({"i": 1}, ["a"])])
    assert model.calls == [("predict", 0), ("learn", 0)]
