"""The predictions waiting for their labels (`pending.db`), capped by count and by bytes.

Each row records its size: the bytes of its id and of the JSON of its features, predicted
labels and probabilities. The totals are kept in memory (counted at opening, then updated by
every committed write). When a write leaves more than `max_rows` rows or `max_bytes` bytes,
the oldest predictions (in order of arrival) are evicted in the same transaction, and counted
in `evicted`: labels sent for them later get 404, as for an expired prediction. So the table
never holds more than the caps, whatever the load.

Writes run on one thread at a time (the event loop's); the totals are those of the committed
state.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3

from . import database as _database
from .database import Database

__all__ = ["PENDING_SCHEMA", "Pending", "PendingTable", "dumps"]

PENDING_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    id TEXT PRIMARY KEY,
    features TEXT NOT NULL,
    labels TEXT NOT NULL,
    probabilities TEXT NOT NULL,
    expires REAL NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pending_expires ON pending (expires);
"""
_INSERT = (
    "INSERT INTO pending (id, features, labels, probabilities, expires, bytes) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_SIZE = (
    "length(CAST(id AS BLOB)) + length(CAST(features AS BLOB)) + "
    "length(CAST(labels AS BLOB)) + length(CAST(probabilities AS BLOB))"
)


def dumps(value) -> str:
    """Compact JSON (finite numbers only), as stored."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@dataclasses.dataclass(frozen=True)
class Pending:
    """A prediction waiting for its labels."""

    id: str
    features: dict
    labels: list[str]
    probabilities: dict[str, float]
    expires: float


#: A write to the table: ("put", Pending) | ("delete", id) | ("expire", now).
Op = tuple


class PendingTable:
    """The `pending` table of a database, with its caps.

    Parameters
    ----------
    database
        `pending.db`.
    max_rows
        Most predictions kept.
    max_bytes
        Most bytes of predictions kept (ids and JSON text; see the module).

    """

    def __init__(self, database: Database, max_rows: int, max_bytes: int):
        self.database = database
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._add_size_column()
        totals = "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM pending"
        self.rows, self.bytes = database.one(totals)
        self.evicted = 0  # predictions evicted by the caps since opening

    def _add_size_column(self) -> None:
        """Give a table of an earlier version its `bytes` column."""
        columns = {row[1] for row in self.database.writer.execute("PRAGMA table_info(pending)")}
        if "bytes" not in columns:
            with self.database.transaction() as db:
                db.execute("ALTER TABLE pending ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0")
                db.execute(f"UPDATE pending SET bytes = {_SIZE}")

    def write(self, ops: list[Op]) -> tuple[int, int]:
        """Commit operations and evict beyond the caps, in one transaction.

        Once `database.TRANSACTION_BYTES` of rows are written, the rest goes on in a new
        transaction (which bounds what one transaction adds to the write-ahead log).

        Returns
        -------
        The number of predictions expired and evicted.

        """
        expired = evicted = 0
        k = 0
        while k < len(ops):
            with self.database.transaction() as db:
                rows, size, written = self.rows, self.bytes, 0
                while k < len(ops) and written < _database.TRANSACTION_BYTES:
                    d_rows, d_size, d_written, d_expired = _apply(db, ops[k])
                    rows, size, written = rows + d_rows, size + d_size, written + d_written
                    expired += d_expired
                    k += 1
                gone, freed = 0, 0
                if rows > self.max_rows or size > self.max_bytes:
                    gone, freed = _evict_oldest(db, rows - self.max_rows, size - self.max_bytes)
            self.rows, self.bytes = rows - gone, size - freed
            self.evicted += gone
            evicted += gone
        return expired, evicted


def _apply(db: sqlite3.Connection, op: Op) -> tuple[int, int, int, int]:
    """Run one operation; the change of rows and bytes, bytes written, rows expired."""
    kind = op[0]
    if kind == "put":
        p: Pending = op[1]
        freed = _delete(db, "id = ?", (p.id,))  # an expired row left with this id
        values = (p.id, dumps(p.features), dumps(p.labels), dumps(p.probabilities))
        n = sum(len(text.encode()) for text in values)
        db.execute(_INSERT, (*values, p.expires, n))
        return 1 - len(freed), n - sum(freed), n, 0
    if kind in ("delete", "expire"):
        where = "id = ?" if kind == "delete" else "expires < ?"
        freed = _delete(db, where, (op[1],))
        return -len(freed), -sum(freed), 0, len(freed) if kind == "expire" else 0
    raise ValueError(f"unknown pending operation {kind!r}")  # a bug in the caller


def _delete(db: sqlite3.Connection, where: str, params: tuple) -> list[int]:
    """Delete rows; the sizes of those deleted."""
    return [n for (n,) in db.execute(f"DELETE FROM pending WHERE {where} RETURNING bytes", params)]


def _evict_oldest(db: sqlite3.Connection, rows: int, size: int) -> tuple[int, int]:
    """Delete the oldest rows until at least `rows` rows and `size` bytes are gone."""
    n, freed, last = 0, 0, None
    cursor = db.execute("SELECT rowid, bytes FROM pending ORDER BY rowid")
    try:
        for rowid, nbytes in cursor:
            n, freed, last = n + 1, freed + nbytes, rowid
            if n >= rows and freed >= size:
                break
    finally:
        cursor.close()
    if last is not None:
        db.execute("DELETE FROM pending WHERE rowid <= ?", (last,))
    return n, freed
