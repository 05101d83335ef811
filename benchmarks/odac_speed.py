"""Throughput of LabelODAC.learn_one with many labels, against a dense O(L²) count update.

The label vectors are drawn with a seed: `--labels` labels in groups of 2-12 labels with
Zipf-like group rates, about `--positives` positive labels per vector (like delicious: 983
labels, about 19 positive). Reported: label vectors per CPU second (the machine may be
shared; wall-clock rates are printed too) for LabelODAC on full dicts (every label present,
as river streams give them) and on sparse dicts (positives only), the same for a naive dense
update (all L² pair counts per instance, the baseline), the ratios, the tree at the end and
the cost of one refinement.

With `--extreme`, it measures LabelODAC alone at extreme label counts (default 1,000, 10,000
and 100,000 labels): the labels form groups of 10, every instance turns on two groups at random,
each of whose labels is positive with probability 0.8 (about 16 positives per instance).
Every label count runs in a fresh process: label vectors per second (CPU time in
`learn_one`) over the first 1,000 and 3,000 instances, the peak resident memory of the process
(and above the process before LabelODAC was made), the stored pairs and the tree at the end.
`--dicts full` gives every label in every dict, as river streams do (built outside the
timing); `sparse` only the positives, after one dict that declares every label.

With `--follow`, it measures instead how fast the refined partition follows the label groups
of `streamml.datasets.synth.LabelGroups` streams (recomputed whenever `refine_due`, as IHOMER
does): instances to find the groups, to find them again after a sudden regrouping at 6,000,
and how often the refined partition changes after each match (20,000 stationary instances
follow the regrouping).

Run (about a minute each):

    /work/venv/bin/python benchmarks/odac_speed.py --labels 983 --positives 20 --n 30000 --seed 0
    /work/venv/bin/python benchmarks/odac_speed.py --follow --seeds 5
    nice -n 10 python benchmarks/odac_speed.py --extreme --n 3000 --dicts full

"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np

from streamml.partition import LabelODAC


def label_vectors(n_labels: int, positives: float, n: int, seed: int) -> list[np.ndarray]:
    """Positive label indices of `n` vectors."""
    rng = np.random.default_rng(seed)
    sizes = []
    while sum(sizes) < n_labels:
        sizes.append(int(rng.integers(2, 13)))
    sizes[-1] -= sum(sizes) - n_labels
    if sizes[-1] < 1:
        sizes.pop()
        sizes[-1] += n_labels - sum(sizes)
    order = rng.permutation(n_labels)
    groups = np.split(order, np.cumsum(sizes)[:-1])
    weight = 1.0 / np.arange(1, len(groups) + 1) ** 0.7
    weight = weight[rng.permutation(len(groups))]
    # expected positives = sum(rate * 0.8 * size) + noise
    noise = 0.002
    scale = (positives - noise * n_labels) / (0.8 * float(weight @ np.array(sizes)))
    rates = np.clip(weight * scale, 0.0, 0.9)
    member = np.zeros((len(groups), n_labels), dtype=bool)
    for g, group in enumerate(groups):
        member[g, group] = True
    out = []
    for _ in range(n):
        active = (rng.random(len(groups)) < rates) @ member
        on = rng.random(n_labels) < np.where(active, 0.8, noise)
        out.append(np.flatnonzero(on))
    return out


def dense_baseline(vectors: list[np.ndarray], n_labels: int) -> float:
    """Seconds per vector of a dense O(L²) update of all pair counts (the naive way)."""
    counts = np.zeros((n_labels, n_labels))
    y = np.zeros(n_labels)
    start = time.process_time()
    for positive in vectors:
        y[:] = 0.0
        y[positive] = 1.0
        counts += np.outer(y, y)
    return (time.process_time() - start) / len(vectors)


def follow(seeds: int) -> None:
    """Instances to find the groups and to follow a regrouping, per LabelGroups setting."""
    from streamml.datasets.synth import Drift, LabelGroups

    at, n = 6000, 26000
    for n_labels, n_groups, rate in ((12, 3, 0.3), (20, 5, 0.3), (20, 4, 0.15), (30, 5, 0.2)):
        rows = []
        for seed in range(seeds):
            stream = LabelGroups(
                n_labels=n_labels,
                n_groups=n_groups,
                n_features=1,
                group_rate=rate,
                drifts=[Drift(at=at)],
                n_samples=n,
                seed=seed,
            )
            before, after = set(stream.groups_at(0)), set(stream.groups_at(at))
            odac = LabelODAC()
            found = refound = current = None
            moves = [0, 0]
            for t, (_, y) in enumerate(stream):
                odac.learn_one(y)
                if not odac.refine_due:
                    continue
                refined = set(odac.refined_partition(min_size=1))
                if refined != current:
                    if t < at and found is not None:
                        moves[0] += 1
                    if t >= at and refound is not None:
                        moves[1] += 1
                current = refined
                if found is None and refined == before:
                    found = t
                if t >= at and refound is None and refined == after:
                    refound = t - at
            rows.append((found, refound, *moves))
        print(
            f"{n_labels} labels, {n_groups} groups, group rate {rate}: "
            "(found at, found again after the regrouping, changes after each match) = "
            + ", ".join(str(row) for row in rows)
        )


def extreme_vectors(n_labels: int, n: int, seed: int, group: int = 10, active: int = 2):
    """Positive label ids of `n` vectors: `active` random groups of `group` labels on, each
    of their labels positive with probability 0.8."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_labels)
    n_groups = n_labels // group
    out = []
    for _ in range(n):
        chosen = rng.choice(n_groups, size=active, replace=False)
        members = np.concatenate([order[g * group : (g + 1) * group] for g in chosen])
        out.append(np.sort(members[rng.random(len(members)) < 0.8]))
    return out


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def extreme_one(n_labels: int, n: int, seed: int, dicts: str) -> dict:
    """One label count, in this process: speed over the first 1,000 and `n` instances."""
    names = [f"l{i}" for i in range(n_labels)]
    vectors = extreme_vectors(n_labels, n, seed)
    before = _current_rss_mb()
    odac = LabelODAC()
    odac.learn_one(dict.fromkeys(names, False))  # every label known from the start
    cpu, marks = 0.0, {}
    for t, positive in enumerate(vectors):
        if dicts == "full":
            y = dict.fromkeys(names, False)
            for i in positive.tolist():
                y[names[i]] = True
        else:
            y = {names[i]: True for i in positive.tolist()}
        start = time.process_time()
        odac.learn_one(y)
        cpu += time.process_time() - start
        if t + 1 in (1000, n):
            marks[t + 1] = (t + 1) / cpu
    return {
        "labels": n_labels,
        "positives": float(np.mean([len(v) for v in vectors])),
        "per_second": marks,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_mb": before,
        "pairs": odac._tree.counts.n_pairs,
        "leaves": len(odac.partition),
        "changes": odac.n_changes,
    }


