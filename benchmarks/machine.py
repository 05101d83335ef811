"""Describe the machine and the software versions a benchmark ran with (``machine.md``)."""

from __future__ import annotations

import datetime
import os
import pathlib
import platform
import subprocess

__all__ = ["describe", "write_machine"]


def _cpu() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    try:
        for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")


def _java() -> str:
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        return (done.stderr or done.stdout).splitlines()[0].strip()
    except (OSError, IndexError):
        return "not installed"


def _version(module: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, str]:
    """CPU, cores, RAM, OS, and the versions of Python, numpy, river, Java and the others."""
    from .peers import MOA_VERSION
    from .run import streamml_version

    return {
        "date (UTC)": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
        "CPU": _cpu(),
        "cores available": str(len(os.sched_getaffinity(0))),
        "RAM": f"{_ram_gb():.1f} GB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "streamml": streamml_version(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "river": _version("river"),
        "scikit-learn": _version("scikit-learn"),
        "scikit-multilearn": _version("scikit-multilearn"),
        "networkx": _version("networkx"),
        "python-louvain": _version("python-louvain"),
        "matplotlib": _version("matplotlib"),
        "Java": _java(),
        "MOA": MOA_VERSION,
        "load average (1, 5, 15 min)": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def write_machine(out: str | pathlib.Path) -> pathlib.Path:
    """Write ``out/machine.md``."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in describe().items()]
    lines += [
        "",
        "The machine was shared with other jobs while the benchmarks ran: wall-clock speeds "
        "vary with the load (runs.csv has the load average before every run).",
        "",
    ]
    path = out / "machine.md"
    path.write_text("\n".join(lines))
    return path
