"""One SQLite database in WAL mode, whose write-ahead log is kept small under any load.

A database has three connections: a writer (one transaction at a time, under `lock`), a
reader (used by the event loop; in WAL mode it never waits for the writer) and a checkpointer.

SQLite's automatic checkpoints are off: they run inside a commit, and would make the request
behind that commit wait. A write-ahead log (the `-wal` file) only shrinks when a checkpoint
has copied all of it into the database while nothing was written and no reader still read
from it; under a steady stream of commits a background checkpoint never catches up, and the
file grows without end. So `truncate_wal` checkpoints in two steps:

1. a PASSIVE checkpoint copies what is committed, while the writer goes on;
2. then, with the writer held back (`lock`), `wal_checkpoint(TRUNCATE)` copies the little
   written meanwhile and truncates the file to 0 bytes. It waits for the readers still
   reading from the log (`busy_timeout`): the reads here are single short statements, never
   held open, so it waits at most for one of them.

A `Checkpointer` thread calls it when a log is over `soft_bytes`, or when its database has
been idle for `idle_seconds` (so an idle data directory holds no write-ahead log); if the log
still passes `hard_bytes` (the thread fell behind), the writer calls it itself after its
commit. A log is thus never much larger than `hard_bytes` plus one transaction.
"""

from __future__ import annotations

import contextlib
import pathlib
import sqlite3
import threading
import time
import typing

__all__ = ["TRANSACTION_BYTES", "Checkpointer", "Database", "WalPolicy"]

#: Bytes of rows above which a large write goes on in a new transaction (which bounds what one
#: transaction adds to a write-ahead log).
TRANSACTION_BYTES = 8 * 2**20


class WalPolicy(typing.NamedTuple):
    """When a write-ahead log is checkpointed and truncated (sizes in bytes)."""

    soft_bytes: int = 4 * 2**20  # the checkpointer thread truncates a log over this size
    hard_bytes: int = 32 * 2**20  # the writer truncates it itself over this size
    idle_seconds: float = 1.0  # ... or any log of a database not written for this long
    period: float = 0.2  # seconds between two looks of the checkpointer thread


def _connect(path: pathlib.Path, synchronous: str = "NORMAL") -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=10000")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("PRAGMA wal_autocheckpoint=0")  # see the module's docstring
    return db


class Database:
    """One SQLite file in WAL mode, with its writer, reader and checkpointer connections.

    Parameters
    ----------
    path
        The database file.
    schema
        SQL run at opening (`CREATE TABLE IF NOT EXISTS ...`).
    synchronous
        `FULL` (every commit flushed to the disk) or `NORMAL` (commits survive a crash of the
        process, not a power cut).
    policy
        When the write-ahead log is truncated.

    """

    def __init__(
        self, path: pathlib.Path, schema: str, synchronous: str, policy: WalPolicy = WalPolicy()
    ):
        self.path = path
        self.wal_path = path.parent / (path.name + "-wal")
        self.policy = policy
        self.writer = _connect(path, synchronous)
        self.writer.execute("PRAGMA journal_mode=WAL")
        self.writer.execute(f"PRAGMA journal_size_limit={policy.soft_bytes}")
        # Deleted rows are zeroed only in the pages written anyway: with ON (Debian's default),
        # deleting rows rewrites every page they freed, and a compaction of the log would write
        # as much to the write-ahead log as it deletes.
        self.writer.execute("PRAGMA secure_delete=FAST")
        self.writer.executescript(schema)
        self.reader = _connect(path)
        self.checkpointer = _connect(path)
        self.lock = threading.Lock()  # one transaction at a time, without SQLite's busy waits
        self._checkpoint_lock = threading.Lock()  # one checkpoint at a time
        self.last_write = time.monotonic()
        self.truncations = 0  # times the write-ahead log was truncated

    @contextlib.contextmanager
    def transaction(self) -> typing.Iterator[sqlite3.Connection]:
        """The writer connection inside one transaction, committed at the end of the block."""
        db = self.writer
        with self.lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                self.last_write = time.monotonic()
        if self.wal_bytes() > self.policy.hard_bytes:
            self.truncate_wal()

    def run(self, statements: list[tuple[str, tuple]]) -> None:
        """Run statements in one transaction."""
        with self.transaction() as db:
            for sql, params in statements:
                db.execute(sql, params)

    def one(self, query: str, *args):
        """The first row of a query (the reader's statement is closed before returning)."""
        cursor = self.reader.execute(query, args)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def wal_bytes(self) -> int:
        try:
            return self.wal_path.stat().st_size
        except FileNotFoundError:
            return 0

    def truncate_wal(self) -> bool:
        """Copy the write-ahead log into the database and truncate it; whether it was."""
        with self._checkpoint_lock:
            self.checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            with self.lock:
                busy, _, _ = self.checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            self.truncations += 1
        return not busy

    def wants_checkpoint(self) -> bool:
        """Whether the log is over the soft limit, or left behind by an idle database."""
        size = self.wal_bytes()
        idle = time.monotonic() - self.last_write >= self.policy.idle_seconds
        return size > self.policy.soft_bytes or (size > 0 and idle)

    def check_writable(self) -> None:
        with self.lock:
            self.writer.execute("BEGIN IMMEDIATE")
            self.writer.execute("ROLLBACK")

    def close(self) -> None:
        for db in (self.checkpointer, self.reader, self.writer):
            db.close()


class Checkpointer:
    """A thread keeping the write-ahead logs of some databases small (see the module)."""

    def __init__(self, databases: list[Database], period: float):
        self.databases = databases
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="streamml-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            for database in self.databases:
                if self._stop.is_set():
                    return
                try:
                    if database.wants_checkpoint():
                        database.truncate_wal()
                except sqlite3.Error:
                    pass  # a failing database fails its writes, which report it

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