def extreme(labels: list[int], n: int, seed: int, dicts: str) -> None:
    """Every label count in a fresh process (so that the peak memory is its own)."""
    import json
    import subprocess

    print(
        "labels | positives/instance | instances/s (first 1,000) | "
        f"instances/s (first {n:,}) | peak RSS | RSS before LabelODAC | pairs | leaves | changes"
    )
    for n_labels in labels:
        code = (
            "import json, sys; sys.path.insert(0, 'benchmarks'); import odac_speed; "
            f"print(json.dumps(odac_speed.extreme_one({n_labels}, {n}, {seed}, {dicts!r})))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rates = r["per_second"]
        print(
            f"{r['labels']:,} | {r['positives']:.1f} | {rates.get('1000', float('nan')):,.0f} | "
            f"{rates.get(str(n), float('nan')):,.0f} | {r['peak_rss_mb']:,.0f} MB | "
            f"{r['rss_before_mb']:,.0f} MB | {r['pairs']:,} | {r['leaves']:,} | {r['changes']}",
            flush=True,
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=int, default=983)
    parser.add_argument("--positives", type=float, default=20.0)
    parser.add_argument("--n", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-n", type=int, default=500)
    parser.add_argument("--follow", action="store_true", help="measure following the groups")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--extreme", action="store_true", help="LabelODAC at extreme sizes")
    parser.add_argument(
        "--extreme-labels", default="1000,10000,100000", help="label counts of --extreme"
    )
    parser.add_argument("--dicts", choices=("full", "sparse"), default="full")
    args = parser.parse_args(argv)
    print("command:", shlex.join([sys.executable, *sys.argv]))
    if args.extreme:
        labels = [int(v) for v in args.extreme_labels.split(",")]
        extreme(labels, args.n, args.seed, args.dicts)
        return
    if args.follow:
        follow(args.seeds)
        return

    names = [f"label{i}" for i in range(args.labels)]
    vectors = label_vectors(args.labels, args.positives, args.n, args.seed)
    full, sparse = [], []
    for positive in vectors:
        on = set(positive.tolist())
        full.append({name: i in on for i, name in enumerate(names)})
        sparse.append({names[i]: True for i in positive})
    print(
        f"{args.n} vectors, {args.labels} labels, {np.mean([len(v) for v in vectors]):.1f} "
        "positive labels per vector on average"
    )

    results = {}
    for kind, data in (("full dicts", full), ("sparse dicts", sparse)):
        odac = LabelODAC()
        odac.learn_one({name: False for name in names})  # every label known from the start
        start, cpu = time.perf_counter(), time.process_time()
        for y in data:
            odac.learn_one(y)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        results[kind] = args.n / cpu
        print(
            f"LabelODAC, {kind}: {args.n / cpu:,.0f} vectors per CPU second, "
            f"{args.n / seconds:,.0f} per wall second "
            f"({odac.n_changes} changes, {len(odac.partition)} leaves)"
        )
    per_vector = dense_baseline(vectors[: args.baseline_n], args.labels)
    print(
        f"dense O(L²) update: {1 / per_vector:,.0f} vectors per CPU second "
        f"(over {args.baseline_n} vectors)"
    )
    for kind, rate in results.items():
        print(f"ratio LabelODAC ({kind}) / dense: {rate * per_vector:.1f}x")

    start = time.process_time()
    refined = odac.refined_partition()
    print(
        f"refined_partition(): {time.process_time() - start:.3f} CPU s, {len(refined)} clusters "
        f"(min_size={max(1, odac.cardinality_mode)})"
    )
    sizes = sorted((len(c) for c in odac.partition), reverse=True)
    print(f"leaf sizes (largest 10): {sizes[:10]}")


if __name__ == "__main__":
    main()
