"""Baseline multi-label learners: the most frequent label set, and river's BR/CC of trees."""

from __future__ import annotations

import collections

from river import base, multioutput, tree

__all__ = ["MajorityLabelset", "binary_relevance_ht", "classifier_chain_ht"]


class MajorityLabelset(base.MultiLabelClassifier):
    """Predict the most frequent label set seen so far.

    The label sets are counted as frozensets of positive labels, so the cost of an instance is
    the number of its positive labels. Ties are broken by the label set that reached the
    maximum count first. Every label seen so far is present in the prediction.

    Examples
    --------

    >>> from river import datasets
    >>> from streamml.evaluate import prequential
    >>> from streamml.learners import MajorityLabelset

    >>> result = prequential(MajorityLabelset(), datasets.Yeast().take(500))
    >>> print(f"{result.subset_accuracy:.3f}")
    0.090

    """

    def __init__(self):
        self._counts: collections.Counter[frozenset] = collections.Counter()
        self._labels: dict[str, None] = {}
        self._best: frozenset = frozenset()

    def learn_one(self, x, y):
        for label in y:
            self._labels.setdefault(label, None)
        key = frozenset(label for label, on in y.items() if on)
        self._counts[key] += 1
        if self._counts[key] > self._counts[self._best]:
            self._best = key

    def predict_proba_one(self, x, **kwargs):
        return {
            label: {False: float(label not in self._best), True: float(label in self._best)}
            for label in self._labels
        }

    def predict_one(self, x, **kwargs):
        return {label: label in self._best for label in self._labels}


def binary_relevance_ht(seed: int | None = None) -> multioutput.PerOutputClassifier:
    """Binary relevance of river's Hoeffding trees, one tree per label.

    Parameters
    ----------
    seed
        Unused (Hoeffding trees are deterministic); accepted so every named model takes a seed.

    """
    return multioutput.PerOutputClassifier(tree.HoeffdingTreeClassifier())


def classifier_chain_ht(seed: int | None = None) -> multioutput.ClassifierChain:
    """Classifier chain of river's Hoeffding trees, in the order the labels are first seen.

    Parameters
    ----------
    seed
        Unused (Hoeffding trees are deterministic); accepted so every named model takes a seed.

    """
    return multioutput.ClassifierChain(tree.HoeffdingTreeClassifier())
