"""Batch reference with scikit-multilearn: label communities and a partitioned batch learner.

For each stream:

- the label co-occurrence graph (`LabelCooccurrenceGraphBuilder`, weighted, no self edges)
  split into communities by Louvain gives a batch partition of the labels, on the whole stream
  and on every prefix at which IHOMER's partition is recorded;
- the adjusted Rand index (ARI) of IHOMER's online partition against both, over time;
- a batch `LabelSpacePartitioningClassifier` (label powerset of a random forest in each
  community found on the first half) trained on the first half and tested on the second half,
  beside IHOMER's prequential score on the same second half (IHOMER has learnt from the first
  half and keeps learning on the second, as a stream learner does).

The batch side runs in a child process (``python -m benchmarks.batch_reference fit``), IHOMER
in another (`benchmarks.child`), each with a time limit.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import pathlib
import statistics
import sys
import time

__all__ = ["batch_partition", "load_matrices", "lspc_scores", "run_batch"]


def load_matrices(path: str | pathlib.Path, limit: int | None = None):
    """Features (sparse, strings one-hot encoded), labels (0/1 sparse) and label names."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction import DictVectorizer

    from streamml.datasets import ARFF

    stream = ARFF(path)
    xs, rows = [], []
    for i, (x, y) in enumerate(stream):
        if limit is not None and i >= limit:
            break
        xs.append(x)
        rows.append([1 if y[label] else 0 for label in stream.labels])
    X = DictVectorizer(sparse=True).fit_transform(xs).tocsr()
    Y = sp.csr_matrix(np.asarray(rows, dtype=np.int8).reshape(len(rows), len(stream.labels)))
    return X, Y, list(stream.labels)


def batch_partition(Y, names: list[str], seed: int = 0) -> list[list[str]]:
    """Louvain communities of the weighted label co-occurrence graph of ``Y`` (label names)."""
    from skmultilearn.cluster import LabelCooccurrenceGraphBuilder

    from .skm_compat import LouvainClusterer

    builder = LabelCooccurrenceGraphBuilder(weighted=True, include_self_edges=False)
    groups = LouvainClusterer(builder, random_state=seed).fit_predict(None, Y)
    return sorted(sorted(names[i] for i in group) for group in groups)


def lspc_scores(X, Y, names: list[str], split: int, seed: int = 0, n_estimators: int = 50):
    """Train a `LabelSpacePartitioningClassifier` on rows ``< split``, score rows ``>= split``.

    Returns the metrics of `streamml.evaluate.metrics.MultiLabelMetrics`, with ``n``, the
    partition used and the fit and predict seconds.
    """
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from skmultilearn.cluster import LabelCooccurrenceGraphBuilder
    from skmultilearn.ensemble import LabelSpacePartitioningClassifier
    from skmultilearn.problem_transform import LabelPowerset

    from streamml.evaluate.metrics import MultiLabelMetrics

    from .skm_compat import LouvainClusterer

    builder = LabelCooccurrenceGraphBuilder(weighted=True, include_self_edges=False)
    clusterer = LouvainClusterer(builder, random_state=seed)
    forest = RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=1)
    model = LabelSpacePartitioningClassifier(
        classifier=LabelPowerset(classifier=forest, require_dense=[False, True]),
        clusterer=clusterer,
        require_dense=[False, False],
    )
    t0 = time.perf_counter()
    model.fit(X[:split], Y[:split])
    t1 = time.perf_counter()
    predicted = model.predict(X[split:])
    t2 = time.perf_counter()
    predicted = predicted.toarray() if hasattr(predicted, "toarray") else np.asarray(predicted)
    truth = Y[split:].toarray()
    metrics = MultiLabelMetrics()
    for yt, yp in zip(truth, predicted):
        metrics.update(
            {n: bool(v) for n, v in zip(names, yt)}, {n: bool(v) for n, v in zip(names, yp)}
        )
    result = dict(
        metrics.get(), n=metrics.n_instances, fit_seconds=t1 - t0, predict_seconds=t2 - t1
    )
    result["partition"] = sorted(sorted(names[i] for i in g) for g in model.partition_)
    return result


