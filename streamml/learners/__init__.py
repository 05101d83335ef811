"""Multi-label stream learners: the fast multi-label Hoeffding adaptive tree and baselines."""

from __future__ import annotations

from .baselines import MajorityLabelset, binary_relevance_ht, classifier_chain_ht

__all__ = ["MajorityLabelset", "binary_relevance_ht", "classifier_chain_ht"]
