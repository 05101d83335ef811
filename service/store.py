"""The durable store: an SQLite (WAL mode) log of learn events, pending predictions, metadata.

One connection, used by the thread of the event loop that owns the model. Writes are staged in
an open transaction and made durable together by `commit` (group commit): the caller answers
its requests only after `commit` returned.
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


class Store:
    """The SQLite file `streamml.db` of a data directory.

    Parameters
    ----------
    path
        The database file.
    fsync
        `PRAGMA synchronous=FULL` (every commit reaches the disk) rather than `NORMAL` (every
        commit survives a crash of the process, not necessarily a power cut).

    """

    def __init__(self, path: pathlib.Path, fsync: bool = True):
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._open = False

    # -- transactions -----------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._open

    def _begin(self) -> None:
        if not self._open:
            self._db.execute("BEGIN IMMEDIATE")
            self._open = True

    def commit(self) -> None:
        """Make every staged write durable."""
        if self._open:
            try:
                self._db.execute("COMMIT")
            finally:
                self._open = self._db.in_transaction
            if self._open:  # pragma: no cover - COMMIT failed and left the transaction open
                raise sqlite3.OperationalError("commit failed")

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._open = False

    def check_writable(self) -> None:
        """Raise if the database cannot take a write lock now."""
        if not self._open:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("ROLLBACK")

    def close(self) -> None:
        self.rollback()
        self._db.close()

    # -- metadata ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._begin()
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- events -----------------------------------------------------------------------------

    def max_event_id(self) -> int:
        row = self._db.execute("SELECT MAX(id) FROM events").fetchone()
        return row[0] or 0

    def min_event_id(self) -> int | None:
        return self._db.execute("SELECT MIN(id) FROM events").fetchone()[0]

    def append(self, event: Event, expires: float) -> None:
        """Stage an event (and its key, remembered until `expires`, to recognise duplicates)."""
        self._begin()
        labels = _dumps(event.labels)
        self._db.execute(
            "INSERT INTO events (id, key, features, labels, predicted, created) "
            "VALUES (?, ?, ?, ?, ?, strftime('%s', 'now'))",
            (
                event.id,
                event.key,
                _dumps(event.features),
                labels,
                None if event.predicted is None else _dumps(event.predicted),
            ),
        )
        if event.key is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO learned (key, event_id, labels, expires) "
                "VALUES (?, ?, ?, ?)",
                (event.key, event.id, labels, expires),
            )

    def events_after(self, event_id: int, chunk: int = 500) -> typing.Iterator[Event]:
        """The logged events with an id above `event_id`, in order."""
        last = event_id
        while True:
            rows = self._db.execute(
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

    def count_events_after(self, event_id: int) -> int:
        query = "SELECT COUNT(*) FROM events WHERE id > ?"
        return self._db.execute(query, (event_id,)).fetchone()[0]

    def compact(self, through: int) -> None:
        """Stage the deletion of the events up to `through` (they are in a kept snapshot)."""
        self._begin()
        self._db.execute("DELETE FROM events WHERE id <= ?", (through,))
        previous = int(self.get_meta("compacted_through") or 0)
        self.set_meta("compacted_through", str(max(previous, through)))

    def learned(self, key: str, now: float) -> tuple[int, list[str]] | None:
        """The event id and labels under which `key` was learned, if still remembered."""
        row = self._db.execute(
            "SELECT event_id, labels FROM learned WHERE key = ? AND expires >= ?", (key, now)
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    # -- pending predictions ----------------------------------------------------------------

    def put_pending(self, pending: Pending) -> None:
        self._begin()
        self._db.execute(
            "INSERT OR REPLACE INTO pending (id, features, labels, probabilities, expires) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                pending.id,
                _dumps(pending.features),
                _dumps(pending.labels),
                _dumps(pending.probabilities),
                pending.expires,
            ),
        )

    def get_pending(self, id_: str, now: float) -> Pending | None:
        row = self._db.execute(
            "SELECT features, labels, probabilities, expires FROM pending "
            "WHERE id = ? AND expires >= ?",
            (id_, now),
        ).fetchone()
        if row is None:
            return None
        features, labels, probabilities, expires = row
        return Pending(
            id_, json.loads(features), json.loads(labels), json.loads(probabilities), expires
        )

    def delete_pending(self, id_: str) -> None:
        self._begin()
        self._db.execute("DELETE FROM pending WHERE id = ?", (id_,))

    def count_pending(self, now: float) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM pending WHERE expires >= ?", (now,)
        ).fetchone()[0]

    def expire(self, now: float) -> int:
        """Stage the removal of expired predictions and remembered keys; expired predictions."""
        self._begin()
        n = self._db.execute("DELETE FROM pending WHERE expires < ?", (now,)).rowcount
        self._db.execute("DELETE FROM learned WHERE expires < ?", (now,))
        return n

    def has_expired(self, now: float) -> bool:
        """Whether some prediction or remembered key has expired."""
        query = "SELECT EXISTS (SELECT 1 FROM {} WHERE expires < ?)"
        return any(
            self._db.execute(query.format(table), (now,)).fetchone()[0]
            for table in ("pending", "learned")
        )
