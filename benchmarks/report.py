"""The Markdown report of a benchmark run: a table per metric, average ranks, speed, plots."""

from __future__ import annotations

import json
import math
import pathlib
import warnings

from .records import LOWER_IS_BETTER, METRICS, Run, read_csv

__all__ = ["average_ranks", "metric_table", "rank_row", "write_report"]

#: published learners shown beside ours in the per-metric tables (all 17 are in the rank table)
SHOWN_PUBLISHED = ("MLHAT", "MLHT", "iSOUPT", "HT")
REPO = pathlib.Path(__file__).resolve().parents[1]
BASELINE = "river BR+HT"
#: streamml's baselines, left out of "Where streamml loses"
BASELINES = frozenset({"majority", "br-ht", "cc-ht"})
TITLES = {
    "subset_accuracy": "Subset accuracy (higher is better)",
    "hamming_loss": "Hamming loss (lower is better)",
    "micro_f1": "Micro F1 (higher is better)",
    "macro_f1": "Macro F1 (higher is better; a label never true nor predicted scores 0)",
    "example_f1": "Example-based F1 (higher is better)",
}
_SOURCE_ORDER = {"streamml": 0, "river": 1, "moa": 2, "published": 3}


def _fmt(value: float, digits: int = 3) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _fmt_rate(value: float) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def rank_row(values: dict[str, float], lower_is_better: bool = False) -> dict[str, float]:
    """Ranks of the models on one data set (1 = best; ties share the mean rank).

    A model without a score (NaN) ranks after every scored model, tied with the other
    unscored ones.

    Parameters
    ----------
    values
        Model -> score.
    lower_is_better
        Whether a lower score is better (Hamming loss).

    """
    scored = [(m, v) for m, v in values.items() if not math.isnan(v)]
    missing = [m for m, v in values.items() if math.isnan(v)]
    scored.sort(key=lambda item: item[1] if lower_is_better else -item[1])
    ranks: dict[str, float] = {}
    i = 0
    while i < len(scored):
        j = i
        while j + 1 < len(scored) and scored[j + 1][1] == scored[i][1]:
            j += 1
        for k in range(i, j + 1):
            ranks[scored[k][0]] = (i + j) / 2 + 1
        i = j + 1
    if missing:
        shared = (len(scored) + 1 + len(values)) / 2
        for m in missing:
            ranks[m] = shared
    return ranks


def _sorted_streams_note(rates: dict[str, float], threshold: float = 0.5) -> str:
    """A legend line naming the streams whose files are sorted by label set."""
    sorted_ = {d: r for d, r in rates.items() if r >= threshold}
    if not sorted_:
        return "- No stream repeats the previous instance's label set more than half the time."
    names = ", ".join(f"{d} ({100 * r:.0f} %)" for d, r in sorted_.items())
    return (
        "- Streams stored sorted by label set: the share of instances with the same label set "
        f"as the previous one is {names} (most streams: under 20 %). There, remembering the "
        "last label sets pays (kNN-style leaves, recent windows) and prequential scores are "
        "far above what a model trained on one half scores on the other (see the batch "
        "reference); the published rows come from the same files."
    )


def _grid(runs: list[Run]) -> dict[tuple[str, str], Run]:
    return {(r.dataset, r.model): r for r in runs}


def _value(run: Run | None, metric: str) -> float:
    if run is None or not run.scored:
        return math.nan
    return run.metric(metric)


def average_ranks(
    runs: list[Run], metric: str, models: list[str], datasets: list[str]
) -> dict[str, float]:
    """Mean over ``datasets`` of each model's rank on ``metric`` (see `rank_row`).

    Data sets where no model has a score are left out.
    """
    grid = _grid(runs)
    totals = dict.fromkeys(models, 0.0)
    count = 0
    for dataset in datasets:
        values = {m: _value(grid.get((dataset, m)), metric) for m in models}
        if all(math.isnan(v) for v in values.values()):
            continue
        count += 1
        for m, r in rank_row(values, metric in LOWER_IS_BETTER).items():
            totals[m] += r
    return {m: (t / count if count else math.nan) for m, t in totals.items()}


def _short(model: str) -> str:
    return model.replace(" (published)", " (pub.)")


def _mark(run: Run | None, metric: str) -> str:
    if run is None:
        return ""
    marks = ""
    if run.status == "prefix":
        marks += "†"
    if metric == "example_f1" and run.example_f1_empty == "0" and run.n_total:
        marks += "‡"
    return marks


