"""The `streamml` command: `evaluate` runs the stream and reports what the library computes;
bad input is one line on stderr and exit code 2; `serve` hands its options to the service."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
from river import datasets

from streamml import cli, models
from streamml.datasets import ARFF
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
    import random

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


@pytest.mark.parametrize(("model", "seed", "limit"), [("ihomer", 7, 150), ("majority", 42, 37)])
def test_evaluate_json_is_the_library_prequential_on_yeast(capsys, model, seed, limit):
    code, out, err = run(
        capsys, "evaluate", "--model", model, "--seed", str(seed), "--limit", str(limit), "--json"
    )
    assert code == 0 and err == ""
    got = check_json(out, expected(model, datasets.Yeast(), seed=seed, limit=limit))
    assert got["n"] == limit  # the stream was run, up to the limit


def test_evaluate_an_arff_file(capsys, tmp_path):
    path = write_arff(tmp_path / "small.arff")
    code, out, err = run(capsys, "evaluate", "--data", str(path), "--model", "mlhat", "--json")
    assert code == 0 and err == ""
    assert check_json(out, expected("mlhat", ARFF(path)))["n"] == 60
    # a limit beyond the stream is the whole stream; below it, the limit
    assert (
        json.loads(run(capsys, "evaluate", "--data", str(path), "--limit", "500", "--json")[1])["n"]
        == 60
    )
    code, out, _ = run(capsys, "evaluate", "--data", str(path), "--limit", "25", "--json")
    assert check_json(out, expected(cli.DEFAULT_MODEL, ARFF(path), limit=25))["n"] == 25


def test_labels_name_the_label_attributes_of_a_plain_arff(capsys, tmp_path):
    path = write_arff(tmp_path / "plain.arff", relation="plain", labels_first=False)
    code, out, err = run(capsys, "evaluate", "--data", str(path), "--json")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "cannot tell which attributes are the labels" in err
    for names in ("a,b,c", " c , a,b ", "a,b"):
        code, out, err = run(
            capsys, "evaluate", "--data", str(path), "--labels", names, "--model", "br-ht", "--json"
        )
        assert code == 0 and err == ""
        chosen = [name.strip() for name in names.split(",")]
        check_json(out, expected("br-ht", ARFF(path, labels=chosen)))
    # the labels chosen change what is evaluated: f1's threshold labels vs all three
    two = json.loads(run(capsys, "evaluate", "--data", str(path), "--labels", "a,b", "--json")[1])
    three = json.loads(
        run(capsys, "evaluate", "--data", str(path), "--labels", "a,b,c", "--json")[1]
    )
    assert two["hamming_loss"] != three["hamming_loss"]


def test_the_table_reports_the_metrics_of_the_stream(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_arff(tmp_path / "small.arff", n=80)
    code, out, err = run(
        capsys,
        "evaluate",
        "--data",
        "small.arff",
        "--model",
        "ihomer",
        "--seed",
        "3",
        "--no-progress",
    )
    assert code == 0 and err == ""
    result = prequential(models.make("ihomer", seed=3), ARFF(path))
    lines = out.splitlines()
    assert lines[0].strip() == "ihomer on small.arff"
    for name, label in TABLE.items():
        row = next(line for line in lines if f" {label} " in line)
        assert f"{getattr(result, name):.4f}" in row, (row, getattr(result, name))
    assert next(line for line in lines if " instances " in line).split()[-2] == "80"
    assert next(line for line in lines if " labels " in line).split()[-2] == "3"
    assert "clusters at the end" in out  # iHOMER has a partition
    assert "plot written" not in out


def test_progress_goes_to_stderr_and_the_table_to_stdout(capsys, tmp_path):
    path = write_arff(tmp_path / "small.arff")
    code, out, err = run(capsys, "evaluate", "--data", str(path), "--model", "majority")
    assert code == 0 and "subset accuracy" in out
    assert "60" in err and "subset accuracy" not in err  # the progress bar's count


def test_plot_writes_a_png_of_the_run(capsys, tmp_path):
    import matplotlib.image

    data = write_arff(tmp_path / "small.arff", n=120)
    png = tmp_path / "out" / "run.png"
    png.parent.mkdir()
    argv = ["evaluate", "--data", str(data), "--model", "ihomer", "--window", "20"]
    code, out, err = run(capsys, *argv, "--plot", str(png), "--no-progress")
    assert code == 0 and err == ""
    assert out.rstrip().endswith(f"plot written to {png}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
    assert image[..., :3].std() > 0.05  # not a blank canvas

    code, out, err = run(capsys, "evaluate", "--data", str(data), "--plot", str(png), "--json")
    assert code == 0 and "plot written" not in out  # --json prints the JSON object only
    json.loads(out)


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
        (
            ["evaluate", "--limit", "0"],
            f"{evaluate} --limit: expected a positive integer, got '0'",
        ),
        (
            ["evaluate", "--limit", "-5"],
            f"{evaluate} --limit: expected a positive integer, got '-5'",
        ),
        (
            ["evaluate", "--limit", "ten"],
            f"{evaluate} --limit: expected a positive integer, got 'ten'",
        ),
        (
            ["evaluate", "--window", "0"],
            f"{evaluate} --window: expected a positive integer, got '0'",
        ),
        (["evaluate", "--seed", "x"], f"{evaluate} --seed: invalid int value: 'x'"),
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


def test_serve_passes_its_options_to_the_service(capsys, monkeypatch, tmp_path):
    import service

    calls = []
    monkeypatch.setattr(service, "run", lambda **kwargs: calls.append(kwargs))
    argv = ["serve", "--host", "0.0.0.0", "--port", "8123", "--data-dir", str(tmp_path)]
    code, out, err = run(capsys, *argv, "--model", "mlhat", "--seed", "9")
    assert code == 0 and out == err == ""
    assert calls == [
        {"host": "0.0.0.0", "port": 8123, "data_dir": str(tmp_path), "model": "mlhat", "seed": 9}
    ]
    code, _, _ = run(capsys, "serve")
    assert code == 0
    assert calls[-1] == {
        "host": "127.0.0.1",
        "port": 8000,
        "data_dir": "streamml-data",
        "model": cli.DEFAULT_MODEL,
        "seed": 42,
    }


def test_a_service_error_is_one_line_and_exit_code_2(capsys, monkeypatch, tmp_path):
    import service

    def in_use(**kwargs):
        raise OSError(f"data directory {kwargs['data_dir']} is in use by another process")

    monkeypatch.setattr(service, "run", in_use)
    code, out, err = run(capsys, "serve", "--data-dir", str(tmp_path))
    assert code == 2 and out == ""
    assert err == f"streamml: error: data directory {tmp_path} is in use by another process\n"


def test_help_lists_every_model_with_its_description(capsys):
    code, out, _ = run(capsys, "evaluate", "--help")
    assert code == 0
    text = " ".join(out.split())
    for name, (_, description) in models.MODELS.items():
        assert f"{name}: {' '.join(description.split())}" in text
    for option in ("--data", "--labels", "--model", "--limit", "--seed", "--window", "--json"):
        assert option in text
    assert "--plot" in text and "--no-progress" in text and "(default 42)" in text
    assert "(default 500)" in text and f"(default: {cli.DEFAULT_MODEL})" in text


def readme_usage() -> dict[str, list[str]]:
    """The options of each command in the README's "Command line" block, as argparse shows them."""
    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = text.split("## Command line", 1)[1].split("```", 2)[1]
    usage, command = {}, None
    for line in block.splitlines():
        words = line.split()
        if words[:1] == ["streamml"]:
            command, words = words[1], words[2:]
        if command:
            usage.setdefault(command, []).extend(words)
    return usage


