"""Mini-batches for the prequential evaluation: river's `predict_many`/`learn_many` on pandas
DataFrames when a model has them, one instance at a time otherwise."""

from __future__ import annotations

import math

__all__ = ["frame_of", "learn_batch", "predict_batch", "records_of"]


def _has_many(model) -> bool:
    return callable(getattr(model, "predict_many", None)) and callable(
        getattr(model, "learn_many", None)
    )


def frame_of(rows: list[dict]):
    """A DataFrame of dicts (a feature absent from a dict is NaN), in the order given."""
    import pandas as pd

    return pd.DataFrame.from_records(rows, index=range(len(rows)))


def records_of(frame) -> list[dict]:
    """The rows of a DataFrame as dicts without their NaN cells (the inverse of `frame_of`
    for dicts without NaN)."""
    columns = list(frame.columns)
    out = []
    for values in frame.itertuples(index=False, name=None):
        out.append(
            {c: v for c, v in zip(columns, values) if not (isinstance(v, float) and math.isnan(v))}
        )
    return out


def predict_batch(model, xs: list[dict]) -> list[dict]:
    """The model's predictions for every instance, none of them learned yet."""
    if _has_many(model):
        predicted = model.predict_many(frame_of(xs))
        return [
            {label: bool(value) for label, value in row.items()}
            for row in predicted.to_dict("records")
        ]
    return [model.predict_one(x) for x in xs]


def learn_batch(model, batch: list[tuple[dict, dict]]) -> None:
    """Teach the model every (x, y) of the batch, in order."""
    if _has_many(model):
        ys = [y for _, y in batch]
        labels = list(dict.fromkeys(label for y in ys for label in y))
        Y = frame_of([{label: bool(y.get(label, False)) for label in labels} for y in ys])
        model.learn_many(frame_of([x for x, _ in batch]), Y)
        return
    for x, y in batch:
        model.learn_one(x, y)
