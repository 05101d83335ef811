"""CI smoke run of the benchmarks: two small real streams, 300-instance prefixes (under a minute).

majority and one fast streamml model, river's binary relevance, and one MOA learner on a tiny
prefix when Java is here; then the report. Asserts the pipeline, not the numbers.
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from benchmarks import peers
from benchmarks.records import read_csv

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


def _fast_model() -> str:
    from streamml import models

    return "mlhat" if "mlhat" in models.names() else "br-ht"


@pytest.mark.slow
def test_smoke_run_and_report(shared_data, tmp_path):
    moa = peers.java_available()
    argv = [
        sys.executable, "-m", "benchmarks", "run",
        "--data", str(shared_data),
        "--datasets", "flags,emotions",
        "--models", f"majority,{_fast_model()}",
        "--peers", "river,moa" if moa else "river",
        "--river", "river BR+HT",
        "--moa", "MOA MLHT",
        "--limit", "300",
        "--time-limit", "60",
        "--out", str(tmp_path),
        "--workdir", str(tmp_path / "work"),
    ]  # fmt: skip
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    runs = read_csv(tmp_path / "runs.csv")
    measured = {(r.dataset, r.model): r for r in runs if r.source != "published"}
    expected = {"majority", _fast_model(), "river BR+HT"} | ({"MOA MLHT"} if moa else set())
    for dataset, n_total in (("flags", 194), ("emotions", 593)):
        for model in expected:
            run = measured[dataset, model]
            assert run.status in ("ok", "prefix"), (dataset, model, run.note)
            assert run.n <= 300 and run.n >= min(n_total, 300) - 1  # MOA skips one null
            for metric in ("subset_accuracy", "hamming_loss", "micro_f1", "macro_f1"):
                assert 0.0 <= run.metric(metric) <= 1.0
            assert run.command and run.version
            assert run.instances_per_second > 0 and not math.isnan(run.peak_memory_mb)
    assert any(r.status == "published" and r.dataset == "emotions" for r in runs)

    report = (tmp_path / "report.md").read_text()
    assert "## Subset accuracy" in report and "average rank" in report
    assert "river BR+HT" in report and "MLHAT (pub.)" in report
    assert (tmp_path / "speed.png").exists()
