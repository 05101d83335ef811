"""The speed of this checkout against another revision, in interleaved processes.

A speed-up is measured against the code it replaces, on the same machine in the same session:
each stream and model runs `benchmarks.child` in the tree of the base revision (extracted with
``git archive``) and in this tree, alternately (A B, then B A, ...), and the best of `reps` runs
of each is kept, so a change of the machine's load hits both alike. The children print their
metrics too: equal metrics tell that the change kept the predictions (same subset accuracy,
micro-F1, macro-F1 and Hamming loss to 12 digits).

Run::

    python -m benchmarks ab --base 8d87f78 --streams ../shared/data/yeast.arff \\
        ../shared/data/delicious.arff --limit 2000 --models ihomer,mlhat --reps 3
"""

from __future__ import annotations

import pathlib
import subprocess
import tempfile

__all__ = ["extract", "run_ab", "table"]

#: The metrics compared between the two sides.
METRICS = ("subset_accuracy", "micro_f1", "macro_f1", "hamming_loss")


def extract(revision: str, repo: pathlib.Path, into: pathlib.Path) -> pathlib.Path:
    """The files of `revision` of the git repository `repo`, written under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", revision],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip()
        raise ValueError(f"cannot extract revision {revision!r}: {message}")
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _one(tree: pathlib.Path, stream: str, model: str, limit: int | None, timeout: float) -> dict:
    """One run of `benchmarks.child` with the code of `tree`."""
    from .child import call

    result = call(stream, model, timeout, cwd=tree, limit=limit)
    if result["status"] != "ok":
        problem = result.get("error", result["status"])
        raise RuntimeError(f"{model} on {stream} in {tree} failed: {problem}")
    return result


def run_ab(
    base: str,
    streams: list[str],
    models: list[str],
    reps: int = 3,
    limit: int | None = None,
    timeout: float = 1800.0,
) -> list[dict]:
    """Per stream and model: the best instances/s of the base revision (A) and of this tree
    (B), their ratio, whether their metrics are equal, and their differences (B - A, from
    the first run of each side)."""
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    here = pathlib.Path(__file__).resolve().parents[1]
    streams = [str(pathlib.Path(s).resolve()) if s.endswith(".arff") else s for s in streams]
    rows = []
    with tempfile.TemporaryDirectory(prefix="streamml-ab-") as scratch:
        trees = {"A": extract(base, here, pathlib.Path(scratch) / "base"), "B": here}
        for stream in streams:
            for model in models:
                runs: dict[str, list[dict]] = {"A": [], "B": []}
                for rep in range(reps):
                    for side in ("A", "B") if rep % 2 == 0 else ("B", "A"):
                        runs[side].append(_one(trees[side], stream, model, limit, timeout))
                best = {side: max(r["instances_per_second"] for r in runs[side]) for side in runs}
                deltas = {m: runs["B"][0][m] - runs["A"][0][m] for m in METRICS}
                same = all(
                    round(runs["A"][0][m], 12) == round(runs["B"][0][m], 12) for m in METRICS
                )
                rows.append(
                    {
                        "stream": stream,
                        "model": model,
                        "n": runs["B"][0]["n"],
                        "base": best["A"],
                        "here": best["B"],
                        "speedup": best["B"] / best["A"],
                        "same_metrics": same,
                        "deltas": deltas,
                    }
                )
    return rows


def table(rows: list[dict], base: str) -> str:
    """The rows as a markdown table."""
    lines = [
        f"| stream | model | instances | {base} (inst/s) | this tree (inst/s) | speed-up | "
        "same metrics |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        name = pathlib.Path(r["stream"]).stem if r["stream"].endswith(".arff") else r["stream"]
        lines.append(
            f"| {name} | {r['model']} | {r['n']:,} | {r['base']:,.0f} | {r['here']:,.0f} | "
            f"{r['speedup']:.3f}x | {_same(r)} |"
        )
    return "\n".join(lines)


#: Short names of the metrics in the table.
_SHORT = {
    "subset_accuracy": "subset",
    "micro_f1": "micro-F1",
    "macro_f1": "macro-F1",
    "hamming_loss": "Hamming",
}


def _same(row: dict) -> str:
    """ "yes", or "no" with what this tree changed (this tree minus the base)."""
    if row["same_metrics"]:
        return "yes"
    deltas = row.get("deltas", {})
    changed = [f"{_SHORT.get(m, m)} {_signed(d)}" for m, d in deltas.items() if round(d, 12)]
    return "no" + (f" ({', '.join(changed)})" if changed else "")


def _signed(d: float) -> str:
    return f"{d:+.4f}" if abs(d) >= 5e-5 else f"{d:+.0e}"
