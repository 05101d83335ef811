"""The store on its own: what is written to the log and to pending.db is what is read back."""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import time

import pytest

import service.database
from service import ServiceConfig
from service.database import WalPolicy
from service.store import Event, Pending, Store, labels_digest

#: No checkpoint of the checkpointer thread while a test looks at the write-ahead logs.
NO_CHECKPOINTS = WalPolicy(soft_bytes=2**30, hard_bytes=2**30, idle_seconds=3600, period=3600)


@contextlib.contextmanager
def opened(path, **options):
    path.mkdir(exist_ok=True)
    store = Store(path, **options)
    try:
        yield store
    finally:
        store.close()


def synchronous(connection) -> int:
    """The `PRAGMA synchronous` of a connection (2 = FULL, 1 = NORMAL)."""
    return connection.execute("PRAGMA synchronous").fetchone()[0]


EVENTS = [
    Event(1, "a", {"x": 1.5, "é": -2.0}, ["l1", "l2"], ["l1"]),
    Event(2, None, {"x": 0.0}, [], None),
    Event(3, "b", {}, ["l3"], []),
    Event(4, "c", {"y": 3.25}, ["l1"], None),
    Event(5, None, {"z": 1e-9}, ["l2", "l3"], ["l2", "l9"]),
]


def test_logged_events_are_read_back_whole_in_order_by_chunks(tmp_path):
    with opened(tmp_path) as store:
        store.write_log([("append", event) for event in EVENTS[:3]])
        store.write_log_groups([[("append", event)] for event in EVENTS[3:]])
        for chunk in (1, 2, 500):
            assert list(store.events_after(0, chunk=chunk)) == EVENTS
        assert list(store.events_after(3, chunk=1)) == EVENTS[3:]
        assert list(store.events_after(5)) == []
        assert [store.count_events_after(k) for k in (0, 2, 5)] == [5, 3, 0]
        assert store.max_event_id() == 5
        # the ids of the events with a key are remembered with their labels' digest
        assert store.learned("a") == (1, labels_digest(["l2", "l1"]))
        assert store.learned("c") == (4, labels_digest(["l1"]))
        assert store.learned("nobody") is None
        assert store.count_learned_ids() == 3
        store.write_log([("forget", 1)])
        assert store.count_learned_ids() == 2 and store.learned("a") is None
        store.write_log([("compact", 3)])
        assert [e.id for e in store.events_after(0)] == [4, 5]
        assert store.get_meta("compacted_through") == "3"


def test_metadata_is_kept_and_replaced(tmp_path):
    with opened(tmp_path) as store:
        assert store.get_meta("model") is None
        store.write_log([("meta", "model", "ihomer"), ("meta", "other", "1")])
        store.write_log([("meta", "model", "mlhat")])
        assert (store.get_meta("model"), store.get_meta("other")) == ("mlhat", "1")
    with opened(tmp_path) as store:  # committed: still there after reopening
        assert store.get_meta("model") == "mlhat"


def test_an_unknown_log_operation_is_refused_and_writes_nothing(tmp_path):
    with opened(tmp_path) as store:
        with pytest.raises(ValueError, match="unknown log operation 'bogus'"):
            store.write_log([("append", EVENTS[0]), ("bogus", 1)])
        assert store.max_event_id() == 0 and store.learned("a") is None


def test_the_labels_digest_is_16_bytes_of_the_set_of_labels():
    assert len(labels_digest(["a", "b"])) == 16 == len(labels_digest([]))
    assert labels_digest(["b", "a", "b"]) == labels_digest(["a", "b"])
    assert labels_digest(["a"]) != labels_digest(["a", "b"]) != labels_digest([])


def test_predictions_are_read_back_until_they_expire(tmp_path):
    p = Pending("p", {"x": 1.0, "y": -0.5}, ["l1"], {"l1": 0.75, "l2": 0.25}, 1000.5)
    with opened(tmp_path) as store:
        assert not store.has_expired(2000.0)
        store.write_pending([("put", p)])
        assert store.get_pending("p", 1000.0) == p
        assert store.get_pending("p", 1000.5) == p  # still valid at its expiry time
        assert store.get_pending("p", 1000.6) is None
        assert store.get_pending("q", 0.0) is None
        assert not store.has_expired(1000.5)
        assert store.has_expired(1000.6)
        assert store.write_pending([("expire", 1000.6)]) == (1, 0)
        assert not store.has_expired(2000.0)


