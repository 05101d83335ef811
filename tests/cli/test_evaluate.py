"""`streamml evaluate` runs the stream and reports what the library's `prequential` computes."""

from __future__ import annotations

import json

import pytest
from river import base, datasets

from streamml import cli, models
from streamml.datasets import ARFF
from streamml.evaluate import prequential

from .helpers import TABLE, check_json, expected, run, write_arff


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
    assert first == {"limit": 50, "window": 500, "progress": False, "plot": None, "batch": 1}
    assert second == {"limit": 9, "window": 20, "progress": True, "plot": "run.png", "batch": 1}
    assert (tmp_path / "run.png").exists()
    assert pools and all(pool["num_threads"] == 1 for pool in pools)


@pytest.mark.parametrize(("average", "strength"), [("micro", "0.35"), ("macro", "1")])
def test_thresholds_evaluate_the_f_measure_wrapper(capsys, average, strength):
    from streamml import IHOMER
    from streamml.compose import FMeasureThresholds

    argv = ["evaluate", "--limit", "300", "--json", "--thresholds", average]
    code, out, err = run(capsys, *argv, "--strength", strength)
    assert code == 0 and err == ""
    model = FMeasureThresholds(IHOMER(seed=42), average=average, strength=float(strength))
    got = check_json(out, prequential(model, datasets.Yeast(), limit=300).to_dict())
    plain = json.loads(run(capsys, "evaluate", "--limit", "300", "--json")[1])
    assert got["micro_f1"] != plain["micro_f1"]  # the decision changed


class _AtHalf(base.MultiLabelClassifier):
    """Each label of a model decided on its own: P(True) >= 0.5."""

    def __init__(self, model):
        self.model = model

    def learn_one(self, x, y):
        self.model.learn_one(x, y)

    def predict_proba_one(self, x):
        return self.model.predict_proba_one(x)

    def predict_one(self, x):
        return {k: p[True] >= 0.5 for k, p in self.predict_proba_one(x).items()}


def test_the_strength_takes_the_ends_of_its_range(capsys):
    # strength 0 keeps every threshold at 0.5: each label decided on its own, from the
    # probabilities IHOMER publishes (those of the decision that answers, see `last_set`).
    from streamml import IHOMER

    argv = ["evaluate", "--limit", "200", "--json", "--thresholds", "micro", "--strength"]
    code, out, err = run(capsys, *argv, "0")
    assert code == 0 and err == ""
    alone = prequential(_AtHalf(IHOMER(seed=42)), datasets.Yeast(), limit=200)
    assert json.loads(out)["micro_f1"] == alone.micro_f1


@pytest.mark.parametrize(("limit", "caption"), [("40", "first 40 instances"), ("500", "whole")])
def test_the_table_says_whether_the_whole_stream_ran(capsys, tmp_path, limit, caption):
    path = write_arff(tmp_path / "small.arff")
    code, out, _ = run(capsys, "evaluate", "--data", str(path), "--limit", limit, "--no-progress")
    assert code == 0
    text = " ".join(out.split())
    assert f"{caption} stream" in text or f"{caption}," in text
    assert ("whole stream" in text) == (caption == "whole")


@pytest.mark.parametrize(
    ("flag", "option", "limit", "changed"),
    [
        ("--no-last-set", "last_set", 300, "micro_f1"),
        ("--no-label-balance", "label_balance", 600, "macro_f1"),
    ],
)
def test_an_option_turned_off_evaluates_ihomer_without_it(capsys, flag, option, limit, changed):
    from streamml import IHOMER

    code, out, err = run(capsys, "evaluate", "--limit", str(limit), "--json", flag)
    assert code == 0 and err == ""
    alone = prequential(IHOMER(seed=42, **{option: False}), datasets.Yeast(), limit=limit)
    for metric in ("subset_accuracy", "micro_f1", "macro_f1", "hamming_loss"):
        assert json.loads(out)[metric] == getattr(alone, metric), metric
    default = json.loads(run(capsys, "evaluate", "--limit", str(limit), "--json")[1])
    assert default[changed] != getattr(alone, changed)  # the option made a difference


@pytest.mark.parametrize("flag", ["--no-last-set", "--no-label-balance"])
def test_the_options_of_ihomer_are_refused_for_other_models(capsys, flag):
    code, _, err = run(capsys, "evaluate", "--model", "mlhat", flag, "--limit", "5")
    assert code == 2 and f"{flag} is an option of 'ihomer', not 'mlhat'" in err


def test_both_options_off_at_once(capsys):
    from streamml import IHOMER

    argv = ["evaluate", "--limit", "300", "--json", "--no-label-balance", "--no-last-set"]
    code, out, _ = run(capsys, *argv)
    plain = IHOMER(seed=42, label_balance=False, last_set=False)
    assert (
        code == 0
        and json.loads(out)["micro_f1"] == prequential(plain, datasets.Yeast(), limit=300).micro_f1
    )
