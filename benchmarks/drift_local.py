"""Drift study, local part: changes confined to some label groups.

Each scenario is a `streamml.datasets.synth.LabelGroups` stream whose labels come in groups,
each group driven by its own latent variable; at `at` the relation between the features and
the labels of one group of four (``1of4``) or two groups of eight (``2of8``) changes, suddenly
or over ``width`` instances (``gradual``), and nothing else does. The stream's `schedule` tells
which labels changed. For every scenario and seed, the models run in one process, in lockstep
(each instance goes to each model in turn), so their speeds are compared under the same load.

Reported per scenario (mean over the seeds):

- exact match (subset accuracy) on the changed groups' labels before the change (the 1,000
  instances before ``at``) and over the 2,000 instances after the change point (``at`` for a
  sudden change; for a gradual one, the middle of the transition, where the new concept starts
  to dominate, as in the rest of the drift study), and after the transition ended;
- the same on the other groups' labels, and over the whole stream;
- recovery delay: instances from ``at`` until the changed groups' exact match over the last
  500 instances is back within 0.02 of its level before the change;
- whole-stream subset accuracy and speed relative to ``mlhat`` in the same process;
- exact match of each group over the 2,000 instances after the change point.
"""

from __future__ import annotations

import json
import math
import pathlib
import statistics
import sys
import time

__all__ = [
    "LOCAL_MODELS",
    "LOCAL_SCENARIOS",
    "local_scenario",
    "recovery_delay",
    "run_local",
    "write_local_report",
]

LOCAL_SCENARIOS = ("1of4-sudden", "1of4-gradual", "2of8-sudden", "2of8-gradual")
LOCAL_MODELS = ("ihomer", "ihomer-static", "mlhat", "ihomer-noshare")
BEFORE, AFTER, RECOVERY_WINDOW, TOLERANCE = 1_000, 2_000, 500, 0.02
CURVE_BLOCK = 100


