"""benchmarks/results/distributed.md from the record of `benchmarks.distributed`."""

from __future__ import annotations

import pathlib

__all__ = ["write_report"]


def _deltas(run: dict, other: dict | None) -> str:
    if other is None:
        return ""
    subset = run["subset_accuracy"] - other["subset_accuracy"]
    return f"{subset:+.4f} / {run['micro_f1'] - other['micro_f1']:+.4f}"


def _stream_table(stream: dict) -> list[str]:
    runs = stream["runs"]
    reference = runs[0] if "shards" not in runs[0] else None
    default = next((r for r in runs if r["model"] == "IHOMER (default)"), None)
    one = next((r for r in runs if r.get("shards") == 1), None)
    lines = [
        f"### {stream['stream']}: first {stream['n']:,} instances, {stream['labels']:,} labels, "
        f"micro-batches of {stream['batch']:,}",
        "",
        f"Measured {stream['measured']} with a local Ray of {stream['num_cpus']} CPUs:",
        "",
        f"    {stream['command']}",
        "",
        "| model | instances/s | vs 1 shard | subset accuracy | micro-F1 | Δ subset / micro-F1 "
        "vs share=False | Δ subset / micro-F1 vs default | clusters | moves | memory per shard "
        "(RSS / clusters' state) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        speed = r["instances_per_second"]
        ratio = f"{speed / one['instances_per_second']:.2f}x" if one else ""
        memory = ", ".join(
            f"{m['rss_mb']:,.0f} / {m['state_mb']:,.1f} MB" for m in r.get("shard_memory", [])
        )
        delta = _deltas(r, reference)
        versus = _deltas(r, default)
        lines.append(
            f"| {r['model']} | {speed:,.1f} | {ratio if 'shards' in r else ''} | "
            f"{r['subset_accuracy']:.4f} | {r['micro_f1']:.4f} | {delta} | {versus} | "
            f"{r['clusters']} | "
            f"{r.get('moves', '')} | {memory} |"
        )
    part = stream["partition"]
    lines += [
        "",
        f"LabelODAC alone on these label sets (in the driver): {part['ms_per_instance']:.3f} ms "
        f"CPU per instance, {part['state_mb']:.1f} MB pickled, {part['leaves']} leaves.",
        "",
    ]
    return lines


def write_report(record: dict, path: pathlib.Path) -> None:
    lines = [
        "# iHOMER on K shards (Ray actors) against iHOMER in one process",
        "",
        "Written by `python -m benchmarks distributed` (see `benchmarks/distributed.py`), on "
        "this machine (see machine.md; other jobs may share its 2 cores). The models run in "
        "lockstep on the same micro-batches (each predicts a batch, then learns it), so the "
        "speed ratios compare them under the same load. `IHOMER(share=False)` (with "
        "`label_drift_delta=None`) computes what the shards compute, in one process: instance "
        "by instance (`learn_one`) the sharded model predicts exactly as it (tested); on "
        "micro-batches they differ only where the sharded model changes its partition, creates "
        "new labels' clusters or ends a handover at the end of a batch instead of at the "
        "instance, and where its clusters score the learner on all the labels by its "
        "predictions made before the batch. The default IHOMER shares one learner on all the "
        "labels between its clusters (it cannot be sharded by cluster) and tests each label's "
        "error.",
        "",
    ]
    capacity = record.get("capacity")
    if capacity:
        lines += [
            f"Two processes at once get {capacity['compute']:.2f}x the work of one done on "
            f"small products of vectors by matrices, and {capacity['memory']:.2f}x on "
            f"products by a 4 MB matrix (2.00x on two independent cores; measured "
            f"{capacity['measured']}, `benchmarks.distributed.parallel_capacity`): that bounds "
            "what 2 shards can gain over 1 here.",
            "",
        ]
    for stream in record["streams"]:
        lines += _stream_table(stream)
    lines += record.get("notes", [])
    path.write_text("\n".join(lines) + "\n")
