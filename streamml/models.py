"""Models by name, as used by the command line, the service and the benchmarks."""

from __future__ import annotations

import typing

from river import base

from .ihomer import IHOMER
from .learners import MLHAT, baselines

__all__ = ["MODELS", "make", "names"]


def _majority(seed: int | None = None) -> base.MultiLabelClassifier:
    return baselines.MajorityLabelset()


#: name -> (factory taking a seed, one-line description)
MODELS: dict[str, tuple[typing.Callable[[int | None], base.MultiLabelClassifier], str]] = {
    "ihomer": (
        lambda seed=None: IHOMER(seed=seed),
        "iHOMER: online label partition, clusters that adapt on their own (the flagship)",
    ),
    "mlhat": (
        lambda seed=None: MLHAT(seed=seed),
        "the fast multi-label Hoeffding adaptive tree alone, on all labels",
    ),
    "majority": (_majority, "the most frequent label set seen so far"),
    "br-ht": (baselines.binary_relevance_ht, "binary relevance of river's Hoeffding trees"),
    "cc-ht": (baselines.classifier_chain_ht, "classifier chain of river's Hoeffding trees"),
}


def names() -> list[str]:
    """The model names, in the order they are documented."""
    return list(MODELS)


def make(name: str, seed: int | None = 42) -> base.MultiLabelClassifier:
    """A fresh model by name.

    Parameters
    ----------
    name
        One of `names()`.
    seed
        Seed of every random choice the model makes.

    Examples
    --------

    >>> from streamml import models
    >>> models.make("majority")
    MajorityLabelset ()

    """
    try:
        factory, _ = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None
    return factory(seed)
