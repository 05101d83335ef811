"""iHOMER: an incremental hierarchy of multi-label classifiers over an online label partition."""

from __future__ import annotations

from .cluster import Cluster
from .model import IHOMER
from .rise import LabelRise

__all__ = ["IHOMER", "Cluster", "LabelRise"]
