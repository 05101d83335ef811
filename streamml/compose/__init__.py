"""Wrappers that change how a multi-label classifier decides, and what they are built of."""

from __future__ import annotations

from .balance import LabelBalance
from .base import Thresholded
from .fmeasure import FMeasureThresholds, shrunk_threshold
from .labelsets import LabelSetDecoder, SeenLabelSets
from .last_set import LastSetMixture
from .race import Race
from .threshold import MicroFThreshold

__all__ = [
    "FMeasureThresholds",
    "LabelBalance",
    "LabelSetDecoder",
    "LastSetMixture",
    "MicroFThreshold",
    "Race",
    "SeenLabelSets",
    "Thresholded",
    "shrunk_threshold",
]
