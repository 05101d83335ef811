from __future__ import annotations

import math
import pickle
import random

import numpy as np
import pytest

from streamml.learners import EncodedInstance, FeatureIndex


def test_numeric_and_nominal_values():
    index = FeatureIndex()
    v = index.encode({"a": 2.5, "colour": "red", "n": 3, "flag": True})
    assert index.names == sorted(index.names)  # new names of one instance in name order
    dense = dict(zip(index.names, v.dense().tolist()))
    assert dense == {"a": 2.5, "colour=red": 1.0, "flag": 1.0, "n": 3.0}
    v = index.encode({"colour": "blue"})
    assert index.names[-1] == "colour=blue"
    assert v.indices.tolist() == [index.column("colour=blue")]
    assert v.values.tolist() == [1.0]


def test_indices_sorted_and_zeros_missing_none_nan_not_stored():
    index = FeatureIndex()
    index.encode({"z": 1.0, "y": 1.0, "x": 1.0})
    v = index.encode({"x": 0.0, "z": 5.0, "y": None, "w": float("nan"), "v": -1.0})
    assert v.indices.tolist() == sorted(v.indices.tolist())
    values = dict(zip((index.names[i] for i in v.indices), v.values.tolist()))
    assert values == {"z": 5.0, "v": -1.0}
    assert "w" not in index  # never non-zero, so no column


def test_zero_valued_keys_do_not_create_columns():
    # Written-out zeros and left-out zeros give the same columns.
    rows = [{"a": 0.0, "b": 1.0}, {"a": 2.0, "b": 0.0}, {"c": 1.0}]
    sparse, dense = FeatureIndex(), FeatureIndex()
    for row in rows:
        s = sparse.encode({k: v for k, v in row.items() if v})
        d = dense.encode({"a": 0.0, "b": 0.0, "c": 0.0, **row})
        assert s.indices.tolist() == d.indices.tolist()
        assert s.values.tolist() == d.values.tolist()
    assert sparse.names == dense.names


def test_key_order_does_not_matter():
    rng = random.Random(0)
    rows = [{f"f{j}": rng.random() for j in range(rng.randint(1, 12))} for _ in range(50)]
    a, b = FeatureIndex(), FeatureIndex()
    for row in rows:
        keys = list(row)
        rng.shuffle(keys)
        va, vb = a.encode(row), b.encode({k: row[k] for k in keys})
        assert va.indices.tolist() == vb.indices.tolist()
        assert va.values.tolist() == vb.values.tolist()


def test_fast_path_matches_slow_path():
    rng = np.random.default_rng(0)
    index = FeatureIndex()
    names = [f"f{j}" for j in range(20)]
    for _ in range(100):
        values = rng.normal(size=20) * (rng.random(20) < 0.7)
        x = dict(zip(names, values.tolist()))
        v = index.encode(x)
        fresh = FeatureIndex()
        fresh.names, fresh._index = list(index.names), dict(index._index)
        w = fresh._encode_slow(x, tuple(x))
        assert v.indices.tolist() == w.indices.tolist()
        assert v.values.tolist() == w.values.tolist()
        assert v.full == w.full


def test_numeric_strings_are_nominal_on_every_path():
    index = FeatureIndex()
    index.encode({"a": 1.0, "b": 2.0})
    index.encode({"a": 1.0, "b": 2.0})  # the fast path is now primed for these keys
    v = index.encode({"a": 1.0, "b": "2"})
    assert "b=2" in index
    assert index.column("b=2") in v.indices.tolist()


def test_bad_values_raise_and_change_nothing():
    index = FeatureIndex()
    index.encode({"a": 1.0})
    for bad in ({"new": 1.0, "b": float("inf")}, {"new": 1.0, "b": [1, 2]}):
        with pytest.raises(ValueError):
            index.encode(bad)
        assert index.names == ["a"]


def test_dense_width_full_and_pickling():
    index = FeatureIndex()
    v = index.encode({"a": 1.0, "b": 2.0})
    assert v.full and v.width == 2
    index.encode({"c": 3.0})
    w = index.encode({"c": 3.0, "a": 0.0})
    assert not w.full and w.width == 3
    assert w.dense().tolist() == [0.0, 0.0, 3.0]
    assert w.dense() is w.dense()  # cached
    u = pickle.loads(pickle.dumps(w))
    assert isinstance(u, EncodedInstance)
    assert u.indices.tolist() == w.indices.tolist() and u.width == 3 and not u.full


def test_sparse_instance_costs_its_non_zeros():
    # A wide index does not make the encoding of a small instance dense.
    index = FeatureIndex()
    index.encode({f"w{j}": 1.0 for j in range(5000)})
    v = index.encode({"w3": 1.0, "w4000": math.pi})
    assert v.nnz == 2 and v.width == 5000


