"""A check shared by the estimators' tests: a model pickled mid-stream continues identically."""

from __future__ import annotations

import pickle


def assert_pickle_continues(model, stream: list, split: int, answer: str = "predict_one"):
    """Learn `stream[:split]`, pickle the model, then check that the copy answers (`answer`:
    the method compared) and learns as the original over the rest; returns both."""
    for x, y in stream[:split]:
        getattr(model, answer)(x)
        model.learn_one(x, y)
    copy = pickle.loads(pickle.dumps(model))
    for x, y in stream[split:]:
        assert getattr(copy, answer)(x) == getattr(model, answer)(x)
        copy.learn_one(x, y)
        model.learn_one(x, y)
    return model, copy
