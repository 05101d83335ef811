"""Online partitioning of the label space: LabelODAC and the refinement of its leaves."""

from __future__ import annotations

from .odac import LabelODAC
from .records import StructureChange, TreeNode
from .refine import refine

__all__ = ["LabelODAC", "StructureChange", "TreeNode", "refine"]
