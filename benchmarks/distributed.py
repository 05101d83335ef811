"""iHOMER's clusters on K Ray actors (`streamml.distributed.ShardedIHOMER`) against iHOMER in
one process, on the same micro-batches.

Every model sees the same stream in micro-batches of `batch` instances: it predicts every
instance of a batch, then learns them in order. The models run in lockstep, batch after batch
(the reference, then K = 1, 2, 4 shards), so a change of the machine's load hits them alike;
each one's wall-clock time (its shards work in other processes) gives its instances/s. The
references are `IHOMER(share=False, label_drift_delta=None)` (what the shards compute, in one
process: the same predictions, instance by instance) and the default `IHOMER` (which shares one
learner on all the labels between its clusters, and tests each label's error). Per shard: the
resident memory of its actor and the pickled size of its clusters. The partition (LabelODAC,
in the driver) is timed alone on the same label sets.

Run (`pip install -e ".[bench,ray]"`):

    python -m benchmarks distributed --limit 4000 --synthetic-n 6000
"""

from __future__ import annotations

import itertools
import json
import pathlib
import pickle
import shlex
import sys
import time

__all__ = ["run_distributed"]

SHARDED = "sharded"
REFERENCE = "IHOMER(share=False)"


def _load(data: pathlib.Path, name: str, limit: int) -> list:
    from streamml.datasets import ARFF

    return list(itertools.islice(ARFF(data / f"{name}.arff"), limit))


def _synthetic(n_labels: int, n: int, seed: int) -> list:
    """Groups of 10 labels; about two groups on per instance, 80% of their labels positive
    (about 16 positives per instance), as `odac_speed --extreme` draws them."""
    from streamml.datasets.synth import LabelGroups

    n_groups = n_labels // 10
    stream = LabelGroups(
        n_labels=n_labels,
        n_groups=n_groups,
        n_features=50,
        group_rate=2 / n_groups,
        p_on=0.8,
        p_off=0.0,
        n_samples=n,
        seed=seed,
    )
    return list(stream)


class _Scored:
    """A model run in micro-batches: its time, and its predictions' counts."""

    def __init__(self, name: str, model):
        self.name, self.model = name, model
        self.seconds = self.exact = self.n = self.tp = self.fp = self.fn = 0

    def step(self, batch: list) -> None:
        xs = [x for x, _ in batch]
        model = self.model
        began = time.perf_counter()
        if hasattr(model, "learn_batch"):
            predicted = model.predict_batch(xs)
            model.learn_batch(xs, [y for _, y in batch])
        else:
            predicted = [model.predict_one(x) for x in xs]
            for x, y in batch:
                model.learn_one(x, y)
        self.seconds += time.perf_counter() - began
        for p, (_, y) in zip(predicted, batch):
            on = {label for label, v in p.items() if v}
            truth = {label for label, v in y.items() if v}
            self.exact += on == truth
            self.tp += len(on & truth)
            self.fp += len(on - truth)
            self.fn += len(truth - on)
            self.n += 1

    def result(self) -> dict:
        model = self.model
        out = {
            "model": self.name,
            "n": self.n,
            "seconds": self.seconds,
            "instances_per_second": self.n / self.seconds if self.seconds else float("nan"),
            "subset_accuracy": self.exact / self.n,
            "micro_f1": 2 * self.tp / max(1, 2 * self.tp + self.fp + self.fn),
            "clusters": len(model.partition),
        }
        if hasattr(model, "shard_memory"):
            out["shards"] = model.shards
            out["moves"] = model.n_moves
            out["shard_memory"] = model.shard_memory()
        return out


