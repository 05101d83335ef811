"""The encoding shared by the learners (`EncodedLearner`): labels, features and table input."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from streamml.learners import MLHAT
from streamml.learners.encoded import label_rows, rows


def _reference_positives(known: list, y: dict) -> list[int]:
    """Label positions, new labels appended in the order of y's keys."""
    for label in y:
        if label not in known:
            known.append(label)
    return sorted(known.index(label) for label, on in y.items() if on)


@pytest.mark.parametrize("n_labels", [5, 33, 80])
def test_label_positions_follow_the_first_appearance_on_every_path(n_labels):
    """Wide label sets (more than 32) repeat their key order and take a numpy path."""
    rng = random.Random(n_labels)
    model, known = MLHAT(seed=0), []
    keys = [f"l{j}" for j in range(n_labels)]
    for step in range(200):
        r = rng.random()
        if r < 0.1:
            keys = keys + [f"new{step}"]  # a new label
        elif r < 0.15:
            keys = rng.sample(keys, len(keys))  # another order
        elif r < 0.2:
            keys = keys[: max(1, len(keys) - 3)]  # known labels left out (False)
        y = {k: rng.random() < 0.2 for k in keys}
        positives = model._positives(y)
        assert positives == _reference_positives(known, y), step
        assert all(type(i) is int for i in positives)  # positions index arrays
        assert model.labels == known


def test_predictions_do_not_grow_the_feature_index():
    model = MLHAT(seed=0)
    model.learn_one({"a": 1.0}, {"y": True})
    model.predict_one({"a": 1.0, "new": 2.0})
    model.predict_proba_one({"other": 2.0})
    assert len(model.feature_index) == 1
    model.learn_one({"a": 1.0, "new": 2.0}, {"y": False})
    assert len(model.feature_index) == 2


def test_a_dict_changed_in_place_is_encoded_again():
    model = MLHAT(seed=0)
    for i in range(30):
        model.learn_one({"a": float(i % 2), "b": 1.0}, {"y": bool(i % 2)})
    x = {"a": 1.0, "b": 1.0}
    first = model.predict_proba_one(x)
    x["a"] = 0.0
    assert model.predict_proba_one(x) == model.predict_proba_one({"a": 0.0, "b": 1.0})
    assert model.predict_proba_one(x) != first


def test_a_label_is_predicted_above_one_half_only():
    model = MLHAT(seed=0)
    model.learn_one({"a": 1.0}, {"y": True, "z": False})
    for p in (0.5, 0.5000001):
        model.predict_proba_vector = lambda v, p=p: np.array([p, 0.2])
        assert model.predict_one({"a": 1.0}) == {"y": p > 0.5, "z": False}


def test_table_rows_leave_out_missing_values_and_name_bad_ones():
    X = np.array([[1.0, np.nan], [0.0, 2.0]])
    assert rows(X) == [{0: 1.0}, {0: 0.0, 1: 2.0}]
    assert rows(np.array([[None, "red"]], dtype=object)) == [{1: "red"}]
    with pytest.raises(ValueError, match=r"^row 1, feature 0: inf is not a finite number$"):
        rows(np.array([[1.0], [math.inf]]))
    with pytest.raises(ValueError, match=r"^X must be 2-d, got shape \(3,\)$"):
        rows(np.ones(3))
    with pytest.raises(ValueError, match=r"^Y must be 2-d"):
        label_rows(np.ones(3))
    assert label_rows(np.array([[1, 0]])) == [{0: True, 1: False}]


def test_an_object_with_to_dict_but_no_columns_is_read_as_an_array():
    class Rows(list):
        def to_dict(self):
            raise AssertionError("not a table")

    assert rows(Rows([[1.0, 2.0]])) == [{0: 1.0, 1: 2.0}]


def test_learn_many_needs_as_many_label_rows_as_rows():
    with pytest.raises(ValueError, match=r"^X has 2 rows but Y has 1$"):
        MLHAT(seed=0).learn_many(np.ones((2, 2)), np.ones((1, 2), dtype=bool))


def test_non_dict_inputs_are_type_errors():
    model = MLHAT(seed=0)
    with pytest.raises(TypeError, match=r"^x must be a dict, got list$"):
        model.learn_one([1.0], {"y": True})
    with pytest.raises(TypeError, match=r"^y must be a dict of label -> bool, got list$"):
        model.learn_one({"a": 1.0}, ["y"])


def test_batch_predictions_are_tables_of_the_labels_and_do_not_grow_the_index():
    import pandas as pd

    model = MLHAT(seed=0)
    X = np.array([[1.0, 0.0], [0.0, 1.0]] * 10)
    Y = np.array([[True, False], [False, True]] * 10)
    model.learn_many(X, Y)
    width = len(model.feature_index)
    proba = model.predict_proba_many(np.array([[1.0, 0.0, 5.0]]))  # a feature never learnt
    assert len(model.feature_index) == width
    assert list(proba.columns) == [0, 1] and list(proba.index) == [0]
    assert proba.dtypes.tolist() == [np.float64, np.float64]
    frame = pd.DataFrame({0: [1.0, 0.0], 1: [0.0, 1.0]}, index=["a", "b"])
    decided = model.predict_many(frame)
    assert list(decided.index) == ["a", "b"]
    assert decided.equals(model.predict_proba_many(frame) > 0.5)
    model.predict_proba_many = lambda X: pd.DataFrame({0: [0.5, 0.6]})
    assert model.predict_many(None)[0].tolist() == [False, True]  # above one half only


def test_values_that_are_neither_numbers_nor_strings_are_refused():
    with pytest.raises(ValueError, match=r"^row 0, feature 0: \{'a': 1\} is not a finite number$"):
        rows(np.array([[{"a": 1}]], dtype=object))
