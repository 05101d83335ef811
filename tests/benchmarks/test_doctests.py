"""The docstring examples of `benchmarks/` (outside pytest's doctest paths: some of its modules
are scripts that import their neighbours as top-level modules)."""

from __future__ import annotations

import doctest
import importlib
import pathlib

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
WITH_EXAMPLES = sorted(p.stem for p in BENCHMARKS.glob("*.py") if ">>> " in p.read_text())


def test_the_modules_with_examples_are_found():
    assert {"drift", "scaling", "mutation_report"} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_doctests(name):
    module = importlib.import_module(f"benchmarks.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
