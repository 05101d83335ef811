from __future__ import annotations

import json
import math

from benchmarks import report
from benchmarks.records import Run, write_csv
from benchmarks.report import average_ranks, metric_table, rank_row, write_report


def test_rank_row_ties_share_the_mean_rank():
    ranks = rank_row({"a": 0.9, "b": 0.5, "c": 0.9, "d": 0.1})
    assert ranks == {"a": 1.5, "c": 1.5, "b": 3.0, "d": 4.0}


def test_rank_row_lower_is_better_and_missing_last():
    ranks = rank_row({"a": 0.3, "b": 0.1, "c": math.nan, "d": math.nan}, lower_is_better=True)
    assert ranks["b"] == 1 and ranks["a"] == 2
    assert ranks["c"] == ranks["d"] == 3.5  # tied after every scored model


def _runs():
    return [
        Run(
            "d1",
            "ihomer",
            "streamml",
            "ok",
            n=5,
            n_total=5,
            subset_accuracy=0.4,
            hamming_loss=0.2,
            micro_f1=0.6,
            macro_f1=0.5,
            example_f1=0.55,
            instances_per_second=100.0,
        ),
        Run(
            "d1",
            "river BR+HT",
            "river",
            "prefix",
            n=3,
            n_total=5,
            subset_accuracy=0.2,
            hamming_loss=0.1,
            micro_f1=0.7,
            macro_f1=0.4,
            example_f1=0.6,
            instances_per_second=50.0,
        ),
        Run(
            "d1",
            "MLHAT (published)",
            "published",
            "published",
            subset_accuracy=0.3,
            hamming_loss=0.3,
            micro_f1=0.5,
            macro_f1=0.45,
        ),
        Run("d2", "ihomer", "streamml", "timeout", n_total=9),
        Run(
            "d2",
            "river BR+HT",
            "river",
            "ok",
            n=9,
            n_total=9,
            subset_accuracy=0.1,
            hamming_loss=0.2,
            micro_f1=0.3,
            macro_f1=0.2,
            example_f1=0.3,
            instances_per_second=20.0,
        ),
    ]


def test_average_ranks_over_data_sets():
    ranks = average_ranks(_runs(), "subset_accuracy", ["ihomer", "river BR+HT"], ["d1", "d2"])
    # d1: ihomer 1, river 2; d2: ihomer has no result -> last (2), river 1
    assert ranks == {"ihomer": 1.5, "river BR+HT": 1.5}


def test_metric_table_bolds_the_best_and_marks_prefixes():
    table = metric_table(_runs(), "hamming_loss", ["ihomer", "river BR+HT"], ["d1", "d2"])
    d1 = next(line for line in table.splitlines() if line.startswith("| d1"))
    assert "**0.100†**" in d1  # lower is better, scored on a prefix
    assert "0.200" in d1 and "**0.200" not in d1
    assert "0.300 (MLHAT)" in d1  # best published, shown but not ranked
    assert table.splitlines()[-1].startswith("| *average rank*")


def test_write_report_makes_markdown_and_plots(tmp_path):
    write_csv(_runs(), tmp_path / "runs.csv")
    (tmp_path / "run_info.json").write_text(
        json.dumps({"datasets": ["d1", "d2"], "missing_models": ["mlhat"], "duration_s": 60})
    )
    path = write_report(tmp_path)
    text = path.read_text()
    for heading in (
        "Subset accuracy",
        "Hamming loss",
        "Micro F1",
        "Macro F1",
        "Example-based",
        "Average rank of every model",
        "Where streamml loses",
        "Speed",
    ):
        assert heading in text
    assert "**Models missing from this run:** mlhat" in text
    assert "2 (2×)" in text or "(2×)" in text  # ihomer 100 inst/s vs river BR 50
    assert "beaten on d1" in text  # ihomer loses on micro F1 to river on d1
    assert (tmp_path / "speed.png").stat().st_size > 0
    assert (tmp_path / "subset_accuracy.png").exists()


def test_durations_line_groups_the_parts_by_the_command_that_last_ran_them():
    durations = {
        "run": 4440.0,
        "drift": 660.0,
        "scaling": 600.0,
        "total": 5700.0,
        "command": "python -m benchmarks all --skip run,drift",
        "commands": {
            "run": "python -m benchmarks all --skip scaling",
            "drift": "python -m benchmarks all --skip scaling",
            "scaling": "python -m benchmarks all --skip run,drift",
        },
        "started": {"run": "2026-12-05 17:07", "scaling": "2026-12-05 21:27"},
    }
    assert report._durations_line(durations) == (
        "Whole benchmark: 95 minutes in all: run 74 min, started 2026-12-05 17:07 UTC, "
        "drift 11 min (`python -m benchmarks all --skip scaling`); scaling 10 min, started "
        "2026-12-05 21:27 UTC (`python -m benchmarks all --skip run,drift`)."
    )


def test_durations_line_of_an_older_file_uses_its_one_command():
    durations = {"run": 120.0, "batch": 60.0, "total": 180.0, "command": "python -m benchmarks all"}
    assert report._durations_line(durations) == (
        "Whole benchmark: 3 minutes in all: run 2 min, batch 1 min (`python -m benchmarks all`)."
    )


def test_record_duration_keeps_each_part_with_its_start_and_command(tmp_path):
    from benchmarks import cli

    cli._record_duration(tmp_path, "run", 120.0, "python -m benchmarks run --budget 10")
    cli._record_duration(tmp_path, "batch", 60.0, "python -m benchmarks batch")
    durations = json.loads((tmp_path / "durations.json").read_text())
    assert durations["run"] == 120.0 and durations["batch"] == 60.0
    assert durations["total"] == 180.0
    assert durations["commands"] == {
        "run": "python -m benchmarks run --budget 10",
        "batch": "python -m benchmarks batch",
    }
    assert set(durations["started"]) == {"run", "batch"}
    assert report._durations_line(durations).startswith(
        "Whole benchmark: 3 minutes in all: run 2 min, started "
    )
