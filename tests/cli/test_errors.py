"""Bad input is one line on stderr and exit code 2; an interruption exits 130."""

from __future__ import annotations

import subprocess
import sys

from streamml import models
from streamml.datasets import ARFF

from .helpers import check_json, expected, run, write_arff


def bad_cases(tmp_path) -> list[tuple[list[str], str]]:
    """(argv, the whole line on stderr) for each kind of bad input."""
    good = write_arff(tmp_path / "good.arff")
    malformed = tmp_path / "malformed.arff"
    lines = good.read_text().splitlines()
    lines[12] = lines[12].rsplit(",", 1)[0]  # a data row one value short
    malformed.write_text("\n".join(lines) + "\n")
    empty, header = tmp_path / "empty.arff", tmp_path / "header.arff"
    empty.write_text("\n".join(lines[:7]) + "\n")  # up to @data
    header.write_text("\n".join(lines[:6]) + "\n")
    binary = tmp_path / "binary.arff"
    binary.write_bytes(b"@relation x\n\xff\xfe\x00garbage\n")
    plain = write_arff(tmp_path / "plain.arff", relation="plain", labels_first=False)
    choices = ", ".join(f"'{name}'" for name in models.names())
    error, evaluate = "streamml: error:", "streamml evaluate: error: argument"
    return [
        (
            ["evaluate", "--data", str(tmp_path / "missing.arff")],
            f"{error} [Errno 2] No such file or directory: '{tmp_path / 'missing.arff'}'",
        ),
        (["evaluate", "--data", str(tmp_path)], f"{error} [Errno 21] Is a directory: '{tmp_path}'"),
        (
            ["evaluate", "--data", str(malformed)],
            f"{error} {malformed}, line 13: expected 5 values, found 4",
        ),
        (["evaluate", "--data", str(empty)], f"{error} {empty}: no instances to evaluate"),
        (
            ["evaluate", "--data", str(header)],
            f"{error} {header}: no @data line (the file ends at line 6)",
        ),
        (
            ["evaluate", "--data", str(binary)],
            f"{error} {binary}: not utf-8 text: 'utf-8' codec can't decode byte 0xff in "
            "position 12: invalid start byte",
        ),
        (
            ["evaluate", "--data", str(plain)],
            f"{error} {plain}: cannot tell which attributes are the labels: pass labels=[...], "
            "put a MULAN plain.xml beside the file, or give the relation a MEKA option '-C N' "
            "(first N attributes) or '-C -N' (last N)",
        ),
        (
            ["evaluate", "--data", str(plain), "--labels", "a,zz"],
            f"{error} labels=: 1 label(s) are not attributes of the file: 'zz'",
        ),
        (["evaluate", "--data", str(plain), "--labels", ","], f"{error} labels is empty"),
        (
            ["evaluate", "--labels", "a,b"],
            f"{error} --labels is for an ARFF file; yeast has its own labels",
        ),
        (
            ["evaluate", "--model", "nope"],
            f"{evaluate} --model: invalid choice: 'nope' (choose from {choices})",
        ),
        *(
            (
                ["evaluate", option, value],
                f"{evaluate} {option}: expected a positive integer, got '{value}'",
            )
            for option, value in [
                ("--limit", "0"),
                ("--limit", "-5"),
                ("--limit", "ten"),
                ("--window", "0"),
            ]
        ),
        (["evaluate", "--seed", "x"], f"{evaluate} --seed: invalid int value: 'x'"),
        (
            ["evaluate", "--thresholds", "weighted"],
            f"{evaluate} --thresholds: invalid choice: 'weighted' (choose from 'macro', 'micro')",
        ),
        *(
            (
                ["evaluate", "--thresholds", "micro", "--strength", value],
                f"{evaluate} --strength: expected a number in [0, 1], got '{value}'",
            )
            for value in ("1.5", "-0.1", "half")
        ),
        (["evaluate", "--strength", "0.5"], f"{error} --strength needs --thresholds"),
        *(
            (
                ["evaluate", "--thresholds", "micro", "--batch", batch],
                f"{error} --thresholds decides instance by instance: not with --shards or --batch",
            )
            for batch in ("2", "10")
        ),
        (
            ["evaluate", "--plot", str(tmp_path / "no" / "x.png")],
            f"{error} --plot {tmp_path / 'no' / 'x.png'}: no such directory",
        ),
        (["evaluate", "--unknown"], f"{error} unrecognized arguments: --unknown"),
        (
            ["serve", "--port", "http"],
            "streamml serve: error: argument --port: invalid int value: 'http'",
        ),
        (
            ["serve", "--model", "nope"],
            f"streamml serve: error: argument --model: invalid choice: 'nope' (choose from "
            f"{choices})",
        ),
        (
            ["nothing"],
            f"{error} argument COMMAND: invalid choice: 'nothing' (choose from 'evaluate', "
            "'serve')",
        ),
        ([], f"{error} the following arguments are required: COMMAND"),
    ]


def test_each_bad_input_is_one_line_on_stderr_and_exit_code_2(capsys, tmp_path):
    for argv, line in bad_cases(tmp_path):
        code, out, err = run(capsys, *argv)
        assert (code, out, err) == (2, "", line + "\n"), argv


def test_the_installed_command_runs_and_fails_as_documented(tmp_path):
    """The real entry point (`python -m streamml`), outside this process."""
    path = write_arff(tmp_path / "small.arff")
    argv = [sys.executable, "-m", "streamml", "evaluate", "--data", str(path), "--model"]
    done = subprocess.run(argv + ["majority", "--json"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
    check_json(done.stdout, expected("majority", ARFF(path)))
    done = subprocess.run(argv + ["nope"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "invalid choice: 'nope'" in done.stderr


def test_interrupted_evaluation_says_so_and_exits_130(capsys, monkeypatch):
    import streamml.evaluate

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(streamml.evaluate, "prequential", interrupted)
    code, out, err = run(capsys, "evaluate", "--model", "majority")
    assert code == 130 and out == "" and err == "streamml: interrupted\n"