class _ReferenceIndex:
    """The encoding rules of `FeatureIndex`, written out with a dict and no fast path."""

    def __init__(self):
        self.names: list = []
        self.column: dict = {}

    def encode(self, x: dict, grow: bool):
        entries, new, complete = {}, [], True
        for name, value in x.items():
            if isinstance(value, str):
                name, value = f"{name}={value}", 1.0
            elif value is None or value != value or float(value) == 0.0:
                continue
            if name not in self.column:
                if not grow:
                    complete = False
                    continue
                if name not in new:
                    new.append(name)
            entries[name] = float(value)
        for name in sorted(new, key=lambda n: (type(n).__name__, str(n))):
            self.column[name] = len(self.names)
            self.names.append(name)
        pairs = sorted((self.column[name], value) for name, value in entries.items())
        return [c for c, _ in pairs], [v for _, v in pairs], complete


def _random_instance(rng: random.Random, keys: list) -> dict:
    x = {}
    for key in keys:
        r = rng.random()
        if r < 0.25:
            x[key] = 0.0 if rng.random() < 0.7 else rng.choice([None, float("nan"), 0, False])
        elif r < 0.35:
            x[key] = rng.choice(["red", "blue", "1"])
        elif r < 0.45:
            x[key] = rng.choice([True, 3, np.float32(0.5), np.int64(-2), np.float64(1e-300)])
        else:
            x[key] = rng.uniform(-5, 5)
    return x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_encoding_follows_its_rules_on_every_path(seed):
    """Streams that repeat the last key order (the fast path), shuffle it, add keys, mix
    nominal values and predict with unknown features."""
    rng = random.Random(seed)
    pool = [f"f{j}" for j in range(12)] + [7, 3, "0z"]  # "0z" sorts before "3", after 3
    index, ref = FeatureIndex(), _ReferenceIndex()
    keys = pool[:6]
    for step in range(400):
        r = rng.random()
        if r < 0.1:
            keys = rng.sample(pool, rng.randint(1, len(pool)))  # new keys and order
        elif r < 0.15:
            keys = list(keys)
            rng.shuffle(keys)
        x = _random_instance(rng, keys)
        if rng.random() < 0.2:  # a numeric-only instance on the same keys: the fast path
            x = {k: (v if not isinstance(v, str) else 1.0) for k, v in x.items()}
        grow = rng.random() < 0.8
        names = list(index.names)
        v = index.encode(x, grow=grow)
        cols, vals, complete = ref.encode(x, grow)
        assert v.indices.tolist() == cols, step
        assert v.values.tolist() == vals, step
        assert v.values.dtype == np.float64 and v.indices.dtype == np.int64
        assert (v.width, v.complete) == (len(ref.names), complete), step
        assert v.full == (cols == list(range(len(cols))))
        assert index.names == ref.names
        if not grow:
            assert index.names == names  # predictions add no column
    assert len(index.names) > 14  # nominal columns were added too


def test_errors_name_the_feature_and_change_nothing():
    index = FeatureIndex()
    index.encode({"a": 1.0})
    for bad, message in (
        ({"new": 1.0, "b": float("inf")}, "feature 'b' is infinite"),
        ({"new": 1.0, "b": [1, 2]}, r"feature 'b' has value \[1, 2\]"),
        ({"b": 1.0, "c": "red", "c=red": 2.0}, "feature 'c=red' is given twice"),
    ):
        with pytest.raises(ValueError, match=message):
            index.encode(bad)
        assert index.names == ["a"]
    index.encode({"c": "red"})
    with pytest.raises(ValueError, match="'c=red' is given twice"):
        index.encode({"c=red": 2.0, "c": "red"})
    assert index.names == ["a", "c=red"]


def test_a_repeated_dense_instance_is_full_on_the_fast_path():
    index = FeatureIndex()
    for _ in range(3):
        v = index.encode({"a": 1.0, "b": 2.0, "c": -1.0})
        assert v.full and v.indices.tolist() == [0, 1, 2] and v.values.tolist() == [1, 2, -1]


def test_an_unpickled_instance_rebuilds_its_dense_vector():
    index = FeatureIndex()
    index.encode({"a": 1.0, "b": 2.0})
    v = index.encode({"b": 3.0})
    assert v.dense().tolist() == [0.0, 3.0]
    u = pickle.loads(pickle.dumps(v))
    assert u.dense().tolist() == [0.0, 3.0]


def test_new_names_of_different_types_are_ordered_by_type_then_text():
    index = FeatureIndex()
    index.encode({"0z": 1.0, 7: 1.0, 3: 1.0})
    assert index.names == [3, 7, "0z"]  # int before str, whatever the text says
