"""Drift study: structure-level detection on synthetic streams whose change points are known.

Each scenario is a `streamml.datasets.synth.LabelGroups` stream: labels in groups that co-occur,
and scheduled changes of the grouping (sudden, gradual, a few swapped labels, a return to the
first grouping) or of the feature-label relation only (which the label structure does not see:
a structure event there is a false alarm). For every scenario and seed, IHOMER, IHOMER that
never restructures (``ihomer-static``) and the cluster learner alone (``mlhat``) run in their
own processes; the study reports

- detection delay: instances from a change of the grouping to IHOMER's first structure-level
  event within ``tolerance`` instances after it (missed if none), and the same for its
  restructurings (which also follow LabelODAC's periodic refinement, without an event);
- false alarms: structure events (restructurings) outside those windows, once the first
  ``tolerance`` instances (the initial structure learning) are over;
- the adjusted Rand index of IHOMER's partition against the true grouping over time;
- subset accuracy and micro F1 per block, around each change, against the two models that
  never restructure.
"""

from __future__ import annotations

import csv
import json
import math
import pathlib
import statistics

__all__ = [
    "SCENARIOS",
    "ari",
    "detections",
    "partition_ari_curve",
    "run_drift",
    "scenario",
    "window_mean",
]

SCENARIOS = ("sudden", "gradual", "swaps", "relation")
DEFAULT_MODELS = ("ihomer", "ihomer-static", "mlhat")


