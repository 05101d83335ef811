"""The report of the soak benchmark (`service_soak.py`): a CSV per second, a summary, a plot."""

from __future__ import annotations

import csv
import dataclasses
import os
import pathlib
import platform

MB = 2**20
#: Request kinds of the clients, by endpoint family.
PREDICT = ("predict", "predict_batch", "predict_anonymous")
LEARN = ("label", "label_batch", "direct_batch")
WAL_LIMIT = 64 * MB
FLAT = 0.10  # the allowed deviation over the flatness window


@dataclasses.dataclass
class Run:
    """What a soak run measured."""

    args: dict
    settings: dict
    work: pathlib.Path
    started: float
    load_start: float = 0.0  # the time of the samples' t = 0
    samples: list[dict] = dataclasses.field(default_factory=list)
    kills: list[float] = dataclasses.field(default_factory=list)
    restarts: list[float] = dataclasses.field(default_factory=list)  # seconds until ready
    load_seconds: float = 0.0
    final_restart: float | None = None
    final_files: dict = dataclasses.field(default_factory=dict)
    check: dict | None = None


def read_requests(work: pathlib.Path, t0: float) -> list[tuple[float, str, str, float, int]]:
    rows = []
    for path in sorted(work.glob("requests-*.csv")):
        with open(path) as f:
            for when, kind, status, latency, items in csv.reader(f):
                rows.append((float(when) - t0, kind, status, float(latency), int(items)))
    return sorted(rows)


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def per_second(run: Run, requests) -> list[dict]:
    """One row per sample: RSS, file sizes, and the answers of that second."""
    seconds: dict[int, list] = {}
    for row in requests:
        seconds.setdefault(int(row[0]), []).append(row)
    names = sorted({name for s in run.samples for name in s["files"]})
    out = []
    for s in run.samples:
        rows = seconds.get(int(s["t"]), [])
        row = {"t": round(s["t"], 1), "ready": int(s["ready"])}
        row["rss_mb"] = None if s["rss"] is None else round(s["rss"] / MB, 2)
        for name in names:
            row[f"{name}_mb"] = round(s["files"].get(name, 0) / MB, 3)
        row["data_dir_mb"] = round(sum(s["files"].values()) / MB, 3)
        row["log_events"] = s.get("log_events")
        ok = [r for r in rows if r[2] in ("200", "202")]
        row["predictions"] = sum(r[4] for r in ok if r[1] in PREDICT)
        row["learn_events"] = sum(r[4] for r in ok if r[1] in LEARN)
        for family, kinds in (("predict", PREDICT), ("learn", LEARN)):
            latencies = [r[3] for r in rows if r[1] in kinds and r[2] != "cut"]
            for q in (0.5, 0.99):
                value = quantile(latencies, q)
                row[f"{family}_p{int(q * 100)}_ms"] = None if value is None else value * 1e3
        row["5xx"] = sum(1 for r in rows if r[2][0] == "5")
        row["cut"] = sum(1 for r in rows if r[2] == "cut")
        out.append(row)
    return out


def flatness(points: list[tuple[float, float]], window: float) -> dict:
    """Mean, min, max, largest deviation from the mean and linear trend over the window."""
    n = len(points)
    mean = sum(v for _, v in points) / n
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    tm = sum(t for t, _ in points) / n
    var = sum((t - tm) ** 2 for t, _ in points) or 1.0
    slope = sum((t - tm) * (v - mean) for t, v in points) / var
    deviation = max(hi - mean, mean - lo) / mean
    return {
        "mean": mean,
        "min": lo,
        "max": hi,
        "deviation": deviation,
        "trend": slope * window / mean,
        "flat": deviation <= FLAT,
    }