def metric_table(
    runs: list[Run], metric: str, models: list[str], datasets: list[str], reference: bool = True
) -> str:
    """A Markdown table: data sets as rows, ``models`` as columns, the best in bold.

    The last row is the average rank. With ``reference``, a last column gives the best of the
    published learners (not ranked, not bolded).
    """
    grid = _grid(runs)
    published = sorted({r.model for r in runs if r.source == "published"})
    lower = metric in LOWER_IS_BETTER
    header = ["data set"] + [_short(m) for m in models]
    show_ref = reference and any(
        not math.isnan(_value(r, metric)) for r in runs if r.source == "published"
    )
    if show_ref:
        header.append("best published (by)")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset in datasets:
        values = {m: _value(grid.get((dataset, m)), metric) for m in models}
        present = [v for v in values.values() if not math.isnan(v)]
        best = (min(present) if lower else max(present)) if present else math.nan
        cells = [dataset]
        for m in models:
            v = values[m]
            text = _fmt(v) + _mark(grid.get((dataset, m)), metric)
            if not math.isnan(v) and _fmt(v) == _fmt(best):
                text = f"**{text}**"
            cells.append(text)
        if show_ref:
            pub = [(p, _value(grid.get((dataset, p)), metric)) for p in published]
            pub = [(p, v) for p, v in pub if not math.isnan(v)]
            if pub:
                p, v = (min if lower else max)(pub, key=lambda item: item[1])
                cells.append(f"{_fmt(v)} ({p.replace(' (published)', '')})")
            else:
                cells.append("—")
        lines.append("| " + " | ".join(cells) + " |")
    ranks = average_ranks(runs, metric, models, datasets)
    cells = ["*average rank*"] + [_fmt(ranks[m], 2) for m in models]
    if show_ref:
        cells.append("")
    lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _model_order(runs: list[Run]) -> list[str]:
    seen: dict[str, tuple] = {}
    for i, r in enumerate(runs):
        seen.setdefault(r.model, (_SOURCE_ORDER.get(r.source, 9), i))
    return sorted(seen, key=seen.get)


def _datasets(runs: list[Run], info: dict) -> list[str]:
    order = info.get("datasets")
    present = {r.dataset for r in runs if r.source != "published"} or {r.dataset for r in runs}
    if order:
        return [d for d in order if d in present]
    return sorted(present)


