"""Mutation testing with mutmut 3: one module at a time, with the fast tests that concern it.

Each module is mutated in a scratch copy of the repository (``mutants/`` never appears in the
working tree) by ``nice -n 15 python -m mutmut run``; mutmut runs, for each mutant, the tests
that call the mutated function. The verdicts are kept in ``mutation.json`` (a run of some
modules updates theirs only) and written out as ``mutation.md``: per module the mutants killed,
surviving, not reached by any test, and known to be equivalent (``mutation_equivalent.txt``, one
line each with the reason), the kill rate and the time taken, and the diff of every survivor.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import sys
import time

from .mutation_report import load_equivalent, summarise, write_report
from .mutation_targets import TARGETS, Target
from .proc import run_process

__all__ = ["run_mutation", "run_target"]

REPO = pathlib.Path(__file__).resolve().parents[1]


#: What the scratch copy needs besides the packages (the tests read some of these).
_COPY = ("pyproject.toml", "README.md", "tests", "streamml", "service", "benchmarks")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info", "results", "mutants", ".venv")


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
