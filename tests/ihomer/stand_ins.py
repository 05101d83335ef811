"""A cluster learner that records what it is taught, for the tests of IHOMER's parts."""

from __future__ import annotations

from river import base


class Recorder(base.MultiLabelClassifier):
    """river's interface only: keeps every (x, y) it is taught and answers x["p"] (0.25
    without) for each label it was taught, in sorted order."""

    def __init__(self, tag: int = 0):
        self.tag = tag
        self.taught: list = []

    def learn_one(self, x, y, **kwargs):
        self.taught.append((x, y))

    def predict_proba_one(self, x, **kwargs):
        labels = {label for _, y in self.taught for label in y}
        p = x.get("p", 0.25)
        return {label: {False: 1.0 - p, True: p} for label in sorted(labels)}

    def predict_one(self, x, **kwargs):
        return {}