def test_the_log_is_flushed_to_the_disk_unless_told_otherwise(tmp_path):
    """By default (and by the service's default) the log's commits reach the disk (FULL);
    pending.db's only reach the operating system (NORMAL), with or without `fsync`."""
    defaults = ServiceConfig()
    with opened(tmp_path / "default") as store:
        assert synchronous(store.log.writer) == 2 and defaults.fsync
        assert synchronous(store.waiting.writer) == 1
        assert store.pending.max_rows == defaults.max_pending
        assert store.pending.max_bytes == defaults.max_pending_bytes
    with opened(tmp_path / "nofsync", fsync=False) as store:
        assert synchronous(store.log.writer) == 1
        assert synchronous(store.waiting.writer) == 1


def test_wal_bytes_is_the_larger_write_ahead_log(tmp_path):
    log, waiting = tmp_path / "streamml.db-wal", tmp_path / "pending.db-wal"
    with opened(tmp_path, wal=NO_CHECKPOINTS) as store:
        assert store.log.truncate_wal() and store.waiting.truncate_wal()
        assert store.wal_bytes() == 0
        big = {f"x{i}": float(i) for i in range(2000)}
        store.write_pending([("put", Pending("p", big, [], {}, 1e12))])
        assert store.wal_bytes() == waiting.stat().st_size > log.stat().st_size
        store.write_log([("append", Event(k, None, big, [], None)) for k in range(1, 5)])
        assert store.wal_bytes() == log.stat().st_size > waiting.stat().st_size


def test_closing_survives_a_failing_checkpoint(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.write_log([("append", EVENTS[0])])

    def busy():
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store.log, "truncate_wal", busy)
    store.close()  # the data is committed: a checkpoint that fails loses nothing
    with pytest.raises(sqlite3.ProgrammingError):
        store.log.writer.execute("SELECT 1")
    with opened(tmp_path) as store:
        assert list(store.events_after(0)) == EVENTS[:1]


def test_a_group_commit_takes_groups_until_transaction_bytes(tmp_path, monkeypatch):
    """A transaction ends after the group that brings its bytes (of text and blob values) to
    `TRANSACTION_BYTES` or more."""
    group = [("meta", "k", "v" * 9)]  # 10 bytes
    for limit, expected in ((20, [2, 2, 2]), (21, [3, 3]), (31, [4, 2])):
        monkeypatch.setattr(service.database, "TRANSACTION_BYTES", limit)
        with opened(tmp_path / str(limit), fsync=False) as store:
            runs = []
            original = store.log.run
            monkeypatch.setattr(store.log, "run", lambda s: runs.append(len(s)) or original(s))
            store.write_log_groups([group] * 6)
            assert runs == expected, limit
            assert store.get_meta("k") == "v" * 9


def test_a_prediction_whose_id_is_learned_is_removed_on_opening(tmp_path):
    """A crash between the two steps of a label (log, then pending.db) heals on restart."""
    store = Store(tmp_path)
    expires = time.time() + 60
    store.write_pending([("put", Pending(k, {"a": 1.0}, [], {}, expires)) for k in ("p", "q")])
    store.write_log([("append", Event(1, "p", {"a": 1.0}, ["x"], []))])
    store.close()
    store = Store(tmp_path)
    assert store.get_pending("p", time.time()) is None
    assert store.get_pending("q", time.time()) is not None and store.pending.rows == 1
    assert store.learned("p") == (1, labels_digest(["x"]))
    store.close()


def _row_bytes(p: Pending) -> int:
    """What a prediction weighs: its id and the compact JSON of the rest, in UTF-8."""
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    texts = [p.id, *(json.dumps(v, **compact) for v in (p.features, p.labels, p.probabilities))]
    return sum(len(text.encode()) for text in texts)


def _totals(store) -> tuple[int, int]:
    return store.waiting.one("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM pending")


