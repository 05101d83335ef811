"""Online partitioning of the label space: LabelODAC and the refinement of its leaves."""

from __future__ import annotations

from .odac import LabelODAC
from .records import StructureChange, TreeNode
from .refine import refine, refine_counts

__all__ = ["LabelODAC", "StructureChange", "TreeNode", "refine", "refine_counts"]
