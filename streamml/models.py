"""Models by name, as used by the command line, the service and the benchmarks."""

from __future__ import annotations

import typing

from river import base

from .ihomer import IHOMER
from .learners import MLHAT, baselines

__all__ = ["MODELS", "SHARDABLE", "check_sharding", "make", "names"]

#: the model that runs on shards (`make(..., shards=K)`)
SHARDABLE = "ihomer"


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


def make(
    name: str, seed: int | None = 42, shards: int | None = None, address: str | None = None
) -> base.MultiLabelClassifier:
    """A fresh model by name.

    Parameters
    ----------
    name
        One of `names()`.
    seed
        Seed of every random choice the model makes.
    shards
        Run iHOMER's label clusters on this many Ray actors (`distributed.ShardedIHOMER`;
        `name` must be "ihomer" and the `ray` extra installed). None: one process.
    address
        The Ray cluster of the shards (None: a local Ray started on first use).

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
    if shards is None:
        if address is not None:
            raise ValueError("a Ray address needs shards")
        return factory(seed)
    if name != SHARDABLE:
        raise ValueError(f"only {SHARDABLE!r} runs on shards, not {name!r}")
    from .distributed import ShardedIHOMER

    return ShardedIHOMER(shards=shards, address=address, seed=seed)


def check_sharding() -> None:
    """Raise ImportError with a one-line message saying how to install Ray if it is missing."""
    import importlib.util

    from .distributed import RAY_MISSING

    try:
        found = importlib.util.find_spec("ray") is not None
    except ValueError:  # ray in sys.modules as None
        found = False
    if not found:
        raise ImportError(RAY_MISSING)