def test_the_pending_totals_follow_every_write_and_survive_reopening(tmp_path):
    ps = [
        Pending(f"p{k}", {"x": k / 3, "é": 1.0}, ["l"] * k, {"l": 0.5}, 100.0 + k) for k in range(6)
    ]
    with opened(tmp_path) as store:
        assert store.write_pending([("put", p) for p in ps]) == (0, 0)
        assert (store.pending.rows, store.pending.bytes) == (6, sum(map(_row_bytes, ps)))
        replaced = Pending("p0", {"y": 2.0}, [], {}, 1e12)  # p0 again, with other values
        ops = [("delete", "p1"), ("put", replaced), ("delete", "nobody")]
        assert store.write_pending(ops) == (0, 0)  # neither expired nor evicted
        kept = [replaced, *ps[2:]]
        assert (store.pending.rows, store.pending.bytes) == (5, sum(map(_row_bytes, kept)))
        assert store.write_pending([("expire", 103.5)]) == (2, 0)  # p2 and p3
        kept = [replaced, *ps[4:]]
        assert (store.pending.rows, store.pending.bytes) == (3, sum(map(_row_bytes, kept)))
        assert _totals(store) == (3, sum(map(_row_bytes, kept)))
    with opened(tmp_path) as store:
        assert (store.pending.rows, store.pending.bytes) == (3, sum(map(_row_bytes, kept)))
        assert store.get_pending("p0", 0.0) == replaced
        assert store.write_pending([("expire", 104.5), ("expire", 105.5)]) == (2, 0)  # p4, p5
        assert (store.pending.rows, store.pending.bytes) == (1, _row_bytes(replaced))


def test_an_unknown_pending_operation_or_a_nan_is_refused_and_writes_nothing(tmp_path):
    p = Pending("p", {"x": 1.0}, [], {}, 1e12)
    with opened(tmp_path) as store:
        with pytest.raises(ValueError, match="Out of range float values are not JSON"):
            store.write_pending([("put", p), ("put", Pending("q", {}, [], {"l": math.nan}, 1e12))])
        with pytest.raises(ValueError, match="unknown pending operation 'bogus'"):
            store.write_pending([("put", p), ("bogus", "p")])
        assert (store.pending.rows, store.pending.bytes) == (0, 0) == _totals(store)
        assert store.get_pending("p", 0.0) is None


@pytest.mark.parametrize(("rows_cap", "bytes_cap"), [(3, None), (None, 4), (2, 5)])
def test_the_oldest_predictions_go_beyond_either_cap(tmp_path, rows_cap, bytes_cap):
    """Caps of rows, and of bytes (here in rows of equal size)."""
    ps = [Pending(f"p{k}", {"x": float(k)}, [], {}, 1e12) for k in range(6)]
    size = _row_bytes(ps[0])
    caps = {"max_pending": rows_cap or 10**6, "max_pending_bytes": (bytes_cap or 10**6) * size}
    keep = min(rows_cap or 6, bytes_cap or 6)
    with opened(tmp_path, **caps) as store:
        assert store.write_pending([("put", p) for p in ps[:keep]]) == (0, 0)
        assert store.write_pending([("put", p) for p in ps[keep:]]) == (0, 6 - keep)
        assert [store.get_pending(p.id, 0.0) for p in ps] == [None] * (6 - keep) + ps[6 - keep :]
        assert (store.pending.rows, store.pending.bytes) == (keep, keep * size) == _totals(store)
        assert store.pending.evicted == 6 - keep
        store.write_pending([("put", Pending("p6", {"x": 6.0}, [], {}, 1e12))])  # as large
        assert store.pending.evicted == 7 - keep  # counted since opening


def test_a_pending_write_takes_rows_until_transaction_bytes(tmp_path, monkeypatch):
    ps = [Pending(f"p{k}", {"x": 1.0}, [], {}, 1e12) for k in range(6)]
    size = _row_bytes(ps[0])
    for limit, expected in ((2 * size, 3), (2 * size + 1, 2), (6 * size, 1)):
        monkeypatch.setattr(service.database, "TRANSACTION_BYTES", limit)
        with opened(tmp_path / str(limit)) as store:
            transactions = []
            begin = store.waiting.transaction
            monkeypatch.setattr(
                store.waiting, "transaction", lambda: transactions.append(1) or begin()
            )
            assert store.write_pending([("put", p) for p in ps]) == (0, 0)
            assert len(transactions) == expected, limit
            assert store.pending.rows == 6 == _totals(store)[0]
            transactions.clear()  # deletes write no rows: all in one transaction
            assert store.write_pending([("delete", p.id) for p in ps]) == (0, 0)
            assert len(transactions) == 1 and store.pending.rows == 0
    monkeypatch.setattr(service.database, "TRANSACTION_BYTES", 2 * size)
    with opened(tmp_path / "capped", max_pending=2) as store:  # evictions in 2 of 3 transactions
        assert store.write_pending([("put", p) for p in ps]) == (0, 4)
        assert [store.get_pending(p.id, 0.0) for p in ps] == [None] * 4 + ps[4:]
