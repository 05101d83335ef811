"""Running `streamml` in the test process, small ARFF streams, and what the library computes."""

from __future__ import annotations

import json
import random

import pytest

from streamml import cli, models
from streamml.evaluate import METRICS, prequential

#: The keys of `--json` (the metrics, then the measurements).
KEYS = [*METRICS, "n", "seconds", "instances_per_second", "learn_seconds", "predict_seconds"]
KEYS.append("peak_memory_mb")

#: The names the table gives the metrics.
TABLE = {
    "subset_accuracy": "subset accuracy",
    "hamming_loss": "Hamming loss",
    "micro_f1": "micro F1",
    "macro_f1": "macro F1",
    "example_f1": "example-based F1",
}


def run(capsys, *argv) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `streamml ARGV`, run in this process."""
    try:
        code = cli.main(list(argv))
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def write_arff(path, n=60, relation="'small: -C 3'", seed=0, labels_first=True):
    """A small MEKA ARFF stream: 3 labels a, b, c and 2 numeric features (a, b depend on f1)."""
    rng = random.Random(seed)
    head = [f"@relation {relation}"]
    label_lines = [f"@attribute {name} {{0,1}}" for name in "abc"]
    feature_lines = ["@attribute f1 numeric", "@attribute f2 numeric"]
    head += label_lines + feature_lines if labels_first else feature_lines + label_lines
    rows = []
    for _ in range(n):
        f1, f2 = round(rng.random(), 4), round(rng.gauss(0, 1), 4)
        y = [int(f1 > 0.5), int(f1 > 0.3 and rng.random() < 0.8), int(rng.random() < 0.2)]
        values = y + [f1, f2] if labels_first else [f1, f2] + y
        rows.append(",".join(map(str, values)))
    path.write_text("\n".join(head + ["@data"] + rows) + "\n")
    return path


def expected(model, stream, seed=42, limit=None) -> dict:
    return prequential(models.make(model, seed=seed), stream, limit=limit).to_dict()


def check_json(out: str, want: dict) -> dict:
    assert out.count("\n") == 1, out  # one line: one JSON object
    got = json.loads(out)
    assert list(got) == KEYS
    for name in METRICS:
        assert got[name] == want[name], name
    assert got["n"] == want["n"]
    assert got["seconds"] > 0 and got["instances_per_second"] > 0
    assert 0 < got["learn_seconds"] < got["seconds"] and 0 < got["predict_seconds"]
    assert got["learn_seconds"] + got["predict_seconds"] == pytest.approx(got["seconds"])
    assert got["peak_memory_mb"] is None or got["peak_memory_mb"] > 0
    return got
