"""Run one command as its own process group with a wall-clock limit and measure its peak memory."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shlex
import signal
import subprocess
import tempfile
import time

__all__ = ["ONE_THREAD", "Finished", "kill_session", "load1", "run_process"]

#: Environment of every measured Python process: numerical libraries on one thread, so every
#: learner (MOA's loop, river, streamml) runs on one core of the shared machine.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


@dataclasses.dataclass
class Finished:
    """What a finished (or killed) process left behind.

    Parameters
    ----------
    command
        The command, as a shell-quoted string anyone can paste.
    returncode
        Exit status (negative: killed by that signal).
    timed_out
        Whether the wall-clock limit killed it.
    wall_seconds
        Wall time from start to exit.
    cpu_seconds
        User + system CPU time of the process and its waited-for children.
    max_rss_mb
        Peak resident memory of the process (MB; NaN when unknown).
    stdout, stderr
        What it printed.

    """

    command: str
    returncode: int
    timed_out: bool
    wall_seconds: float
    cpu_seconds: float
    max_rss_mb: float
    stdout: str
    stderr: str


def kill_session(sid: int) -> None:
    """SIGKILL every process of session ``sid`` (its process group and any group made inside it,
    e.g. by ``timeout``, which moves its command to a group of its own)."""
    targets = {sid}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # fields after the name: state ppid pgrp session ...
            targets.add(int(stat.parent.name))
    try:
        os.killpg(sid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in targets:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


_GNU_TIME = "/usr/bin/time"


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def load1() -> float:
    """The one-minute load average (NaN where unknown)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def run_process(
    argv: list[str],
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
) -> Finished:
    """Run ``argv`` to completion or until ``timeout`` seconds have passed.

    The process gets its own session, so a timeout kills the whole tree (a shell and its JVM,
    say). Output goes through temporary files, so a chatty process cannot block on a pipe.

    Peak memory: a forked child inherits its parent's peak RSS (Linux keeps the larger of the
    pre-exec and post-exec high-water marks), so the command runs under GNU ``/usr/bin/time``,
    whose own small footprint is all it inherits; without it, the peak is read from
    ``/proc/PID/status`` (VmHWM) while the process runs (NaN if it ended before a reading).

    Parameters
    ----------
    argv
        The command and its arguments.
    timeout
        Wall-clock limit in seconds.
    env
        Extra environment variables (added to the current environment).
    cwd
        Working directory.

    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    full_env = dict(os.environ, **(env or {}))
    gnu_time = _GNU_TIME if os.access(_GNU_TIME, os.X_OK) else None
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("w+", suffix=".time") as rss_file,
    ):
        wrapped = [gnu_time, "-f", "%M", "-o", rss_file.name, *argv] if gnu_time else argv
        start = time.perf_counter()
        child = subprocess.Popen(
            wrapped, stdout=out, stderr=err, env=full_env, cwd=cwd, start_new_session=True
        )
        timed_out, status, usage = False, None, None
        hwm_kb = 0
        while status is None:
            pid, raw, ru = os.wait4(child.pid, os.WNOHANG)
            if pid == child.pid:
                status, usage = raw, ru
                break
            if gnu_time is None:
                hwm_kb = max(hwm_kb, _vm_hwm_kb(child.pid))
            if time.perf_counter() - start > timeout:
                timed_out = True
                kill_session(child.pid)
                _, status, usage = os.wait4(child.pid, 0)
                kill_session(child.pid)  # stragglers that escaped while it died
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
        if gnu_time is not None:
            rss_file.seek(0)
            lines = rss_file.read().split()
            hwm_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        out.seek(0)
        err.seek(0)
        return Finished(
            command=shlex.join(argv),
            returncode=child.returncode,
            timed_out=timed_out,
            wall_seconds=wall,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            max_rss_mb=hwm_kb / 1024.0 if hwm_kb else float("nan"),
            stdout=out.read(),
            stderr=err.read(),
        )
