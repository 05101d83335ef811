"""What a prequential run reports: its table, its dict, its argument errors, its memory and its
progress bar, checked value by value."""

from __future__ import annotations

import dataclasses
import importlib
import io
import sys

import pytest

from streamml import DriftEvent
from streamml.evaluate import CurvePoint, Result, prequential
from streamml.learners import MajorityLabelset


def _result(**changes) -> Result:
    values = dict(
        subset_accuracy=0.12346,
        hamming_loss=0.2,
        micro_f1=0.5,
        macro_f1=0.25,
        example_f1=0.75,
        example_f1_empty0=0.7,
        empty_f1=1.0,
        n=12345,
        n_labels=14,
        seconds=1.5,
        learn_seconds=1.0,
        predict_seconds=0.5,
        wall_seconds=2.0,
        instances_per_second=8230.0,
        peak_memory_mb=154.46,
        peak_memory_growth_mb=1.0,
        traced_memory_mb=3.26,
        window=500,
        curve=[CurvePoint(9, 0.1, 0.2, 0.3, 0.4, 0.5, n_clusters=2)],
        drift_events=[DriftEvent(3, "cluster", ("a",), "ADWIN")] * 3,
        partition=[frozenset({"b", "a"}), frozenset({"c"})],
        batch=1,
    )
    values.update(changes)
    return Result(**values)


def _rows(table) -> dict[str, str]:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200)
    console.print(table)
    rows = {}
    for line in console.file.getvalue().splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 2 and cells[0] not in ("metric",):
            rows[cells[0]] = cells[1]
    return rows


def test_the_table_shows_every_measurement_formatted():
    table = _result().table(title="a run")
    assert table.title == "a run"
    assert table.caption == (
        "whole stream, test-then-train; example-based F1 = 1 for two empty label sets "
        "(river/MOA's 0: 0.7000)"
    )
    assert _rows(table) == {
        "subset accuracy": "0.1235",
        "Hamming loss": "0.2000",
        "micro F1": "0.5000",
        "macro F1": "0.2500",
        "example-based F1": "0.7500",
        "instances": "12,345",
        "labels": "14",
        "learn + predict seconds": "1.500",
        "learn seconds": "1.000",
        "predict seconds": "0.500",
        "instances per second": "8,230",
        "peak memory (process RSS, MiB)": "154.5",
        "peak traced memory (MiB)": "3.3",
        "drift events": "3",
        "clusters at the end": "2",
    }


def test_the_table_leaves_out_what_was_not_measured():
    result = _result(
        peak_memory_mb=None,
        traced_memory_mb=None,
        drift_events=[],
        partition=None,
        empty_f1=0.0,
        batch=64,
    )
    table = result.table()
    assert table.caption == (
        "whole stream, mini-batches of 64; example-based F1 = 0 for two empty label sets"
    )
    rows = _rows(table)
    assert len(rows) == 11 and "drift events" not in rows and "labels" in rows
    assert not any("memory" in name or "clusters" in name for name in rows)


@dataclasses.dataclass
class _Event:
    index: int
    level: str


class _Plain:
    index, level = 7, "tree"


def test_the_full_dict_holds_every_measurement_and_the_events_of_any_kind():
    result = _result(
        drift_events=[DriftEvent(3, "cluster", ("a",), "ADWIN"), _Event(5, "label"), _Plain()]
        + [object()]
    )
    short = result.to_dict()
    assert short["peak_memory_mb"] == 154.46 and "curve" not in short
    full = result.to_dict(full=True)
    for name in ("example_f1_empty0", "empty_f1", "n_labels", "wall_seconds", "window", "batch"):
        assert full[name] == getattr(result, name), name
    assert full["peak_memory_growth_mb"] == 1.0 and full["traced_memory_mb"] == 3.26
    assert full["curve"] == [dataclasses.asdict(result.curve[0])]
    assert full["partition"] == [["a", "b"], ["c"]]
    assert full["drift_events"] == [
        DriftEvent(3, "cluster", ("a",), "ADWIN").to_dict(),
        {"index": 5, "level": "label"},
        {"index": 7, "level": "tree"},
        {"index": None, "level": None},
    ]
    assert _result(partition=None).to_dict(full=True)["partition"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit must be a positive int or None, got 0"),
        ({"window": 0}, "window must be a positive int, got 0"),
        ({"window": True}, "window must be a positive int, got True"),
        ({"batch": 2.0}, "batch must be a positive int, got 2.0"),
        ({"curve_every": -1}, "curve_every must be a positive int or None, got -1"),
        ({"total": 0}, "total must be a positive int or None, got 0"),
        ({"empty_f1": 0.5}, "empty_f1 must be 0 or 1, got 0.5"),
    ],
)
def test_bad_counts_say_what_they_need(kwargs, message):
    with pytest.raises(ValueError) as info:
        prequential(MajorityLabelset(), [], **kwargs)
    assert str(info.value) == message


