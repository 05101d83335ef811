"""One measured run in its own process: ``python -m benchmarks.child --stream S --model M``.

Runs a model prequentially (predict, then learn, every instance in order) and prints one JSON
object: the metrics of `streamml.evaluate.metrics.MultiLabelMetrics` (example-based F1 scores
1 when both label sets are empty), the number of instances, and the seconds spent inside
``predict_one`` and ``learn_one`` (reading or generating the stream is not timed). Options add
what the studies need: metrics per block of instances, the model's drift events and the
instances at which it restructured, snapshots of its label partition, and the metrics of the
instances from some index on.

Streams (``--stream``): a MULAN/MEKA ARFF path; ``synth:key=value,...`` for
`streamml.datasets.synth.LabelGroups` (ints and floats are parsed); ``drift:NAME:SEED[:N]`` for a
scenario of `benchmarks.drift` (N instances).

Models (``--model``): a name of `streamml.models.names()`; ``river:br`` or ``river:cc``
(river's `PerOutputClassifier` / `ClassifierChain` of default `HoeffdingTreeClassifier`s);
``ihomer-static`` (IHOMER that never restructures: its warm-up never ends).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

__all__ = ["call", "make_model", "make_stream", "main"]

NEVER = 10**12


def call(
    stream: str, model: str, timeout: float, cwd: pathlib.Path | None = None, **options
) -> dict:
    """Run one child process and return its JSON, or ``{"status": "timeout"|"failed", ...}``.

    Parameters
    ----------
    stream, model
        The ``--stream`` and ``--model`` specs.
    timeout
        Wall-clock limit of the process, in seconds.
    cwd
        The tree whose code the child runs (default: this one).
    options
        Other options, e.g. ``limit=1000, block=250`` (``score_from`` becomes ``--score-from``).

    """
    from .proc import ONE_THREAD, run_process

    argv = [sys.executable, "-m", "benchmarks.child", "--stream", stream, "--model", model]
    for key, value in options.items():
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", str(value)]
    tree = cwd if cwd is not None else pathlib.Path(__file__).resolve().parents[1]
    done = run_process(argv, timeout, ONE_THREAD, cwd=tree)
    shown = " ".join(["python"] + argv[1:])
    if done.timed_out:
        return {"status": "timeout", "command": shown, "wall_seconds": done.wall_seconds}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        error = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return {"status": "failed", "command": shown, "error": error[:300]}
    result = json.loads(lines[-1])
    result.update(
        status="ok", command=shown, wall_seconds=done.wall_seconds, peak_memory_mb=done.max_rss_mb
    )
    return result


def make_stream(spec: str):
    """The stream of a ``--stream`` spec (see the module docstring)."""
    if spec.startswith("synth:"):
        from streamml.datasets.synth import LabelGroups

        return LabelGroups(**_kwargs(spec[len("synth:") :]))
    if spec.startswith("drift:"):
        from . import drift

        _, name, seed, *rest = spec.split(":")
        return drift.scenario(name, int(seed), *map(int, rest))
    from streamml.datasets import ARFF

    return ARFF(spec)


def _kwargs(text: str) -> dict:
    out = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        for cast in (int, float):
            try:
                out[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            out[key] = None if value == "None" else value
    return out


def make_model(spec: str, seed: int):
    """The model of a ``--model`` spec (see the module docstring)."""
    if spec.startswith("river:"):
        from river import multioutput, tree

        kind = spec[len("river:") :]
        if kind == "br":
            return multioutput.PerOutputClassifier(tree.HoeffdingTreeClassifier())
        if kind == "cc":
            return multioutput.ClassifierChain(tree.HoeffdingTreeClassifier())
        raise ValueError(f"unknown river peer {kind!r}: use river:br or river:cc")
    from streamml import models

    if spec == "ihomer-static":
        return _ihomer(seed).clone({"warmup": NEVER})
    if spec == "ihomer" and spec not in models.names():
        return _ihomer(seed)
    if spec.startswith("ihomer+"):
        from streamml.ihomer import IHOMER

        learner = models.make(spec[len("ihomer+") :], seed=seed)
        return IHOMER(cluster_learner=learner, seed=seed)
    return models.make(spec, seed=seed)


def _ihomer(seed: int):
    from streamml import models

    if "ihomer" in models.names():
        return models.make("ihomer", seed=seed)
    from streamml.ihomer import IHOMER

    return IHOMER(seed=seed)


def _partition(model) -> list[list[str]] | None:
    part = getattr(model, "partition", None)
    if part is None or callable(part):
        return None
    return sorted(sorted(map(str, cluster)) for cluster in part)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child")
    parser.add_argument("--stream", required=True, help="ARFF path, synth:..., drift:NAME:SEED")
    parser.add_argument("--model", required=True, help="streamml name, river:br, river:cc, ...")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=int, default=None, help="first N instances only")
    parser.add_argument("--deadline", type=float, default=None, help="stop after S seconds")
    parser.add_argument("--block", type=int, default=None, help="metrics per block of B")
    parser.add_argument("--snapshot", type=int, default=None, help="partition every K")
    parser.add_argument("--score-from", type=int, default=None, help="also score i >= K")
    args = parser.parse_args(argv)

    from streamml.evaluate.metrics import MultiLabelMetrics

    stream = make_stream(args.stream)
    model = make_model(args.model, args.seed)
    metrics = MultiLabelMetrics()
    tail = MultiLabelMetrics() if args.score_from is not None else None
    block = MultiLabelMetrics() if args.block else None
    blocks, snapshots = [], []
    predict_s = learn_s = 0.0
    track = isinstance(getattr(model, "n_restructurings", None), int)
    restructures, done_before = [], getattr(model, "n_restructurings", 0) if track else 0
    clock = time.perf_counter
    stopped = False
    wall = clock()
    for i, (x, y) in enumerate(stream):
        if args.limit is not None and i >= args.limit:
            break
        if args.deadline is not None and clock() - wall > args.deadline:
            stopped = True
            break
        t0 = clock()
        y_pred = model.predict_one(x)
        t1 = clock()
        model.learn_one(x, y)
        t2 = clock()
        predict_s += t1 - t0
        learn_s += t2 - t1
        metrics.update(y, y_pred)
        if track and model.n_restructurings != done_before:
            restructures.append(i)
            done_before = model.n_restructurings
        if tail is not None and i >= args.score_from:
            tail.update(y, y_pred)
        if block is not None:
            block.update(y, y_pred)
            if (i + 1) % args.block == 0:
                blocks.append(dict(end=i + 1, **block.get()))
                block = MultiLabelMetrics()
        if args.snapshot and (i + 1) % args.snapshot == 0:
            part = _partition(model)
            if part is not None:
                snapshots.append([i + 1, part])
    seconds = predict_s + learn_s
    result = dict(metrics.get())
    result.update(
        n=metrics.n_instances,
        seconds=seconds,
        learn_seconds=learn_s,
        predict_seconds=predict_s,
        instances_per_second=metrics.n_instances / seconds if seconds else 0.0,
        stopped_by_deadline=stopped,
        example_f1_empty=1,
        n_labels=len(metrics.labels),
    )
    if tail is not None:
        result["tail"] = dict(tail.get(), n=tail.n_instances, start=args.score_from)
    if args.block:
        result["blocks"] = blocks
    if args.snapshot:
        result["partitions"] = snapshots
    events = getattr(model, "drift_events", None)
    if events is not None and not callable(events):
        result["events"] = [
            dict(index=e.index, level=e.level, detector=e.detector, n_labels=len(e.labels))
            for e in events
        ]
        result["n_restructurings"] = getattr(model, "n_restructurings", None)
    if track:
        result["restructures"] = restructures
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
