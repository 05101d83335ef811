"""Mutation testing with mutmut 3: one module at a time, with the fast tests that concern it.

Each module is mutated in a scratch copy of the repository (``mutants/`` never appears in the
working tree) by ``nice -n 15 python -m mutmut run``; mutmut runs, for each mutant, the tests
that call the mutated function. The verdicts are kept in ``mutation.json`` (a run of some
modules updates theirs only) and written out as ``mutation.md``: per module the mutants killed,
surviving, not reached by any test, and known to be equivalent (``mutation_equivalent.txt``, one
line each with the reason), the kill rate and the time taken, and the diff of every survivor.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import sys
import time

from .proc import run_process

__all__ = ["TARGETS", "Target", "load_equivalent", "run_mutation", "summarise", "write_report"]

REPO = pathlib.Path(__file__).resolve().parents[1]
EQUIVALENT = REPO / "benchmarks" / "mutation_equivalent.txt"


@dataclasses.dataclass(frozen=True)
class Target:
    """A module to mutate, the tests run against its mutants, and the kill rate it must reach.

    Parameters
    ----------
    name
        Short name (``--modules``).
    path
        The module, relative to the repository.
    tests
        Test files (or directories) run against its mutants (the fast ones: pytest's ``addopts``
        deselect the slow tests); the module's own doctests always run too.
    group
        The group of the report, with its target rate.
    target
        The share of the non-equivalent mutants the tests must kill.
    skip
        Regular expressions of source lines not to mutate (said in the report).
    pytest_args
        More pytest arguments (said in the report).

    """

    name: str
    path: str
    tests: tuple[str, ...]
    group: str
    target: float
    skip: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()


def _service(*names: str) -> tuple[str, ...]:
    return tuple(f"tests/service/test_{name}.py" for name in names)


_LEAF_TESTS = ("tests/learners",)
#: The kill -9 tests run the server in processes of their own, a minute each: left out.
_NO_KILL9 = ("-k", "not kill9")
TARGETS = [
    Target(
        "store",
        "service/store.py",
        _service("storage", "durability", "committer", "api", "retries"),
        "service",
        0.85,
        pytest_args=_NO_KILL9,
    ),
    Target(
        "pending",
        "service/pending.py",
        _service("storage", "api", "retries"),
        "service",
        0.85,
    ),
    Target(
        "database",
        "service/database.py",
        _service("storage", "durability", "committer"),
        "service",
        0.85,
        pytest_args=_NO_KILL9,
    ),
    Target(
        "committer",
        "service/committer.py",
        _service("committer", "api", "bad_input", "retries", "storage"),
        "service",
        0.85,
    ),
    Target(
        "handlers",
        "service/handlers.py",
        _service("api", "bad_input", "retries", "input_checks", "auth", "storage"),
        "service",
        0.85,
    ),
    Target(
        "snapshots",
        "service/snapshots.py",
        _service("snapshots", "durability"),
        "service",
        0.85,
        pytest_args=_NO_KILL9,
    ),
    Target(
        "quality",
        "service/quality.py",
        _service("metrics", "doctests"),
        "service",
        0.85,
    ),
    Target(
        "metrics",
        "streamml/evaluate/metrics.py",
        ("tests/evaluate",),
        "metrics and CLI",
        0.85,
    ),
    Target(
        "cli",
        "streamml/cli.py",
        ("tests/test_cli.py",),
        "metrics and CLI",
        0.85,
        # the prose of --help (help= and description= texts, on lines of their own)
        skip=(r"^\s+(help|description)=", r'^\s+"[^"]* [^"]*"\)?,?$', r"^\s+model_help = "),
    ),
    Target(
        "counts",
        "streamml/partition/counts.py",
        ("tests/partition",),
        "partition and tree",
        0.70,
    ),
    Target(
        "checks",
        "streamml/partition/checks.py",
        ("tests/partition",),
        "partition and tree",
        0.70,
    ),
    Target(
        "odac",
        "streamml/partition/odac.py",
        ("tests/partition",),
        "partition and tree",
        0.70,
    ),
    Target(
        "gaussian",
        "streamml/learners/gaussian.py",
        _LEAF_TESTS,
        "partition and tree",
        0.70,
    ),
    Target("nodes", "streamml/learners/nodes.py", _LEAF_TESTS, "partition and tree", 0.70),
    Target(
        "bounds",
        "streamml/bounds.py",
        (*_LEAF_TESTS, "tests/partition"),
        "partition and tree",
        0.70,
    ),
    Target("watch", "streamml/learners/watch.py", _LEAF_TESTS, "partition and tree", 0.70),
    Target("leaves", "streamml/learners/leaves.py", _LEAF_TESTS, "partition and tree", 0.70),
    Target("logistic", "streamml/learners/logistic.py", _LEAF_TESTS, "partition and tree", 0.70),
    Target("mixing", "streamml/learners/mixing.py", _LEAF_TESTS, "partition and tree", 0.70),
]

#: What the scratch copy needs besides the packages (the tests read some of these).
_COPY = ("pyproject.toml", "README.md", "tests", "streamml", "service", "benchmarks")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info", "results", "mutants", ".venv")


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


def _status(code) -> str:
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[code]


def _prepare(target: Target, workdir: pathlib.Path) -> pathlib.Path:
    """A scratch copy of the repository configured for mutmut on `target`."""
    copy = workdir / target.name
    if copy.exists():
        shutil.rmtree(copy)
    copy.mkdir(parents=True)
    for name in _COPY:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=_IGNORE)
        else:
            shutil.copy2(source, copy / name)
    package = target.path.split("/")[0]
    also = [name for name in _COPY if name != package and name != "pyproject.toml"]
    tests = [*target.tests, target.path]  # (the module's doctests)
    pytest_args = ["-p", "no:cacheprovider", "-q", *target.pytest_args]
    with open(copy / "pyproject.toml", "a") as f:
        f.write(
            "\n[tool.mutmut]\n"
            f"source_paths = [{json.dumps(package)}]\n"
            f"only_mutate = [{json.dumps(target.path)}]\n"
            f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
            f"pytest_add_cli_args = {json.dumps(pytest_args)}\n"
            f"also_copy = {json.dumps(also)}\n"
            f"do_not_mutate_patterns = {json.dumps(list(target.skip))}\n"
        )
    return copy


def run_target(target: Target, workdir: pathlib.Path, time_limit: float, children: int) -> dict:
    """Mutate one module and run its tests against every mutant; the verdicts and the time."""
    copy = _prepare(target, workdir)
    argv = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children)]
    if shutil.which("nice"):
        argv = ["nice", "-n", "15", *argv]
    started = time.perf_counter()
    done = run_process(argv, timeout=time_limit, cwd=copy, env={"PYTHONHASHSEED": "0"})
    seconds = time.perf_counter() - started
    (workdir / f"{target.name}.log").write_text(done.stdout[-200_000:] + done.stderr[-50_000:])
    meta = copy / "mutants" / (target.path + ".meta")
    codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    verdicts = {name: _status(code) for name, code in sorted(codes.items())}
    diffs = {}
    for name, verdict in verdicts.items():
        if verdict in ("survived", "no tests"):
            shown = run_process([sys.executable, "-m", "mutmut", "show", name], 120, cwd=copy)
            diffs[name] = shown.stdout.strip()
    return {
        "path": target.path,
        "group": target.group,
        "target": target.target,
        "tests": list(target.tests),
        "skip": list(target.skip),
        "pytest_args": list(target.pytest_args),
        "seconds": round(seconds, 1),
        "complete": not done.timed_out and done.returncode == 0,
        "verdicts": verdicts,
        "diffs": diffs,
    }


def summarise(record: dict, equivalent: dict[str, str]) -> dict:
    """Counts of one module's verdicts: killed (timeouts included), survived, no tests,
    equivalent (survivors listed in `equivalent`), and the kill rate of the others.

    Examples
    --------

    >>> record = {"verdicts": {"a": "killed", "b": "survived", "c": "survived",
    ...                        "d": "no tests", "e": "timeout"}}
    >>> s = summarise(record, {"c": "only a log line"})
    >>> (s["killed"], s["survived"], s["no_tests"], s["equivalent"], s["rate"])
    (2, 1, 1, 1, 0.5)

    """
    counts = dict.fromkeys(("killed", "survived", "no_tests", "equivalent", "other"), 0)
    for name, verdict in record["verdicts"].items():
        if name in equivalent and verdict in ("survived", "no tests"):
            counts["equivalent"] += 1
        elif verdict in ("killed", "timeout", "caught by type check"):
            counts["killed"] += 1
        elif verdict == "survived":
            counts["survived"] += 1
        elif verdict == "no tests":
            counts["no_tests"] += 1
        else:
            counts["other"] += 1
    counts["total"] = len(record["verdicts"])
    judged = counts["total"] - counts["equivalent"]
    counts["rate"] = counts["killed"] / judged if judged else 1.0
    return counts


def run_mutation(
    out: str | pathlib.Path,
    modules: list[str] | None = None,
    workdir: str | pathlib.Path = "/tmp/streamml-mutation",
    time_limit: float = 4 * 3600,
    children: int = 2,
    command: str = "python -m benchmarks mutation",
) -> pathlib.Path:
    """Run the mutation tests of `modules` (default: all of `TARGETS`) and write the report."""
    chosen = [t for t in TARGETS if modules is None or t.name in modules]
    unknown = set(modules or ()) - {t.name for t in TARGETS}
    if unknown:
        raise ValueError(
            f"unknown modules {sorted(unknown)}; choose from {[t.name for t in TARGETS]}"
        )
    out, workdir = pathlib.Path(out), pathlib.Path(workdir)
    out.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    path = out / "mutation.json"
    records = json.loads(path.read_text()) if path.exists() else {}
    for target in chosen:
        print(f"mutating {target.path} ...", file=sys.stderr, flush=True)
        record = run_target(target, workdir, time_limit, children)
        record["command"] = command
        records[target.name] = record
        path.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
        counts = summarise(record, load_equivalent())
        print(
            f"  {counts['killed']} killed, {counts['survived']} survived, "
            f"{counts['no_tests']} without tests, {counts['equivalent']} equivalent "
            f"({counts['rate']:.1%}) in {record['seconds']:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    return write_report(out)


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
        "nothing. Rate = killed / (mutants - equivalent).",
        "",
        "| module | group | mutants | killed | survived | no tests | equivalent | rate | "
        "target | time | run |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in order:
        record = records[name]
        s = summarise(record, equivalent)
        met = "met" if s["rate"] >= record["target"] else "**not met**"
        run = "complete" if record["complete"] else "**incomplete**"
        lines.append(
            f"| `{record['path']}` | {record['group']} | {s['total']} | {s['killed']} | "
            f"{s['survived']} | {s['no_tests']} | {s['equivalent']} | {s['rate']:.1%} | "
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
