"""A check shared by the decision tests: a decision changes nothing a model learns."""

from __future__ import annotations


def assert_same_probabilities(a, b, stream) -> None:
    """Both models answer (`predict_one`) and learn every instance of `stream`; their
    probabilities stay equal throughout."""
    for x, y in stream:
        assert a.predict_proba_one(x) == b.predict_proba_one(x)
        a.predict_one(x)
        b.predict_one(x)
        a.learn_one(x, y)
        b.learn_one(x, y)
