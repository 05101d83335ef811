"""Streams and runs shared by the sharded-model tests."""

from __future__ import annotations

from river import datasets

from streamml.datasets.synth import Drift, LabelGroups


def yeast(n: int = 900) -> list:
    return list(datasets.Yeast().take(n))


def groups(n: int = 2400, seed: int = 1) -> list:
    """Label groups that regroup half way: restructurings, handovers and drift."""
    stream = LabelGroups(
        n_labels=16, n_groups=4, n_features=8, n_samples=n, seed=seed, drifts=[Drift(at=n // 2)]
    )
    return list(stream)


def run_one(model, data) -> list:
    """P(True) of every label before learning each instance, instance by instance."""
    out = []
    for x, y in data:
        out.append(model.predict_proba_one(x))
        model.learn_one(x, y)
    return out


def run_batches(model, data, batch: int) -> list:
    """The predictions of each micro-batch before learning it."""
    out = []
    for start in range(0, len(data), batch):
        chunk = data[start : start + batch]
        out.extend(model.predict_one(x) for x, _ in chunk)
        model.learn_batch([x for x, _ in chunk], [y for _, y in chunk])
    return out


def run_frames(model, data, batch: int) -> list:
    """P(True) of every label (a list per instance) for each micro-batch before learning it,
    through the DataFrame methods (`predict_proba_many`, `learn_many`)."""
    import pandas as pd

    out = []
    for start in range(0, len(data), batch):
        chunk = data[start : start + batch]
        X = pd.DataFrame([x for x, _ in chunk])
        out.extend(model.predict_proba_many(X).to_dict("records"))
        model.learn_many(X, pd.DataFrame([y for _, y in chunk]))
    return out
