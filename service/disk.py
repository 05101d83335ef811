"""The disk of a data directory: the size of its files and the free space left.

`FILES` are the files the metrics report (`streamml_store_bytes{file}`): the two databases,
their write-ahead logs and shared-memory indexes, and the snapshots (one total for the folder).
`DiskGuard` refuses writes below a threshold of free space, so that a full disk stops the
service cleanly (503, and `/readyz` says why) instead of failing in the middle of a write.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import time

from .errors import ServiceError

__all__ = ["FILES", "DiskGuard", "file_sizes"]

#: The `file` label values of `streamml_store_bytes`.
FILES = (
    "streamml.db",
    "streamml.db-wal",
    "streamml.db-shm",
    "pending.db",
    "pending.db-wal",
    "pending.db-shm",
    "snapshots",
)


def _size(path: pathlib.Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def file_sizes(data_dir: pathlib.Path) -> dict[str, int]:
    """Bytes of each of `FILES` in a data directory (0 for a missing one)."""
    sizes = {name: _size(data_dir / name) for name in FILES if name != "snapshots"}
    total = 0
    try:
        with os.scandir(data_dir / "snapshots") as entries:
            for entry in entries:
                try:
                    total += entry.stat(follow_symlinks=False).st_size
                except FileNotFoundError:
                    pass  # pruned meanwhile
    except FileNotFoundError:
        pass
    sizes["snapshots"] = total
    return sizes


class DiskGuard:
    """Free space of a data directory's file system, against a threshold.

    Parameters
    ----------
    data_dir
        The data directory.
    min_free_bytes
        Writes are refused below this much free space.
    every
        Seconds a measure is reused (a write request costs no system call).

    """

    def __init__(self, data_dir: pathlib.Path, min_free_bytes: int, every: float = 0.25):
        self.data_dir = data_dir
        self.min_free_bytes = min_free_bytes
        self.every = every
        self._free = 0
        self._when = -float("inf")

    def free(self) -> int:
        """Free bytes (for an unprivileged user), measured at most `every` seconds ago."""
        now = time.monotonic()
        if now - self._when >= self.every:
            self._free = shutil.disk_usage(self.data_dir).free
            self._when = now
        return self._free

    def problem(self) -> str | None:
        """Why writing is refused now, or None."""
        free = self.free()
        if free >= self.min_free_bytes:
            return None
        return (
            f"low disk space: {free / 2**20:.1f} MiB free for the data directory "
            f"{self.data_dir}, below min_free_bytes={self.min_free_bytes} "
            "(STREAMML_MIN_FREE_BYTES); free some space"
        )

    def check(self) -> None:
        """Raise a 503 `ServiceError` if writing is refused now."""
        problem = self.problem()
        if problem is not None:
            raise ServiceError(503, f"not writing: {problem}", {"Retry-After": "60"})
