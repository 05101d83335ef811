"""Mini-batch prequential evaluation: predict B instances, then learn them."""

from __future__ import annotations

import json

import pytest
from river import datasets

from streamml import models
from streamml.cli import main
from streamml.evaluate import MultiLabelMetrics, prequential
from streamml.evaluate.batches import frame_of, records_of


def _by_hand(model, stream, batch):
    """The metrics of predicting every instance of a batch, then learning them in order."""
    metrics, data = MultiLabelMetrics(), list(stream)
    for start in range(0, len(data), batch):
        chunk = data[start : start + batch]
        for (x, y), y_pred in zip(chunk, [model.predict_one(x) for x, _ in chunk]):
            metrics.update(y, y_pred)
        for x, y in chunk:
            model.learn_one(x, y)
    return metrics.get()


@pytest.mark.parametrize("name", ["majority", "mlhat", "ihomer"])
def test_a_batch_is_predicted_before_any_of_it_is_learned(name):
    stream = list(datasets.Yeast().take(450))
    result = prequential(models.make(name, seed=1), stream, batch=100)
    assert result.n == 450 and result.batch == 100
    assert result.metrics() == _by_hand(models.make(name, seed=1), stream, 100)
    one = prequential(models.make(name, seed=1), stream)
    assert one.metrics() == _by_hand(models.make(name, seed=1), stream, 1)
    if name != "majority":
        assert result.metrics() != one.metrics()  # learning later changes the predictions


class _ManyOnly:
    """A model whose mini-batch methods record what they receive (and that predicts by
    memory, so that it shows when it learned)."""

    def __init__(self):
        self.seen: dict = {}
        self.calls: list = []

    def predict_one(self, x):
        raise AssertionError("predict_many must be used")

    def learn_one(self, x, y):
        raise AssertionError("learn_many must be used")

    def predict_many(self, X):
        import pandas as pd

        self.calls.append(("predict", len(X)))
        rows = [self.seen.get(tuple(sorted(x.items())), {}) for x in records_of(X)]
        return pd.DataFrame([{label: bool(v) for label, v in row.items()} for row in rows])

    def learn_many(self, X, Y):
        self.calls.append(("learn", len(X)))
        for x, y in zip(records_of(X), Y.to_dict("records")):
            self.seen[tuple(sorted(x.items()))] = y


def test_models_with_mini_batch_methods_get_data_frames():
    stream = [({"a": float(i % 3), "b": "u"}, {"l1": i % 3 == 0}) for i in range(10)]
    model = _ManyOnly()
    result = prequential(model, stream, batch=4)
    assert model.calls == [("predict", 4), ("learn", 4)] * 2 + [("predict", 2), ("learn", 2)]
    # the first batch is predicted empty (right for instances 1 and 2, wrong for 0 and 3,
    # whose label is on); every later x was learned in the first batch
    assert result.subset_accuracy == pytest.approx(8 / 10)


def test_frames_round_trip_sparse_dicts():
    rows = [{"a": 1.0, "c": "x"}, {"b": 2.0}, {}]
    assert records_of(frame_of(rows)) == rows


def test_cli_batch_prints_the_same_keys(capsys):
    assert main(["evaluate", "--model", "majority", "--limit", "300", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert (
        main(["evaluate", "--model", "majority", "--limit", "300", "--batch", "50", "--json"]) == 0
    )
    batched = json.loads(capsys.readouterr().out)
    assert batched.keys() == plain.keys() and batched["n"] == 300
    assert main(["evaluate", "--model", "majority", "--limit", "60", "--batch", "50"]) == 0
    assert "mini-batches of 50" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["0", "-3", "x"])
def test_cli_refuses_a_bad_batch(value, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["evaluate", "--batch", value])
    assert exit.value.code == 2
    assert "--batch" in capsys.readouterr().err
