"""Prequential (test-then-train) evaluation of a multi-label model on a stream."""

from __future__ import annotations

import collections.abc
import dataclasses
import itertools
import sys
import time
import tracemalloc

from .batches import learn_batch, predict_batch
from .metrics import METRICS, MultiLabelMetrics, RollingMultiLabelMetrics

__all__ = ["CurvePoint", "Result", "prequential"]

_LABELS = {
    "subset_accuracy": "subset accuracy",
    "hamming_loss": "Hamming loss",
    "micro_f1": "micro F1",
    "macro_f1": "macro F1",
    "example_f1": "example-based F1",
}
_PROGRESS_EVERY = 64


@dataclasses.dataclass(frozen=True)
class CurvePoint:
    """The windowed metrics after one instance.

    Parameters
    ----------
    index
        0-based index of the last instance in the window (the window covers instances
        `max(0, index - window + 1)` to `index`).
    subset_accuracy, hamming_loss, micro_f1, macro_f1, example_f1
        The metrics over the window (`example_f1` with the run's `empty_f1` convention).
    n_clusters
        Number of clusters of the model's `partition` after learning that instance, or None
        when the model has no `partition`.

    """

    index: int
    subset_accuracy: float
    hamming_loss: float
    micro_f1: float
    macro_f1: float
    example_f1: float
    n_clusters: int | None = None


@dataclasses.dataclass
class Result:
    """What a prequential run measured.

    Parameters
    ----------
    subset_accuracy, hamming_loss, micro_f1, macro_f1, example_f1
        Metrics over the whole stream (`streamml.evaluate.MultiLabelMetrics`); `example_f1`
        scores two empty label sets `empty_f1` (1 unless asked otherwise).
    example_f1_empty0
        Example-based F1 scoring two empty label sets 0 (river's and MOA's convention).
    empty_f1
        The convention of `example_f1`.
    n
        Number of instances (each predicted, then learned).
    n_labels
        Number of labels seen.
    learn_seconds, predict_seconds
        Time spent in the model's `learn_one` and `predict_one` (`time.perf_counter`).
    seconds
        `learn_seconds + predict_seconds`: the model's time.
    wall_seconds
        Time of the whole run, including reading the stream and scoring.
    instances_per_second
        `n / seconds`.
    peak_memory_mb
        Peak resident set size of the whole process (`getrusage(RUSAGE_SELF).ru_maxrss`) at
        the end of the run, in MiB: an upper bound of the model's memory, meaningful when the
        run has the process to itself. None where `resource` is unavailable.
    peak_memory_growth_mb
        How much that peak rose during the run (0 if it was reached before the run).
    traced_memory_mb
        With `trace_memory=True`: the peak of memory allocated through Python (`tracemalloc`,
        numpy arrays included) during the run, in MiB; otherwise None.
    window
        Size of the sliding window of the curve.
    curve
        The windowed metrics every `curve_every` instances and after the last one.
    drift_events
        The model's `drift_events` at the end of the run (empty if it has none).
    partition
        The model's `partition` at the end of the run, or None if it has none.
    batch
        Instances per mini-batch (1: instance by instance).

    """

    subset_accuracy: float
    hamming_loss: float
    micro_f1: float
    macro_f1: float
    example_f1: float
    example_f1_empty0: float
    empty_f1: float
    n: int
    n_labels: int
    seconds: float
    learn_seconds: float
    predict_seconds: float
    wall_seconds: float
    instances_per_second: float
    peak_memory_mb: float | None
    peak_memory_growth_mb: float | None
    traced_memory_mb: float | None
    window: int
    curve: list[CurvePoint] = dataclasses.field(default_factory=list, repr=False)
    drift_events: list = dataclasses.field(default_factory=list, repr=False)
    partition: list[frozenset] | None = dataclasses.field(default=None, repr=False)
    batch: int = 1

    def metrics(self) -> dict[str, float]:
        """The five whole-stream metrics, by name."""
        return {name: getattr(self, name) for name in METRICS}

    def to_dict(self, full: bool = False) -> dict:
        """The results as plain JSON-able values.

        Parameters
        ----------
        full
            Also include the other measurements, the curve, the drift events and the final
            partition (label lists).

        """
        out = self.metrics()
        for name in ("n", "seconds", "instances_per_second", "learn_seconds", "predict_seconds"):
            out[name] = getattr(self, name)
        out["peak_memory_mb"] = self.peak_memory_mb
        if full:
            for name in (
                "example_f1_empty0",
                "empty_f1",
                "n_labels",
                "wall_seconds",
                "peak_memory_growth_mb",
                "traced_memory_mb",
                "window",
                "batch",
            ):
                out[name] = getattr(self, name)
            out["curve"] = [dataclasses.asdict(point) for point in self.curve]
            out["drift_events"] = [_event_dict(event) for event in self.drift_events]
            out["partition"] = (
                None if self.partition is None else [sorted(map(str, c)) for c in self.partition]
            )
        return out

    def table(self, title: str | None = None):
        """The metrics and the speed as a `rich.table.Table`."""
        from rich.table import Table

        empty = int(self.empty_f1)
        other = f" (river/MOA's 0: {self.example_f1_empty0:.4f})" if empty else ""
        how = "test-then-train" if self.batch == 1 else f"mini-batches of {self.batch:,}"
        table = Table(
            title=title,
            caption=(
                f"whole stream, {how}; example-based F1 = {empty} for two empty label sets{other}"
            ),
        )
        table.add_column("metric")
        table.add_column("value", justify="right")
        for name, value in self.metrics().items():
            table.add_row(_LABELS[name], f"{value:.4f}")
        table.add_section()
        table.add_row("instances", f"{self.n:,}")
        table.add_row("labels", f"{self.n_labels:,}")
        table.add_row("learn + predict seconds", f"{self.seconds:.3f}")
        table.add_row("  learn seconds", f"{self.learn_seconds:.3f}")
        table.add_row("  predict seconds", f"{self.predict_seconds:.3f}")
        table.add_row("instances per second", f"{self.instances_per_second:,.0f}")
        if self.peak_memory_mb is not None:
            table.add_row("peak memory (process RSS, MiB)", f"{self.peak_memory_mb:,.1f}")
        if self.traced_memory_mb is not None:
            table.add_row("peak traced memory (MiB)", f"{self.traced_memory_mb:,.1f}")
        if self.drift_events:
            table.add_row("drift events", f"{len(self.drift_events):,}")
        if self.partition is not None:
            table.add_row("clusters at the end", f"{len(self.partition):,}")
        return table