def scenario(name: str, seed: int, n_samples: int = 12_000):
    """The stream of a scenario (20 labels in 4 groups, 40 features).

    Parameters
    ----------
    name
        ``sudden``: new grouping at 4,000, back to the first at 8,000; ``gradual``: the same
        changes over 1,000 instances each; ``swaps``: 2 pairs of labels change group at 4,000
        and 2 more at 8,000; ``relation``: only the feature-label relation changes, at 6,000.
    seed
        Seed of the stream.
    n_samples
        Length of the stream (the change points scale with it).

    """
    from streamml.datasets.synth import Drift, LabelGroups

    a, b, mid = n_samples // 3, 2 * n_samples // 3, n_samples // 2
    drifts = {
        "sudden": [Drift(at=a), Drift(at=b, to=0)],
        "gradual": [Drift(at=a, width=n_samples // 12), Drift(at=b, width=n_samples // 12, to=0)],
        "swaps": [Drift(at=a, swaps=2), Drift(at=b, swaps=2)],
        "relation": [Drift(at=mid, regroup=False, relation=True)],
    }
    if name not in drifts:
        raise ValueError(f"unknown scenario {name!r}; choose one of {SCENARIOS}")
    return LabelGroups(
        n_labels=20,
        n_groups=4,
        n_features=40,
        drifts=drifts[name],
        n_samples=n_samples,
        seed=seed,
    )


def structure_change_points(stream) -> list[int]:
    """Where the changes of the true grouping start (``Drift.at``; for a gradual change the new
    grouping dominates later, at ``stream.change_points``)."""
    points = []
    for drift, t in zip(stream.drifts or [], stream.change_points):
        if set(stream.groups_at(t)) != set(stream.groups_at(drift.at - 1)):
            points.append(drift.at)
    return points


def detections(
    event_indices: list[int], change_points: list[int], n: int, tolerance: int
) -> tuple[list[int | None], int, int]:
    """Match structure events to known change points.

    Parameters
    ----------
    event_indices
        Instance indices of the structure-level events, in any order.
    change_points
        Indices at which the true grouping changes.
    n
        Length of the stream.
    tolerance
        An event within ``tolerance`` instances after a change point (and before the next one)
        belongs to that change; the first such event detects it.

    Returns
    -------
    The delay of each change point (None: missed), the number of false alarms (events outside
    every window, after the first ``tolerance`` instances of the stream) and the number of
    events inside the initial window (the structure being learnt).

    """
    events = sorted(event_indices)
    bounds = sorted(change_points) + [n]
    delays: list[int | None] = []
    in_window = set()
    for k, c in enumerate(sorted(change_points)):
        end = min(c + tolerance, bounds[k + 1])
        mine = [e for e in events if c <= e < end]
        delays.append(mine[0] - c if mine else None)
        in_window.update(mine)
    initial = [e for e in events if e < tolerance and e not in in_window]
    false_alarms = [e for e in events if e not in in_window and e >= tolerance]
    return delays, len(false_alarms), len(initial)


def ari(partition_a, partition_b) -> float:
    """Adjusted Rand index of two partitions (lists of label collections) on their common labels.

    Examples
    --------

    >>> ari([{"a", "b"}, {"c"}], [["a", "b"], ["c"]])
    1.0

    """
    from sklearn.metrics import adjusted_rand_score

    where_a = {label: k for k, group in enumerate(partition_a) for label in group}
    where_b = {label: k for k, group in enumerate(partition_b) for label in group}
    common = sorted(set(where_a) & set(where_b), key=str)
    if len(common) < 2:
        return math.nan
    return float(adjusted_rand_score([where_a[x] for x in common], [where_b[x] for x in common]))


def partition_ari_curve(snapshots: list, truth) -> list[tuple[int, float]]:
    """ARI of each ``[t, partition]`` snapshot against ``truth(t - 1)``."""
    return [(t, ari(part, truth(t - 1))) for t, part in snapshots]


def window_mean(blocks: list[dict], start: int, stop: int, metric: str) -> float:
    """Mean of ``metric`` over the blocks that end in ``(start, stop]``."""
    values = [b[metric] for b in blocks if start < b["end"] <= stop]
    return statistics.fmean(values) if values else math.nan


def run_drift(
    out: str | pathlib.Path,
    scenarios=SCENARIOS,
    seeds=(1, 2, 3),
    models=DEFAULT_MODELS,
    n_samples: int = 12_000,
    block: int = 250,
    tolerance: int = 2_000,
    time_limit: float = 600.0,
) -> pathlib.Path:
    """Run the study and write ``drift.csv``, ``drift_runs.json``, ``drift.md``, ``drift.png``.

    Parameters
    ----------
    out
        Output directory.
    scenarios, seeds, models
        What to run (one process per scenario, seed and model).
    n_samples
        Length of each stream.
    block
        Instances per block of the accuracy curves (and between partition snapshots).
    tolerance
        Window after a change point in which a structure event counts as its detection.
    time_limit
        Wall-clock limit per process.

    """
    from . import child

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for name in scenarios:
        for seed in seeds:
            stream = scenario(name, seed, n_samples)
            points = structure_change_points(stream)
            for model in models:
                result = child.call(
                    f"drift:{name}:{seed}:{n_samples}",
                    model,
                    time_limit,
                    block=block,
                    snapshot=block,
                    seed=seed,
                )
                record = dict(
                    scenario=name,
                    seed=seed,
                    model=model,
                    change_points=points,
                    n_samples=n_samples,
                    all_change_points=list(stream.change_points),
                    result=result,
                )
                if result.get("partitions"):
                    record["ari"] = partition_ari_curve(result["partitions"], stream.groups_at)
                runs.append(record)
                print(f"drift {name} seed={seed} {model}: {result['status']}", flush=True)
    (out / "drift_runs.json").write_text(json.dumps(runs))
    return write_drift_report(out, tolerance=tolerance, block=block)


def _summary_rows(runs: list[dict], tolerance: int) -> list[dict]:
    rows = []
    for r in runs:
        res = r["result"]
        row = dict(
            scenario=r["scenario"],
            seed=r["seed"],
            model=r["model"],
            status=res["status"],
            n=res.get("n", 0),
            subset_accuracy=res.get("subset_accuracy", math.nan),
            micro_f1=res.get("micro_f1", math.nan),
            instances_per_second=res.get("instances_per_second", math.nan),
            command=res.get("command", ""),
        )
        events = [e["index"] for e in res.get("events", []) if e["level"] == "structure"]
        if "events" in res:
            delays, false_alarms, initial = detections(
                events, r["change_points"], res.get("n", 0), tolerance
            )
            row.update(
                structure_events=len(events),
                initial_events=initial,
                delays=" ".join("missed" if d is None else str(d) for d in delays),
                false_alarms=false_alarms,
                cluster_events=sum(1 for e in res["events"] if e["level"] == "cluster"),
                restructurings=res.get("n_restructurings"),
            )
        if "restructures" in res:
            r_delays, r_false, r_initial = detections(
                res["restructures"], r["change_points"], res.get("n", 0), tolerance
            )
            row.update(
                restructure_delays=" ".join("missed" if d is None else str(d) for d in r_delays),
                restructure_false_alarms=r_false,
                restructures_initial=r_initial,
            )
        if r.get("ari"):
            values = [v for _, v in r["ari"] if not math.isnan(v)]
            row["final_ari"] = values[-1] if values else math.nan
        rows.append(row)
    return rows


def write_drift_report(out: str | pathlib.Path, tolerance: int = 2_000, block: int = 250):
    """Write ``drift.csv``, ``drift.md`` and ``drift.png`` from ``drift_runs.json`` (with the
    local study's section from ``drift_local_runs.json``; that section alone if the structure
    scenarios were not run in `out`)."""
    out = pathlib.Path(out)
    if not (out / "drift_runs.json").exists():  # only the local study was run here
        from .drift_local import write_local_report

        path = out / "drift.md"
        path.write_text("# Drift study\n\n" + write_local_report(out) + "\n")
        return path
    runs = json.loads((out / "drift_runs.json").read_text())
    rows = _summary_rows(runs, tolerance)
    w = max(block, (runs[0].get("n_samples", 12_000) if runs else 12_000) // 12)
    fields = sorted({k for row in rows for k in row}, key=lambda k: (k == "command", k))
    with open(out / "drift.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)

    lines = [
        "# Drift study",
        "",
        "Synthetic label-group streams (`streamml.datasets.synth.LabelGroups`: 20 labels in 4 "
        "groups, 40 features), scenarios of `benchmarks/drift.py`; every run is its own "
        f"process. A structure-level event (IHOMER's LabelODAC split/aggregate leading to a "
        f"restructuring) within {tolerance:,} instances after a change of the true grouping "
        "detects it; other structure events after the first "
        f"{tolerance:,} instances are false alarms. In the `relation` scenario only the "
        "feature-label relation changes: the grouping does not, so every structure event "
        "after the initial window is a false alarm. Command: `python -m benchmarks drift`.",
        "",
        "## Detection by the structure-level detector",
        "",
        "Two views: the **detector** (structure-level `DriftEvent`s, raised by LabelODAC's "
        "split/aggregate tests) and the **action** (the instances at which the model's "
        "partition was restructured, which also happens on LabelODAC's periodic refinement "
        "without an event). Delays in instances after the start of each change of the "
        "grouping (in a gradual change the new grouping dominates from the middle of the "
        "transition on; the accuracy table below is centred there).",
        "",
        "| model | scenario | seed | change points | detector delays | detector false "
        "alarms | detector events (initial window) | restructure delays | restructure false "
        "alarms | restructurings (initial window) | cluster (ADWIN) events | final ARI vs "
        "truth |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r, row in zip(runs, rows):
        if "delays" not in row or row["model"] == "ihomer-static" or row["restructurings"] is None:
            continue
        lines.append(
            f"| {row['model']} | {row['scenario']} | {row['seed']} | "
            f"{', '.join(map(str, r['change_points'])) or 'none'} | {row['delays'] or '—'} | "
            f"{row['false_alarms']} | {row['structure_events']} "
            f"({row['initial_events']}) | {row.get('restructure_delays') or '—'} | "
            f"{row.get('restructure_false_alarms', '—')} | {row['restructurings']} "
            f"({row.get('restructures_initial', '—')}) | {row['cluster_events']} | "
            f"{row.get('final_ari', math.nan):.2f} |"
        )
    static = [row for row in rows if row["model"] == "ihomer-static" and "delays" in row]
    if static:
        lines += [
            "",
            "`ihomer-static` sees the same label stream, so its detector raises the "
            "same structure events; it restructured "
            f"{sum(row['restructurings'] or 0 for row in static)} times in "
            f"{len(static)} runs (it never acts on them).",
        ]
    failed = [row for row in rows if row["status"] != "ok"]
    if failed:
        lines += [
            "",
            "Runs without a result: "
            + ", ".join(f"{f['scenario']}/{f['seed']}/{f['model']} ({f['status']})" for f in failed)
            + ".",
        ]

    lines += [
        "",
        "## Accuracy around each change (mean over seeds, per-block subset accuracy / micro F1)",
        "",
        "`ihomer-static` is IHOMER whose warm-up never ends, so it never restructures; "
        "`mlhat` is the cluster learner alone on all labels.",
        "",
        f"| scenario | change at | model | {w:,} before | first {w:,} after | "
        f"{w:,}–{3 * w:,} after |",
        "|---|---|---|---|---|---|",
    ]
    models = list(dict.fromkeys(r["model"] for r in runs))
    for name in dict.fromkeys(r["scenario"] for r in runs):
        group = [r for r in runs if r["scenario"] == name and r["result"]["status"] == "ok"]
        if not group:
            continue
        for c in group[0]["all_change_points"]:
            for model in models:
                mine = [r["result"]["blocks"] for r in group if r["model"] == model]
                if not mine:
                    continue
                cells = []
                for lo, hi in ((c - w, c), (c, c + w), (c + w, c + 3 * w)):
                    acc = statistics.fmean(window_mean(b, lo, hi, "subset_accuracy") for b in mine)
                    f1 = statistics.fmean(window_mean(b, lo, hi, "micro_f1") for b in mine)
                    cells.append(f"{acc:.3f} / {f1:.3f}")
                lines.append(f"| {name} | {c:,} | {model} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "## Whole-stream prequential scores (mean over seeds)",
        "",
        "| scenario | model | subset accuracy | micro F1 | instances/s |",
        "|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["scenario"] for r in runs):
        for model in models:
            mine = [
                row
                for row in rows
                if row["scenario"] == name and row["model"] == model and row["status"] == "ok"
            ]
            if mine:
                lines.append(
                    f"| {name} | {model} | "
                    f"{statistics.fmean(m['subset_accuracy'] for m in mine):.3f} | "
                    f"{statistics.fmean(m['micro_f1'] for m in mine):.3f} | "
                    f"{statistics.fmean(m['instances_per_second'] for m in mine):,.0f} |"
                )
    _plot(runs, out / "drift.png")
    lines += [
        "",
        "![accuracy and partition ARI around the changes](drift.png)",
        "",
        "Per-run rows (with the command of each run): [drift.csv](drift.csv).",
    ]
    from .drift_local import write_local_report

    local = write_local_report(out)
    if local:
        lines += ["", local]
    path = out / "drift.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _plot(runs: list[dict], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["scenario"] for r in runs))
    models = list(dict.fromkeys(r["model"] for r in runs))
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 6), squeeze=False)
    for j, name in enumerate(names):
        group = [r for r in runs if r["scenario"] == name and r["result"]["status"] == "ok"]
        ax, ax2 = axes[0][j], axes[1][j]
        for model in models:
            curves = [r["result"]["blocks"] for r in group if r["model"] == model]
            if not curves:
                continue
            ends = [b["end"] for b in curves[0]]
            mean = [
                statistics.fmean(c[k]["subset_accuracy"] for c in curves if k < len(c))
                for k in range(len(ends))
            ]
            ax.plot(ends, mean, label=model)
            aris = [r["ari"] for r in group if r["model"] == model and r.get("ari")]
            if aris:
                ts = [t for t, _ in aris[0]]
                ax2.plot(
                    ts,
                    [
                        statistics.fmean(
                            a[k][1] for a in aris if k < len(a) and not math.isnan(a[k][1])
                        )
                        if any(k < len(a) and not math.isnan(a[k][1]) for a in aris)
                        else math.nan
                        for k in range(len(ts))
                    ],
                    label=model,
                )
        for c in group[0]["all_change_points"] if group else []:
            ax.axvline(c, color="grey", ls="--", lw=0.8)
            ax2.axvline(c, color="grey", ls="--", lw=0.8)
        ax.set_title(name)
        ax.set_ylabel("subset accuracy (block)")
        ax2.set_ylabel("ARI vs true grouping")
        ax2.set_xlabel("instance")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
