"""The `streamml` command: `evaluate` runs the stream and reports what the library computes;
bad input is one line on stderr and exit code 2; `serve` hands its options to the service."""

from __future__ import annotations

import json
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
    """(argv, text of the error) for each kind of bad input."""
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
    return [
        (["evaluate", "--data", str(tmp_path / "missing.arff")], "No such file"),
        (["evaluate", "--data", str(tmp_path)], "Is a directory"),
        (["evaluate", "--data", str(malformed)], "line 13: expected 5 values, found 4"),
        (["evaluate", "--data", str(empty)], "no instances to evaluate"),
        (["evaluate", "--data", str(header)], "no @data line"),
        (["evaluate", "--data", str(binary)], "not utf-8"),
        (["evaluate", "--data", str(plain)], "cannot tell which attributes are the labels"),
        (["evaluate", "--data", str(plain), "--labels", "a,zz"], "'zz'"),
        (["evaluate", "--data", str(plain), "--labels", ","], "labels is empty"),
        (["evaluate", "--labels", "a,b"], "--labels is for an ARFF file"),
        (["evaluate", "--model", "nope"], "invalid choice: 'nope'"),
        (["evaluate", "--limit", "0"], "--limit: expected a positive integer, got '0'"),
        (["evaluate", "--limit", "-5"], "--limit: expected a positive integer, got '-5'"),
        (["evaluate", "--limit", "ten"], "--limit: expected a positive integer, got 'ten'"),
        (["evaluate", "--window", "0"], "--window: expected a positive integer"),
        (["evaluate", "--seed", "x"], "--seed: invalid int value"),
        (["evaluate", "--plot", str(tmp_path / "no" / "x.png")], "no such directory"),
        (["evaluate", "--unknown"], "unrecognized arguments: --unknown"),
        (["serve", "--port", "http"], "--port: invalid int value"),
        (["serve", "--model", "nope"], "invalid choice: 'nope'"),
        (["nothing"], "invalid choice: 'nothing'"),
        ([], "the following arguments are required: COMMAND"),
    ]


def test_each_bad_input_is_one_line_on_stderr_and_exit_code_2(capsys, tmp_path):
    cases = bad_cases(tmp_path)
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert code == 2, (argv, code, out, err)
        assert out == "", argv
        assert err.count("\n") == 1 and err.endswith("\n"), (argv, err)
        assert err.startswith("streamml"), (argv, err)
        assert ": error: " in err and message in err, (argv, err)


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
