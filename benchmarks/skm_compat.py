"""Small workarounds that let scikit-multilearn 0.2.0 run with numpy 2 and current scikit-learn.

scikit-multilearn 0.2.0 (2018) returns the label communities of
`NetworkXLabelGraphClusterer.fit_predict` as ``np.array(list_of_lists)``; numpy >= 1.24 refuses
a ragged list there ("inhomogeneous shape"), so any partition with communities of different
sizes fails, and `LabelSpacePartitioningClassifier.fit` with it. `LouvainClusterer` is that
clusterer with the communities in an object array, and with Louvain's seed exposed (0.2.0 calls
``community.best_partition`` unseeded). Nothing else is changed.
"""

from __future__ import annotations

import numpy as np
from skmultilearn.cluster import NetworkXLabelGraphClusterer

__all__ = ["LouvainClusterer", "communities_array"]


def communities_array(communities: list[list[int]]) -> np.ndarray:
    """A 1-d object array of label-index lists (never a 2-d array, even if sizes agree)."""
    out = np.empty(len(communities), dtype=object)
    for k, members in enumerate(communities):
        out[k] = list(members)
    return out


class LouvainClusterer(NetworkXLabelGraphClusterer):
    """`NetworkXLabelGraphClusterer` with ``method="louvain"`` that works on numpy 2.

    Parameters
    ----------
    graph_builder
        A scikit-multilearn graph builder, e.g. ``LabelCooccurrenceGraphBuilder(weighted=True,
        include_self_edges=False)``.
    random_state
        Seed of the Louvain method (python-louvain's ``best_partition``).

    """

    def __init__(self, graph_builder, random_state: int | None = 0):
        super().__init__(graph_builder, method="louvain")
        self.random_state = random_state

    def fit_predict(self, X, y):
        """Communities of the label graph of ``y``, as an object array of label-index lists."""
        import community
        import networkx as nx

        edge_map = self.graph_builder.transform(y)
        weighted = self.graph_builder.is_weighted
        self.weights_ = dict(weight=list(edge_map.values()) if weighted else None)
        graph = nx.Graph()
        graph.add_nodes_from(range(y.shape[1]))
        for (a, b), w in edge_map.items():
            graph.add_edge(a, b, weight=w)
        self.graph_ = graph
        membership = community.best_partition(graph, random_state=self.random_state)
        groups: dict[int, list[int]] = {}
        for label in range(y.shape[1]):
            groups.setdefault(membership[label], []).append(label)
        return communities_array([groups[k] for k in sorted(groups)])
