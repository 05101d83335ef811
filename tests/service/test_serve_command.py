"""`streamml serve` fails with a one-line error, and touches nothing, when it cannot start."""

from __future__ import annotations

import socket
import subprocess
import sys


def serve(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "streamml", "serve", "--model", "majority", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_a_port_in_use_is_a_one_line_error_before_the_data_directory(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = serve("--port", str(port), "--data-dir", str(tmp_path / "new"))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("streamml: error: cannot listen on 127.0.0.1:")
    assert "in use" in run.stderr
    assert not (tmp_path / "new").exists()


def test_a_data_dir_that_is_a_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "file"
    path.write_text("not a directory")
    run = serve("--port", "0", "--data-dir", str(path))
    assert run.returncode == 2
    assert run.stderr == f"streamml: error: data directory {path} exists and is not a directory\n"
    assert path.read_text() == "not a directory"
    run = serve("--port", "0", "--data-dir", str(path / "below"))
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "cannot create the data directory" in run.stderr and "Not a directory" in run.stderr
