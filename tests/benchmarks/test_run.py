from __future__ import annotations

import pathlib

from benchmarks.datasets import DataSet
from benchmarks.records import Run
from benchmarks.run import budgeted, nice_floor


def test_nice_floor_keeps_two_digits():
    assert nice_floor(12_345) == 12_000
    assert nice_floor(987) == 980
    assert nice_floor(42.9) == 42
    assert nice_floor(0.2) == 1


class FakeRunner:
    """A runner whose speed and time limit are simulated (no process, no clock)."""

    def __init__(self, rate, slowdown=1.0, startup=1.0):
        self.rate, self.slowdown, self.startup, self.calls = rate, slowdown, startup, []

    def __call__(self, dataset, name, time_limit, limit, workdir):
        n = dataset.n_instances if limit is None else limit
        self.calls.append(limit)
        seconds = n / self.rate * (self.slowdown if n > 1000 else 1.0)
        if seconds + self.startup > time_limit:
            return Run(dataset.name, name, "x", "timeout", n_total=dataset.n_instances)
        status = "ok" if n >= dataset.n_instances else "prefix"
        return Run(
            dataset.name,
            name,
            "x",
            status,
            n=n,
            n_total=dataset.n_instances,
            seconds=seconds,
            wall_seconds=seconds + self.startup,
        )


DATA = DataSet("big", pathlib.Path("big.arff"), 100_000, 10, 5)
SMALL = DataSet("small", pathlib.Path("small.arff"), 1500, 10, 5)


def test_small_stream_runs_whole_without_pilot():
    runner = FakeRunner(rate=1000)
    result = budgeted(runner, SMALL, "m", 60, pathlib.Path("."), pilot=1000)
    assert runner.calls == [None] and result.status == "ok"


def test_fast_model_runs_the_whole_stream_after_a_pilot():
    runner = FakeRunner(rate=10_000)
    result = budgeted(runner, DATA, "m", 60, pathlib.Path("."), pilot=1000)
    assert runner.calls == [1000, None]
    assert result.status == "ok" and result.n == 100_000


def test_slow_model_gets_a_prefix_that_fits():
    runner = FakeRunner(rate=500)
    result = budgeted(runner, DATA, "m", 60, pathlib.Path("."), pilot=1000)
    assert result.status == "prefix"
    assert 1000 < result.n < 100_000
    assert result.seconds + runner.startup <= 60
    assert "prefix" in result.note


def test_timeout_of_the_planned_prefix_is_retried_smaller():
    runner = FakeRunner(rate=500, slowdown=3.0)  # the pilot is optimistic
    result = budgeted(runner, DATA, "m", 60, pathlib.Path("."), pilot=1000)
    assert len(runner.calls) == 3 and runner.calls[2] == runner.calls[1] // 4
    assert result.status == "prefix" and "timed out" in result.note


def test_forced_limit_caps_every_run():
    runner = FakeRunner(rate=10_000)
    result = budgeted(runner, DATA, "m", 60, pathlib.Path("."), pilot=1000, limit=300)
    assert runner.calls == [300] and result.n == 300 and result.status == "prefix"
