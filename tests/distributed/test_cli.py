"""`streamml evaluate|serve --shards K [--ray-address A]`: the sharded model from the command
line, and one-line errors when it cannot run."""

from __future__ import annotations

import json
import sys

import pytest

from streamml.cli import main

EVALUATE = ["evaluate", "--data", "yeast", "--limit", "300", "--batch", "100", "--json"]


@pytest.mark.parametrize("command", [["evaluate"], ["serve", "--port", "1"]])
def test_without_ray_shards_is_a_one_line_error(command, monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--shards", "2"]) == 2
    err = capsys.readouterr().err
    assert err == 'streamml: error: sharding needs Ray: pip install "streamml[ray]"\n'
    assert not (tmp_path / "streamml-data").exists()  # serve touched nothing


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "mlhat", "--shards", "2"], "--shards runs --model ihomer only, not mlhat"),
        (["--ray-address", "auto"], "--ray-address needs --shards"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "serve"])
def test_sharding_options_that_cannot_work_are_refused(
    command, args, message, capsys, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    assert main([command, *args]) == 2
    assert capsys.readouterr().err == f"streamml: error: {message}\n"
    assert not (tmp_path / "streamml-data").exists()


def test_shards_must_be_a_positive_integer(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["evaluate", "--shards", "0"])
    assert exit.value.code == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


@pytest.mark.ray
def test_evaluate_on_shards_prints_the_same_keys(capsys, local_ray):
    assert main([*EVALUATE, "--model", "ihomer"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert main([*EVALUATE, "--shards", "2"]) == 0
    sharded = json.loads(capsys.readouterr().out)
    assert sharded.keys() == single.keys()
    assert sharded["n"] == single["n"] == 300
    assert 0 < sharded["micro_f1"] <= 1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"model": "mlhat", "shards": 2}, "only 'ihomer' runs on shards, not 'mlhat'"),
        ({"model": "ihomer", "shards": 2, "ray": None}, 'pip install "streamml[ray]"'),
    ],
)
def test_the_service_refuses_shards_it_cannot_run(options, message, monkeypatch, tmp_path):
    from service import Runtime, ServiceConfig

    options = dict(options)
    if "ray" in options:
        monkeypatch.setitem(sys.modules, "ray", options.pop("ray"))
    runtime = Runtime(ServiceConfig(data_dir=tmp_path / "d", **options))
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        runtime.open()
    runtime._release()
    assert Runtime(ServiceConfig(data_dir=tmp_path / "d", model="majority")).open() is None


def test_a_data_directory_keeps_its_shards(tmp_path, caplog):
    pytest.importorskip("ray", reason='needs the ray extra: pip install "streamml[ray]"')
    from service import Runtime, ServiceConfig

    first = Runtime(ServiceConfig(data_dir=tmp_path / "d", model="ihomer", shards=2))
    first.open()
    first._release()
    again = Runtime(ServiceConfig(data_dir=tmp_path / "d", model="ihomer", shards=3))
    again.open()
    assert again.shards == 2 and "keeps its model on 2 shards" in caplog.text
    again._release()
    plain = Runtime(ServiceConfig(data_dir=tmp_path / "e", model="ihomer"))
    plain.open()
    assert plain.shards == 0
    plain._release()
