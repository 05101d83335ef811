"""Micro-batches of encoded instances as a few flat arrays (cheap to ship to a shard)."""

from __future__ import annotations

import numpy as np

from ..learners.features import EncodedInstance

__all__ = ["pack_instances", "unpack_instances"]


def pack_instances(vs: list[EncodedInstance]) -> tuple:
    """(indices, values, offsets, widths, complete) of encoded instances, end to end.

    >>> from streamml.learners import FeatureIndex
    >>> index = FeatureIndex()
    >>> vs = [index.encode({"a": 1.0}), index.encode({"b": 2.0, "a": 0.5})]
    >>> back = unpack_instances(pack_instances(vs))
    >>> [(v.indices.tolist(), v.values.tolist(), v.width) for v in back]
    [([0], [1.0], 1), ([0, 1], [0.5, 2.0], 2)]

    """
    if not vs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0), np.zeros(1, dtype=np.int64), empty, np.zeros(0, dtype=bool)
    sizes = np.fromiter((len(v.indices) for v in vs), np.int64, len(vs))
    offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    indices = np.concatenate([v.indices for v in vs]).astype(np.int64, copy=False)
    values = np.concatenate([v.values for v in vs]).astype(float, copy=False)
    widths = np.fromiter((v.width for v in vs), np.int64, len(vs))
    complete = np.fromiter((v.complete for v in vs), bool, len(vs))
    return indices, values, offsets, widths, complete


def unpack_instances(packed: tuple) -> list[EncodedInstance]:
    """The encoded instances of `pack_instances` (on writable copies of the arrays: Ray hands
    read-only views of its object store)."""
    indices, values, offsets, widths, complete = (np.array(a) for a in packed)
    out = []
    for k in range(len(widths)):
        lo, hi = int(offsets[k]), int(offsets[k + 1])
        out.append(
            EncodedInstance(
                indices[lo:hi], values[lo:hi], int(widths[k]), complete=bool(complete[k])
            )
        )
    return out