def local_scenario(name: str, seed: int, n_samples: int = 10_000):
    """The stream of a local scenario.

    ``1of4``: 20 labels in 4 groups, 40 features, the relation of group 0 changes; ``2of8``: 40
    labels in 8 groups, 80 features, groups 0 and 1 change. The change starts at 40% of the
    stream; a gradual one lasts 10% of it.

    >>> stream = local_scenario("1of4-gradual", seed=1)
    >>> change = stream.schedule[0]
    >>> change.at, change.end, change.dominant_from, len(change.labels)
    (4000, 5000, 4500, 5)

    """
    from streamml.datasets.synth import Drift, LabelGroups

    size, _, kind = name.partition("-")
    shapes = {"1of4": (20, 4, 40, [0]), "2of8": (40, 8, 80, [0, 1])}
    if size not in shapes or kind not in ("sudden", "gradual"):
        raise ValueError(f"unknown local scenario {name!r}; choose one of {LOCAL_SCENARIOS}")
    n_labels, n_groups, n_features, groups = shapes[size]
    width = n_samples // 10 if kind == "gradual" else 0
    drift = Drift(at=2 * n_samples // 5, width=width, relation=True, groups=groups)
    return LabelGroups(
        n_labels=n_labels,
        n_groups=n_groups,
        n_features=n_features,
        n_samples=n_samples,
        drifts=[drift],
        seed=seed,
    )


def make_model(spec: str, seed: int):
    """``ihomer``, ``ihomer-static`` (never restructures), ``mlhat``, ``ihomer-noshare``."""
    from streamml import IHOMER
    from streamml.learners import MLHAT

    if spec == "mlhat":
        return MLHAT(seed=seed)
    if spec == "ihomer":
        return IHOMER(seed=seed)
    if spec == "ihomer-static":
        return IHOMER(seed=seed, warmup=10**12)
    if spec == "ihomer-noshare":
        return IHOMER(seed=seed, share=False)
    raise ValueError(f"unknown model {spec!r}; choose among {LOCAL_MODELS}")


def recovery_delay(ok: list[bool], at: int, level: float) -> int | None:
    """Instances from `at` until the mean of `ok` over the last `RECOVERY_WINDOW` instances is
    back within `TOLERANCE` of `level` (None: never).

    >>> recovery_delay([True] * 10 + [False] * 600 + [True] * 1000, at=10, level=1.0)  # 2% wrong
    1090

    """
    w = RECOVERY_WINDOW
    total = sum(ok[at : at + w])
    for t in range(at + w, len(ok) + 1):
        if total / w >= level - TOLERANCE:
            return t - at
        if t < len(ok):
            total += ok[t] - ok[t - w]
    return None


def run_one(name: str, seed: int, models: list[str], n_samples: int) -> dict:
    """All models in lockstep on one stream: per-instance exact match of each group, seconds."""
    from threadpoolctl import threadpool_limits

    stream = local_scenario(name, seed, n_samples)
    groups = [sorted(g, key=lambda label: int(label[1:])) for g in stream.groups_at(0)]
    learners = [make_model(m, seed) for m in models]
    seconds = [0.0] * len(models)
    hits = [[[] for _ in groups] for _ in models]  # model -> group -> per-instance exact match
    with threadpool_limits(1):
        for x, y in stream:
            for k, model in enumerate(learners):
                start = time.perf_counter()
                p = model.predict_one(x)
                model.learn_one(x, y)
                seconds[k] += time.perf_counter() - start
                for g, members in enumerate(groups):
                    hits[k][g].append(all(p.get(label, False) == y[label] for label in members))
    change = stream.schedule[0]
    run = {
        "scenario": name,
        "seed": seed,
        "n": n_samples,
        "at": change.at,
        "end": change.end,
        "change_point": change.dominant_from,
        "groups": [" ".join(g) for g in groups],
        "changed": [bool(set(g) & change.labels) for g in groups],
        "models": {
            m: {
                "seconds": seconds[k],
                "hits": hits[k],
                "adaptations": getattr(learners[k], "n_adaptations", 0),
            }
            for k, m in enumerate(models)
        },
    }
    run["summary"] = summarise(run)
    for data in run["models"].values():
        del data["hits"]
    return run


def _exact(hits: list[list[bool]], groups: list[int], start: int, stop: int) -> float:
    """Exact match on the labels of these groups over instances [start, stop)."""
    if not groups:
        return math.nan
    values = [all(row) for row in zip(*(hits[g][max(start, 0) : stop] for g in groups))]
    return statistics.fmean(values) if values else math.nan


def summarise(run: dict) -> dict:
    """Per model: the numbers of the report for one run."""
    changed = [g for g, c in enumerate(run["changed"]) if c]
    kept = [g for g, c in enumerate(run["changed"]) if not c]
    at, end, cp, n = run["at"], run["end"], run["change_point"], run["n"]
    base = run["models"].get("mlhat", {}).get("seconds")
    out = {}
    for model, data in run["models"].items():
        hits = data["hits"]
        ok = [all(row) for row in zip(*(hits[g] for g in changed))]
        level = _exact(hits, changed, at - BEFORE, at)
        out[model] = {
            "changed_before": level,
            "changed_after": _exact(hits, changed, cp, cp + AFTER),
            "changed_after_end": _exact(hits, changed, end, end + AFTER),
            "others_before": _exact(hits, kept, at - BEFORE, at),
            "others_after": _exact(hits, kept, cp, cp + AFTER),
            "others_whole": _exact(hits, kept, 0, n),
            "whole": _exact(hits, list(range(len(hits))), 0, n),
            "recovery": recovery_delay(ok, at, level),
            "speed": base / data["seconds"] if base else math.nan,
            "instances_per_second": n / data["seconds"],
            "adaptations": data["adaptations"],
            "groups_after": [_exact(hits, [g], cp, cp + AFTER) for g in range(len(hits))],
            "curve": [_exact(hits, changed, e, e + CURVE_BLOCK) for e in range(0, n, CURVE_BLOCK)],
        }
    return out


def run_local(
    out,
    scenarios=LOCAL_SCENARIOS,
    seeds=(1, 2, 3),
    models=LOCAL_MODELS,
    n_samples: int = 10_000,
    time_limit: float = 1800.0,
) -> str:
    """Run every scenario and seed in its own process; write ``drift_local_runs.json`` and
    return the report section (see `write_local_report`)."""
    from .proc import ONE_THREAD, run_process

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for name in scenarios:
        for seed in seeds:
            argv = [
                sys.executable,
                "-m",
                "benchmarks.drift_local",
                name,
                str(seed),
                ",".join(models),
                str(n_samples),
            ]
            done = run_process(
                argv, time_limit, ONE_THREAD, cwd=pathlib.Path(__file__).resolve().parents[1]
            )
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if done.timed_out or done.returncode != 0 or not lines:
                print(f"drift local {name} seed={seed}: failed", file=sys.stderr, flush=True)
                print(done.stderr[-2000:], file=sys.stderr)
                continue
            runs.append(json.loads(lines[-1]))
            print(f"drift local {name} seed={seed}: ok", flush=True)
    (out / "drift_local_runs.json").write_text(json.dumps(runs))
    return write_local_report(out)


def _mean(values) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.fmean(values) if values else math.nan


def _fmt(value, spec: str = ".3f") -> str:
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, spec)
    )


