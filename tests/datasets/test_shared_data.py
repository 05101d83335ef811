"""Every real stream of ../shared/data read with the shape and label statistics of its MANIFEST."""

from __future__ import annotations

import json
import math
import re

import pytest

from streamml.datasets import ARFF

from ..conftest import SHARED_DATA as DATA
from ..conftest import missing_shared

MANIFEST = DATA / "MANIFEST.json"

if not DATA.is_dir():
    missing_shared(DATA, module=True)

ENTRIES = json.loads(MANIFEST.read_text())


def _label_positions(entry: dict) -> list[int]:
    match = re.fullmatch(r"attributes (\d+)\.\.(\d+) \(0-based\)", entry["label_attribute_range"])
    assert match, entry["label_attribute_range"]
    return list(range(int(match.group(1)), int(match.group(2)) + 1))


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["name"] for entry in ENTRIES])
def test_shared_file_matches_its_manifest(entry):
    dataset = ARFF(DATA / entry["file"])

    # Where the labels came from: the xml when there is one, else the MEKA -C option.
    assert dataset.label_source == ("xml" if entry.get("xml") else "meka")
    names = [a.name for a in dataset.attributes]
    assert [names.index(label) for label in dataset.labels] == _label_positions(entry)
    assert dataset.n_features == entry["features"]
    assert dataset.n_outputs == entry["labels"]
    features = set(dataset.features)
    nominal = sum(a.kind == "nominal" for a in dataset.attributes if a.name in features)
    assert nominal == entry["feature_types"]["nominal"]

    n = 0
    positives = 0
    empty = 0
    labelsets = set()
    ever_positive = set()
    for x, y in dataset:
        assert list(y) == dataset.labels
        assert features.issuperset(x)
        assert all(isinstance(v, float | str) for v in x.values())
        active = frozenset(label for label, on in y.items() if on)
        n += 1
        positives += len(active)
        empty += not active
        labelsets.add(active)
        ever_positive |= active

    assert n == entry["instances"]
    assert dataset.n_samples == n
    assert math.isclose(positives / n, entry["label_cardinality"], abs_tol=1e-3)
    assert math.isclose(positives / n / entry["labels"], entry["label_density"], abs_tol=1e-3)
    assert len(labelsets) == entry["distinct_labelsets"]
    assert empty == entry["instances_without_labels"]
    assert entry["labels"] - len(ever_positive) == entry["labels_never_positive"]
    assert dataset.sparse == (entry["storage"] == "sparse")


DENSE = [entry for entry in ENTRIES if entry["storage"] == "dense"]


@pytest.mark.slow
@pytest.mark.parametrize("entry", DENSE, ids=[entry["name"] for entry in DENSE])
def test_dense_shared_file_equals_scipy_cell_by_cell(entry):
    """An independent reader (scipy.io.arff, dense files only) gives the same values."""
    from scipy.io import arff

    records, meta = arff.loadarff(DATA / entry["file"])
    dataset = ARFF(DATA / entry["file"])
    labels = set(dataset.labels)
    rows = 0
    for record, (x, y) in zip(records, dataset, strict=True):
        rows += 1
        for name, value in zip(meta.names(), record.tolist(), strict=True):
            if isinstance(value, bytes):
                text = value.decode()
                if name in labels:
                    assert y[name] is (text == "1")
                elif text == "?":
                    assert name not in x
                else:
                    try:
                        expected = float(text)
                    except ValueError:
                        expected = text
                    assert x[name] == expected
            elif math.isnan(value):
                assert name not in x
            else:
                assert x[name] == value
    assert rows == entry["instances"]
