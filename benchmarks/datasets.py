"""Find the multi-label ARFF streams of a directory and what is known about them."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re

__all__ = ["DataSet", "discover", "label_names", "repeat_rate"]


@dataclasses.dataclass(frozen=True)
class DataSet:
    """One MULAN/MEKA stream on disk.

    Parameters
    ----------
    name
        Short name (the file stem, or the MANIFEST name).
    path
        The ARFF file.
    n_instances
        Number of data rows.
    n_labels
        Number of label attributes.
    n_features
        Number of feature attributes.
    n_without_labels
        Instances whose label set is empty (example-based F1 conventions differ only there).

    """

    name: str
    path: pathlib.Path
    n_instances: int
    n_labels: int
    n_features: int
    n_without_labels: int | None = None


def _attribute_names(path: pathlib.Path) -> tuple[str, list[str], int]:
    """The relation, the attribute names and the number of data rows of an ARFF file."""
    relation, names, rows, in_data = "", [], 0, False
    with open(path, errors="replace") as lines:
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("%"):
                continue
            if in_data:
                rows += 1
                continue
            low = line.lower()
            if low.startswith("@relation"):
                relation = line[len("@relation") :].strip()
            elif low.startswith("@attribute"):
                names.append(_attribute_name(line))
            elif low.startswith("@data"):
                in_data = True
    return relation, names, rows


def _attribute_name(line: str) -> str:
    rest = line.strip()[len("@attribute") :].strip()
    if rest[:1] in ("'", '"'):
        quote, end = rest[0], 1
        while end < len(rest) and (rest[end] != quote or rest[end - 1] == "\\"):
            end += 1
        return rest[1:end].replace("\\" + quote, quote)
    return rest.split(None, 1)[0]


def label_names(path: str | pathlib.Path) -> list[str]:
    """The label attribute names of a MULAN (``.xml`` beside it) or MEKA (``-C N``) file.

    Parameters
    ----------
    path
        The ARFF file.

    """
    path = pathlib.Path(path)
    relation, names, _ = _attribute_names(path)
    xml = path.with_suffix(".xml")
    if xml.exists():
        return re.findall(r'<label\s+name="([^"]+)"', xml.read_text(errors="replace"))
    match = re.search(r"-C\s+(-?\d+)", relation)
    if not match:
        raise ValueError(f"{path}: neither a MULAN .xml beside it nor a MEKA '-C N' relation")
    n = int(match.group(1))
    return names[:n] if n > 0 else names[n:]


def _from_manifest(folder: pathlib.Path) -> list[DataSet] | None:
    manifest = folder / "MANIFEST.json"
    if not manifest.exists():
        return None
    sets = []
    for entry in json.loads(manifest.read_text()):
        path = folder / entry["file"]
        if path.exists():
            sets.append(
                DataSet(
                    name=entry["name"],
                    path=path,
                    n_instances=int(entry["instances"]),
                    n_labels=int(entry["labels"]),
                    n_features=int(entry["features"]),
                    n_without_labels=entry.get("instances_without_labels"),
                )
            )
    return sets


def discover(folder: str | pathlib.Path) -> list[DataSet]:
    """The streams of a folder, smallest first (instances x labels).

    A ``MANIFEST.json`` (as in ``../shared/data``) is trusted when present; otherwise every
    ``*.arff`` file is read once to count its rows, labels and features.

    Parameters
    ----------
    folder
        A directory of MULAN/MEKA ARFF files.

    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(f"not a directory: {folder}")
    sets = _from_manifest(folder)
    if sets is None:
        sets = []
        for path in sorted(folder.glob("*.arff")):
            try:
                labels = label_names(path)
            except ValueError:
                continue
            _, names, rows = _attribute_names(path)
            sets.append(DataSet(path.stem, path, rows, len(labels), len(names) - len(labels)))
    return sorted(sets, key=lambda d: (d.n_instances * d.n_labels, d.name))


def repeat_rate(path: str | pathlib.Path) -> float:
    """Fraction of instances whose label set equals the previous instance's.

    Near 0 on a shuffled stream with many label sets; high on a file sorted by label set,
    where remembering the last label sets scores well prequentially.

    Parameters
    ----------
    path
        A MULAN/MEKA ARFF file.

    """
    from streamml.datasets import ARFF

    previous, same, n = None, 0, 0
    for _, y in ARFF(path):
        key = frozenset(label for label, on in y.items() if on)
        same += key == previous
        previous = key
        n += 1
    return same / (n - 1) if n > 1 else 0.0
