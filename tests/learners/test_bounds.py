"""The Hoeffding bound for scalars and arrays, with no instance yet."""

from __future__ import annotations

import math

import numpy as np

from streamml.bounds import hoeffding_bound


def test_no_instance_gives_an_infinite_bound():
    assert hoeffding_bound(0, 0.05) == math.inf
    assert hoeffding_bound(-1, 0.05) == math.inf
    assert hoeffding_bound(np.array([0.0, 8.0]), 0.05)[0] == math.inf


def test_arrays_of_delta_are_computed_elementwise():
    out = hoeffding_bound(100, np.array([0.05, 0.01]), 2.0)
    expected = [2 * math.sqrt(math.log(1 / d) / 200) for d in (0.05, 0.01)]
    assert isinstance(out, np.ndarray) and np.allclose(out, expected)
    both = hoeffding_bound(np.array([50.0, 200.0]), np.array([0.1, 0.001]))
    assert np.allclose(both, [math.sqrt(math.log(10) / 100), math.sqrt(math.log(1000) / 400)])
