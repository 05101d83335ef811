"""The README's Python examples run as written, and say what the README says they say."""

from __future__ import annotations

import ast
import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _run(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    return out.getvalue()


def test_the_library_example_runs():
    (code,) = [b for b in _blocks() if "datasets.Yeast()" in b]
    printed = _run(code)
    metrics = ast.literal_eval(printed.splitlines()[0])
    assert 0.1 < metrics["subset_accuracy"] < 1 and 0.5 < metrics["micro_f1"] < 1
    assert "IHOMER after 2417 instances" in printed


def test_the_partition_example_shows_the_partition_acting():
    (code,) = [b for b in _blocks() if "Drift(at=3000" in b]
    printed = _run(code)
    scores = ast.literal_eval(printed.splitlines()[0])
    claimed = re.search(r"# ihomer ([\d.]+), mlhat ([\d.]+)", code)
    assert scores == {"ihomer": float(claimed[1]), "mlhat": float(claimed[2])}
    assert scores["ihomer"] > scores["mlhat"] + 0.02
    assert "alternates" in printed


@pytest.mark.ray
def test_the_scaling_out_example_spreads_the_clusters(local_ray):
    (code,) = [b for b in _blocks() if "ShardedIHOMER(shards=2" in b]
    assert _run(code).splitlines() == ["[0, 1]"]
