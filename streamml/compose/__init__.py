"""Wrappers that change how a multi-label classifier decides, and what they are built of."""

from __future__ import annotations

from .fmeasure import FMeasureThresholds
from .labelsets import LabelSetDecoder, SeenLabelSets

__all__ = ["FMeasureThresholds", "LabelSetDecoder", "SeenLabelSets"]
