"""The peers: MOA (through ../shared/peers/moa/run_moa.sh) and river (a child process each)."""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys

from .datasets import DataSet
from .proc import ONE_THREAD, load1, run_process
from .records import Run

__all__ = [
    "MOA_LEARNERS",
    "RIVER_MODELS",
    "java_available",
    "labels_first",
    "moa_dir",
    "parse_moa_csv",
    "run_moa",
    "run_river",
]

REPO = pathlib.Path(__file__).resolve().parents[1]

#: report name -> run_moa.sh alias
MOA_LEARNERS = {
    "MOA BR+HT": "BR_HT",
    "MOA CC+HT": "CC_HT",
    "MOA MLHT": "MLHT",
    "MOA ISOUPTree": "ISOUPTree",
    "MOA PS+HT": "PS_HT",
}
MOA_VERSION = "MOA 24.07 (moa.jar of capymoa 0.15.1)"

#: report name -> model argument of `python -m benchmarks.child`
RIVER_MODELS = {"river BR+HT": "river:br", "river CC+HT": "river:cc"}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rel(path: str | os.PathLike) -> str:
    """A path relative to the repository root when it is under its parent (shorter commands)."""
    path = pathlib.Path(path).resolve()
    try:
        return os.path.relpath(path, REPO) if path.is_relative_to(REPO.parent) else str(path)
    except ValueError:
        return str(path)


def moa_dir() -> pathlib.Path:
    """Where run_moa.sh lives: $STREAMML_MOA_DIR, or ../shared/peers/moa next to the repo."""
    return pathlib.Path(os.environ.get("STREAMML_MOA_DIR", REPO.parent / "shared/peers/moa"))


def java_available() -> bool:
    """Whether MOA can run here (java, javac, unzip on PATH and the runner present)."""
    tools = all(shutil.which(tool) for tool in ("java", "javac", "unzip"))
    return tools and (moa_dir() / "run_moa.sh").exists()


