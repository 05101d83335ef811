"""The mutation report: counts per module (equivalent mutants apart) and the survivors' diffs."""

from __future__ import annotations

import json
import pathlib

from .mutation_targets import TARGETS

__all__ = ["EQUIVALENT", "load_equivalent", "summarise", "write_report"]

EQUIVALENT = pathlib.Path(__file__).resolve().parent / "mutation_equivalent.txt"


def load_equivalent(path: pathlib.Path | None = None) -> dict[str, str]:
    """Mutant name -> why it changes nothing, from ``name  reason`` lines (``#`` comments).

    Examples
    --------

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("# comment\\nm.x__f__mutmut_1  only the progress bar changes\\n")
    >>> load_equivalent(pathlib.Path(f.name))
    {'m.x__f__mutmut_1': 'only the progress bar changes'}

    """
    path = EQUIVALENT if path is None else path
    out = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise ValueError(f"{path}: {name} has no reason")
        out[name] = reason.strip()
    return out


def summarise(record: dict, equivalent: dict[str, str]) -> dict:
    """Counts of one module's verdicts: killed (timeouts included), survived, no tests,
    equivalent (survivors listed in `equivalent`), not run (the module's time limit came first),
    and the kill rate of the mutants run that are not equivalent.

    Examples
    --------

    >>> record = {"verdicts": {"a": "killed", "b": "survived", "c": "survived",
    ...                        "d": "no tests", "e": "timeout", "f": "not checked"}}
    >>> s = summarise(record, {"c": "only a log line"})
    >>> (s["killed"], s["survived"], s["no_tests"], s["equivalent"], s["not_run"], s["rate"])
    (2, 1, 1, 1, 1, 0.5)

    """
    counts = dict.fromkeys(("killed", "survived", "no_tests", "equivalent", "not_run", "other"), 0)
    for name, verdict in record["verdicts"].items():
        if name in equivalent and verdict in ("survived", "no tests"):
            counts["equivalent"] += 1
        elif verdict in ("killed", "timeout", "caught by type check"):
            counts["killed"] += 1
        elif verdict == "survived":
            counts["survived"] += 1
        elif verdict == "no tests":
            counts["no_tests"] += 1
        elif verdict == "not checked":
            counts["not_run"] += 1
        else:
            counts["other"] += 1
    counts["total"] = len(record["verdicts"])
    judged = counts["total"] - counts["equivalent"] - counts["not_run"]
    counts["rate"] = counts["killed"] / judged if judged else 1.0
    return counts


def write_report(out: str | pathlib.Path) -> pathlib.Path:
    """``mutation.md`` from ``mutation.json`` and the list of equivalent mutants."""
    out = pathlib.Path(out)
    records = json.loads((out / "mutation.json").read_text())
    equivalent = load_equivalent()
    order = [t.name for t in TARGETS if t.name in records]
    lines = [
        "# Mutation testing",
        "",
        "mutmut 3 mutates one module at a time in a scratch copy and runs, against each mutant, "
        "the fast tests of the module that call the mutated function (see `benchmarks/"
        "mutation.py`). *Killed* includes timeouts; *no tests*: no test calls the function; "
        "*equivalent*: listed in `benchmarks/mutation_equivalent.txt` with the reason it changes "
        "nothing; *not run*: the module's time limit came first (an incomplete run). "
        "Rate = killed / (mutants - equivalent - not run).",
        "",
        "| module | group | mutants | killed | survived | no tests | equivalent | not run | rate | "
        "target | time | run |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in order:
        record = records[name]
        s = summarise(record, equivalent)
        met = "met" if s["rate"] >= record["target"] else "**not met**"
        run = "complete" if record["complete"] else "**incomplete**"
        lines.append(
            f"| `{record['path']}` | {record['group']} | {s['total']} | {s['killed']} | "
            f"{s['survived']} | {s['no_tests']} | {s['equivalent']} | {s['not_run']} | "
            f"{s['rate']:.1%} | "
            f"{record['target']:.0%} ({met}) | {record['seconds'] / 60:.1f} min | {run} |"
        )
    commands = sorted({records[name].get("command", "") for name in order})
    lines += ["", "Commands: " + "; ".join(f"`{c}`" for c in commands if c), ""]
    for name in order:
        record = records[name]
        lines.append(f"- `{record['path']}`: tests {', '.join(f'`{t}`' for t in record['tests'])}")
        if record.get("pytest_args"):
            lines[-1] += f" with `{' '.join(record['pytest_args'])}`"
        if record.get("skip"):
            patterns = ", ".join(f"`{p}`" for p in record["skip"])
            lines[-1] += f"; lines not mutated: {patterns}"
    lines.append("")
    for name in order:
        record = records[name]
        left = {
            k: v
            for k, v in record["diffs"].items()
            if k not in equivalent and record["verdicts"][k] in ("survived", "no tests")
        }
        if not left:
            continue
        lines += [f"## Surviving mutants of `{record['path']}` ({len(left)})", ""]
        for mutant, diff in left.items():
            lines += [f"<details><summary>{mutant} ({record['verdicts'][mutant]})</summary>", ""]
            lines += ["```diff", diff, "```", "", "</details>", ""]
    stale = [
        name
        for name in equivalent
        if not any(records[r]["verdicts"].get(name) in ("survived", "no tests") for r in order)
    ]
    if stale:
        lines += ["## Listed as equivalent but not surviving (stale entries)", ""]
        lines += [f"- `{name}`" for name in stale] + [""]
    path = out / "mutation.md"
    path.write_text("\n".join(lines))
    return path