def _fit_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch_reference fit")
    parser.add_argument("--data", required=True)
    parser.add_argument("--every", type=int, required=True, help="prefix partitions every K")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    X, Y, names = load_matrices(args.data, args.limit)
    n = Y.shape[0]
    prefixes = [
        [t, batch_partition(Y[:t], names, args.seed)] for t in range(args.every, n + 1, args.every)
    ]
    result = dict(
        n=n,
        labels=names,
        whole=batch_partition(Y, names, args.seed),
        prefixes=prefixes,
        lspc=lspc_scores(X, Y, names, n // 2, args.seed),
    )
    print(json.dumps(result))
    return 0


def _ari_curves(ihomer: dict, batch: dict) -> list[dict]:
    from .drift import ari

    at = {t: part for t, part in batch["prefixes"]}
    curve = []
    for t, part in ihomer.get("partitions", []):
        curve.append(
            dict(
                t=t,
                ari_whole=ari(part, batch["whole"]),
                ari_prefix=ari(part, at[t]) if t in at else math.nan,
                n_clusters=len(part),
            )
        )
    return curve


def run_batch(
    out: str | pathlib.Path,
    data_dir: str | pathlib.Path,
    datasets: list[str] | None = None,
    model: str = "ihomer",
    max_instances: int = 10_000,
    time_limit: float = 300.0,
    seed: int = 0,
) -> pathlib.Path:
    """Run the batch reference and write ``batch.csv``, ``batch_runs.json``, ``batch.md``,
    ``batch_ari.png``.

    Parameters
    ----------
    out
        Output directory.
    data_dir
        Directory of real streams.
    datasets
        Names (None: the streams with a published row and at most ``max_instances``
        instances).
    model
        The online model (a `benchmarks.child` model spec).
    max_instances
        Longer streams are left out unless named in ``datasets``.
    time_limit
        Wall-clock limit of each process; the online run stops itself 30 s before it (its
        scores then cover the instances it reached).
    seed
        Seed of Louvain and of the forests.

    """
    from . import child
    from .datasets import discover
    from .proc import ONE_THREAD, run_process

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sets = discover(data_dir)
    if datasets:
        sets = [d for d in sets if d.name in datasets]
    else:
        from .published import read_published

        published = {r.dataset for r in read_published()}
        sets = [d for d in sets if d.n_instances <= max_instances and d.name in published]
    records = []
    for d in sets:
        every = max(100, d.n_instances // 20)
        online = child.call(
            str(d.path),
            model,
            time_limit,
            snapshot=every,
            score_from=d.n_instances // 2,
            deadline=max(time_limit - 30, 10),
        )
        argv = [
            sys.executable,
            "-m",
            "benchmarks.batch_reference",
            "fit",
            "--data",
            str(d.path),
            "--every",
            str(every),
            "--seed",
            str(seed),
        ]
        done = run_process(
            argv, time_limit, ONE_THREAD, cwd=pathlib.Path(__file__).resolve().parents[1]
        )
        batch = {"status": "timeout" if done.timed_out else "failed"}
        lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
        if not done.timed_out and done.returncode == 0 and lines:
            batch = json.loads(lines[-1])
            batch["status"] = "ok"
        elif not done.timed_out:
            batch["error"] = (done.stderr.strip().splitlines() or ["?"])[-1][:300]
        batch["command"] = " ".join(["python"] + argv[1:])
        record = dict(
            dataset=d.name,
            n=d.n_instances,
            n_labels=d.n_labels,
            online=online,
            batch=batch,
            model=model,
        )
        if online["status"] == "ok" and batch["status"] == "ok":
            record["ari"] = _ari_curves(online, batch)
        records.append(record)
        print(f"batch {d.name}: online {online['status']}, batch {batch['status']}", flush=True)
        (out / "batch_runs.json").write_text(json.dumps(records))
    return write_batch_report(out)


def write_batch_report(out: str | pathlib.Path) -> pathlib.Path:
    """Write ``batch.csv``, ``batch.md`` and ``batch_ari.png`` from ``batch_runs.json``."""
    out = pathlib.Path(out)
    records = json.loads((out / "batch_runs.json").read_text())
    rows = []
    for r in records:
        online, batch = r["online"], r["batch"]
        tail = online.get("tail", {})
        lspc = batch.get("lspc", {})
        curve = r.get("ari", [])
        row = dict(
            dataset=r["dataset"],
            n=r["n"],
            n_labels=r["n_labels"],
            model=r["model"],
            online_status=online["status"]
            + (" (deadline)" if online.get("stopped_by_deadline") else ""),
            online_n=online.get("n", 0),
            batch_status=batch["status"],
            batch_clusters=len(batch.get("whole", [])),
            online_clusters=curve[-1]["n_clusters"] if curve else "",
            final_ari_whole=curve[-1]["ari_whole"] if curve else math.nan,
            final_ari_prefix=curve[-1]["ari_prefix"] if curve else math.nan,
            mean_ari_prefix=_nanmean([c["ari_prefix"] for c in curve]),
        )
        for metric in ("subset_accuracy", "hamming_loss", "micro_f1", "macro_f1", "example_f1"):
            row[f"lspc_{metric}"] = lspc.get(metric, math.nan)
            row[f"online_{metric}"] = tail.get(metric, math.nan)
        row["second_half_n_lspc"] = lspc.get("n", 0)
        row["second_half_n_online"] = tail.get("n", 0)
        row["lspc_fit_seconds"] = lspc.get("fit_seconds", math.nan)
        row["online_command"] = online.get("command", "")
        row["batch_command"] = batch.get("command", "")
        rows.append(row)
    with open(out / "batch.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["dataset"])
        writer.writeheader()
        writer.writerows(rows)

    def f(v, d=3):
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"

    model = records[0]["model"] if records else "ihomer"
    lines = [
        "# Batch reference (scikit-multilearn 0.2.0)",
        "",
        "Batch partition: Louvain communities (python-louvain, seed 0) of the weighted label "
        "co-occurrence graph (`LabelCooccurrenceGraphBuilder(weighted=True, "
        "include_self_edges=False)`), through `benchmarks/skm_compat.py` (scikit-multilearn "
        "0.2.0 cannot return communities of unequal sizes under numpy 2). "
        f"ARI = adjusted Rand index of {model}'s online partition against the batch partition of "
        "the **whole** stream, and against the batch partition of the **same prefix** (what a "
        "batch method would find with the data the online model has seen), at about 20 points "
        "of the stream. Command: `python -m benchmarks batch`.",
        "",
        "| data set | n | labels | batch communities | online clusters (end) | ARI vs whole "
        "(end) | ARI vs prefix (end) | ARI vs prefix (mean over time) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['dataset']} | {row['n']:,} | {row['n_labels']} | {row['batch_clusters']} | "
            f"{row['online_clusters']} | {f(row['final_ari_whole'], 2)} | "
            f"{f(row['final_ari_prefix'], 2)} | {f(row['mean_ari_prefix'], 2)} |"
        )
    lines += [
        "",
        "## Second half: batch learner trained on the first half vs the online model",
        "",
        "Batch: `LabelSpacePartitioningClassifier(LabelPowerset(RandomForestClassifier("
        "n_estimators=50)))` over the Louvain communities of the first half, trained once on the "
        f"first half and tested on the second. Online: {model}'s prequential score on the same "
        "second half (it learnt the first half and keeps learning). Metrics as in "
        "../shared/docs/ihomer.md §4 (example F1 = 1 when both sets are empty) for both.",
        "",
        "| data set | subset acc. batch / online | Hamming loss batch / online | micro F1 batch / "
        "online | macro F1 batch / online | example F1 batch / online |",
        "|---|---|---|---|---|---|",
    ]
    wins = 0
    for row in rows:
        cells = []
        for metric in ("subset_accuracy", "hamming_loss", "micro_f1", "macro_f1", "example_f1"):
            a, b = row[f"lspc_{metric}"], row[f"online_{metric}"]
            better_online = (b < a) if metric == "hamming_loss" else (b > a)
            cells.append(f"{f(a)} / {'**' + f(b) + '**' if better_online else f(b)}")
        if not math.isnan(row["online_micro_f1"]) and not math.isnan(row["lspc_micro_f1"]):
            wins += row["online_micro_f1"] > row["lspc_micro_f1"]
        partial = "" if row["online_status"] == "ok" else f" ({row['online_status']})"
        lines.append(f"| {row['dataset']}{partial} | " + " | ".join(cells) + " |")
    scored = sum(
        1
        for row in rows
        if not math.isnan(row["online_micro_f1"]) and not math.isnan(row["lspc_micro_f1"])
    )
    lines += [
        "",
        f"Bold: the online model is better. On micro F1 the online model beats the "
        f"batch reference on {wins} of {scored} data sets.",
        "",
    ]
    _plot(records, out / "batch_ari.png")
    lines += [
        "![ARI of the online partition vs the batch partition over time](batch_ari.png)",
        "",
        "Per-data-set rows with commands: [batch.csv](batch.csv).",
        "",
    ]
    path = out / "batch.md"
    path.write_text("\n".join(lines))
    return path


def _nanmean(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.fmean(values) if values else math.nan


def _plot(records: list[dict], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for r in records:
        curve = r.get("ari", [])
        if not curve:
            continue
        xs = [c["t"] / r["n"] for c in curve]
        axes[0].plot(xs, [c["ari_whole"] for c in curve], label=r["dataset"], lw=1)
        axes[1].plot(xs, [c["ari_prefix"] for c in curve], label=r["dataset"], lw=1)
    for ax, title in zip(
        axes, ("vs batch partition of the whole stream", "vs batch partition of the same prefix")
    ):
        ax.set_title(f"ARI, {title}")
        ax.set_xlabel("fraction of the stream")
        ax.set_ylabel("adjusted Rand index")
    axes[1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    if sys.argv[1:2] != ["fit"]:
        print("usage: python -m benchmarks.batch_reference fit --data F --every K", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(_fit_main(sys.argv[2:]))