def labels_first(dataset: DataSet, workdir: pathlib.Path) -> tuple[pathlib.Path, int]:
    """Convert a stream to the labels-first layout MOA reads (cached by size and mtime).

    Returns
    -------
    The converted file and its number of labels.

    """
    stat = dataset.path.stat()
    out = workdir / "labels-first" / f"{dataset.name}-{stat.st_size}-{int(stat.st_mtime)}.arff"
    n_labels_file = out.with_suffix(".labels")
    if not (out.exists() and n_labels_file.exists()):
        out.parent.mkdir(parents=True, exist_ok=True)
        tool = moa_dir() / "tools" / "to_labels_first.py"
        done = subprocess.run(
            [sys.executable, str(tool), str(dataset.path), str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"to_labels_first.py failed on {dataset.path}: {done.stderr}")
        n_labels_file.write_text(done.stdout.strip().splitlines()[-1])
    n_labels = int(n_labels_file.read_text())
    if n_labels != dataset.n_labels:
        raise RuntimeError(
            f"{dataset.name}: {n_labels} labels after conversion, expected {dataset.n_labels}"
        )
    return out, n_labels


def _float(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def parse_moa_csv(text: str) -> list[dict[str, str]]:
    """The result rows of run_moa.sh's stdout (comment lines skipped)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def run_moa(
    dataset: DataSet,
    name: str,
    timeout: float,
    limit: int | None,
    workdir: pathlib.Path,
) -> Run:
    """Run one MOA learner prequentially on (a prefix of) a stream.

    Parameters
    ----------
    dataset
        The stream.
    name
        A key of `MOA_LEARNERS`.
    timeout
        Wall-clock limit of the run, in seconds.
    limit
        Score only the first ``limit`` instances (None: all).
    workdir
        Where converted files and MOA's logs are kept.

    """
    alias = MOA_LEARNERS[name]
    converted, n_labels = labels_first(dataset, workdir)
    script = moa_dir() / "run_moa.sh"
    env = {"TIMEOUT": str(int(timeout)), "LOGDIR": str(workdir / "moa-logs" / dataset.name)}
    if limit is not None:
        env["MAX_INSTANCES"] = str(limit)
    shown_env = " ".join(f"{k}={v}" for k, v in env.items() if k != "LOGDIR")
    command = (
        f"python3 {_rel(moa_dir() / 'tools/to_labels_first.py')} "
        f"{_rel(dataset.path)} /tmp/{dataset.name}_lf.arff && {shown_env} "
        f"{_rel(script)} /tmp/{dataset.name}_lf.arff {n_labels} {alias}"
    )
    before = load1()
    argv = ["bash", str(script), str(converted), str(n_labels), alias]
    done = run_process(argv, timeout + 60, env)
    run = Run(
        dataset=dataset.name,
        model=name,
        source="moa",
        status="failed",
        n_total=dataset.n_instances,
        example_f1_empty="0",
        version=MOA_VERSION,
        command=command,
        date=_now(),
        load1=before,
        wall_seconds=done.wall_seconds,
        peak_memory_mb=done.max_rss_mb,
    )
    rows = parse_moa_csv(done.stdout)
    if done.timed_out or not rows:
        run.status = "timeout" if done.timed_out else "failed"
        run.note = (done.stderr.strip().splitlines() or [""])[-1][:200]
        return run
    row = rows[-1]
    status = row.get("status", "")
    if status == "timeout":
        run.status = "timeout"
        return run
    if status != "ok":
        run.note = f"run_moa.sh status {status}"
        return run
    run.status = "ok" if limit is None or limit >= dataset.n_instances else "prefix"
    run.n = int(_float(row["instances"]))
    for metric in ("subset_accuracy", "hamming_loss", "micro_f1", "macro_f1", "example_f1"):
        setattr(run, metric, _float(row[metric]))
    run.seconds = _float(row["loop_wall_s"])
    run.instances_per_second = _float(row["inst_per_s_wall"])
    run.wall_seconds = _float(row["wall_s"])
    run.peak_memory_mb = _float(row["max_rss_mb"])
    skipped = int(_float(row.get("skipped", "0")) or 0)
    run.note = f"MOA CPU timer: {_float(row['inst_per_s_cpu']):.0f} inst/s"
    if skipped:
        run.note += f"; {skipped} null prediction(s) not scored by MOA"
    return run


def run_river(
    dataset: DataSet,
    name: str,
    timeout: float,
    limit: int | None,
    workdir: pathlib.Path | None = None,
) -> Run:
    """Run river's binary relevance or classifier chain of Hoeffding trees in a child process.

    Parameters
    ----------
    dataset
        The stream.
    name
        A key of `RIVER_MODELS`.
    timeout
        Wall-clock limit of the run, in seconds.
    limit
        Score only the first ``limit`` instances (None: all).
    workdir
        Unused (same signature as `run_moa`).

    """
    import river

    argv = [sys.executable, "-m", "benchmarks.child", "--stream", str(dataset.path)]
    argv += ["--model", RIVER_MODELS[name]]
    if limit is not None:
        argv += ["--limit", str(limit)]
    before = load1()
    done = run_process(argv, timeout, ONE_THREAD, cwd=REPO)
    shown = ["python", "-m", "benchmarks.child", "--stream", _rel(dataset.path)] + argv[5:]
    run = Run(
        dataset=dataset.name,
        model=name,
        source="river",
        status="failed",
        n_total=dataset.n_instances,
        version=f"river {river.__version__}",
        command=" ".join(shown),
        date=_now(),
        load1=before,
        wall_seconds=done.wall_seconds,
        peak_memory_mb=done.max_rss_mb,
    )
    return fill_from_json(run, done, limit)


def fill_from_json(run: Run, done, limit: int | None) -> Run:
    """Complete a run from the one-line JSON a child printed (streamml evaluate, river child)."""
    if done.timed_out:
        run.status = "timeout"
        return run
    result = None
    for line in reversed(done.stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                continue
            break
    if done.returncode != 0 or result is None:
        run.status = "failed"
        run.note = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1][:300]
        return run
    for metric in ("subset_accuracy", "hamming_loss", "micro_f1", "macro_f1", "example_f1"):
        setattr(run, metric, float(result[metric]))
    run.n = int(result["n"])
    run.seconds = float(result["seconds"])
    run.instances_per_second = float(result["instances_per_second"])
    run.example_f1_empty = str(result.get("example_f1_empty", "1"))
    run.status = "ok" if run.n >= run.n_total else "prefix"
    return run
