"""Decisions over one model's probabilities: F-measure thresholds and seen label sets.

One `IHOMER(seed=42, last_set=False, label_balance=False)` learns each stream (full, file
order, test-then-train; without `last_set`, whose probabilities depend on the decision, and
without `label_balance`, a decision of its own); its probabilities are decided several ways
before it learns each instance: its own answer (its decision: `seen` and `seen+f-micro-0.2`
below race), each label at 0.5 (as
`IHOMER(seen_sets=None, threshold_strength=0, last_set=False, label_balance=False)` does), and
by wrappers of `streamml.compose` (`FMeasureThresholds`, `SeenLabelSets`, and one stacked on
the other) driven through their public methods over the same probabilities (a decision does
not change what the model learns, so one model serves them all). Reported: the four metrics of
the published tables for each decision, the published MLHAT and the best published learner,
and the cost of each decision per instance.

    python -m benchmarks thresholds            # the 17 streams with a published row
"""

from __future__ import annotations

import json
import math
import pathlib
import time

from river import base

__all__ = [
    "DECISIONS",
    "Replay",
    "STREAMS",
    "describe",
    "published_tables",
    "run_stream",
    "run_thresholds",
    "wrapped",
    "write_thresholds_report",
]

#: The streams with a published row, in the order of the published tables.
STREAMS = (
    "flags water-quality emotions virusgo yeast scene gnegative-pseaac plant-pseaac medical "
    "slashdot langlog stackex-chess corel5k bibtex ohsumed 20ng imdb"
).split()
METRICS = ("subset_accuracy", "micro_f1", "macro_f1", "hamming_loss")
#: Each label decided on its own: predicted when its probability exceeds 0.5.
MARGINAL = "p>0.5"
#: The decision of the default `IHOMER()`: its own answers.
DEFAULT = "IHOMER()"
#: The decisions compared with them: name -> the wrappers of the model, innermost
#: first, as (name in streamml.compose, parameters).
DECISIONS = {
    "f-macro": (("FMeasureThresholds", {"average": "macro"}),),
    "f-micro": (("FMeasureThresholds", {"average": "micro"}),),
    "f-micro-0.2": (("FMeasureThresholds", {"average": "micro", "strength": 0.2}),),
    "seen": (("SeenLabelSets", {}),),
    "seen+f-micro-0.2": (
        ("FMeasureThresholds", {"average": "micro", "strength": 0.2}),
        ("SeenLabelSets", {}),
    ),
    "seen+f-micro-0.35": (
        ("FMeasureThresholds", {"average": "micro", "strength": 0.35}),
        ("SeenLabelSets", {}),
    ),
}


def wrapped(model, decision: str):
    """`model` wrapped as the decision `decision` asks."""
    from streamml import compose

    for name, params in DECISIONS[decision]:
        model = getattr(compose, name)(model, **params)
    return model


def describe(decision: str) -> str:
    """The wrappers of a decision, as code."""
    text = "model"
    for name, params in DECISIONS[decision]:
        args = "".join(f", {k}={v!r}" for k, v in params.items())
        text = f"{name}({text}{args})"
    return text


class Replay(base.MultiLabelClassifier):
    """Answers with the probabilities it is given; learns nothing."""

    def __init__(self):
        self.proba: dict = {}

    def predict_proba_one(self, x, **kwargs):
        return self.proba

    def learn_one(self, x, y, **kwargs):
        pass


def run_stream(path: str | pathlib.Path, seed: int = 42) -> dict:
    """The metrics of every decision on one stream, and their times."""
    from threadpoolctl import threadpool_limits

    from streamml import IHOMER
    from streamml.datasets import ARFF
    from streamml.evaluate.metrics import MultiLabelMetrics

    replay = Replay()
    wrappers = {name: wrapped(replay, name) for name in DECISIONS}
    scores = {name: MultiLabelMetrics() for name in (MARGINAL, DEFAULT, *wrappers)}
    # Its probabilities, and its own decision.
    model = IHOMER(seed=seed, last_set=False, label_balance=False)
    seconds = {"model": 0.0, DEFAULT: 0.0, **{name: 0.0 for name in wrappers}}
    with threadpool_limits(1):
        for x, y in ARFF(path):
            start = time.perf_counter()
            proba = model.predict_proba_one(x)
            seconds["model"] += time.perf_counter() - start
            start = time.perf_counter()
            scores[DEFAULT].update(y, model.predict_one(x))  # the probabilities are cached
            seconds[DEFAULT] += time.perf_counter() - start
            scores[MARGINAL].update(y, {label: p[True] > 0.5 for label, p in proba.items()})
            replay.proba = proba
            for name, wrapper in wrappers.items():
                start = time.perf_counter()
                predicted = wrapper.predict_one(x)
                wrapper.learn_one(x, y)
                seconds[name] += time.perf_counter() - start
                scores[name].update(y, predicted)
            start = time.perf_counter()
            model.learn_one(x, y)
            seconds["model"] += time.perf_counter() - start
    n = scores[MARGINAL].n_instances
    return {
        "n": n,
        "metrics": {name: {m: getattr(s, m) for m in METRICS} for name, s in scores.items()},
        "us_per_instance": {name: 1e6 * t / max(n, 1) for name, t in seconds.items()},
    }


