from __future__ import annotations

import math
import os
import pathlib
import sys
import time

import pytest

from benchmarks import peers
from benchmarks.datasets import DataSet, discover, label_names
from benchmarks.proc import run_process

from ..conftest import missing_shared

GNU_TIME = os.access("/usr/bin/time", os.X_OK)

MOA_STDOUT = """# logs: /tmp/run_moa.abc
learner,task,instances,skipped,subset_accuracy,hamming_loss,micro_f1,macro_f1,example_f1,status
# running MLHT (loadavg 0.3) ...
MLHT,EvaluatePrequentialMultiTarget,193,1,0.11917,0.34863,0.61298,0.40572,0.60393,ok
"""


def test_parse_moa_csv_skips_comment_lines():
    rows = peers.parse_moa_csv(MOA_STDOUT)
    assert len(rows) == 1
    assert rows[0]["learner"] == "MLHT" and rows[0]["micro_f1"] == "0.61298"


def test_discover_reads_mulan_and_meka_files(tmp_path):
    (tmp_path / "meka.arff").write_text(
        "@relation 'toy: -C -2'\n@attribute f numeric\n@attribute a {0,1}\n@attribute b {0,1}\n"
        "@data\n1.0,1,0\n2.0,0,1\n3.0,1,1\n"
    )
    (tmp_path / "mulan.arff").write_text(
        "@relation m\n@attribute x numeric\n@attribute y numeric\n@attribute l1 {0,1}\n"
        "@data\n{0 1.5, 2 1}\n"
    )
    (tmp_path / "mulan.xml").write_text('<labels><label name="l1"></label></labels>')
    (tmp_path / "nolabels.arff").write_text("@relation r\n@attribute x numeric\n@data\n1\n")
    found = {d.name: d for d in discover(tmp_path)}
    assert set(found) == {"meka", "mulan"}
    assert (found["meka"].n_instances, found["meka"].n_labels, found["meka"].n_features) == (
        3,
        2,
        1,
    )
    assert (found["mulan"].n_labels, found["mulan"].n_features) == (1, 2)
    assert label_names(tmp_path / "meka.arff") == ["a", "b"]
    with pytest.raises(ValueError):
        discover(tmp_path / "missing")


def test_run_process_kills_a_process_tree_at_the_limit():
    done = run_process(["bash", "-c", "sleep 30 & sleep 30"], timeout=0.5)
    assert done.timed_out and done.returncode != 0


def test_run_process_kills_processes_that_left_the_group(tmp_path):
    # coreutils `timeout` moves its command to a process group of its own
    marker = tmp_path / "pid"
    script = f"timeout 60 bash -c 'echo $$ > {marker}; sleep 60' & wait"
    done = run_process(["bash", "-c", script], timeout=1.0)
    assert done.timed_out
    pid = int(marker.read_text())
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped is dead)."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_run_process_reports_output_and_memory():
    code = "b = bytearray(30_000_000); b[::4096] = b'x' * len(b[::4096]); print('hi')"
    done = run_process([sys.executable, "-c", code], timeout=60)
    assert not done.timed_out and done.returncode == 0 and done.stdout.strip() == "hi"
    assert done.max_rss_mb > 30


def test_peak_memory_is_the_child_s_not_the_parent_s():
    ballast = bytearray(600_000_000)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: the parent's RSS > 600 MB
    done = run_process([sys.executable, "-c", "print(1)"], timeout=60)
    del ballast
    assert done.returncode == 0
    # GNU time measures the child alone; without it the peak may be unknown, never the parent's
    assert done.max_rss_mb < 300 or (math.isnan(done.max_rss_mb) and not GNU_TIME)


def test_exit_status_of_the_command_is_kept():
    done = run_process([sys.executable, "-c", "import sys; sys.exit(3)"], timeout=60)
    assert done.returncode == 3 and not done.timed_out


@pytest.mark.slow
def test_labels_first_conversion_matches_the_stream(shared_data, tmp_path):
    if not (peers.moa_dir() / "tools" / "to_labels_first.py").exists():
        missing_shared(peers.moa_dir() / "tools" / "to_labels_first.py")
    flags = DataSet("flags", shared_data / "flags.arff", 194, 7, 19)
    out, n_labels = peers.labels_first(flags, tmp_path)
    assert n_labels == 7 and out.exists()
    assert label_names(out) == label_names(pathlib.Path(shared_data / "flags.arff"))
