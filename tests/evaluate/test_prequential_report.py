"""What a prequential run reports: its table, its dict, its argument errors, its memory and its
progress bar, checked value by value."""

from __future__ import annotations

import dataclasses
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
