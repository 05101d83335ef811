"""The store of a data directory: two SQLite databases in WAL mode.

- `streamml.db`, the log: learn events (what the model learns, in order), the ids already
  learned (to recognise a retried request) and metadata. Its commits are flushed to the disk
  (`PRAGMA synchronous=FULL`).
- `pending.db`: the predictions waiting for their labels. Its commits reach the operating
  system without a disk flush (`NORMAL`): they survive a crash of the process, and cost no
  disk flush, so predictions never wait behind the log's flushes.

Each database has a writer connection (used by one thread of the committer, which runs a batch
of writes as one transaction: group commit), a reader (used by the event loop; in WAL mode it
never waits for the writer and sees every committed transaction), and a checkpointer, which
copies the write-ahead log into the database in the background, so that a commit never waits
for a checkpoint.

A label consumes its prediction in two steps: the event is committed to the log, then the
prediction is removed from `pending.db`. A crash in between leaves a prediction whose id is
already learned; opening the store removes such predictions.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sqlite3
import threading
import typing

__all__ = ["Event", "Pending", "Store"]

_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    key TEXT,
    features TEXT NOT NULL,
    labels TEXT NOT NULL,
    predicted TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS learned (
    key TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL,
    labels TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS learned_expires ON learned (expires);
"""
_PENDING_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    id TEXT PRIMARY KEY,
    features TEXT NOT NULL,
    labels TEXT NOT NULL,
    probabilities TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_expires ON pending (expires);