def write_report(run: Run, out: pathlib.Path, name: str, command: str) -> str:
    """Write `<name>.csv`, `<name>.md` and `<name>.png` into `out`; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    requests = read_requests(run.work, run.load_start)
    rows = per_second(run, requests)
    with open(out / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows(rows)
    summary = summarize(run, requests, rows, command)
    (out / f"{name}.md").write_text(summary)
    plot(run, rows, out / f"{name}.png")
    return summary


def plot(run: Run, rows: list[dict], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins: dict[int, list[dict]] = {}
    for r in rows:
        bins.setdefault(int(r["t"] // 10), []).append(r)
    t = [k * 10 + 5 for k in sorted(bins)]

    def mean(key, k):
        values = [r[key] for r in bins[k] if r[key] is not None]
        return sum(values) / len(values) if values else float("nan")

    def top(key, k):
        values = [r[key] for r in bins[k] if r[key] is not None]
        return max(values) if values else float("nan")

    fig, axes = plt.subplots(4, 1, figsize=(11, 13), sharex=True)
    ax = axes[0]
    ax.plot(t, [mean("predictions", k) for k in sorted(bins)], label="predictions /s")
    ax.plot(t, [mean("learn_events", k) for k in sorted(bins)], label="learn events /s")
    ax.set_ylabel("throughput (10 s means)")
    ax = axes[1]
    for family in ("predict", "learn"):
        ax.plot(t, [mean(f"{family}_p50_ms", k) for k in sorted(bins)], label=f"{family} p50")
        ax.plot(t, [top(f"{family}_p99_ms", k) for k in sorted(bins)], label=f"{family} p99")
    ax.set_yscale("log")
    ax.set_ylabel("latency, ms (p99: worst second of 10)")
    ax = axes[2]
    ax.plot(
        [r["t"] for r in rows],
        [r["rss_mb"] for r in rows],
        ".",
        color="C0",
        markersize=2,
        label="RSS (1 s samples, while ready)",
    )
    ax.set_ylabel("server RSS, MiB")
    ax.set_ylim(bottom=0)
    ax = axes[3]
    names = [k[:-3] for k in rows[0] if k.endswith("_mb") and k not in ("rss_mb", "data_dir_mb")]
    for file in names:
        ax.plot([r["t"] for r in rows], [r[f"{file}_mb"] for r in rows], label=file)
    ax.plot([r["t"] for r in rows], [r["data_dir_mb"] for r in rows], "k", label="data directory")
    ax.set_ylabel("size, MiB")
    ax.set_xlabel("seconds")
    for ax in axes:
        for when in run.kills:
            ax.axvline(when, color="red", alpha=0.4, linewidth=1)
        ax.legend(loc="lower right", fontsize=8, ncol=4, framealpha=0.6)
        ax.grid(alpha=0.3)
    kills = f", kill -9 at the red lines ({len(run.kills)})" if run.kills else ""
    axes[0].set_title(f"streamml service soak: {run.args['minutes']:g} minutes{kills}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _mb(value: float) -> str:
    return f"{value / MB:,.1f} MiB"


def summarize(run: Run, requests, rows, command: str) -> str:
    window = run.args["window"] * 60
    start = run.load_seconds - window
    rss = [
        (r["t"], r["rss_mb"] * MB) for r in rows if r["t"] >= start and r["ready"] and r["rss_mb"]
    ]
    disk = [(r["t"], r["data_dir_mb"] * MB) for r in rows if r["t"] >= start]
    wal = {}
    for s in run.samples:
        for file, size in s["files"].items():
            if file.endswith("-wal"):
                wal[file] = max(wal.get(file, 0), size)
    largest = {}
    for s in run.samples:
        total = sum(s["files"].values())
        if total > largest.get("total", 0):
            largest = {"total": total, "t": s["t"]}
    statuses: dict[str, dict[str, int]] = {}
    for _, kind, status, _, _ in requests:
        statuses.setdefault(kind, {}).setdefault(status, 0)
        statuses[kind][status] += 1
    n5xx = sum(n for by in statuses.values() for s, n in by.items() if s[0] == "5")
    lines = [
        f"# Service soak: {run.args['minutes']:g} minutes"
        + (f", {len(run.kills)} kill -9 cycles" if run.kills else ", predictions only"),
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, load average at the end "
        f"{os.getloadavg()[0]:.2f} (shared with other jobs). Model `{run.args['model']}`, seed "
        f"{run.args['seed']}, {run.args['clients']} client processes. Settings: "
        + (", ".join(f"`{k}={v}`" for k, v in run.settings.items()) or "the defaults")
        + ".",
        "",
        "## Answers",
        "",
        "| requests | answers by status (`cut`: connection cut by a kill, sent again) | "
        "p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for kind in sorted(statuses):
        latencies = [r[3] for r in requests if r[1] == kind and r[2] != "cut"]
        by = ", ".join(f"{s}: {n:,}" for s, n in sorted(statuses[kind].items()))
        p50, p99 = quantile(latencies, 0.5), quantile(latencies, 0.99)
        lines.append(
            f"| {kind} | {by} | {p50 * 1e3 if p50 else 0:.2f} | {p99 * 1e3 if p99 else 0:.1f} |"
        )
    if run.kills:
        lines += ["", "## Kills", "", "| kill -9 at (s) | ready again after (s) |", "|---|---|"]
        for when, took in zip(run.kills, run.restarts[1:]):
            lines.append(f"| {when:.0f} | {took:.1f} |")
        lines.append(f"| after the load | {run.final_restart:.1f} |")
    lines += ["", "## Criteria", "", "| | measured | met |", "|---|---|---|"]

    def row(what, measured, met):
        verdict = "(not a criterion here)" if met is None else "yes" if met else "**no**"
        lines.append(f"| {what} | {measured} | {verdict} |")

    flood = run.args.get("flood", False)  # filling up to the caps: flatness is not the point

    for what, points in (("server RSS", rss), ("data directory", disk)):
        if points:
            f = flatness(points, window)
            row(
                f"{what} flat over the last {window / 60:g} min (±10%)",
                f"{_mb(f['min'])} to {_mb(f['max'])}, mean {_mb(f['mean'])}: "
                f"±{f['deviation']:.1%}, trend {f['trend']:+.1%}",
                None if flood else f["flat"],
            )
    row(
        "every `-wal` at most 64 MiB (largest of the 1 s samples)",
        ", ".join(f"{k} {_mb(v)}" for k, v in sorted(wal.items())),
        all(v <= WAL_LIMIT for v in wal.values()),
    )
    row(
        "largest data directory" + (" (under 512 MiB)" if flood else ""),
        f"{_mb(largest.get('total', 0))} at {largest.get('t', 0):.0f} s",
        largest.get("total", 0) < 512 * MB if flood else None,
    )
    row("5xx answers", f"{n5xx:,}", n5xx == 0)
    if run.check is not None:
        c = run.check
        row(
            "acknowledged events lost (after a last kill -9 and restart)",
            f"{c['lost']} of {c['acknowledged_ids']:,} acknowledged ids (recovered log: "
            f"{c['last_event_id']:,} events, model learned {c['n_learned']:,} + "
            f"{c['n_learn_failures']} failures; collisions {c['collisions']}, beyond the log "
            f"{c['beyond_last_event']})",
            c["lost"] == 0 and c["n_learned"] + c["n_learn_failures"] == c["last_event_id"],
        )
        row(
            "acknowledged ids sent again: duplicates with their event id",
            f"{c['resent'] - c['resent_not_duplicate']:,} of {c['resent']:,} (the ids of the "
            f"last {run.settings['STREAMML_DEDUP_EVENTS']} events); learned again: "
            f"{c['learned_by_resending']}",
            c["resent_not_duplicate"] == 0 and c["learned_by_resending"] == 0,
        )
        row(
            "every logged event acknowledged exactly once",
            f"{c['acknowledged_ids']:,} acknowledged ids, {c['last_event_id']:,} logged events",
            c["acknowledged_ids"] == c["last_event_id"],
        )
        row("kill -9 cycles under load", f"{len(run.kills)} (+1 before the check)", True)
    final = ", ".join(f"{k} {_mb(v)}" for k, v in sorted(run.final_files.items()))
    lines += ["", f"Files at the end: {final}.", ""]
    return "\n".join(lines)
