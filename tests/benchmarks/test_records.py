from __future__ import annotations

import math

import pytest

from benchmarks.records import Run, read_csv, write_csv


def test_round_trip_keeps_every_field(tmp_path):
    runs = [
        Run(
            "yeast",
            "ihomer",
            "streamml",
            "ok",
            n=10,
            n_total=10,
            subset_accuracy=0.5,
            command="streamml evaluate --data a,b",
            note='has "quotes", commas',
        ),
        Run("yeast", "MOA MLHT", "moa", "timeout", n_total=2417),
    ]
    write_csv(runs, tmp_path / "runs.csv")
    back = read_csv(tmp_path / "runs.csv")
    assert back[0] == runs[0]
    assert back[1].status == "timeout" and math.isnan(back[1].micro_f1)
    assert back[1].n == 0 and back[1].n_total == 2417


def test_scored_only_for_results():
    assert Run("d", "m", "streamml", "prefix").scored
    assert Run("d", "m", "published", "published").scored
    assert not Run("d", "m", "moa", "timeout").scored
    assert not Run("d", "m", "moa", "failed").scored


def test_unknown_column_is_an_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("dataset,model,source,status,bogus\nd,m,s,ok,1\n")
    with pytest.raises(ValueError, match="bogus"):
        read_csv(path)
