"""Multi-label stream learners: the fast multi-label Hoeffding adaptive tree and baselines."""

from __future__ import annotations

from .baselines import MajorityLabelset, binary_relevance_ht, classifier_chain_ht
from .features import EncodedInstance, FeatureIndex
from .mlhat import MLHAT
from .naive_bayes import NaiveBayes
from .watch import SplitWatch

__all__ = [
    "EncodedInstance",
    "FeatureIndex",
    "MLHAT",
    "MajorityLabelset",
    "NaiveBayes",
    "SplitWatch",
    "binary_relevance_ht",
    "classifier_chain_ht",
]
