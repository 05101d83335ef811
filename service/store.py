"""The durable store: an SQLite (WAL mode) log of learn events, pending predictions, metadata.

Three connections to `streamml.db`: a writer, used only by the store's writer thread, which
runs a batch of writes as one transaction (group commit); a reader, used by the event loop,
which in WAL mode never waits for the writer and sees every committed transaction; and a
checkpointer, which copies the write-ahead log into the database in the background (so that a
commit never waits for a checkpoint and its disk flushes).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sqlite3
import typing

__all__ = ["Event", "Pending", "Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    key TEXT,
    features TEXT NOT NULL,
    labels TEXT NOT NULL,
    predicted TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
    id TEXT PRIMARY KEY,
    features TEXT NOT NULL,
    labels TEXT NOT NULL,
    probabilities TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_expires ON pending (expires);
CREATE TABLE IF NOT EXISTS learned (
    key TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL,
    labels TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS learned_expires ON learned (expires);
"""


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


#: A write: ("put", Pending) | ("delete", id) | ("append", Event, key expiry) |
#: ("compact", through) | ("expire", now) | ("meta", key, value)
Op = tuple


class Store:
    """The SQLite file `streamml.db` of a data directory.

    Parameters
    ----------
    path
        The database file.
    fsync
        Whether a durable write reaches the disk (`PRAGMA synchronous=FULL`) rather than only
        the operating system (`NORMAL`: it survives a crash of the process, not a power cut).

    """

    def __init__(self, path: pathlib.Path, fsync: bool = True):
        self.path = path
        self.fsync = fsync
        self._writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA busy_timeout=10000")
        self._writer.execute("PRAGMA wal_autocheckpoint=0")  # see `checkpoint`
        self._writer.executescript(_SCHEMA)
        self._sync = None
        self._reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._reader.execute("PRAGMA busy_timeout=10000")
        self._checkpointer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._checkpointer.execute("PRAGMA busy_timeout=10000")

    def close(self) -> None:
        for db in (self._checkpointer, self._reader, self._writer):
            db.close()

    def wal_bytes(self) -> int:
        """Size of the write-ahead log file."""
        try:
            return (self.path.parent / (self.path.name + "-wal")).stat().st_size
        except FileNotFoundError:
            return 0

    def checkpoint(self) -> tuple[int, int, int]:
        """Copy the committed log into the database without blocking the writer (any thread).

        Returns SQLite's (busy, log frames, frames checkpointed).
        """
        return tuple(self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())

    # -- writing (writer thread only) -------------------------------------------------------

    def write(self, ops: list[Op], durable: bool = True) -> dict[str, int]:
        """Run `ops` as one transaction; `durable` syncs it to the disk (if `fsync`).

        Returns counts of what the ops changed (`expired`: predictions removed by "expire").
        """
        sync = "FULL" if durable and self.fsync else "NORMAL"
        db = self._writer
        if sync != self._sync:
            db.execute(f"PRAGMA synchronous={sync}")
            self._sync = sync
        counts = {"expired": 0}
        db.execute("BEGIN IMMEDIATE")
        try:
            for op in ops:
                self._apply(db, op, counts)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return counts

    @staticmethod
    def _apply(db: sqlite3.Connection, op: Op, counts: dict) -> None:
        kind = op[0]
        if kind == "put":
            p: Pending = op[1]
            db.execute(
                "INSERT OR REPLACE INTO pending (id, features, labels, probabilities, expires) "
                "VALUES (?, ?, ?, ?, ?)",
                (p.id, _dumps(p.features), _dumps(p.labels), _dumps(p.probabilities), p.expires),
            )
        elif kind == "delete":
            db.execute("DELETE FROM pending WHERE id = ?", (op[1],))
        elif kind == "append":
            event, expires = op[1], op[2]
            labels = _dumps(event.labels)
            predicted = None if event.predicted is None else _dumps(event.predicted)
            db.execute(
                "INSERT INTO events (id, key, features, labels, predicted, created) "
                "VALUES (?, ?, ?, ?, ?, julianday('now'))",
                (event.id, event.key, _dumps(event.features), labels, predicted),
            )
            if event.key is not None:
                db.execute(
                    "INSERT OR REPLACE INTO learned (key, event_id, labels, expires) "
                    "VALUES (?, ?, ?, ?)",
                    (event.key, event.id, labels, expires),
                )
        elif kind == "compact":
            db.execute("DELETE FROM events WHERE id <= ?", (op[1],))
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('compacted_through', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = "
                "MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (str(op[1]),),
            )
        elif kind == "expire":
            counts["expired"] += db.execute(
                "DELETE FROM pending WHERE expires < ?", (op[1],)
            ).rowcount
            db.execute("DELETE FROM learned WHERE expires < ?", (op[1],))
        elif kind == "meta":
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (op[1], op[2]))
        else:  # pragma: no cover - a bug in the caller
            raise ValueError(f"unknown store operation {kind!r}")

    def check_writable(self) -> None:
        """Raise if the database cannot take its write lock now (writer thread only)."""
        self._writer.execute("BEGIN IMMEDIATE")
        self._writer.execute("ROLLBACK")

    # -- reading (event loop) ---------------------------------------------------------------

    def _one(self, query: str, *args):
        return self._reader.execute(query, args).fetchone()

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", key)
        return row[0] if row else None

    def max_event_id(self) -> int:
        return self._one("SELECT MAX(id) FROM events")[0] or 0

    def count_events_after(self, event_id: int) -> int:
        return self._one("SELECT COUNT(*) FROM events WHERE id > ?", event_id)[0]

    def events_after(self, event_id: int, chunk: int = 500) -> typing.Iterator[Event]:
        """The logged events with an id above `event_id`, in order."""
        last = event_id
        while True:
            rows = self._reader.execute(
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
        row = self._one(
            "SELECT event_id, labels FROM learned WHERE key = ? AND expires >= ?", key, now
        )
        return (row[0], json.loads(row[1])) if row else None

    def get_pending(self, id_: str, now: float) -> Pending | None:
        row = self._one(
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
        return self._one("SELECT COUNT(*) FROM pending WHERE expires >= ?", now)[0]

    def has_expired(self, now: float) -> bool:
        """Whether some prediction or remembered key has expired."""
        return any(
            self._one(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE expires < ?)", now)[0]
            for table in ("pending", "learned")
        )
