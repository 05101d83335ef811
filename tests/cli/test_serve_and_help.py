"""`streamml serve` hands its options to the service; `--help` and the README agree."""

from __future__ import annotations

import os
import pathlib
import re

import pytest

from streamml import cli, models

from .helpers import run


def test_serve_passes_its_options_to_the_service(capsys, monkeypatch, tmp_path):
    import service

    calls = []
    monkeypatch.setattr(service, "run", lambda **kwargs: calls.append(kwargs))
    argv = ["serve", "--host", "0.0.0.0", "--port", "8123", "--data-dir", str(tmp_path)]
    code, out, err = run(capsys, *argv, "--model", "mlhat", "--seed", "9")
    assert code == 0 and out == err == ""
    assert calls == [
        {
            "host": "0.0.0.0",
            "port": 8123,
            "data_dir": str(tmp_path),
            "model": "mlhat",
            "seed": 9,
            "shards": None,
            "ray_address": None,
        }
    ]
    code, _, _ = run(capsys, "serve")
    assert code == 0
    assert calls[-1] == {
        "host": "127.0.0.1",
        "port": 8000,
        "data_dir": "streamml-data",
        "model": cli.DEFAULT_MODEL,
        "seed": 42,
        "shards": None,
        "ray_address": None,
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
    text = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
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
    # evaluate: model, seed, window, batch, strength; serve: host, port, data-dir, model, seed
    assert stated == 10
