"""The store of a data directory: two SQLite databases in WAL mode (see `database.py`).

- `streamml.db`, the log: learn events (what the model learns, in order), the ids of the
  recent events (to recognise a retried request) and metadata. Its commits are flushed to
  the disk (`PRAGMA synchronous=FULL`).
- `pending.db`: the predictions waiting for their labels (`pending.py`, capped by count and
  by bytes). Its commits reach the operating system without a disk flush (`NORMAL`): they
  survive a crash of the process, and cost no disk flush, so predictions never wait behind
  the log's flushes.

Each database has a writer connection (used by one thread of the committer, which runs a batch
of writes as one transaction: group commit) and a reader (used by the event loop; in WAL mode
it never waits for the writer and sees every committed transaction); a checkpointer thread
keeps their write-ahead logs small.

The ids of learned events are kept with a digest of their labels (16 bytes, whatever the
labels), for the last events only: the runtime forgets the ids of events more than
`dedup_events` behind the newest one (the "forget" operation).

A label consumes its prediction in two steps: the event is committed to the log, then the
prediction is removed from `pending.db`. A crash in between leaves a prediction whose id is
already learned; opening the store removes such predictions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import pathlib
import sqlite3
import typing

from . import database
from .database import Checkpointer, Database, WalPolicy
from .pending import PENDING_SCHEMA, Pending, PendingTable, dumps

__all__ = ["Event", "Pending", "Store", "labels_digest"]

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
CREATE TABLE IF NOT EXISTS learned_ids (
    key TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL,
    labels BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS learned_ids_event ON learned_ids (event_id);
"""
_APPEND = (
    "INSERT INTO events (id, key, features, labels, predicted, created) "
    "VALUES (?, ?, ?, ?, ?, julianday('now'))"
)
_LEARNED = "INSERT OR REPLACE INTO learned_ids (key, event_id, labels) VALUES (?, ?, ?)"
_COMPACTED = (
    "INSERT INTO meta (key, value) VALUES ('compacted_through', ?) ON CONFLICT (key) DO "
    "UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))"
)


def labels_digest(labels: typing.Iterable[str]) -> bytes:
    """A 16-byte digest of a label set (the same for any order or repetition)."""
    return hashlib.blake2b(dumps(sorted(set(labels))).encode(), digest_size=16).digest()


@dataclasses.dataclass(frozen=True)
class Event:
    """A logged learn event: what the model learns, in `id` order."""

    id: int
    key: str | None
    features: dict
    labels: list[str]
    predicted: list[str] | None


