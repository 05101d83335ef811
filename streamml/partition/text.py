"""A readable text rendering of a label tree."""

from __future__ import annotations

from collections.abc import Sequence

from .records import TreeNode

__all__ = ["render_tree"]


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_tree(head: str, nodes: Sequence[TreeNode], max_labels: int = 8) -> str:
    """Render nodes given depth first (as `LabelODAC.tree()` returns them), one per line.

    Inner nodes show their statistics at split time, leaves those of their last check and up
    to `max_labels` of their labels (sorted by name).

    >>> from streamml.partition.records import TreeNode
    >>> nodes = [
    ...     TreeNode(0, 0, None, frozenset("abc"), False, (1, 2), 500.0, 0.91, 0.05),
    ...     TreeNode(1, 1, 0, frozenset("ab"), True, (), 300.0, 0.2, 0.06),
    ...     TreeNode(2, 1, 0, frozenset("c"), True, (), 300.0),
    ... ]
    >>> print(render_tree("tree", nodes))
    tree
    #0 [3] split n=500 d1=0.910 eps=0.050
      #1 [2] leaf n=300 d1=0.200 eps=0.060: a, b
      #2 [1] leaf n=300 d1=- eps=-: c

    """
    lines = [head]
    for node in nodes:
        kind = "leaf" if node.is_leaf else "split" if node.d1 is not None else "join"
        line = (
            f"{'  ' * node.depth}#{node.id} [{len(node.members)}] {kind} n={node.n:.0f} "
            f"d1={_number(node.d1)} eps={_number(node.eps)}"
        )
        if node.is_leaf:
            names = sorted(map(str, node.members))
            shown = ", ".join(names[:max_labels])
            if len(names) > max_labels:
                shown += f", ... (+{len(names) - max_labels})"
            line += f": {shown}"
        lines.append(line)
    return "\n".join(lines)