def test_bad_items_say_which_instance():
    with pytest.raises(TypeError) as info:
        prequential(MajorityLabelset(), [({"a": 1.0}, {"y": True}), 5])
    assert str(info.value) == "instance 1: expected an (x, y) pair"
    with pytest.raises(TypeError) as info:
        prequential(MajorityLabelset(), [({"a": 1.0}, ["y"])])
    assert str(info.value) == "instance 0: y must be a dict, got list"
    with pytest.raises(TypeError) as info:  # the second item of the second batch
        prequential(MajorityLabelset(), [({"a": 1.0}, {"y": True})] * 4 + [5], batch=3)
    assert str(info.value) == "instance 4: expected an (x, y) pair"


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_the_peak_memory_is_the_process_peak_in_mib():
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = prequential(MajorityLabelset(), [({"a": 1.0}, {"y": True})] * 20)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert before <= result.peak_memory_mb <= after
    assert 0 <= result.peak_memory_growth_mb <= after - before


def test_the_progress_bar_shows_the_count_and_the_accuracy_and_goes_on_an_error(capsys):
    rows = [({"a": 1.0}, {"y": True})] * 130
    result = prequential(MajorityLabelset(), rows, progress=True, total=130)
    err = capsys.readouterr().err
    assert "prequential" in err and "130/130" in err
    assert f"subset acc {result.subset_accuracy:.3f}" in err

    class Failing(MajorityLabelset):
        def learn_one(self, x, y):
            if getattr(self, "_seen", 0) == 100:
                raise RuntimeError("boom")
            self._seen = getattr(self, "_seen", 0) + 1
            super().learn_one(x, y)

    with pytest.raises(RuntimeError):
        prequential(Failing(), rows, progress=True)
    assert "subset acc" not in capsys.readouterr().err  # erased, not left half-way


def test_the_defaults_window_500_and_no_progress_bar(capsys):
    result = prequential(MajorityLabelset(), [({"a": 1.0}, {"y": True})] * 3)
    assert result.window == 500 and len(result.curve) == 1  # every 100, and after the last
    assert capsys.readouterr().err == ""


def test_a_model_or_stream_of_the_wrong_kind_is_named():
    class PredictOnly:
        def predict_one(self, x):
            return {}

    for model in (PredictOnly(), object()):
        with pytest.raises(TypeError) as info:
            prequential(model, [])
        name = type(model).__name__
        assert str(info.value) == f"model must have predict_one and learn_one, got {name}"
    with pytest.raises(TypeError) as info:
        prequential(MajorityLabelset(), 42)
    assert str(info.value) == "stream must be an iterable of (x, y), got int"


