"""Weights of a mixture of predictors from their recent Brier scores.

Each predictor weighs its recent Brier score to the power -rate (an exponentially weighted
forecaster on the log of the scores), so only the ratios of the scores matter: a mixture is as
sharp on many labels (large scores) as on few (small scores). A predictor without error takes
all the weight (shared with the others without error).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["mixture_weights", "pair_weight", "pair_weights"]


def pair_weight(a: float, b: float, rate: float) -> float:
    """Weight of the predictor with score `a` in a mixture with the one with score `b`.

    >>> pair_weight(0.1, 0.2, 1.0), pair_weight(0.2, 0.2, 5.0), pair_weight(0.0, 0.3, 2.0)
    (0.6666666666666666, 0.5, 1.0)

    """
    if not (a > 0.0 and b > 0.0):  # a predictor without error (or nothing seen yet)
        return 0.5 if a == b else float(a < b)
    # Log of the ratio of the two weights, b's / a's: (a / b) ** rate.
    gap = rate * (math.log(a) - math.log(b))
    if gap > 700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(gap)) if gap > -700.0 else 1.0


def pair_weights(scores: np.ndarray, rate: float) -> np.ndarray:
    """`pair_weight` column by column: the weight of the predictor of row 0 of a two-row
    array of scores (one column per pair), against that of row 1.

    >>> pair_weights(np.array([[0.1, 0.2, 0.0, 0.0], [0.2, 0.2, 0.3, 0.0]]), 1.0).tolist()
    [0.6666666666666666, 0.5, 1.0, 0.5]

    """
    # Each pair over its larger score: one of the two is 1, so no power overflows and the sum
    # is at least 1 (a tiny floor makes two scores of 0 a pair of ones).
    pair = scores + 1e-300
    pair /= pair.max(axis=0)
    pair **= rate
    return pair[1] / (pair[0] + pair[1])


def mixture_weights(scores: np.ndarray, rate: float) -> np.ndarray:
    """Weights (summing to 1) of predictors with these recent Brier scores.

    >>> mixture_weights(np.array([0.1, 0.2, 0.4]), 1.0).round(3).tolist()
    [0.571, 0.286, 0.143]
    >>> mixture_weights(np.array([0.3, 0.0, 0.0]), 2.0).tolist()
    [0.0, 0.5, 0.5]

    """
    scores = np.asarray(scores, dtype=float)
    perfect = scores <= 0.0
    if perfect.any():
        return perfect / perfect.sum()
    logits = -rate * np.log(scores)
    w = np.exp(logits - logits.max())
    return w / w.sum()