"""
_PUT = (
    "INSERT OR REPLACE INTO pending (id, features, labels, probabilities, expires) "
    "VALUES (?, ?, ?, ?, ?)"
)
_APPEND = (
    "INSERT INTO events (id, key, features, labels, predicted, created) "
    "VALUES (?, ?, ?, ?, ?, julianday('now'))"
)
_LEARNED = "INSERT OR REPLACE INTO learned (key, event_id, labels, expires) VALUES (?, ?, ?, ?)"
_COMPACTED = (
    "INSERT INTO meta (key, value) VALUES ('compacted_through', ?) ON CONFLICT (key) DO "
    "UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))"
)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@dataclasses.dataclass(frozen=True)
class Event:
    """A logged learn event: what the model learns, in `id` order."""

    id: int
    key: str | None
    features: dict
    labels: list[str]
    predicted: list[str] | None


@dataclasses.dataclass(frozen=True)
class Pending:
    """A prediction waiting for its labels."""

    id: str
    features: dict
    labels: list[str]
    probabilities: dict[str, float]
    expires: float


#: A write. To the log: ("append", Event, key expiry) | ("compact", through) |
#: ("expire", now) | ("meta", key, value). To pending.db: ("put", Pending) | ("delete", id) |
#: ("expire", now).
Op = tuple


def _connect(path: pathlib.Path, synchronous: str = "NORMAL") -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=10000")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("PRAGMA wal_autocheckpoint=0")  # see `checkpoint`
    return db


class _Database:
    """One SQLite file in WAL mode, with its writer, reader and checkpointer connections."""

    def __init__(self, path: pathlib.Path, schema: str, synchronous: str):
        self.path = path
        self.writer = _connect(path, synchronous)
        self.writer.execute("PRAGMA journal_mode=WAL")
        self.writer.executescript(schema)
        self.reader = _connect(path)
        self.checkpointer = _connect(path)
        self.lock = threading.Lock()  # one transaction at a time, without SQLite's busy waits

    def run(self, statements: list[tuple[str, tuple, bool]]) -> int:
        """Run statements in one transaction; the rows changed by those flagged True."""
        counted = 0
        db = self.writer
        with self.lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params, count in statements:
                    rows = db.execute(sql, params).rowcount
                    counted += rows if count else 0
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return counted

    def one(self, query: str, *args):
        return self.reader.execute(query, args).fetchone()

    def wal_bytes(self) -> int:
        try:
            return (self.path.parent / (self.path.name + "-wal")).stat().st_size
        except FileNotFoundError:
            return 0

    def check_writable(self) -> None:
        with self.lock:
            self.writer.execute("BEGIN IMMEDIATE")
            self.writer.execute("ROLLBACK")

    def close(self) -> None:
        for db in (self.checkpointer, self.reader, self.writer):
            db.close()


class Store:
    """The databases of a data directory.

    Parameters
    ----------
    data_dir
        The data directory.
    fsync
        Whether a commit of the log reaches the disk (`PRAGMA synchronous=FULL`) rather than
        only the operating system (`NORMAL`: it survives a crash of the process, not a power
        cut).

    """

    def __init__(self, data_dir: pathlib.Path, fsync: bool = True):
        self.log = _Database(data_dir / "streamml.db", _LOG_SCHEMA, "FULL" if fsync else "NORMAL")
        self.waiting = _Database(data_dir / "pending.db", _PENDING_SCHEMA, "NORMAL")
        self._forget_learned_predictions()

    def _forget_learned_predictions(self) -> None:
        """Remove the predictions whose id is learned (a crash between the two steps)."""
        db = self.waiting.writer
        db.execute("ATTACH DATABASE ? AS log", (str(self.log.path),))
        try:
            db.execute("DELETE FROM pending WHERE id IN (SELECT key FROM log.learned)")
        finally:
            db.execute("DETACH DATABASE log")

    def close(self) -> None:
        self.waiting.close()
        self.log.close()

    # -- writing (one committer thread per database) ------------------------------------------

    def write_log(self, ops: list[Op]) -> None:
        """Commit operations on the log as one transaction (flushed to the disk if `fsync`)."""
        self.log.run([statement for op in ops for statement in _log_statements(op)])

    def write_pending(self, ops: list[Op]) -> int:
        """Commit operations on the predictions as one transaction; returns how many expired."""
        return self.waiting.run([statement for op in ops for statement in _pending_statements(op)])

    def check_writable(self) -> None:
        """Raise if a database cannot take its write lock now."""
        self.log.check_writable()
        self.waiting.check_writable()

    def wal_bytes(self) -> int:
        """Size of the largest write-ahead log."""
        return max(self.log.wal_bytes(), self.waiting.wal_bytes())

    def checkpoint(self) -> None:
        """Copy the committed write-ahead logs into the databases (any thread, non-blocking)."""
        for database in (self.log, self.waiting):
            database.checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    # -- reading (event loop) ---------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.log.one("SELECT value FROM meta WHERE key = ?", key)
        return row[0] if row else None

    def max_event_id(self) -> int:
        return self.log.one("SELECT MAX(id) FROM events")[0] or 0

    def count_events_after(self, event_id: int) -> int:
        return self.log.one("SELECT COUNT(*) FROM events WHERE id > ?", event_id)[0]

    def events_after(self, event_id: int, chunk: int = 500) -> typing.Iterator[Event]:
        """The logged events with an id above `event_id`, in order."""
        last = event_id
        while True:
            rows = self.log.reader.execute(
                "SELECT id, key, features, labels, predicted FROM events WHERE id > ? "
                "ORDER BY id LIMIT ?",
                (last, chunk),
            ).fetchall()
            if not rows:
                return
            for id_, key, features, labels, predicted in rows:
                yield Event(
                    id_,
                    key,
                    json.loads(features),
                    json.loads(labels),
                    None if predicted is None else json.loads(predicted),
                )
            last = rows[-1][0]

    def learned(self, key: str, now: float) -> tuple[int, list[str]] | None:
        """The event id and labels under which `key` was learned, if still remembered."""
        row = self.log.one(
            "SELECT event_id, labels FROM learned WHERE key = ? AND expires >= ?", key, now
        )
        return (row[0], json.loads(row[1])) if row else None

    def get_pending(self, id_: str, now: float) -> Pending | None:
        row = self.waiting.one(
            "SELECT features, labels, probabilities, expires FROM pending "
            "WHERE id = ? AND expires >= ?",
            id_,
            now,
        )
        if row is None:
            return None
        features, labels, probabilities, expires = row
        return Pending(
            id_, json.loads(features), json.loads(labels), json.loads(probabilities), expires
        )

    def count_pending(self, now: float) -> int:
        return self.waiting.one("SELECT COUNT(*) FROM pending WHERE expires >= ?", now)[0]

    def has_expired(self, now: float) -> bool:
        """Whether some prediction or remembered id has expired."""
        query = "SELECT EXISTS (SELECT 1 FROM {} WHERE expires < ?)"
        return bool(
            self.waiting.one(query.format("pending"), now)[0]
            or self.log.one(query.format("learned"), now)[0]
        )


def _log_statements(op: Op) -> list[tuple[str, tuple, bool]]:
    kind = op[0]
    if kind == "append":
        event, expires = op[1], op[2]
        labels = _dumps(event.labels)
        predicted = None if event.predicted is None else _dumps(event.predicted)
        out = [(_APPEND, (event.id, event.key, _dumps(event.features), labels, predicted), False)]
        if event.key is not None:
            out.append((_LEARNED, (event.key, event.id, labels, expires), False))
        return out
    if kind == "compact":
        return [
            ("DELETE FROM events WHERE id <= ?", (op[1],), False),
            (_COMPACTED, (str(op[1]),), False),
        ]
    if kind == "expire":
        return [("DELETE FROM learned WHERE expires < ?", (op[1],), False)]
    if kind == "meta":
        return [("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", op[1:3], False)]
    raise ValueError(f"unknown log operation {kind!r}")  # a bug in the caller


def _pending_statements(op: Op) -> list[tuple[str, tuple, bool]]:
    kind = op[0]
    if kind == "put":
        p: Pending = op[1]
        values = (p.id, _dumps(p.features), _dumps(p.labels), _dumps(p.probabilities))
        return [(_PUT, (*values, p.expires), False)]
    if kind == "delete":
        return [("DELETE FROM pending WHERE id = ?", (op[1],), False)]
    if kind == "expire":
        return [("DELETE FROM pending WHERE expires < ?", (op[1],), True)]
    raise ValueError(f"unknown pending operation {kind!r}")  # a bug in the caller
