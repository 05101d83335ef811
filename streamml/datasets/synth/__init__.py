"""Synthetic multi-label streams whose truth is known: label groups, concept changes."""

from __future__ import annotations

from .drift import Concept, Drift
from .label_groups import LabelGroups

__all__ = ["Concept", "Drift", "LabelGroups"]
