"""What the decision wrappers share: they wrap a classifier and keep its probabilities."""

from __future__ import annotations

import typing

from river import base

__all__ = ["Decision", "Thresholded"]


@typing.runtime_checkable
class Thresholded(typing.Protocol):
    """A classifier that decides each label against a threshold of its own, not 0.5.

    `thresholds` maps each label it knows to the probability from which it predicts it
    (`FMeasureThresholds`). IHOMER is not one: its threshold answers only while it has paid
    (`threshold_strength`).
    """

    @property
    def thresholds(self) -> dict: ...


class Decision(base.Wrapper, base.MultiLabelClassifier):
    """A wrapper that changes how `classifier` decides, not its probabilities."""

    classifier: base.MultiLabelClassifier

    @property
    def _wrapped_model(self):
        return self.classifier

    @staticmethod
    def _checked_model():
        """An IHOMER as river's checks like to run it (small and seeded)."""
        from streamml import IHOMER

        return IHOMER(**next(iter(IHOMER._unit_test_params())))

    def predict_proba_one(self, x, **kwargs):
        return self.classifier.predict_proba_one(x, **kwargs)
