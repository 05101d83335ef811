"""The predicting half of `ShardedIHOMER`: the union of the shards' answers, decided as
IHOMER decides."""

from __future__ import annotations

import numpy as np

from ..ihomer.alternates import mix
from .packing import pack_instances
from .shard import BASE

__all__ = ["Predicting"]


class Predicting:
    """`predict_one`, `predict_proba_one` and their mini-batch versions on DataFrames."""

    def _predict_matrix(self, xs: list[dict]) -> np.ndarray:
        """P(True) of every known label (columns, in order of arrival) for each instance."""
        if not xs or not self._labels:
            return np.zeros((len(xs), len(self._labels)))
        shards = self._shards()
        vs = None
        if self._encoded:
            # Predictions do not add features to the index (what the model learns never
            # depends on what it was asked).
            vs = [self._features.encode(x, grow=False) for x in xs]
            packed, dicts = shards.share(pack_instances(vs)), None
        else:
            packed, dicts = None, shards.share(list(xs))
        out, root = self._ask(packed, dicts, len(xs))
        if self.fallback or not self._decider.trivial:  # learning these xs will need them
            complete = vs is None or all(v.complete for v in vs)
            self._last = ([dict(x) for x in xs], out, root, len(self._labels), complete)
        return out

    def _ask(self, packed, dicts, n: int) -> tuple:
        """(P(True) of every known label for each of n instances (given to the shards, packed
        or as dicts), P(True) of every label from the learner on all the labels or None)."""
        answers = self._run([(i, "predict", packed, dicts) for i in range(len(self._shards()))])
        found = {key: answer for shard in answers for key, answer in shard.items()}
        root = found.pop(BASE, (None,))[0]
        out = np.zeros((n, len(self._labels)))
        index = self._labels
        for key, (own, alternates, weights) in found.items():
            labels = self._clusters.get(key)
            if labels is None:
                continue
            cols = [index[label] for label in labels]
            answer = root[:, cols] if own is None else own
            if alternates is not None:
                answer = mix(weights, answer, alternates)
            out[:, cols] = answer
        return out, root

    def _decided(self, p: np.ndarray, key=None) -> np.ndarray:
        """The label sets (a boolean row per instance) answered for these P(True) (a row per
        instance): IHOMER's decision (`seen_sets`, `threshold_strength`). `key`: the answer
        cache, for one instance just predicted (the decision reuses its work when learning)."""
        if self._decider.trivial:
            return p > 0.5
        decided = np.zeros(p.shape, dtype=bool)
        n = len(self._labels)
        for row, answers in zip(decided, p):
            row[list(self._decider.answer(answers, n, key))] = True
        return decided

    def _probabilities(self, p: np.ndarray) -> np.ndarray:
        """P(True) as the answering decision has them (`last_set`: maybe mixed), a row per
        instance."""
        mixed = self._decider.probabilities
        return np.array([mixed(row) for row in p]).reshape(p.shape)

    def predict_proba_one(self, x: dict, **kwargs) -> dict:
        p = self._probabilities(self._predict_matrix([x]))[0].tolist()
        return {label: {False: 1.0 - q, True: q} for label, q in zip(self._labels, p)}

    def predict_one(self, x: dict, **kwargs) -> dict:
        p = self._predict_matrix([x])
        decided = self._decided(p, self._last)[0]
        return dict(zip(self._labels, decided.tolist()))

    def predict_batch(self, xs: list[dict]) -> list[dict]:
        """The predicted label sets of a micro-batch of dicts (one call to every shard)."""
        decided = self._decided(self._predict_matrix(xs))
        labels = list(self._labels)
        return [dict(zip(labels, row)) for row in decided.tolist()]

    def predict_proba_many(self, X):
        """P(True) of every label (a column each) for every row of the DataFrame X."""
        import pandas as pd

        from ..evaluate.batches import records_of

        p = self._probabilities(self._predict_matrix(records_of(X)))
        return pd.DataFrame(p, index=X.index, columns=list(self._labels))

    def predict_many(self, X):
        """The predicted label sets (a boolean column per label) for the rows of X."""
        import pandas as pd

        from ..evaluate.batches import records_of

        decided = self._decided(self._predict_matrix(records_of(X)))
        return pd.DataFrame(decided, index=X.index, columns=list(self._labels))
