"""A classifier with fixed probabilities, for the tests of the decision wrappers."""

from __future__ import annotations

from river import base


class Fixed(base.MultiLabelClassifier):
    """P(True) of each label is fixed; learning only counts."""

    def __init__(self, proba: dict):
        self.proba = proba
        self.learned = 0

    def predict_proba_one(self, x, **kwargs):
        return {label: {False: 1.0 - p, True: p} for label, p in self.proba.items()}

    def learn_one(self, x, y, **kwargs):
        self.learned += 1
