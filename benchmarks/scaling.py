"""Scaling study: cost per instance as the number of labels grows, IHOMER vs binary relevance.

Two series, each run in its own process per (stream, model):

- synthetic `streamml.datasets.synth.LabelGroups` streams with 10 to 1,000 labels (groups of 5
  labels, 50 features), the first ``n`` instances;
- the real streams of a data directory, ordered by number of labels, the first ``real_n``
  instances of each.

Cost per instance = seconds inside ``predict_one`` + ``learn_one`` divided by the instances
processed (a run that reaches its ``deadline`` stops early and is measured on what it did). The
growth exponent b is the slope of a least-squares line through (log L, log cost): cost ~ L^b.
On the real streams the number of features, the sparsity and the label cardinality change with
L as well, so their exponent is only indicative.
"""

from __future__ import annotations

import csv
import math
import pathlib

__all__ = ["LABELS", "growth_exponent", "run_scaling", "write_scaling_report"]

LABELS = (10, 30, 100, 300, 1000)
DEFAULT_MODELS = ("ihomer", "river:br")
NAMES = {"river:br": "river BR+HT", "river:cc": "river CC+HT"}


def growth_exponent(labels: list[float], costs: list[float]) -> tuple[float, float]:
    """Slope and intercept of the least-squares line of log(cost) on log(labels).

    Points with a non-positive or NaN value are left out; fewer than two points give NaN.

    Examples
    --------

    >>> slope, _ = growth_exponent([10, 100, 1000], [1.0, 10.0, 100.0])
    >>> round(slope, 6)
    1.0

    """
    import numpy as np

    pairs = [(a, c) for a, c in zip(labels, costs) if a > 0 and c > 0 and not math.isnan(c)]
    if len(pairs) < 2 or len({a for a, _ in pairs}) < 2:
        return math.nan, math.nan
    x = np.log([a for a, _ in pairs])
    y = np.log([c for _, c in pairs])
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def synthetic_spec(n_labels: int, n: int, seed: int = 7) -> str:
    """The ``synth:`` stream spec of one point of the synthetic series."""
    groups = max(1, n_labels // 5)
    return f"synth:n_labels={n_labels},n_groups={groups},n_features=50,n_samples={n},seed={seed}"


def run_scaling(
    out: str | pathlib.Path,
    data_dir: str | pathlib.Path | None = None,
    models=DEFAULT_MODELS,
    labels=LABELS,
    n: int = 1000,
    real_n: int = 500,
    deadline: float = 90.0,
    time_limit: float = 300.0,
    datasets: list[str] | None = None,
) -> pathlib.Path:
    """Run the study and write ``scaling.csv``, ``scaling.md`` and ``scaling.png`` in ``out``.

    Parameters
    ----------
    out
        Output directory.
    data_dir
        Directory of real streams (None: no real series).
    models
        Child model specs (see `benchmarks.child`).
    labels
        Label counts of the synthetic series.
    n, real_n
        Instances per synthetic / real run.
    deadline
        A run stops after this many seconds of its loop.
    time_limit
        Wall-clock limit per process.
    datasets
        Real data set names (None: all of ``data_dir``).

    """
    from . import child
    from .datasets import discover

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []

    def one(kind: str, name: str, n_labels: int, stream: str, model: str, limit: int):
        result = child.call(stream, model, time_limit, limit=limit, deadline=deadline)
        ok = result["status"] == "ok" and result.get("n", 0) > 0
        row = dict(
            kind=kind,
            stream=name,
            n_labels=n_labels,
            model=NAMES.get(model, model),
            status=result["status"] + (" (deadline)" if result.get("stopped_by_deadline") else ""),
            n=result.get("n", 0),
            seconds=result.get("seconds", math.nan),
            ms_per_instance=1000 * result["seconds"] / result["n"] if ok else math.nan,
            micro_f1=result.get("micro_f1", math.nan),
            peak_memory_mb=result.get("peak_memory_mb", math.nan),
            command=result["command"],
        )
        rows.append(row)
        print(
            f"scaling {name} {row['model']}: {row['status']} "
            f"{row['ms_per_instance']:.2f} ms/instance",
            flush=True,
        )
        _write_csv(rows, out / "scaling.csv")

    for n_labels in labels:
        for model in models:
            one("synthetic", f"synth-L{n_labels}", n_labels, synthetic_spec(n_labels, n), model, n)
    if data_dir is not None:
        sets = sorted(discover(data_dir), key=lambda d: (d.n_labels, d.name))
        if datasets:
            sets = [d for d in sets if d.name in datasets]
        for d in sets:
            for model in models:
                one("real", d.name, d.n_labels, str(d.path), model, real_n)
    return write_scaling_report(out, n=n, real_n=real_n, deadline=deadline)


def _write_csv(rows: list[dict], path: pathlib.Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path: pathlib.Path) -> list[dict]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("n_labels", "n"):
            row[key] = int(row[key])
        for key in ("seconds", "ms_per_instance", "micro_f1", "peak_memory_mb"):
            row[key] = float(row[key]) if row[key] not in ("", "nan") else math.nan
    return rows


def write_scaling_report(
    out: str | pathlib.Path, n: int = 1000, real_n: int = 500, deadline: float = 90.0
) -> pathlib.Path:
    """Write ``scaling.md`` and ``scaling.png`` from ``scaling.csv``."""
    out = pathlib.Path(out)
    rows = _read_csv(out / "scaling.csv")
    models = list(dict.fromkeys(r["model"] for r in rows))
    lines = [
        "# Scaling study: cost per instance vs number of labels",
        "",
        f"Milliseconds per instance (predict + learn) on the first {n:,} instances of synthetic "
        f"label-group streams (groups of 5 labels, 50 features) and the first {real_n:,} "
        f"instances of every real stream, one process per run, each stopped after {deadline:.0f} "
        "s of work (then measured on the instances it processed). The growth exponent b is the "
        "slope of a least-squares fit of log(cost) on log(labels): cost ~ L^b. Command: "
        "`python -m benchmarks scaling`.",
        "",
        "## Growth exponents",
        "",
        "| series | " + " | ".join(models) + " |",
        "|---|" + "---|" * len(models),
    ]
    fits = {}
    for kind in ("synthetic", "real"):
        cells = []
        for model in models:
            mine = [r for r in rows if r["kind"] == kind and r["model"] == model]
            fits[kind, model] = growth_exponent(
                [r["n_labels"] for r in mine], [r["ms_per_instance"] for r in mine]
            )
            cells.append(f"{fits[kind, model][0]:.2f}")
        if any(r["kind"] == kind for r in rows):
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    for kind in ("synthetic", "real"):
        streams = list(dict.fromkeys(r["stream"] for r in rows if r["kind"] == kind))
        if not streams:
            continue
        lines += [
            "",
            f"## {kind.capitalize()} streams (ms per instance)",
            "",
            "| stream | labels | " + " | ".join(models) + " | ratio (first / second) |",
            "|---|---|" + "---|" * (len(models) + 1),
        ]
        for stream in streams:
            mine = {r["model"]: r for r in rows if r["stream"] == stream and r["kind"] == kind}
            first = next(iter(mine.values()))
            cells = []
            for model in models:
                r = mine.get(model)
                if r is None or math.isnan(r["ms_per_instance"]):
                    cells.append(r["status"] if r else "—")
                else:
                    mark = "*" if "deadline" in r["status"] else ""
                    cells.append(f"{r['ms_per_instance']:.2f}{mark}")
            ratio = ""
            if len(models) >= 2 and all(m in mine for m in models[:2]):
                a, b = (mine[m]["ms_per_instance"] for m in models[:2])
                ratio = f"{a / b:.2f}" if b and not (math.isnan(a) or math.isnan(b)) else ""
            lines.append(
                f"| {stream} | {first['n_labels']} | " + " | ".join(cells) + f" | {ratio} |"
            )
    lines += [
        "",
        "\\* stopped by the deadline: measured on fewer instances (see "
        "[scaling.csv](scaling.csv), which has the command of every run).",
        "",
        "![cost per instance vs labels](scaling.png)",
        "",
    ]
    _plot(rows, models, fits, out / "scaling.png")
    path = out / "scaling.md"
    path.write_text("\n".join(lines))
    return path


def _plot(rows, models, fits, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k for k in ("synthetic", "real") if any(r["kind"] == k for r in rows)]
    fig, axes = plt.subplots(1, len(kinds), figsize=(6 * len(kinds), 4.5), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        for model in models:
            mine = [
                r
                for r in rows
                if r["kind"] == kind
                and r["model"] == model
                and not math.isnan(r["ms_per_instance"])
            ]
            mine.sort(key=lambda r: r["n_labels"])
            xs = [r["n_labels"] for r in mine]
            ys = [r["ms_per_instance"] for r in mine]
            slope, intercept = fits[kind, model]
            label = f"{model} (b = {slope:.2f})" if not math.isnan(slope) else model
            (line,) = ax.plot(xs, ys, "o" if kind == "real" else "o-", label=label)
            if not math.isnan(slope) and xs:
                fx = [min(xs), max(xs)]
                ax.plot(
                    fx,
                    [math.exp(intercept) * v**slope for v in fx],
                    "--",
                    color=line.get_color(),
                    lw=1,
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("number of labels")
        ax.set_ylabel("ms per instance (predict + learn)")
        ax.set_title(f"{kind} streams")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
