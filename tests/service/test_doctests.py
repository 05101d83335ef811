"""The service's docstring examples (the service is outside pytest's doctest paths)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["config", "quality", "slots"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"service.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