def _speed_table(runs: list[Run], models: list[str], datasets: list[str]) -> str:
    grid = _grid(runs)
    header = ["data set"] + [_short(m) for m in models]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset in datasets:
        base = grid.get((dataset, BASELINE))
        base_rate = base.instances_per_second if base is not None and base.scored else math.nan
        cells = [dataset]
        for m in models:
            run = grid.get((dataset, m))
            if run is None or not run.scored or math.isnan(run.instances_per_second):
                cells.append("—" if run is None else run.status)
                continue
            text = _fmt_rate(run.instances_per_second) + _mark(run, "")
            if not math.isnan(base_rate) and base_rate > 0:
                ratio = run.instances_per_second / base_rate
                text += f" ({ratio:,.0f}×)" if ratio >= 10 else f" ({ratio:.2g}×)"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _memory_table(runs: list[Run], models: list[str], datasets: list[str]) -> str:
    grid = _grid(runs)
    header = ["data set"] + [_short(m) for m in models]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset in datasets:
        cells = [dataset]
        for m in models:
            run = grid.get((dataset, m))
            ok = run is not None and run.scored
            cells.append(_fmt(run.peak_memory_mb, 0) if ok else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _status_table(runs: list[Run], models: list[str], datasets: list[str]) -> str:
    grid = _grid(runs)
    lines = [
        "| data set | model | status | instances scored / stream | seconds | note |",
        "|---|---|---|---|---|---|",
    ]
    for dataset in datasets:
        for m in models:
            run = grid.get((dataset, m))
            if run is None or run.status == "ok":
                continue
            lines.append(
                f"| {dataset} | {m} | {run.status} | {run.n:,} / {run.n_total:,} | "
                f"{_fmt(run.seconds, 1)} | {run.note} |"
            )
    return "\n".join(lines) if len(lines) > 2 else "Every run scored the whole stream."


def _losses(runs: list[Run], ours: list[str], rivals: list[str], datasets: list[str]) -> str:
    """Plain sentences: where each of our models is beaten, and by whom."""
    grid = _grid(runs)
    out = []
    for model in ours:
        for metric in METRICS:
            lower = metric in LOWER_IS_BETTER
            lost, won, compared = [], 0, 0
            for dataset in datasets:
                mine = _value(grid.get((dataset, model)), metric)
                others = [(r, _value(grid.get((dataset, r)), metric)) for r in rivals]
                others = [(r, v) for r, v in others if not math.isnan(v)]
                if math.isnan(mine) or not others:
                    continue
                compared += 1
                rival, best = (min if lower else max)(others, key=lambda item: item[1])
                mine_r, best_r = round(mine, 3), round(best, 3)  # ties at the shown precision
                if (best_r < mine_r) if lower else (best_r > mine_r):
                    lost.append(f"{dataset} ({_fmt(mine)} vs {_fmt(best)}, {rival})")
                else:
                    won += 1
            if compared:
                line = (
                    f"- **{model}**, {metric.replace('_', ' ')}: best or tied on {won} of "
                    f"{compared} data sets"
                )
                line += f"; beaten on {', '.join(lost)}." if lost else "."
                out.append(line)
    return "\n".join(out)


#: (measured here, published) pairs of the same kind of learner
SAME_LEARNER = (
    ("mlhat", "MLHAT (published)"),
    ("MOA MLHT", "MLHT (published)"),
    ("MOA ISOUPTree", "iSOUPT (published)"),
    ("MOA BR+HT", "HT (published)"),
    ("river BR+HT", "HT (published)"),
)


def _same_learner_table(runs: list[Run], datasets: list[str], metric: str) -> str:
    grid = _grid(runs)
    pairs = [
        (a, b)
        for a, b in SAME_LEARNER
        if any(r.model == a for r in runs) and any(r.model == b for r in runs)
    ]
    if not pairs:
        return ""
    header = ["data set"] + [f"{a} / {_short(b)}" for a, b in pairs]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for dataset in datasets:
        cells = [dataset]
        for a, b in pairs:
            run = grid.get((dataset, a))
            cells.append(
                f"{_fmt(_value(run, metric))}{_mark(run, metric)} / "
                f"{_fmt(_value(grid.get((dataset, b)), metric))}"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plots(
    runs: list[Run], models: list[str], every: list[str], datasets: list[str], out: pathlib.Path
) -> list:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    grid = _grid(runs)
    files = []
    for metric in ("subset_accuracy", "micro_f1", "macro_f1"):
        values = np.array([[_value(grid.get((d, m)), metric) for d in datasets] for m in models])
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            relative = values / np.nanmax(values, axis=0, keepdims=True)
        size = (max(6.0, 1.0 + 0.62 * len(datasets)), 0.8 + 0.38 * len(models))
        fig, ax = plt.subplots(figsize=size)
        ax.imshow(np.nan_to_num(relative, nan=0.0), cmap="viridis", vmin=0, vmax=1, aspect="auto")
        for i in range(len(models)):
            for j in range(len(datasets)):
                if not np.isnan(values[i, j]):
                    ax.text(
                        j,
                        i,
                        f"{values[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if relative[i, j] < 0.6 else "black",
                    )
        ax.set_xticks(range(len(datasets)))
        ax.set_xticklabels(datasets, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(models)))
        ax.set_yticklabels([_short(m) for m in models], fontsize=8)
        ax.set_title(
            f"{metric.replace('_', ' ')} (colour: fraction of the best per data set)", fontsize=9
        )
        fig.tight_layout()
        name = f"{metric}.png"
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        files.append((name, f"{metric.replace('_', ' ')} per data set and model"))

    ranks = {
        metric: average_ranks(runs, metric, every, datasets)
        for metric in ("subset_accuracy", "micro_f1", "macro_f1", "hamming_loss")
    }
    order = sorted(every, key=lambda m: ranks["micro_f1"][m])
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.3 * len(order)))
    height = 0.2
    for k, metric in enumerate(ranks):
        ax.barh(
            [i + k * height for i in range(len(order))],
            [ranks[metric][m] for m in order],
            height,
            label=metric.replace("_", " "),
        )
    ax.set_yticks([i + 1.5 * height for i in range(len(order))])
    ax.set_yticklabels([_short(m) for m in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("average rank over the data sets (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "ranks.png", dpi=110)
    plt.close(fig)
    files.append(("ranks.png", "average rank of every model"))

    measured = [m for m in models if any(r.model == m and r.source != "published" for r in runs)]
    fig, ax = plt.subplots(figsize=(max(8, len(datasets) * 0.7), 4.5))
    for m in measured:
        ys = [grid.get((d, m)) for d in datasets]
        ys = [r.instances_per_second if r is not None and r.scored else math.nan for r in ys]
        ax.plot(range(len(datasets)), ys, marker="o", label=_short(m))
    ax.set_yscale("log")
    ax.set_xticks(range(len(datasets)))
    ax.set_xticklabels(datasets, rotation=45, ha="right")
    ax.set_ylabel("instances per second (log)")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(out / "speed.png", dpi=110)
    plt.close(fig)
    files.append(("speed.png", "instances per second, same machine"))
    return files


def _durations_line(durations: dict) -> str:
    """How long each part of the whole benchmark took, and when and by which command it last
    ran (parts may come from different runs of `python -m benchmarks all --skip ...`)."""
    names = [k for k in ("run", "scaling", "drift", "batch") if k in durations]
    commands = durations.get("commands", {})
    started = durations.get("started", {})
    default = durations.get("command", "python -m benchmarks all")
    groups: dict[str, list[str]] = {}
    for name in names:
        when = f", started {started[name]} UTC" if name in started else ""
        part = f"{name} {durations[name] / 60:.0f} min{when}"
        groups.setdefault(commands.get(name, default), []).append(part)
    by = "; ".join(f"{', '.join(done)} (`{command}`)" for command, done in groups.items())
    return f"Whole benchmark: {durations.get('total', 0) / 60:.0f} minutes in all: {by}."


def write_report(out: str | pathlib.Path) -> pathlib.Path:
    """Write ``out/report.md`` (and PNGs) from ``out/runs.csv`` and ``out/run_info.json``."""
    out = pathlib.Path(out)
    runs = read_csv(out / "runs.csv")
    info_path = out / "run_info.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    datasets = _datasets(runs, info)
    if info and "repeat_rate" not in info:  # results made before the rate was recorded
        from .datasets import discover, repeat_rate

        folder = pathlib.Path(info.get("data", REPO.parent / "shared" / "data"))
        if folder.is_dir():
            paths = {d.name: d.path for d in discover(folder)}
            info["repeat_rate"] = {
                d: round(repeat_rate(paths[d]), 4) for d in datasets if d in paths
            }
            info_path.write_text(json.dumps(info, indent=1) + "\n")
    runs = [r for r in runs if r.dataset in datasets]
    every = _model_order(runs)
    measured = [m for m in every if not m.endswith("(published)")]
    shown = measured + [f"{p} (published)" for p in SHOWN_PUBLISHED if f"{p} (published)" in every]
    ours = [m for m in measured if any(r.model == m and r.source == "streamml" for r in runs)]

    parts = ["# Benchmark report", ""]
    if info:
        moa_dates = sorted(r.date for r in runs if r.source == "moa" and r.date)
        moa_when = f" (MOA runs made {moa_dates[0]} to {moa_dates[-1]})" if moa_dates else ""
        parts += [
            f"The `run` part started {info.get('started', '?')} (UTC) and took "
            f"{info.get('duration_s', 0) / 60:.0f} minutes{moa_when}, on the machine described "
            "in [machine.md](machine.md).",
            "",
            f"Command: `{info.get('command', '')}`  ",
            f"Time limit per process: {info.get('time_limit', '?')} s. MOA rows: "
            f"{info.get('moa_note', 'run here by ../shared/peers/moa/run_moa.sh')}.",
            "",
        ]
    durations_path = out / "durations.json"
    if durations_path.exists():
        durations = json.loads(durations_path.read_text())
        parts += [_durations_line(durations), ""]
    missing = info.get("missing_models") or []
    if missing:
        parts += [f"**Models missing from this run:** {', '.join(missing)}.", ""]
    parts += [
        "Protocol: full-stream prequential (predict, then learn, every instance in file order), "
        "metrics as in `../shared/docs/ihomer.md` §4, every run in its own process (Python "
        "runs with BLAS/OpenMP on one thread; MOA on a stock JVM). "
        "Every row of every table comes from `runs.csv` beside this file (with the command "
        "that reproduces it).",
        "",
        "- streamml models: "
        + (", ".join(f"`{m}`" for m in ours) or "none")
        + "; river and MOA peers run here, same machine, same session as streamml "
        "(MOA rows may come from the cache `moa_runs.csv`, made earlier on this machine by "
        "the same command).",
        "- `(pub.)` columns are **published** full-stream results (MLHAT paper, "
        "`../shared/docs/anchors.md`), copied, not rerun; the last column is the best of the "
        "17 published learners (not ranked).",
        "- **bold**: best of the columns on that data set. † = scored on a prefix of the stream "
        "only (see *Runs not on the whole stream*). ‡ = example F1 scores 0 when the true and "
        "predicted label sets are both empty (MOA's convention; streamml and river rows score "
        "1 there); this only matters on streams with empty label sets.",
        "- river rows on sparse streams (text, `{index value}` rows): the ARFF reader leaves "
        "the zeros of a sparse row out of `x`, and river's Hoeffding trees treat an absent "
        "feature as missing, not as 0, so they only see non-zero values and can hardly split; "
        "MOA's trees and streamml's learners read the zeros. Those river rows show river as "
        "fed by this reader, not the best river's trees can do on dense input.",
        _sorted_streams_note(info.get("repeat_rate", {})),
        "- average rank: per data set, models ranked 1..k on the metric (ties share the mean "
        "rank; a model without a result ranks after all others), then averaged. Prefix results "
        "are ranked as they are.",
        "",
    ]
    for metric in METRICS:
        models_here = [m for m in shown if m in measured or metric != "example_f1"]
        parts += [f"## {TITLES[metric]}", "", metric_table(runs, metric, models_here, datasets), ""]

    parts += ["## Average rank of every model (all 17 published learners included)", ""]
    header = ["model"] + [m.replace("_", " ") for m in METRICS]
    rank_tables = {
        metric: average_ranks(
            runs, metric, [m for m in every if m in measured or metric != "example_f1"], datasets
        )
        for metric in METRICS
    }
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for m in sorted(every, key=lambda m: rank_tables["subset_accuracy"].get(m, math.inf)):
        lines.append(
            "| "
            + " | ".join([_short(m)] + [_fmt(rank_tables[k].get(m, math.nan), 2) for k in METRICS])
            + " |"
        )
    parts += [
        "Sorted by subset-accuracy rank. Example F1 ranks only the models run here.",
        "",
        "\n".join(lines),
        "",
    ]

    rivals = [m for m in every if m not in ours]
    flagship = [m for m in ours if m not in BASELINES]
    parts += [
        "## Where streamml loses",
        "",
        f"Each of streamml's learners ({', '.join(flagship)}) against every other column "
        "(peers run here and the 17 published learners; equal at three decimals counts as a "
        "tie):",
        "",
        _losses(runs, flagship, rivals, datasets),
        "",
        "Against the peers run here only (river and MOA):",
        "",
        _losses(runs, flagship, [m for m in measured if m not in ours], datasets),
        "",
    ]

    same = _same_learner_table(runs, datasets, "micro_f1")
    if same:
        parts += [
            "## Same learner, measured here vs published (micro F1)",
            "",
            "The published rows come from other code (the MLHAT paper's Python framework) on "
            "other hardware; `HT (pub.)` is the paper's binary relevance of Hoeffding trees. "
            "Differences show how far a reproduction can drift from a published number.",
            "",
            same,
            "",
        ]
    parts += [
        "## Speed",
        "",
        f"Instances per second of the test-then-train loop (start-up excluded), and in brackets "
        f"the ratio to {BASELINE} on the same data set in the same session (>1 = faster). "
        "Wall-clock on a 2-core machine shared with other jobs: the load average before each "
        "run is in runs.csv. MOA's rate is the wall time of its loop (its CPU-timer rate is in "
        "the note column of runs.csv). † = on a prefix, where trees are smaller (faster).",
        "",
        _speed_table(runs, measured, datasets),
        "",
        "Peak resident memory of the process (MB; a JVM for MOA, a Python interpreter with "
        "numpy and river for the others):",
        "",
        _memory_table(runs, measured, datasets),
        "",
        "## Runs not on the whole stream",
        "",
        _status_table(runs, measured, datasets),
        "",
    ]
    files = _plots(runs, shown, every, datasets, out)
    parts += ["## Plots", ""] + [f"![{title}]({name})" for name, title in files] + [""]
    for study, title in (
        ("scaling.md", "Scaling study"),
        ("drift.md", "Drift study"),
        ("batch.md", "Batch reference (scikit-multilearn)"),
    ):
        if (out / study).exists():
            parts += [f"## {title}", "", f"See [{study}]({study}).", ""]
    path = out / "report.md"
    path.write_text("\n".join(parts))
    return path
