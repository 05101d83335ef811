"""One SQLite database in WAL mode: its connections, transactions and checkpoints."""

from __future__ import annotations

import sqlite3
import time

import pytest

from service.database import Checkpointer, Database, WalPolicy

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);"
#: Checkpoints only when a test asks for them.
INSERT = "INSERT INTO t VALUES (?, ?)"
MANUAL = WalPolicy(soft_bytes=2**30, hard_bytes=2**30, idle_seconds=3600.0, period=3600.0)


def _rows(db: Database) -> list:
    return db.reader.execute("SELECT k, v FROM t ORDER BY k").fetchall()


def _pragma(connection, name):
    return connection.execute(f"PRAGMA {name}").fetchone()[0]


def test_the_connections_are_set_as_the_module_says(tmp_path):
    db = Database(tmp_path / "a.db", SCHEMA, "FULL", WalPolicy(soft_bytes=12345))
    try:
        assert _pragma(db.writer, "journal_mode") == "wal"
        assert _pragma(db.writer, "synchronous") == 2  # FULL, as asked
        assert _pragma(db.reader, "synchronous") == _pragma(db.checkpointer, "synchronous") == 1
        for connection in (db.writer, db.reader, db.checkpointer):
            assert _pragma(connection, "busy_timeout") == 10000
            assert _pragma(connection, "wal_autocheckpoint") == 0  # no checkpoint in a commit
        assert _pragma(db.writer, "journal_size_limit") == 12345
        assert _pragma(db.writer, "secure_delete") == 2  # FAST
        assert db.wal_path == tmp_path / "a.db-wal"
    finally:
        db.close()
    assert not db.wal_path.exists() and db.wal_bytes() == 0  # closed: no write-ahead log


def test_a_failed_transaction_writes_nothing_and_the_next_one_commits(tmp_path):
    db = Database(tmp_path / "a.db", SCHEMA, "NORMAL", MANUAL)
    db.run([(INSERT, (1, "a"))])
    with pytest.raises(sqlite3.IntegrityError):
        db.run([(INSERT, (2, "b")), (INSERT, (1, "c"))])
    with pytest.raises(KeyError), db.transaction() as writer:
        writer.execute("INSERT INTO t VALUES (3, 'd')")
        raise KeyError("the caller failed")
    assert not db.writer.in_transaction and not db.lock.locked()
    db.run([(INSERT, (4, "e"))])
    assert _rows(db) == [(1, "a"), (4, "e")]
    assert db.one("SELECT v FROM t WHERE k = ?", 4) == ("e",) and db.one("SELECT 1 WHERE 0") is None
    db.close()


def test_the_writer_truncates_a_log_over_the_hard_limit_itself(tmp_path):
    policy = WalPolicy(soft_bytes=2**30, hard_bytes=20_000, idle_seconds=3600.0, period=3600.0)
    db = Database(tmp_path / "a.db", SCHEMA, "NORMAL", policy)
    assert db.truncate_wal() and db.wal_bytes() == 0 and db.truncations == 1
    db.run([(INSERT, (1, "x" * 1000))])
    assert 0 < db.wal_bytes() <= 20_000 and db.truncations == 1  # under the limit: kept
    db.run([(INSERT, (k, "x" * 1000)) for k in range(2, 40)])
    assert db.wal_bytes() == 0 and db.truncations == 2  # over it: truncated after the commit
    assert len(_rows(db)) == 39
    db.close()


def test_a_checkpoint_is_wanted_over_the_soft_limit_or_when_idle(tmp_path):
    policy = WalPolicy(soft_bytes=20_000, hard_bytes=2**30, idle_seconds=0.2, period=3600.0)
    db = Database(tmp_path / "a.db", SCHEMA, "NORMAL", policy)
    db.truncate_wal()
    time.sleep(0.25)
    assert db.wal_bytes() == 0 and not db.wants_checkpoint()  # nothing to checkpoint, even idle
    db.run([(INSERT, (1, "x"))])
    assert 0 < db.wal_bytes() <= 20_000 and not db.wants_checkpoint()  # small, just written
    time.sleep(0.25)
    assert db.wants_checkpoint()  # idle
    db.run([(INSERT, (k, "x" * 1000)) for k in range(2, 40)])
    assert db.wal_bytes() > 20_000 and db.wants_checkpoint()  # over the soft limit
    db.close()


def test_the_checkpointer_thread_truncates_the_logs_that_want_it(tmp_path):
    policy = WalPolicy(soft_bytes=2**30, hard_bytes=2**30, idle_seconds=0.1, period=0.02)
    dbs = [Database(tmp_path / f"{name}.db", SCHEMA, "NORMAL", policy) for name in "ab"]

    class Broken:
        def wants_checkpoint(self):
            raise sqlite3.OperationalError("disk I/O error")

    broken = Broken()  # a failing database does not stop the thread
    for db in dbs:
        db.run([(INSERT, (1, "x" * 1000))])
    checkpointer = Checkpointer([broken, *dbs], policy.period)
    deadline = time.monotonic() + 10
    while any(db.wal_bytes() for db in dbs) and time.monotonic() < deadline:
        time.sleep(0.02)
    checkpointer.stop()
    assert [db.wal_bytes() for db in dbs] == [0, 0]
    assert all(db.truncations >= 1 for db in dbs)
    for db in dbs:
        db.close()


def test_check_writable_leaves_no_transaction_open(tmp_path):
    db = Database(tmp_path / "a.db", SCHEMA, "NORMAL", MANUAL)
    db.check_writable()
    assert not db.writer.in_transaction and not db.lock.locked()
    other = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    other.execute("PRAGMA busy_timeout=0")
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    db.writer.execute("PRAGMA busy_timeout=0")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db.check_writable()
    other.execute("ROLLBACK")
    other.close()
    db.close()
