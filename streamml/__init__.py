"""streamml: online multi-label classification on data streams."""

from __future__ import annotations

from . import compose, datasets, evaluate, learners, partition
from .events import DriftEvent
from .ihomer import IHOMER

__version__ = "0.1.0"

__all__ = [
    "DriftEvent",
    "IHOMER",
    "compose",
    "datasets",
    "evaluate",
    "learners",
    "partition",
    "__version__",
]