def _kernel(size: int, repeat: int) -> float:
    """Seconds of `repeat` products of a vector by a 50 x `size` matrix (one BLAS thread)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    matrix, vector = rng.random((50, size)), rng.random(50)
    with threadpool_limits(1):
        began = time.perf_counter()
        for _ in range(repeat):
            vector[0] = float((vector @ matrix)[0]) * 1e-12 + 0.5
        return time.perf_counter() - began


def parallel_capacity(rounds: int = 3) -> dict:
    """How much work two processes get done at once against one (the median of `rounds`), on
    two kernels: small products (compute) and products by a 4 MB matrix (memory). 2.0 on two
    independent cores; less where the cores share their caches, memory or host (a virtual
    machine), or other jobs take them."""
    import statistics
    from concurrent.futures import ProcessPoolExecutor

    out = {}
    with ProcessPoolExecutor(2) as pool:
        for name, size, repeat in (("compute", 400, 100_000), ("memory", 10_000, 4_000)):
            ratios = []
            for _ in range(rounds):
                alone = _kernel(size, repeat)
                both = list(pool.map(_kernel, [size, size], [repeat, repeat]))
                ratios.append(2 * alone / max(both))
            out[name] = statistics.median(ratios)
    return out


def _partition_cost(data: list) -> dict:
    """LabelODAC alone on the label sets: CPU seconds per instance and pickled size."""
    from streamml.partition import LabelODAC

    odac = LabelODAC()
    began = time.process_time()
    for _, y in data:
        odac.learn_one(y)
    seconds = time.process_time() - began
    return {
        "ms_per_instance": 1000 * seconds / len(data),
        "state_mb": len(pickle.dumps(odac)) / 2**20,
        "leaves": len(odac.partition),
    }


def run_stream(
    name: str,
    data: list,
    shards: list[int],
    batch: int,
    seed: int,
    default: bool,
    reference: bool = True,
):
    """Every model on `data` in lockstep; their results."""
    from streamml import IHOMER
    from streamml.distributed import ShardedIHOMER

    runs = []
    if reference:
        runs.append(_Scored(REFERENCE, IHOMER(share=False, label_drift_delta=None, seed=seed)))
    if default:
        runs.append(_Scored("IHOMER (default)", IHOMER(seed=seed)))
    for k in shards:
        runs.append(_Scored(f"{SHARDED} K={k}", ShardedIHOMER(shards=k, seed=seed)))
    for run in runs:  # start the actors before the clock runs
        if hasattr(run.model, "_shards"):
            run.model._shards()
    for start in range(0, len(data), batch):
        chunk = data[start : start + batch]
        for run in runs:
            run.step(chunk)
        print(f"  {name}: {start + len(chunk):,}/{len(data):,}", file=sys.stderr, flush=True)
    results = [run.result() for run in runs]
    for run in runs:
        if hasattr(run.model, "close"):
            run.model.close()
    return {
        "stream": name,
        "n": len(data),
        "labels": len({label for _, y in data for label in y}),
        "batch": batch,
        "partition": _partition_cost(data),
        "runs": results,
    }


def run_distributed(
    data: str,
    out: str,
    datasets: list[str],
    shards: list[int],
    batch: int,
    limit: int,
    synthetic_labels: int,
    synthetic_n: int,
    seed: int,
    num_cpus: int,
    default: bool,
    reference: bool = True,
) -> None:
    import os

    # The actors (shards) inherit these: one BLAS thread each, as the driver, and the
    # priority of the driver, where the single-process references run (Ray's workers
    # otherwise run at niceness 15, behind any other job of the machine).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("RAY_worker_niceness", "0")
    import ray
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    command = shlex.join(["python", "-m", "benchmarks", *sys.argv[1:]])
    streams = []
    for name in datasets:
        print(f"{name} ...", file=sys.stderr, flush=True)
        stream = _load(pathlib.Path(data), name, limit)
        streams.append(run_stream(name, stream, shards, batch, seed, default, reference))
    if synthetic_n > 0:
        name = f"LabelGroups {synthetic_labels:,} labels"
        print(f"{name} ...", file=sys.stderr, flush=True)
        stream = _synthetic(synthetic_labels, synthetic_n, seed)
        # Without the default IHOMER: its learner on all 10,000 labels would take the time.
        streams.append(run_stream(name, stream, shards, batch, seed, False, reference))
    ray.shutdown()
    capacity = parallel_capacity()
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    # The streams run now replace theirs in the record; the others are kept (their command
    # says how they were measured).
    path = folder / "distributed.json"
    record = json.loads(path.read_text()) if path.exists() else {"streams": []}
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for stream in streams:
        stream.update(command=command, num_cpus=num_cpus, measured=when)
    names = {stream["stream"] for stream in streams}
    record["streams"] = [s for s in record["streams"] if s["stream"] not in names] + streams
    record["capacity"] = dict(capacity, measured=when)
    path.write_text(json.dumps(record, indent=1) + "\n")
    from .distributed_report import write_report

    write_report(record, folder / "distributed.md")
    print(f"wrote {folder / 'distributed.md'}")