def write_local_report(out) -> str:
    """The markdown section of the local study (and ``drift_local.png``) from
    ``drift_local_runs.json``; empty if there is none."""
    out = pathlib.Path(out)
    path = out / "drift_local_runs.json"
    if not path.exists():
        return ""
    runs = json.loads(path.read_text())
    if not runs:
        return ""
    summaries = [(run, run["summary"]) for run in runs]
    models = list(dict.fromkeys(m for run in runs for m in run["models"]))
    scenarios = list(dict.fromkeys(run["scenario"] for run in runs))
    seeds = sorted({run["seed"] for run in runs})
    lines = [
        "## Local changes: clusters that adapt on their own",
        "",
        __doc__.split("\n\n", 1)[1].split("\n\nReported")[0].replace("\n", " "),
        f"Seeds {', '.join(map(str, seeds))}; every number is the mean over the seeds. "
        "Command: `python -m benchmarks drift` (local part: `--local-scenarios`, "
        "`--local-models`).",
        "",
        "Exact match on the labels of the changed groups (before: the 1,000 instances before "
        "the change; after: the 2,000 from the change point; after the end: the 2,000 after a "
        "gradual transition ended), on the other groups' labels (after the change point, and "
        "over the whole stream), recovery delay of the changed groups (instances from the "
        "start of the change until their exact match over the last 500 instances is within "
        "0.02 of the level before; — if never in a run), whole-stream subset accuracy, and "
        "speed relative to `mlhat` measured in the same process.",
        "",
        "| scenario | model | changed: before | after | after the end | others: after | "
        "others: whole | recovery | whole stream | speed vs mlhat | alternates started |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in scenarios:
        mine = [s for run, s in summaries if run["scenario"] == name]
        for model in models:
            rows = [s[model] for s in mine if model in s]
            if not rows:
                continue
            delays = [r["recovery"] for r in rows]
            recovery = _fmt(_mean(delays), ",.0f") if all(d is not None for d in delays) else "—"
            lines.append(
                f"| {name} | {model} | {_fmt(_mean(r['changed_before'] for r in rows))} | "
                f"{_fmt(_mean(r['changed_after'] for r in rows))} | "
                f"{_fmt(_mean(r['changed_after_end'] for r in rows))} | "
                f"{_fmt(_mean(r['others_after'] for r in rows))} | "
                f"{_fmt(_mean(r['others_whole'] for r in rows))} | {recovery} | "
                f"{_fmt(_mean(r['whole'] for r in rows))} | "
                f"{_fmt(_mean(r['speed'] for r in rows), '.2f')} | "
                f"{_fmt(_mean(r['adaptations'] for r in rows), '.1f')} |"
            )
    if "mlhat" in models:
        lines += [
            "",
            "Differences with `mlhat` (same seeds):",
            "",
            "| scenario | model | changed: after | after the end | others: whole | "
            "whole stream | speed vs mlhat |",
            "|---|---|---|---|---|---|---|",
        ]
        for name in scenarios:
            mine = [s for run, s in summaries if run["scenario"] == name]
            for model in models:
                if model == "mlhat" or not all(model in s for s in mine):
                    continue
                diff = {
                    key: _mean(s[model][key] - s["mlhat"][key] for s in mine)
                    for key in ("changed_after", "changed_after_end", "others_whole", "whole")
                }
                lines.append(
                    f"| {name} | {model} | {diff['changed_after']:+.4f} | "
                    f"{diff['changed_after_end']:+.4f} | {diff['others_whole']:+.4f} | "
                    f"{diff['whole']:+.4f} | "
                    f"{_fmt(_mean(s[model]['speed'] for s in mine), '.2f')} |"
                )
    lines += [
        "",
        "Exact match of each group over the 2,000 instances after the change point "
        "(groups in the order of their latent variables; * marks the changed ones):",
        "",
    ]
    for name in scenarios:
        mine = [(run, s) for run, s in summaries if run["scenario"] == name]
        n_groups = len(mine[0][0]["groups"])
        lines += [
            f"**{name}**",
            "",
            "| group | " + " | ".join(models) + " |",
            "|---|" + "---|" * len(models),
        ]
        for g in range(n_groups):
            mark = "*" if mine[0][0]["changed"][g] else ""
            cells = [
                _fmt(_mean(s[m]["groups_after"][g] for _, s in mine if m in s)) for m in models
            ]
            lines.append(f"| {g}{mark} | " + " | ".join(cells) + " |")
        lines.append("")
    _plot(runs, models, out / "drift_local.png")
    lines += ["![exact match of the changed groups around the change](drift_local.png)", ""]
    return "\n".join(lines)


def _plot(runs: list[dict], models: list[str], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(run["scenario"] for run in runs))
    fig, axes = plt.subplots(1, len(scenarios), figsize=(4.2 * len(scenarios), 3.4), squeeze=False)
    for ax, name in zip(axes[0], scenarios):
        mine = [run for run in runs if run["scenario"] == name]
        first = mine[0]
        start, stop = first["at"] - 2 * BEFORE, min(first["n"], first["end"] + 2 * AFTER)
        for model in models:
            curves = [run["summary"][model]["curve"] for run in mine if model in run["summary"]]
            ends = [(k + 1) * CURVE_BLOCK for k in range(len(curves[0]))]
            keep = [k for k, e in enumerate(ends) if start < e <= stop]
            mean = [_mean(c[k] for c in curves) for k in keep]
            ax.plot([ends[k] for k in keep], mean, label=model)
        ax.axvline(first["at"], color="grey", ls="--", lw=0.8)
        if first["end"] != first["at"]:
            ax.axvline(first["end"], color="grey", ls=":", lw=0.8)
        ax.set_title(name)
        ax.set_xlabel("instance")
        ax.set_ylabel(f"exact match, changed groups ({CURVE_BLOCK}s)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    name, seed, models, n = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), int(sys.argv[4])
    print(json.dumps(run_one(name, seed, models, n)))
