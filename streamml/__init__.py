"""streamml: online multi-label classification on data streams."""

from __future__ import annotations

from . import datasets, evaluate, learners, partition
from .events import DriftEvent

__version__ = "0.1.0"

__all__ = ["DriftEvent", "datasets", "evaluate", "learners", "partition", "__version__"]