#: A write to the log: ("append", Event) | ("forget", through event id) |
#: ("compact", through event id) | ("meta", key, value).
Op = tuple


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
    max_pending
        Most predictions waiting for their labels (the oldest are evicted beyond).
    max_pending_bytes
        Most bytes of predictions waiting for their labels (likewise).
    wal
        When the write-ahead logs are truncated.

    """

    def __init__(
        self,
        data_dir: pathlib.Path,
        fsync: bool = True,
        max_pending: int = 1_000_000,
        max_pending_bytes: int = 128 * 2**20,
        wal: WalPolicy = WalPolicy(),
    ):
        sync = "FULL" if fsync else "NORMAL"
        self.log = Database(data_dir / "streamml.db", _LOG_SCHEMA, sync, wal)
        self.waiting = Database(data_dir / "pending.db", PENDING_SCHEMA, "NORMAL", wal)
        try:
            self._migrate_learned()
            self.pending = PendingTable(self.waiting, max_pending, max_pending_bytes)
            self._forget_learned_predictions()
        except BaseException:
            self.waiting.close()
            self.log.close()
            raise
        self.checkpointer = Checkpointer([self.log, self.waiting], wal.period)

    def _migrate_learned(self) -> None:
        """Move the ids of an earlier version's `learned` table (labels as JSON) over."""
        if self.log.one("SELECT 1 FROM sqlite_master WHERE name = 'learned'") is None:
            return
        rows = self.log.writer.execute("SELECT key, event_id, labels FROM learned").fetchall()
        with self.log.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO learned_ids (key, event_id, labels) VALUES (?, ?, ?)",
                [(key, event, labels_digest(json.loads(labels))) for key, event, labels in rows],
            )
            db.execute("DROP TABLE learned")

    def _forget_learned_predictions(self) -> None:
        """Remove the predictions whose id is learned (a crash between the two steps)."""
        db = self.waiting.writer
        db.execute("ATTACH DATABASE ? AS log", (str(self.log.path),))
        try:
            ids = db.execute(
                "SELECT id FROM pending WHERE id IN (SELECT key FROM log.learned_ids)"
            ).fetchall()
        finally:
            db.execute("DETACH DATABASE log")
        if ids:
            self.pending.write([("delete", key) for (key,) in ids])

    def close(self) -> None:
        self.checkpointer.stop()
        for db in (self.log, self.waiting):
            with contextlib.suppress(sqlite3.Error):
                db.truncate_wal()
        self.waiting.close()
        self.log.close()

    # -- writing (one committer thread per database) ------------------------------------------

    def write_log(self, ops: list[Op]) -> None:
        """Commit operations on the log as one transaction (flushed to the disk if `fsync`)."""
        self.log.run([statement for op in ops for statement in _log_statements(op)])

    def write_log_groups(self, groups: list[list[Op]]) -> None:
        """Commit groups of operations on the log, in order, each group whole in one
        transaction; a transaction takes more groups until `database.TRANSACTION_BYTES` bytes
        are written."""
        statements: list[tuple[str, tuple]] = []
        size = 0
        for group in groups:
            for op in group:
                for sql, params in _log_statements(op):
                    statements.append((sql, params))
                    size += sum(len(p) for p in params if isinstance(p, str | bytes))
            if size >= database.TRANSACTION_BYTES:
                self.log.run(statements)
                statements, size = [], 0
        if statements:
            self.log.run(statements)

    def write_pending(self, ops: list[tuple]) -> tuple[int, int]:
        """Commit operations on the predictions as one transaction (see `PendingTable.write`);
        returns how many were expired and evicted."""
        return self.pending.write(ops)

    def check_writable(self) -> None:
        """Raise if a database cannot take its write lock now."""
        self.log.check_writable()
        self.waiting.check_writable()

    def wal_bytes(self) -> int:
        """Size of the largest write-ahead log."""
        return max(self.log.wal_bytes(), self.waiting.wal_bytes())

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

    def learned(self, key: str) -> tuple[int, bytes] | None:
        """The event id and labels digest under which `key` was learned, if remembered."""
        row = self.log.one("SELECT event_id, labels FROM learned_ids WHERE key = ?", key)
        return (row[0], row[1]) if row else None

    def count_learned_ids(self) -> int:
        return self.log.one("SELECT COUNT(*) FROM learned_ids")[0]

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

    def has_expired(self, now: float) -> bool:
        """Whether some prediction has expired."""
        query = "SELECT EXISTS (SELECT 1 FROM pending WHERE expires < ?)"
        return bool(self.waiting.one(query, now)[0])


def _log_statements(op: Op) -> list[tuple[str, tuple]]:
    kind = op[0]
    if kind == "append":
        event = op[1]
        labels = dumps(event.labels)
        predicted = None if event.predicted is None else dumps(event.predicted)
        out = [(_APPEND, (event.id, event.key, dumps(event.features), labels, predicted))]
        if event.key is not None:
            out.append((_LEARNED, (event.key, event.id, labels_digest(event.labels))))
        return out
    if kind == "forget":
        return [("DELETE FROM learned_ids WHERE event_id <= ?", (op[1],))]
    if kind == "compact":
        return [("DELETE FROM events WHERE id <= ?", (op[1],)), (_COMPACTED, (str(op[1]),))]
    if kind == "meta":
        return [("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", op[1:3])]
    raise ValueError(f"unknown log operation {kind!r}")  # a bug in the caller
