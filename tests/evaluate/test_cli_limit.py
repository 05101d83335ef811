"""`streamml evaluate --limit N` says which instances its results are over."""

from __future__ import annotations

from streamml.cli import main


def test_a_limited_run_is_not_labelled_whole_stream(capsys):
    assert main(["evaluate", "--data", "yeast", "--model", "majority", "--limit", "50"]) == 0
    out = capsys.readouterr().out
    assert "whole stream" not in out and "first 50 instances" in out
    assert "50" in out


def test_a_limit_beyond_the_stream_is_the_whole_stream(capsys):
    assert main(["evaluate", "--data", "yeast", "--model", "majority", "--limit", "9999"]) == 0
    out = capsys.readouterr().out
    assert "whole stream" in out and "first" not in out
