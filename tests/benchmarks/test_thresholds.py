"""The decisions study: decisions over one model's probabilities, as the wrappers make them."""

from __future__ import annotations

import json

from benchmarks import thresholds
from streamml import IHOMER
from streamml.datasets import ARFF
from streamml.evaluate import prequential

from ..cli.helpers import write_arff


def test_each_decision_scores_as_the_model_run_alone(tmp_path):
    path = tmp_path / "small.arff"
    write_arff(path, n=150, seed=3)
    runs = thresholds.run_stream(path, seed=5)
    plain = IHOMER(
        seed=5, seen_sets=None, threshold_strength=0.0, last_set=False, label_balance=False
    )
    models = {
        thresholds.MARGINAL: plain,
        thresholds.DEFAULT: IHOMER(seed=5, last_set=False, label_balance=False),
    }
    for name in thresholds.DECISIONS:
        models[name] = thresholds.wrapped(plain.clone(), name)
    assert set(runs["metrics"]) == set(models)
    for name, model in models.items():
        alone = prequential(model, ARFF(path), progress=False)
        for metric in thresholds.METRICS:
            assert runs["metrics"][name][metric] == getattr(alone, metric), (name, metric)
    assert runs["n"] == 150


def test_the_report_counts_the_streams_at_the_best_published_and_below_mlhat(tmp_path, monkeypatch):
    decisions = {"f-a": (("FMeasureThresholds", {}),), "f-b": (("SeenLabelSets", {}),)}
    monkeypatch.setattr(thresholds, "DECISIONS", decisions)
    run = {
        "n": 10,
        "metrics": {
            d: {"subset_accuracy": v, "micro_f1": v, "macro_f1": v, "hamming_loss": 1 - v}
            for d, v in (
                (thresholds.DEFAULT, 0.7),
                (thresholds.MARGINAL, 0.5),
                ("f-a", 0.2),
                ("f-b", 0.9),
            )
        },
        "us_per_instance": {"model": 100.0, thresholds.DEFAULT: 6.0, "f-a": 5.0, "f-b": 4.0},
    }
    (tmp_path / "thresholds.json").write_text(json.dumps({"s": run}))
    best = {"s": {"MLHAT": 0.4, "Other": 0.6}}
    tables = {m: best for m in ("subset_accuracy", "micro_f1", "macro_f1")}
    tables["hamming_loss"] = {"s": {"MLHAT": 0.6, "Other": 0.4}}
    monkeypatch.setattr(thresholds, "published_tables", lambda: tables)
    text = thresholds.write_thresholds_report(tmp_path).read_text()
    at_best, below = text.split("below the published MLHAT")
    # Columns: the default, p>0.5, f-a, f-b.
    assert "| subset accuracy | 1 | 0 | 0 | 1 |" in at_best  # 0.7 and 0.9 reach 0.6
    assert "| hamming loss | 1 | 0 | 0 | 1 |" in at_best  # 0.3, 0.1 <= 0.4; 0.5, 0.8 are not
    assert "| subset accuracy | 0 | 0 | 1 | 0 |" in below  # 0.2 < 0.4
    assert "| hamming loss | 0 | 0 | 1 | 0 |" in below  # 0.8 > 0.6
    assert "| s | 100 | 6 | 5 | 4 |" in text


def test_the_output_directory_is_made(tmp_path):
    (tmp_path / "data").mkdir()
    write_arff(tmp_path / "data" / "small.arff", n=60, seed=3)
    out = tmp_path / "new" / "dir"
    report = thresholds.run_thresholds(out, tmp_path / "data", streams=["small"], seed=5)
    assert report == out / "thresholds.md"
    assert "| small |" in report.read_text()
    assert json.loads((out / "thresholds.json").read_text())["small"]["n"] == 60
