"""Run every model on every stream, one process per run, each with a time limit.

A run whose whole stream would not fit in the time limit is made on a prefix: a pilot on the
first ``pilot`` instances measures the speed, and the prefix is what that speed allows in two
thirds of the limit (``safety`` = 1.5, since trees slow down as they grow). When that prefix is
at least 3/4 of the stream, the whole stream is tried first and the prefix only if it times
out; a planned prefix that still times out is retried once on a quarter of it. Every such row
has status ``prefix`` and the number of instances scored; the report marks it.
"""

from __future__ import annotations

import datetime
import json
import math
import pathlib
import subprocess
import sys
import time
import typing

from . import peers
from .datasets import DataSet, discover, repeat_rate
from .proc import ONE_THREAD, load1, run_process
from .published import read_published
from .records import Run, read_csv, write_csv

__all__ = ["budgeted", "nice_floor", "run_all", "run_streamml", "streamml_version"]

REPO = pathlib.Path(__file__).resolve().parents[1]
Runner = typing.Callable[[DataSet, str, float, "int | None", pathlib.Path], Run]


def _log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def streamml_version() -> str:
    """``streamml X.Y.Z`` and the git commit of the working tree (``+dirty`` if modified)."""
    import streamml

    version = f"streamml {streamml.__version__}"
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "streamml"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        version += f" ({head}{'+dirty' if dirty else ''})"
    except (OSError, subprocess.CalledProcessError):
        pass
    return version


#: IHOMER with one option changed, by name (models of `run_all`): its ``streamml evaluate``
#: arguments.
VARIANTS = {
    "ihomer-nolast": ["--model", "ihomer", "--no-last-set"],
    "ihomer-nobalance": ["--model", "ihomer", "--no-label-balance"],
}


def run_streamml(
    dataset: DataSet, model: str, timeout: float, limit: int | None, workdir: pathlib.Path
) -> Run:
    """Run ``python -m streamml evaluate --json`` for one model on (a prefix of) a stream."""
    argv = [sys.executable, "-m", "streamml", "evaluate", "--data", str(dataset.path)]
    argv += VARIANTS.get(model, ["--model", model])
    argv += ["--seed", "42", "--json", "--no-progress"]
    if limit is not None:
        argv += ["--limit", str(limit)]
    before = load1()
    done = run_process(argv, timeout, ONE_THREAD, cwd=REPO)
    shown = ["streamml", "evaluate", "--data", peers._rel(dataset.path)] + argv[6:]
    run = Run(
        dataset=dataset.name,
        model=model,
        source="streamml",
        status="failed",
        n_total=dataset.n_instances,
        version=streamml_version(),
        command=" ".join(shown),
        date=peers._now(),
        load1=before,
        wall_seconds=done.wall_seconds,
        peak_memory_mb=done.max_rss_mb,
    )
    return peers.fill_from_json(run, done, limit)