def test_the_table_has_its_headers_and_right_aligned_values():
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200)
    console.print(_result().table())
    lines = console.file.getvalue().splitlines()
    header = next(line for line in lines if "metric" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == ["metric", "value"]
    cells = [line.split("│")[2] for line in lines if line.count("│") == 3]
    assert len(cells) == 15
    # Right-aligned: one space after every value, the padding before it.
    assert all(cell.endswith(" ") and not cell.endswith("  ") for cell in cells)
    assert any(cell.startswith("  ") for cell in cells)


class _Custom:
    def to_dict(self):
        return {"custom": True}


@dataclasses.dataclass
class _Detected:
    index: int
    level: str
    detector: str


def test_events_are_read_by_their_own_to_dict_before_their_fields():
    result = _result(drift_events=[_Custom(), _Detected(2, "label", "ADWIN")])
    assert result.to_dict(full=True)["drift_events"] == [
        {"custom": True},
        {"index": 2, "level": "label", "detector": "ADWIN"},
    ]


@pytest.mark.parametrize(("platform", "unit"), [("darwin", 1), ("linux", 2**10)])
def test_the_peak_memory_unit_follows_the_platform(monkeypatch, platform, unit):
    import resource
    import types

    module = importlib.import_module("streamml.evaluate.prequential")

    # ru_maxrss is in bytes on macOS, KiB on Linux.
    peak = types.SimpleNamespace(ru_maxrss=3 * 2**20 // unit)
    monkeypatch.setattr(resource, "getrusage", lambda who: peak)
    monkeypatch.setattr(module.sys, "platform", platform)
    assert module._max_rss_mb() == 3.0


class _Sized:
    def __init__(self, rows, n_samples):
        self.rows, self.n_samples = rows, n_samples

    def __iter__(self):
        return iter(self.rows)


def _record_progress(monkeypatch) -> list:
    """Replace prequential's progress bar by one that records its calls: ("start", total),
    ("update", n), ("close", n)."""
    module = importlib.import_module("streamml.evaluate.prequential")
    calls = []

    class Recorder:
        def __init__(self, total):
            calls.append(("start", total))

        def update(self, n, accuracy):
            calls.append(("update", n))

        def close(self, n, accuracy, keep=True):
            calls.append(("close", n))

    monkeypatch.setattr(module, "_Progress", Recorder)
    return calls


@pytest.mark.parametrize(
    ("n_samples", "limit", "total", "expected"),
    [
        (1, None, None, 1),
        (0, None, None, None),  # not a count
        ("4", None, None, None),
        (10, 3, None, 3),
        (2, 3, None, 2),
        (None, 3, None, 3),
        (10, None, 7, 7),  # given: as given
    ],
)
def test_the_progress_total_comes_from_the_stream_and_the_limit(
    monkeypatch, n_samples, limit, total, expected
):
    calls = _record_progress(monkeypatch)
    rows = [({"a": 1.0}, {"y": True})] * 5
    prequential(
        MajorityLabelset(), _Sized(rows, n_samples), limit=limit, total=total, progress=True
    )
    assert [c for c in calls if c[0] == "start"] == [("start", expected)]


def test_the_progress_bar_line_has_every_column(capsys):
    import re

    rows = [({"a": 1.0}, {"y": True})] * 130
    result = prequential(MajorityLabelset(), rows, progress=True, total=130)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    acc = f"{result.subset_accuracy:.3f}"
    pattern = rf"prequential ━+ 130/130 subset acc {acc} \d:\d\d:\d\d \d:\d\d:\d\d"
    assert re.fullmatch(pattern, last), last


def test_batches_of_two_predict_and_score_every_instance():
    rows = [({"a": float(i)}, {"y": i % 3 == 0}) for i in range(9)]
    one, two = (prequential(MajorityLabelset(), rows, batch=b) for b in (1, 2))
    assert two.n == one.n == 9 and two.batch == 2
    # Within a batch the prediction does not see the batch's earlier instances.
    assert two.subset_accuracy != one.subset_accuracy


@pytest.mark.parametrize(("window", "indices"), [(4, list(range(10))), (12, [1, 3, 5, 7, 9])])
def test_the_curve_points_by_default_every_fifth_of_the_window(window, indices):
    rows = [({"a": 1.0}, {"y": True})] * 10
    result = prequential(MajorityLabelset(), rows, window=window)
    assert [p.index for p in result.curve] == indices


def test_the_window_scores_two_empty_sets_as_asked():
    rows = [({"a": 1.0}, {"y": False})] * 6
    for empty_f1 in (0, 1):
        result = prequential(MajorityLabelset(), rows, empty_f1=empty_f1, window=5)
        assert [p.example_f1 for p in result.curve] == [float(empty_f1)] * 6


class _Partitioned(MajorityLabelset):
    @property
    def partition(self):
        return [{"y"}, {"z"}, {"w"}]


def test_every_curve_point_has_the_partition_size_even_the_last():
    rows = [({"a": 1.0}, {"y": True})] * 7
    result = prequential(_Partitioned(), rows, curve_every=5)
    assert [(p.index, p.n_clusters) for p in result.curve] == [(4, 3), (6, 3)]


def test_the_bar_starts_with_no_accuracy_and_is_kept_when_closed(capsys):
    module = importlib.import_module("streamml.evaluate.prequential")
    bar = module._Progress(5)
    bar._progress.stop()  # before any update
    assert capsys.readouterr().err.strip().split(" subset acc ")[1].startswith("- ")
    bar = module._Progress(5)
    bar.close(3, 0.5)  # kept by default
    assert "3/5 subset acc 0.500" in capsys.readouterr().err


class _Ticks:
    """A clock that moves one second per reading."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1.0
        return self.now


def test_the_seconds_add_up_over_every_instance(monkeypatch):
    module = importlib.import_module("streamml.evaluate.prequential")
    monkeypatch.setattr(module.time, "perf_counter", _Ticks())
    result = prequential(MajorityLabelset(), [({"a": 1.0}, {"y": True})] * 6)
    # Each instance: one reading before and after its prediction, and its learning.
    assert result.predict_seconds == result.learn_seconds == 6.0
    assert result.seconds == 12.0 and result.instances_per_second == 0.5
    assert result.wall_seconds == 4 * 6 + 1


def test_memory_is_traced_only_when_asked_and_in_mib():
    import tracemalloc

    class Hoarding(MajorityLabelset):
        def learn_one(self, x, y):
            self.tracing = tracemalloc.is_tracing()
            self.kept = getattr(self, "kept", []) + [bytearray(2**20)]
            super().learn_one(x, y)

    plain = Hoarding()
    result = prequential(plain, [({"a": 1.0}, {"y": True})] * 3)
    assert not plain.tracing and result.traced_memory_mb is None
    traced = Hoarding()
    result = prequential(traced, [({"a": 1.0}, {"y": True})] * 8, trace_memory=True)
    assert traced.tracing and not tracemalloc.is_tracing()  # stopped after the run
    assert 8.0 <= result.traced_memory_mb < 12.0


def test_a_model_that_answers_none_predicted_no_label():
    class Silent(MajorityLabelset):
        def predict_one(self, x):
            return None

    result = prequential(Silent(), [({"a": 1.0}, {"y": False})] * 2 + [({"a": 1.0}, {"y": True})])
    assert result.n == 3 and result.subset_accuracy == 2 / 3 and result.micro_f1 == 0.0


def test_the_bar_is_updated_every_64_instances(monkeypatch):
    calls = _record_progress(monkeypatch)
    prequential(MajorityLabelset(), [({"a": 1.0}, {"y": True})] * 150, progress=True)
    assert calls == [("start", None), ("update", 64), ("update", 128), ("close", 150)]


def test_without_a_process_peak_there_is_no_growth_either(monkeypatch):
    module = importlib.import_module("streamml.evaluate.prequential")
    monkeypatch.setattr(module, "_max_rss_mb", lambda: None)
    result = prequential(MajorityLabelset(), [({"a": 1.0}, {"y": True})])
    assert result.peak_memory_mb is None and result.peak_memory_growth_mb is None


def test_the_plot_is_drawn_from_the_result_to_the_path(monkeypatch, tmp_path):
    plots = importlib.import_module("streamml.evaluate.plot")
    drawn = []
    monkeypatch.setattr(plots, "plot", lambda result, path: drawn.append((result, path)))
    path = tmp_path / "curve.png"
    result = prequential(MajorityLabelset(), [({"a": 1.0}, {"y": True})] * 3, plot=path)
    assert drawn == [(result, path)]


def test_the_bar_is_drawn_by_the_caller_at_most_every_interval(monkeypatch):
    module = importlib.import_module("streamml.evaluate.prequential")
    now = [0.0]
    bar = module._Progress(100, every=0.1, clock=lambda: now[0])
    assert not bar._progress.live.auto_refresh  # no drawing thread beside the model
    drawn = []
    monkeypatch.setattr(bar._progress, "refresh", lambda: drawn.append(now[0]))
    for t in (0.05, 0.099, 0.1, 0.15, 0.25, 0.3):
        now[0] = t
        bar.update(int(t * 100), 0.5)
    assert drawn == [0.1, 0.25]
    bar.close(40, 0.5)  # always drawn at the end
    assert drawn == [0.1, 0.25, 0.3]
    assert bar._progress.tasks[0].completed == 40


def test_by_default_the_bar_is_drawn_ten_times_a_second_at_most(monkeypatch):
    module = importlib.import_module("streamml.evaluate.prequential")
    now = [0.0]
    bar = module._Progress(100, clock=lambda: now[0])
    drawn = []
    monkeypatch.setattr(bar._progress, "refresh", lambda: drawn.append(now[0]))
    for t in (0.09, 0.1, 0.19, 0.2):
        now[0] = t
        bar.update(1, 0.5)
    assert drawn == [0.1, 0.2]
    bar._progress.stop()
