"""`python -m benchmarks distributed` on a short stream: every K gives the same predictions, and
the report says what was measured."""

from __future__ import annotations

import itertools

import pytest
from river import datasets

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("local_ray")]


def test_every_number_of_shards_scores_the_same_and_the_report_lists_them(tmp_path):
    from benchmarks.distributed import REFERENCE, run_stream
    from benchmarks.distributed_report import write_report

    data = list(itertools.islice(datasets.Yeast(), 300))
    stream = run_stream("yeast", data, [1, 2], batch=100, seed=1, default=False)
    names = [run["model"] for run in stream["runs"]]
    assert names == [REFERENCE, "sharded K=1", "sharded K=2"]
    one, two = stream["runs"][1:]
    assert one["micro_f1"] == two["micro_f1"] and one["subset_accuracy"] == two["subset_accuracy"]
    assert len(two["shard_memory"]) == 2 and all(m["rss_mb"] > 0 for m in two["shard_memory"])
    assert stream["partition"]["ms_per_instance"] > 0

    stream.update(command="python -m benchmarks distributed", num_cpus=2, measured="now")
    write_report({"streams": [stream]}, tmp_path / "distributed.md")
    text = (tmp_path / "distributed.md").read_text()
    assert "### yeast: first 300 instances, 14 labels, micro-batches of 100" in text
    assert text.count("| sharded K=") == 2 and "| 1.00x |" in text