def _event_dict(event) -> dict:
    if hasattr(event, "to_dict"):
        return event.to_dict()
    if dataclasses.is_dataclass(event):
        return dataclasses.asdict(event)
    return {"index": getattr(event, "index", None), "level": getattr(event, "level", None)}


def _max_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def _check_count(name: str, value, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"{name} must be a positive int{' or None' if allow_none else ''}, got {value!r}"
        )


def prequential(
    model,
    stream: collections.abc.Iterable,
    *,
    limit: int | None = None,
    window: int = 500,
    curve_every: int | None = None,
    progress: bool = False,
    total: int | None = None,
    plot: str | None = None,
    trace_memory: bool = False,
    empty_f1: float = 1.0,
    batch: int = 1,
) -> Result:
    """Test-then-train evaluation of a multi-label model over every instance of a stream.

    For every `(x, y)` in order: `model.predict_one(x)`, score the prediction against `y`, then
    `model.learn_one(x, y)`. No instance is skipped and the metrics are never reset
    (`../shared/docs/ihomer.md` §4). A label missing from a prediction counts as predicted
    False; a label that appears mid-stream counts as False in the earlier instances (see
    `MultiLabelMetrics`).

    Parameters
    ----------
    model
        Any object with `predict_one(x) -> dict` and `learn_one(x, y)`, e.g. a
        `river.base.MultiLabelClassifier`. If it has a `drift_events` attribute (a list of
        `streamml.DriftEvent`), the events are returned; if it has a `partition` attribute (a
        list of label sets), its size is sampled at every curve point.
    stream
        An iterable of `(x, y)`, `y` a dict of label -> bool.
    limit
        Stop after this many instances.
    window
        Size of the sliding window of the curve.
    curve_every
        Add a curve point every this many instances (and after the last one). Defaults to
        `max(1, window // 5)`.
    progress
        Show a progress bar on stderr. Its total is `total`, else the smaller of `limit` and
        the stream's `n_samples` when known.
    total
        Number of instances expected, for the progress bar only.
    plot
        Path of a PNG to write with `streamml.evaluate.plot`.
    trace_memory
        Also measure the peak of memory allocated through Python with `tracemalloc` (slows the
        run down noticeably).
    empty_f1
        Score of two empty label sets in `example_f1`: 1 (default) or 0.
    batch
        Mini-batches of this many instances (river's mini-batch semantics): the model
        predicts every instance of a batch, the predictions are scored, then it learns them
        in order. A model with `predict_many` and `learn_many` gets each batch as pandas
        DataFrames (`streamml.evaluate.batches`); any other model, `predict_one` on each
        instance, then `learn_one` on each. 1 (the default) is instance by instance. A
        prediction inside a batch does not benefit from the batch's earlier instances, so
        the metrics are usually a little lower than instance by instance; the curve points
        of a batch sample the partition once the batch is learned.

    Examples
    --------

    >>> from river import datasets, linear_model, multioutput
    >>> from streamml.evaluate import prequential

    >>> model = multioutput.ClassifierChain(linear_model.LogisticRegression())
    >>> result = prequential(model, datasets.Yeast(), limit=200)
    >>> result.n
    200
    >>> print(f"{result.micro_f1:.3f}")
    0.470

    """
    if not (
        callable(getattr(model, "predict_one", None))
        and callable(getattr(model, "learn_one", None))
    ):
        raise TypeError(f"model must have predict_one and learn_one, got {type(model).__name__}")
    if not isinstance(stream, collections.abc.Iterable):
        raise TypeError(f"stream must be an iterable of (x, y), got {type(stream).__name__}")
    _check_count("limit", limit, allow_none=True)
    _check_count("window", window, allow_none=False)
    _check_count("curve_every", curve_every, allow_none=True)
    _check_count("total", total, allow_none=True)
    _check_count("batch", batch, allow_none=False)
    if empty_f1 not in (0, 1):
        raise ValueError(f"empty_f1 must be 0 or 1, got {empty_f1!r}")
    every = curve_every if curve_every is not None else max(1, window // 5)
    if total is None:
        known = getattr(stream, "n_samples", None)
        known = known if isinstance(known, int) and known > 0 else None
        total = min(limit, known) if limit and known else (limit or known)

    metrics = MultiLabelMetrics(empty_f1=empty_f1)
    rolling = RollingMultiLabelMetrics(window, empty_f1=empty_f1)
    has_partition = hasattr(model, "partition")
    curve: list[CurvePoint] = []
    learn_seconds = predict_seconds = 0.0
    clock = time.perf_counter

    def add_point(index: int) -> None:
        curve.append(
            CurvePoint(
                index,
                *(getattr(rolling, name) for name in METRICS),
                n_clusters=len(model.partition) if has_partition else None,
            )
        )  # inside a batch, n_clusters is set again once the batch is learned

    items = stream if limit is None else itertools.islice(stream, limit)
    bar = _Progress(total) if progress else None
    rss_before = _max_rss_mb()
    tracing = trace_memory and not tracemalloc.is_tracing()
    if tracing:
        tracemalloc.start()
    if trace_memory:
        tracemalloc.reset_peak()
    start = clock()
    n = 0
    failed = True
    try:
        for chunk in _chunks(items, batch):
            for k, item in enumerate(chunk):
                _check_item(item, n + k)
            first_point = len(curve)
            t0 = clock()
            if batch == 1:
                predictions = [model.predict_one(chunk[0][0])]
            else:
                predictions = predict_batch(model, [x for x, _ in chunk])
            predict_seconds += clock() - t0
            for (_, y), y_pred in zip(chunk, predictions):
                n += 1
                if y_pred is None:
                    y_pred = {}
                metrics.update(y, y_pred)
                rolling.update(y, y_pred)
                if n % every == 0:
                    add_point(n - 1)
                if bar is not None and n % _PROGRESS_EVERY == 0:
                    bar.update(n, metrics.subset_accuracy)
            t2 = clock()
            if batch == 1:
                model.learn_one(*chunk[0])
            else:
                learn_batch(model, chunk)
            learn_seconds += clock() - t2
            if has_partition:  # the points of this batch: the partition after learning it
                clusters = len(model.partition)
                for i in range(first_point, len(curve)):
                    curve[i] = dataclasses.replace(curve[i], n_clusters=clusters)
        if n and n % every:
            add_point(n - 1)
        wall = clock() - start
        traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace_memory else None
        failed = False
    finally:
        if tracing:
            tracemalloc.stop()
        if bar is not None:
            bar.close(n, metrics.subset_accuracy, keep=not failed)
    rss_after = _max_rss_mb()
    seconds = learn_seconds + predict_seconds
    events = getattr(model, "drift_events", None)
    result = Result(
        **metrics.get(),
        example_f1_empty0=metrics.example_f1_empty0,
        empty_f1=empty_f1,
        n=n,
        n_labels=len(metrics.labels),
        seconds=seconds,
        learn_seconds=learn_seconds,
        predict_seconds=predict_seconds,
        wall_seconds=wall,
        instances_per_second=n / seconds if seconds > 0 else 0.0,
        peak_memory_mb=rss_after,
        peak_memory_growth_mb=None if rss_after is None else rss_after - rss_before,
        traced_memory_mb=traced,
        window=window,
        curve=curve,
        drift_events=list(events) if events is not None else [],
        partition=[frozenset(c) for c in model.partition] if has_partition else None,
        batch=batch,
    )
    if plot is not None:
        from .plot import plot as plot_result

        plot_result(result, plot)
    return result


def _chunks(items, size: int):
    """Lists of up to `size` consecutive items."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _check_item(item, index: int) -> None:
    try:
        _, y = item
    except (TypeError, ValueError):
        raise TypeError(f"instance {index}: expected an (x, y) pair") from None
    if not isinstance(y, collections.abc.Mapping):
        raise TypeError(f"instance {index}: y must be a dict, got {type(y).__name__}")


class _Progress:
    """A rich progress bar on stderr, drawn by the caller's thread at most `every` seconds.

    rich redraws a bar from a thread of its own by default; that thread takes the
    interpreter's lock while the model runs, and a prequential run would time it as the
    model's (about 4% on Yeast). This bar is drawn only in `update` and `close`, between
    the model's calls.
    """

    def __init__(self, total: int | None, every: float = 0.1, clock=time.monotonic):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("prequential"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("subset acc {task.fields[acc]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
            auto_refresh=False,
        )
        self._task = self._progress.add_task("prequential", total=total, acc="-")
        self._every = every
        self._clock = clock
        self._progress.start()
        self._drawn = clock()

    def update(self, n: int, accuracy: float, draw: bool = False) -> None:
        """Move the bar to `n` instances; it is redrawn if `draw` or if it was last drawn
        `every` seconds ago or more."""
        self._progress.update(self._task, completed=n, acc=f"{accuracy:.3f}")
        now = self._clock()
        if draw or now - self._drawn >= self._every:
            self._progress.refresh()
            self._drawn = now

    def close(self, n: int, accuracy: float, keep: bool = True) -> None:
        """Stop the bar; it stays on the screen if `keep`, else (on an error) it is erased."""
        self.update(n, accuracy, draw=True)
        if keep:
            self._progress.stop()
        else:  # (Progress.stop would add an empty line where stderr is not a terminal)
            self._progress.live.transient = True
            self._progress.live.stop()
