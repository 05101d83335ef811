"""Drift events recorded by adaptive models."""

from __future__ import annotations

import dataclasses

__all__ = ["DriftEvent"]


@dataclasses.dataclass(frozen=True)
class DriftEvent:
    """One detected change, as recorded by a model.

    Parameters
    ----------
    index
        Number of instances the model had learned when the change was detected (0-based index
        of the instance that triggered it).
    level
        `"structure"` for a change of the label correlations (the label partition), `"cluster"`
        for a rise of the error of one cluster learner (IHOMER), `"tree"` for a change
        detected at a branch of a tree learner (MLHAT's ADWIN, alternate subtrees).
    labels
        The labels concerned: the cluster's labels for a cluster event, the labels whose cluster
        changed for a structure event.
    detector
        What raised the event, e.g. `"LabelODAC.split"`, `"LabelODAC.aggregate"`, `"ADWIN"`.

    """

    index: int
    level: str
    labels: tuple[str, ...]
    detector: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