def nice_floor(n: float) -> int:
    """``n`` rounded down to two significant digits (12,345 -> 12,000), at least 1."""
    if n < 1:
        return 1
    scale = 10 ** max(int(math.log10(n)) - 1, 0)
    return int(n // scale * scale)


def budgeted(
    runner: Runner,
    dataset: DataSet,
    name: str,
    time_limit: float,
    workdir: pathlib.Path,
    pilot: int = 1000,
    safety: float = 1.5,
    limit: int | None = None,
) -> Run:
    """One run of ``runner``, on the whole stream if it fits in ``time_limit``, else a prefix.

    Parameters
    ----------
    runner
        `run_streamml`, `peers.run_moa` or `peers.run_river`.
    dataset, name
        What to run.
    time_limit
        Wall-clock limit of every process, in seconds.
    workdir
        Scratch directory.
    pilot
        Instances of the pilot run that measures the speed (streams up to twice as long run
        whole without a pilot).
    safety
        The prefix is planned to take ``time_limit / safety``; the whole stream is run when the
        pilot says it takes less than that.
    limit
        Never score more than this many instances (a forced prefix, e.g. for the smoke run).

    """
    n_total = dataset.n_instances if limit is None else min(limit, dataset.n_instances)
    forced = None if n_total >= dataset.n_instances else n_total
    planned: int | None = forced
    fallback: int | None = None
    note = ""
    if n_total > 2 * pilot:
        probe = runner(dataset, name, time_limit, pilot, workdir)
        if not probe.scored:
            probe.note = ("pilot run: " + probe.note).strip()
            return probe
        rate = probe.n / probe.seconds if probe.seconds > 0 else math.inf
        overhead = max(probe.wall_seconds - probe.seconds, 0.0)
        needed = overhead + safety * n_total / rate
        if needed > time_limit:
            prefix = max(nice_floor(rate * max(time_limit - overhead, 1.0) / safety), pilot)
            note = (
                f"prefix: a pilot on {pilot} instances ran at {rate:.0f} inst/s, so the whole "
                f"stream would exceed the {time_limit:.0f} s limit"
            )
            if prefix >= 0.75 * n_total:
                fallback = prefix  # close to the whole stream: try it, fall back on timeout
                note = ""
            elif prefix == pilot:
                probe.note = "; ".join(filter(None, [note, probe.note]))
                return probe
            else:
                planned = prefix
    result = runner(dataset, name, time_limit, planned, workdir)
    if result.status == "timeout":
        retry = fallback if fallback is not None else (planned or n_total) // 4
        if retry >= min(100, n_total):
            _log(f"  {name} on {dataset.name}: timeout, retrying on {retry} instances")
            note = f"prefix: the run on {planned or n_total} instances timed out"
            result = runner(dataset, name, time_limit, retry, workdir)
    if result.status == "timeout":
        result.note = f"no result within the {time_limit:.0f} s limit"
    elif note and result.scored:
        result.note = "; ".join(filter(None, [note, result.note]))
    return result


def _select(datasets: list[DataSet], wanted: list[str] | None, published: set[str]):
    if wanted in (None, ["published"]):
        return [d for d in datasets if d.name in published]
    if wanted == ["all"]:
        return datasets
    by_name = {d.name: d for d in datasets}
    missing = [w for w in wanted if w not in by_name]
    if missing:
        raise ValueError(f"unknown data sets {missing}; have: {', '.join(by_name)}")
    return [by_name[w] for w in wanted]


def run_all(
    data_dir: str | pathlib.Path,
    out: str | pathlib.Path,
    datasets: list[str] | None = None,
    models: typing.Sequence[str] = (
        "ihomer",
        "ihomer-nolast",
        "ihomer-nobalance",
        "mlhat",
        "majority",
    ),
    moa: typing.Sequence[str] = tuple(peers.MOA_LEARNERS),
    river: typing.Sequence[str] = tuple(peers.RIVER_MODELS),
    time_limit: float = 300.0,
    budget: float = math.inf,
    pilot: int = 1000,
    limit: int | None = None,
    workdir: str | pathlib.Path = "/tmp/streamml-bench",
    moa_cache: bool = True,
    csv_name: str = "runs.csv",
    missing_models: typing.Sequence[str] = (),
    command: str = "",
) -> list[Run]:
    """Run everything and write ``out/runs.csv`` (rewritten after every run).

    MOA rows are cached in ``out/moa_runs.csv`` and reused (same data set, learner, stream
    length, prefix cap and MOA version) unless ``moa_cache`` is False. Published rows of the
    selected data sets are added as they are, marked as published.

    Parameters
    ----------
    data_dir
        A directory of MULAN/MEKA ARFF files.
    out
        Output directory.
    datasets
        Names, ``["all"]``, or None for the data sets that have a published row.
    models
        streamml model names (see ``streamml.models.names()``).
    moa, river
        Peer names (keys of `peers.MOA_LEARNERS`, `peers.RIVER_MODELS`).
    time_limit
        Wall-clock limit per process, in seconds.
    budget
        Total seconds; once spent, the remaining runs are recorded as ``skipped``.
    pilot
        Instances of a pilot run (see `budgeted`).
    limit
        Score at most this many instances of each stream.
    workdir
        Scratch directory (converted files, MOA logs).
    moa_cache
        Reuse cached MOA rows.
    csv_name
        File name of the CSV in ``out``.
    missing_models
        Requested models that do not exist (named in ``run_info.json`` and the report).
    command
        The command line that made this run (recorded in ``run_info.json``).

    """
    out, workdir = pathlib.Path(out), pathlib.Path(workdir)
    out.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    published = read_published()
    chosen = _select(discover(data_dir), datasets, {r.dataset for r in published})
    if moa and not peers.java_available():
        _log("java/javac/unzip or run_moa.sh missing: no MOA runs")
        moa = ()
    cache_path = out / "moa_runs.csv"
    cache = read_csv(cache_path) if cache_path.exists() else []
    runs: list[Run] = [r for r in published if r.dataset in {d.name for d in chosen}]
    start = time.perf_counter()
    info = {
        "command": command,
        "started": peers._now(),
        "time_limit": time_limit,
        "budget": None if math.isinf(budget) else budget,
        "datasets": [d.name for d in chosen],
        "models": list(models),
        "moa": list(moa),
        "river": list(river),
        "missing_models": list(missing_models),
        "streamml": streamml_version(),
        "data": str(pathlib.Path(data_dir).resolve()),
        "repeat_rate": {d.name: round(repeat_rate(d.path), 4) for d in chosen},
    }
    plan = [(d, "streamml", m) for d in chosen for m in models]
    plan += [(d, "river", m) for d in chosen for m in river]
    plan += [(d, "moa", m) for d in chosen for m in moa]
    plan.sort(key=lambda item: chosen.index(item[0]))
    runners = {"streamml": run_streamml, "river": peers.run_river, "moa": peers.run_moa}
    for dataset, source, name in plan:
        cap = "" if limit is None else str(limit)
        if source == "moa" and moa_cache:
            hit = [
                r
                for r in cache
                if (r.dataset, r.model, r.n_total, r.version)
                == (dataset.name, name, dataset.n_instances, peers.MOA_VERSION)
                and _cap_of(r) == cap
            ]
            if hit:
                runs.append(hit[-1])
                continue
        if time.perf_counter() - start > budget:
            run = Run(
                dataset.name,
                name,
                source,
                "skipped",
                n_total=dataset.n_instances,
                note=f"total budget of {budget:.0f} s spent",
            )
        else:
            _log(f"{name} on {dataset.name} ({dataset.n_instances} x {dataset.n_labels} labels)")
            run = budgeted(runners[source], dataset, name, time_limit, workdir, pilot, limit=limit)
            _log(
                f"  -> {run.status} n={run.n} subset_acc={run.subset_accuracy:.4f} "
                f"{run.instances_per_second:.0f} inst/s {run.note}"
            )
        if source == "moa" and run.status != "skipped":
            run.note = "; ".join(filter(None, [run.note, f"cap={cap}" if cap else ""]))
            cache.append(run)
            write_csv(cache, cache_path)
        runs.append(run)
        write_csv(runs, out / csv_name)
    write_csv(runs, out / csv_name)
    info["duration_s"] = round(time.perf_counter() - start, 1)
    reused = sum(1 for r in runs if r.source == "moa" and r.date < info["started"])
    info["moa_note"] = (
        f"run here by ../shared/peers/moa/run_moa.sh; {reused} of "
        f"{sum(1 for r in runs if r.source == 'moa')} reused from moa_runs.csv (same command, "
        "earlier on this machine)"
    )
    (out / "run_info.json").write_text(json.dumps(info, indent=1) + "\n")
    _log(f"done in {time.perf_counter() - start:.0f} s: {out / csv_name}")
    return runs


def _cap_of(run: Run) -> str:
    for part in run.note.split("; "):
        if part.startswith("cap="):
            return part[4:]
    return ""
