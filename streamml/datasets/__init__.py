"""Data streams: a streaming reader of multi-label ARFF files, synthetic label-group streams."""

from __future__ import annotations

from . import synth
from .arff import ARFF, ARFFError

__all__ = ["ARFF", "ARFFError", "synth"]
