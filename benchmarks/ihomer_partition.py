"""IHOMER against its cluster learner alone, on real streams: the five metrics and the partition.

    python benchmarks/ihomer_partition.py yeast emotions scene medical [--data DIR] [--seed S]

Full-stream prequential runs (ihomer.md §4), one after the other in this process, BLAS on one
thread. For IHOMER it prints the clusters at the end, how many of them are answered by the
all-labels learner (the fallback), the restructurings and the drift events.
"""

from __future__ import annotations

import argparse
import pathlib

from threadpoolctl import threadpool_limits

from streamml import IHOMER
from streamml.datasets import ARFF
from streamml.evaluate import prequential
from streamml.learners import MLHAT

DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--data", type=pathlib.Path, default=DATA)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    threadpool_limits(1)
    print("| data set | model | subset acc. | Hamming | micro F1 | macro F1 | example F1 | inst/s")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        for model in (MLHAT(seed=args.seed), IHOMER(seed=args.seed)):
            r = prequential(model, ARFF(args.data / f"{name}.arff"))
            kind = type(model).__name__
            print(
                f"| {name} | {kind} | {r.subset_accuracy:.3f} | {r.hamming_loss:.3f} | "
                f"{r.micro_f1:.3f} | {r.macro_f1:.3f} | {r.example_f1:.3f} | "
                f"{r.instances_per_second:,.0f} |",
                flush=True,
            )
        summary = model.cluster_summary()
        own = sum(c["own"] for c in summary)
        answering = sum(c["answers"] == "own" for c in summary)
        print(
            f"<!-- {name}: {len(model.partition)} clusters, {own} with a learner of their own, "
            f"{answering} answered by it, {model.n_restructurings} restructurings, "
            f"{len(model.drift_events)} drift events; partition: "
            f"{[sorted(c) for c in model.partition]} -->",
            flush=True,
        )


if __name__ == "__main__":
    main()