@pytest.mark.parametrize("command", ["evaluate", "serve"])
def test_usage_is_the_readme_usage(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    shown = out.split("\n\n", 1)[0].split()  # "usage: streamml COMMAND [-h] [--data ...] ..."
    assert shown[:4] == ["usage:", "streamml", command, "[-h]"]
    assert shown[4:] == readme_usage()[command]


def test_help_states_the_defaults_the_parser_uses():
    parser = cli._build_parser()
    commands = parser._subparsers._group_actions[0].choices
    stated = 0
    for name, sub in commands.items():
        for action in sub._actions:
            if action.dest == "help":
                continue
            assert action.help and len(action.help) > 10, (name, action.dest)
            match = re.search(r"\(default:? ([^);]+)", action.help)
            if match:
                assert os.path.normpath(match.group(1)) == os.path.normpath(str(action.default))
                stated += 1
    assert stated == 8  # evaluate: model, seed, window; serve: host, port, data-dir, model, seed


def test_defaults_evaluate_yeast_with_the_default_model(capsys):
    code, out, _ = run(capsys, "evaluate", "--limit", "30", "--json")
    assert code == 0
    check_json(out, expected(cli.DEFAULT_MODEL, datasets.Yeast(), limit=30))
    code, out, _ = run(capsys, "evaluate", "--limit", "1", "--model", "majority", "--no-progress")
    assert code == 0 and out.splitlines()[0].strip() == "majority on yeast"
    assert next(line for line in out.splitlines() if " instances " in line).split()[-2] == "1"


def test_without_ihomer_the_default_model_is_majority(capsys, monkeypatch):
    others = {k: v for k, v in models.MODELS.items() if k != "ihomer"}
    monkeypatch.setattr(models, "MODELS", others)
    code, out, _ = run(capsys, "evaluate", "--limit", "40", "--json")
    assert code == 0
    check_json(out, expected("majority", datasets.Yeast(), limit=40))


def test_the_progress_bar_counts_to_the_end_of_the_stream(capsys, tmp_path):
    path = write_arff(tmp_path / "small.arff")
    for argv, count in (([], "60/60"), (["--limit", "25"], "25/25"), (["--limit", "99"], "60/60")):
        code, _, err = run(capsys, "evaluate", "--data", str(path), "--model", "majority", *argv)
        assert code == 0 and count in err, (argv, err)
    code, _, err = run(capsys, "evaluate", "--model", "majority")  # all of Yeast
    assert code == 0 and "2417/2417" in err


def test_options_reach_the_evaluation_and_blas_runs_on_one_thread(capsys, monkeypatch, tmp_path):
    import threadpoolctl

    import streamml.evaluate

    seen, real = [], streamml.evaluate.prequential

    def recording(model, stream, **options):
        seen.append((options, threadpoolctl.threadpool_info()))
        return real(model, stream, **options)

    monkeypatch.setattr(streamml.evaluate, "prequential", recording)
    monkeypatch.chdir(tmp_path)
    with threadpoolctl.threadpool_limits(2):  # (whatever an earlier test left)
        assert run(capsys, "evaluate", "--model", "majority", "--limit", "50", "--json")[0] == 0
    assert run(capsys, "evaluate", "--window", "20", "--plot", "run.png", "--limit", "9")[0] == 0
    (first, pools), (second, _) = seen
    assert first == {"limit": 50, "window": 500, "progress": False, "plot": None}
    assert second == {"limit": 9, "window": 20, "progress": True, "plot": "run.png"}
    assert (tmp_path / "run.png").exists()
    assert pools and all(pool["num_threads"] == 1 for pool in pools)
