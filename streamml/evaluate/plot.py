"""PNG of a prequential run: windowed metrics, drift events, number of clusters."""

from __future__ import annotations

import collections
import collections.abc
import os

__all__ = ["plot"]

_CURVES = {
    "subset_accuracy": ("subset accuracy", "tab:blue", "-"),
    "micro_f1": ("micro F1", "tab:orange", "-"),
    "macro_f1": ("macro F1", "tab:green", "-"),
    "example_f1": ("example-based F1", "tab:purple", "-"),
    "hamming_loss": ("Hamming loss", "tab:brown", "--"),
}
# drift events, by level: the label structure (solid red), one cluster's learner (dotted grey)
_LEVELS = {
    "structure": {"color": "tab:red", "linestyles": "solid", "linewidth": 1.2, "alpha": 0.8},
    "cluster": {"color": "0.45", "linestyles": "dotted", "linewidth": 0.8, "alpha": 0.6},
}
_OTHER_LEVELS = [
    {"color": "tab:olive", "linestyles": "dashed", "linewidth": 0.9, "alpha": 0.7},
    {"color": "tab:cyan", "linestyles": "dashdot", "linewidth": 0.9, "alpha": 0.7},
]


def plot(
    result,
    path: str | os.PathLike,
    *,
    metrics: collections.abc.Sequence[str] | None = None,
    changes: collections.abc.Sequence[int] | None = None,
    title: str | None = None,
) -> None:
    """Write a PNG of the windowed metrics of a prequential run.

    The curves are the sliding-window metrics of `result.curve` against the instance index.
    The model's drift events are vertical lines, one style per level (`"structure"`: solid
    red, `"cluster"`: dotted grey, others dashed); the number of clusters of the model's
    partition, when the model has one, is a step line on a second axis.

    Parameters
    ----------
    result
        A `streamml.evaluate.Result`.
    path
        Where to write the PNG (the format is PNG whatever the extension).
    metrics
        Which curves to draw; defaults to all five.
    changes
        Instance indices of known concept changes (e.g. a synthetic stream's
        `change_points`), drawn as black dash-dot lines.
    title
        Title of the figure; defaults to one naming the window size.

    Examples
    --------

    >>> import tempfile, pathlib
    >>> from river import datasets
    >>> from streamml.evaluate import plot, prequential
    >>> from streamml.learners import MajorityLabelset

    >>> result = prequential(MajorityLabelset(), datasets.Yeast(), limit=300, window=100)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     png = pathlib.Path(folder) / "run.png"
    ...     plot(result, png)
    ...     png.read_bytes()[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'

    """
    names = list(_CURVES) if metrics is None else list(metrics)
    unknown = [name for name in names if name not in _CURVES]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(_CURVES)}")
    for attribute in ("curve", "drift_events", "window"):
        if not hasattr(result, attribute):
            raise TypeError(f"result must be a prequential Result, got {type(result).__name__}")

    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(10, 5.5), layout="constrained")
    ax = figure.add_subplot()
    curve = result.curve
    index = [point.index for point in curve]
    handles = []
    for name in names:
        label, color, style = _CURVES[name]
        (line,) = ax.plot(
            index, [getattr(point, name) for point in curve], style, color=color, label=label
        )
        handles.append(line)
    ax.set_ylim(0, 1)
    ax.set_xlabel("instance")
    ax.set_ylabel(f"metric over the last {result.window:,} instances")
    ax.grid(alpha=0.3)
    if not curve:
        ax.text(0.5, 0.5, "no instances", transform=ax.transAxes, ha="center", va="center")

    by_level: dict[str, list[int]] = collections.defaultdict(list)
    for event in result.drift_events:
        by_level[str(getattr(event, "level", "?"))].append(getattr(event, "index", 0))
    others = iter(_OTHER_LEVELS * (1 + len(by_level)))
    for level, positions in by_level.items():
        style = _LEVELS.get(level) or next(others)
        ax.vlines(positions, 0, 1, transform=ax.get_xaxis_transform(), **style)
        handles.append(
            Line2D(
                [],
                [],
                color=style["color"],
                linestyle=style["linestyles"],
                linewidth=style["linewidth"],
                label=f"{level} drift ({len(positions):,})",
            )
        )
    if changes:
        ax.vlines(
            list(changes),
            0,
            1,
            transform=ax.get_xaxis_transform(),
            color="black",
            linestyles="dashdot",
            linewidth=1.0,
        )
        handles.append(
            Line2D([], [], color="black", linestyle="dashdot", label="true concept change")
        )

    clusters = [(point.index, point.n_clusters) for point in curve if point.n_clusters is not None]
    if clusters:
        twin = ax.twinx()
        (line,) = twin.step(
            [i for i, _ in clusters],
            [c for _, c in clusters],
            where="post",
            color="black",
            linewidth=1.2,
            alpha=0.8,
            label="clusters",
        )
        twin.set_ylabel("clusters")
        twin.set_ylim(0, max(c for _, c in clusters) + 1)
        twin.yaxis.set_major_locator(MaxNLocator(integer=True))
        handles.append(line)

    ax.set_title(title or f"Prequential run, sliding window of {result.window:,} instances")
    figure.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)))
    figure.savefig(os.fspath(path), format="png", dpi=110)
