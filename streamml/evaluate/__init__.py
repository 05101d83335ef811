"""Prequential evaluation: metrics over a stream, the test-then-train loop, plots."""

from __future__ import annotations

from .metrics import METRICS, MultiLabelMetrics, RollingMultiLabelMetrics
from .plot import plot
from .prequential import CurvePoint, Result, prequential

__all__ = [
    "METRICS",
    "CurvePoint",
    "MultiLabelMetrics",
    "Result",
    "RollingMultiLabelMetrics",
    "plot",
    "prequential",
]
