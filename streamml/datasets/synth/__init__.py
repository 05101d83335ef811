"""Synthetic multi-label streams whose truth is known: label groups, concept changes."""

from __future__ import annotations

from .concepts import Change
from .drift import Concept, Drift
from .label_groups import LabelGroups

__all__ = ["Change", "Concept", "Drift", "LabelGroups"]
