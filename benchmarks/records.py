"""One row per run: the CSV schema shared by every runner, the report and the cache."""

from __future__ import annotations

import csv
import dataclasses
import math
import pathlib

__all__ = ["METRICS", "LOWER_IS_BETTER", "Run", "read_csv", "write_csv"]

#: The five metrics of ../shared/docs/ihomer.md §4, in report order.
METRICS = ("subset_accuracy", "hamming_loss", "micro_f1", "macro_f1", "example_f1")
LOWER_IS_BETTER = frozenset({"hamming_loss"})


@dataclasses.dataclass
class Run:
    """The outcome of one model on one data set.

    Parameters
    ----------
    dataset
        Data set name.
    model
        Model name as shown in the report (e.g. ``ihomer``, ``MOA BR+HT``, ``river BR+HT``).
    source
        ``streamml``, ``moa``, ``river`` or ``published``.
    status
        ``ok``, ``prefix`` (ran on the first ``n`` instances only), ``timeout``, ``failed``,
        ``skipped`` or ``published``.
    n
        Instances scored.
    n_total
        Instances in the stream.
    subset_accuracy, hamming_loss, micro_f1, macro_f1, example_f1
        The metrics over the ``n`` scored instances (NaN when unknown).
    example_f1_empty
        Example-based F1 of an instance whose true and predicted label sets are both empty:
        ``1`` (the protocol's convention, streamml) or ``0`` (MOA's and river's).
    seconds
        Time of the test-then-train loop (no start-up).
    instances_per_second
        ``n / seconds``.
    wall_seconds
        Whole process, start-up included.
    peak_memory_mb
        Peak resident memory of the process (MB).
    load1
        One-minute load average before the run.
    version
        Version of the tool that ran it.
    command
        The command that reproduces it.
    date
        When it ran (UTC, ISO format).
    note
        Anything a reader must know.

    """

    dataset: str
    model: str
    source: str
    status: str
    n: int = 0
    n_total: int = 0
    subset_accuracy: float = math.nan
    hamming_loss: float = math.nan
    micro_f1: float = math.nan
    macro_f1: float = math.nan
    example_f1: float = math.nan
    example_f1_empty: str = ""
    seconds: float = math.nan
    instances_per_second: float = math.nan
    wall_seconds: float = math.nan
    peak_memory_mb: float = math.nan
    load1: float = math.nan
    version: str = ""
    command: str = ""
    date: str = ""
    note: str = ""

    @property
    def scored(self) -> bool:
        """Whether the metrics are there (a finished full or prefix run, or a published row)."""
        return self.status in ("ok", "prefix", "published")

    def metric(self, name: str) -> float:
        return float(getattr(self, name))


FIELDS = [f.name for f in dataclasses.fields(Run)]
_TYPES = {f.name: f.type for f in dataclasses.fields(Run)}


def _parse(name: str, text: str):
    kind = _TYPES[name]
    if kind == "int":
        return int(float(text)) if text not in ("", "nan") else 0
    if kind == "float":
        return float(text) if text != "" else math.nan
    return text


def _format(value) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def write_csv(runs: list[Run], path: str | pathlib.Path) -> None:
    """Write runs as CSV (one header line, then one line per run)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for run in runs:
            writer.writerow([_format(getattr(run, name)) for name in FIELDS])


def read_csv(path: str | pathlib.Path) -> list[Run]:
    """Read runs written by `write_csv` (unknown columns are an error, missing ones default)."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        unknown = set(reader.fieldnames or []) - set(FIELDS)
        if unknown:
            raise ValueError(f"{path}: unknown columns {sorted(unknown)}")
        return [Run(**{k: _parse(k, v) for k, v in row.items()}) for row in reader]
