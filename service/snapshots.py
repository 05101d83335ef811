"""Model snapshots: atomic files in `<data dir>/snapshots/`, checksummed, never read elsewhere.

A snapshot file is `snapshot-<last event id, 12 digits>.bin`: a magic line, the SHA-256 of the
payload, then the payload (a pickle of the runtime state, model included). It is written to a
temporary file, flushed to the disk, then renamed over its final name, so a crash leaves either
no file or a whole one. Loading only considers regular files (no symlinks) of that name pattern
directly inside the snapshot directory of the data directory, and checks the digest before
unpickling.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import pickle
import re
import stat
import typing

__all__ = ["SnapshotDir", "SnapshotError"]

MAGIC = b"STREAMML-SNAPSHOT-1\n"
_NAME = re.compile(r"^snapshot-(\d{12,})\.bin$")


class SnapshotError(Exception):
    """A snapshot that cannot be used (unreadable, corrupt, outside the data directory)."""


def _fsync_dir(path: pathlib.Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SnapshotDir:
    """The snapshots of one data directory.

    Parameters
    ----------
    data_dir
        The data directory; snapshots live in its `snapshots` subdirectory, which must resolve
        inside it.

    """

    def __init__(self, data_dir: pathlib.Path):
        self.root = data_dir.resolve()
        self.path = self.root / "snapshots"
        self.path.mkdir(mode=0o700, exist_ok=True)
        resolved = self.path.resolve()
        if resolved.parent != self.root:
            raise SnapshotError(f"{self.path} resolves outside the data directory {self.root}")

    def _inside(self, path: pathlib.Path) -> pathlib.Path:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise SnapshotError(f"{path.name} is not a regular file")
        if path.resolve().parent != self.path.resolve():
            raise SnapshotError(f"{path} is outside the snapshot directory")
        return path

    def list(self) -> list[tuple[int, pathlib.Path]]:
        """(last event id, path) of every snapshot file, newest first."""
        found = []
        for entry in os.scandir(self.path):
            match = _NAME.match(entry.name)
            if match:
                found.append((int(match.group(1)), self.path / entry.name))
        return sorted(found, reverse=True)

    def write(self, last_event_id: int, payload: bytes) -> pathlib.Path:
        """Write a snapshot atomically; returns its path."""
        final = self.path / f"snapshot-{last_event_id:012d}.bin"
        tmp = self.path / f".{final.name}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(MAGIC)
            f.write(hashlib.sha256(payload).digest())
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _fsync_dir(self.path)
        return final

    def read(self, path: pathlib.Path) -> dict:
        """The state stored in a snapshot file of this directory."""
        path = pathlib.Path(path)
        if path.parent.resolve() != self.path.resolve() or not _NAME.match(path.name):
            raise SnapshotError(f"refusing to load {path}: not a snapshot of {self.root}")
        self._inside(path)
        data = path.read_bytes()
        head = len(MAGIC) + 32
        if len(data) < head or not data.startswith(MAGIC):
            raise SnapshotError(f"{path.name} is not a streamml snapshot")
        if hashlib.sha256(data[head:]).digest() != data[len(MAGIC) : head]:
            raise SnapshotError(f"{path.name} is corrupt (checksum mismatch)")
        try:
            state = pickle.loads(data[head:])
        except Exception as error:
            raise SnapshotError(f"{path.name} cannot be unpickled: {error}") from error
        if not isinstance(state, dict) or "model" not in state:
            raise SnapshotError(f"{path.name} does not hold a service state")
        return state

    def prune(self, keep: int) -> list[int]:
        """Delete all but the `keep` newest snapshots (and stray temporary files)."""
        for entry in os.scandir(self.path):
            if entry.name.startswith(".snapshot-") and entry.name.endswith(".tmp"):
                os.unlink(entry.path)
        snapshots = self.list()
        for _, path in snapshots[keep:]:
            os.unlink(path)
        return [event_id for event_id, _ in snapshots[:keep]]

    def load_newest(
        self, accept: typing.Callable[[dict], None] | None = None
    ) -> tuple[dict | None, list[str]]:
        """The newest usable snapshot's state (or None), and why newer ones were skipped.

        `accept` may raise `SnapshotError` to reject a state (e.g. one of another model).
        """
        problems = []
        for _, path in self.list():
            try:
                state = self.read(path)
                if accept is not None:
                    accept(state)
                return state, problems
            except (OSError, SnapshotError) as error:
                problems.append(str(error))
        return None, problems
