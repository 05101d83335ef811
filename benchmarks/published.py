"""The published results of ../shared/docs/anchors.md (MLHAT paper), as report rows."""

from __future__ import annotations

import csv
import os
import pathlib

from .records import Run

__all__ = ["PUBLISHED_VERSION", "published_dir", "read_published"]

REPO = pathlib.Path(__file__).resolve().parents[1]
PUBLISHED_VERSION = "published: Esteban et al., Knowledge-Based Systems 2024 (MLHAT paper)"

# file stem -> metric
_FILES = {
    "subset_acc": "subset_accuracy",
    "hamming": "hamming_loss",
    "micro_f1": "micro_f1",
    "macro_f1": "macro_f1",
}


def published_dir() -> pathlib.Path:
    """$STREAMML_PUBLISHED_DIR, or ../shared/docs/published next to the repository."""
    default = REPO.parent / "shared" / "docs" / "published"
    return pathlib.Path(os.environ.get("STREAMML_PUBLISHED_DIR", default))


def read_published(folder: str | pathlib.Path | None = None) -> list[Run]:
    """One row per (data set, published learner), named ``"<learner> (published)"``.

    Parameters
    ----------
    folder
        A directory with ``subset_acc.csv``, ``hamming.csv``, ``micro_f1.csv`` and
        ``macro_f1.csv`` (data sets as rows, learners as columns). Missing files leave their
        metric unknown; a missing folder gives no rows.

    """
    folder = pathlib.Path(folder) if folder is not None else published_dir()
    rows: dict[tuple[str, str], Run] = {}
    for stem, metric in _FILES.items():
        path = folder / f"{stem}.csv"
        if not path.exists():
            continue
        with open(path, newline="") as handle:
            for line in csv.DictReader(handle):
                dataset = line.pop("dataset")
                for learner, value in line.items():
                    key = (dataset, learner)
                    if key not in rows:
                        rows[key] = Run(
                            dataset=dataset,
                            model=f"{learner} (published)",
                            source="published",
                            status="published",
                            version=PUBLISHED_VERSION,
                            note="full-stream prequential, copied from the paper's CSVs; not rerun",
                        )
                    if value not in ("", None):
                        setattr(rows[key], metric, float(value))
    return list(rows.values())
