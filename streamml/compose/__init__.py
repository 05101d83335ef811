"""Wrappers that change how a multi-label classifier decides."""

from __future__ import annotations

from .fmeasure import FMeasureThresholds
from .labelsets import SeenLabelSets

__all__ = ["FMeasureThresholds", "SeenLabelSets"]