def run_thresholds(out, data, streams=STREAMS, seed: int = 42) -> pathlib.Path:
    """Run every stream (results kept in ``thresholds.json`` as they come) and write the
    report."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "thresholds.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    for name in streams:
        runs[name] = run_stream(pathlib.Path(data) / f"{name}.arff", seed)
        path.write_text(json.dumps(runs, indent=1) + "\n")
        print(f"thresholds {name}: done", flush=True)
    return write_thresholds_report(out)


def published_tables() -> dict:
    """{metric: {stream: {learner: value}}} of the published results (empty if missing)."""
    from .published import read_published

    tables: dict = {}
    for run in read_published():
        learner = run.model.removesuffix(" (published)")
        for metric in METRICS:
            value = getattr(run, metric)
            if not math.isnan(value):
                tables.setdefault(metric, {}).setdefault(run.dataset, {})[learner] = value
    return tables


def write_thresholds_report(out) -> pathlib.Path:
    """``thresholds.md`` from ``thresholds.json``."""
    out = pathlib.Path(out)
    runs = json.loads((out / "thresholds.json").read_text())
    published = published_tables()
    lines = [
        "# Decisions: F-measure thresholds and seen label sets",
        "",
        "`python -m benchmarks thresholds`: "
        "`IHOMER(seed=42, last_set=False, label_balance=False)`, full streams, its probabilities "
        f"decided in several ways (see `benchmarks/thresholds.py`): `{DEFAULT}` (its own "
        "answers: the default `seen_sets=1000, threshold_strength=0.2`, in which `seen` and "
        "`seen+f-micro-0.2` race, the second answering while it has lately been ahead on F1 "
        "and not behind on exact matches), `p>0.5` (each label on its own, what "
        "`IHOMER(seen_sets=None, threshold_strength=0, last_set=False, label_balance=False)` "
        "predicts) and "
        + ", ".join(f"`{name}` (`{describe(name)}`)" for name in DECISIONS)
        + ", with `model` the IHOMER. `seen` was the default before the threshold. "
        "`MLHAT (pub.)` and `best (pub.)` are the published full-stream results (Hamming "
        "loss: lower is better). Cost: `model` is the probabilities and the learning "
        f"(`IHOMER()` scores its own answers while learning); `{DEFAULT}` its answer from "
        "cached probabilities.",
        "",
    ]
    decisions = [DEFAULT, MARGINAL, *DECISIONS]
    header = "| stream | " + " | ".join(decisions) + " | MLHAT (pub.) | best (pub.) |"
    rule = "|---" * (len(decisions) + 3) + "|"
    wins = {m: dict.fromkeys(decisions, 0) for m in METRICS}
    below = {m: dict.fromkeys(decisions, 0) for m in METRICS}
    for metric in METRICS:
        lower = metric == "hamming_loss"
        lines += [f"## {metric.replace('_', ' ')}", "", header, rule]
        for name, run in runs.items():
            row = published.get(metric, {}).get(name, {})
            mlhat = row.get("MLHAT")
            best = (min if lower else max)(row.values()) if row else None
            cells = []
            for decision in decisions:
                value = run["metrics"][decision][metric]
                if best is not None and (value <= best if lower else value >= best):
                    wins[metric][decision] += 1
                if mlhat is not None and (value > mlhat if lower else value < mlhat):
                    below[metric][decision] += 1
                cells.append(f"{value:.3f}")
            pub = [f"{v:.3f}" if v is not None else "—" for v in (mlhat, best)]
            lines.append(f"| {name} | " + " | ".join(cells + pub) + " |")
        lines.append("")
    for title, counts in (
        ("Streams where the decision is at least the best published learner", wins),
        ("Streams where the decision is below the published MLHAT", below),
    ):
        lines += [f"## {title}", "", "| metric | " + " | ".join(decisions) + " |"]
        lines.append("|---" * (len(decisions) + 1) + "|")
        for metric in METRICS:
            values = " | ".join(str(counts[metric][d]) for d in decisions)
            lines.append(f"| {metric.replace('_', ' ')} | {values} |")
        lines.append("")
    lines += [
        "## Cost (µs per instance)",
        "",
        "| stream | model | " + " | ".join([DEFAULT, *DECISIONS]) + " |",
        "|---" * (len(DECISIONS) + 3) + "|",
    ]
    for name, run in runs.items():
        t = run["us_per_instance"]
        lines.append(
            f"| {name} | {t['model']:.0f} | "
            + " | ".join(f"{t[d]:.0f}" for d in (DEFAULT, *DECISIONS))
            + " |"
        )
    path = out / "thresholds.md"
    path.write_text("\n".join(lines) + "\n")
    return path
