from __future__ import annotations

import pytest
from matplotlib import image

from streamml import DriftEvent
from streamml.datasets.synth import Drift, LabelGroups
from streamml.evaluate import plot, prequential
from streamml.learners import MajorityLabelset

PNG = b"\x89PNG\r\n\x1a\n"


class Partitioned(MajorityLabelset):
    """The majority label set, exposing made-up drift events and a partition."""

    def __init__(self):
        super().__init__()
        self._n = 0

    def learn_one(self, x, y):
        super().learn_one(x, y)
        self._n += 1

    @property
    def drift_events(self):
        events = [DriftEvent(i, "cluster", ("l0",), "ADWIN") for i in range(50, self._n, 90)]
        events += [DriftEvent(i, "structure", ("l1", "l2"), "LabelODAC.split") for i in (400,)]
        return [e for e in events if e.index < self._n]

    @property
    def partition(self):
        return [frozenset({f"l{i}"}) for i in range(1 + self._n // 200)]


def _read(path):
    assert path.read_bytes()[:8] == PNG
    pixels = image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 400
    return pixels


def test_plot_writes_a_png(tmp_path):
    stream = LabelGroups(seed=0, n_samples=1000, drifts=[Drift(at=500)])
    result = prequential(Partitioned(), stream, window=100, curve_every=20)
    assert result.drift_events and result.curve[-1].n_clusters == 6
    path = tmp_path / "run.png"
    plot(result, path, changes=stream.change_points, title="toy")
    with_events = _read(path)
    # without events, clusters and changes, the picture differs
    bare = prequential(MajorityLabelset(), stream, window=100, curve_every=20)
    plot(bare, tmp_path / "bare.png")
    assert (_read(tmp_path / "bare.png") != with_events).any()


def test_prequential_writes_the_plot(tmp_path):
    path = tmp_path / "sub.png"
    prequential(MajorityLabelset(), LabelGroups(seed=1, n_samples=200), plot=str(path))
    _read(path)


def test_plot_of_an_empty_run(tmp_path):
    result = prequential(MajorityLabelset(), [])
    plot(result, tmp_path / "empty.png")
    _read(tmp_path / "empty.png")


def test_plot_bad_input(tmp_path):
    result = prequential(MajorityLabelset(), LabelGroups(seed=1, n_samples=50))
    with pytest.raises(ValueError):
        plot(result, tmp_path / "x.png", metrics=["accuracy"])
    with pytest.raises(TypeError):
        plot({"n": 3}, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(OSError):
        plot(result, tmp_path / "missing-folder" / "x.png")
