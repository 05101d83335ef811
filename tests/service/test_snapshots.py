"""Snapshot files: atomic, checksummed (a change that still unpickles is refused), pruned."""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import struct

import pytest

from service.snapshots import MAGIC, SnapshotDir, SnapshotError


def state(value: float) -> bytes:
    return pickle.dumps({"model": "m", "value": value}, protocol=pickle.HIGHEST_PROTOCOL)


def test_a_snapshot_is_magic_digest_payload_and_reads_back(tmp_path):
    snapshots = SnapshotDir(tmp_path)
    path = snapshots.write(7, state(1.5))
    assert path == tmp_path / "snapshots" / "snapshot-000000000007.bin"
    raw = path.read_bytes()
    payload = state(1.5)
    assert raw == MAGIC + hashlib.sha256(payload).digest() + payload
    assert snapshots.read(path) == {"model": "m", "value": 1.5}
    assert [p.name for p in (tmp_path / "snapshots").iterdir()] == [path.name]  # no temp file


def test_a_changed_payload_that_still_unpickles_is_refused(tmp_path):
    snapshots = SnapshotDir(tmp_path)
    older = snapshots.write(5, state(1.0))
    newer = snapshots.write(9, state(1.5))
    raw = bytearray(newer.read_bytes())
    where = raw.index(struct.pack(">d", 1.5))  # the float, as pickle stores it
    raw[where : where + 8] = struct.pack(">d", 2.5)
    newer.write_bytes(bytes(raw))
    assert pickle.loads(bytes(raw[len(MAGIC) + 32 :]))["value"] == 2.5  # it does unpickle
    with pytest.raises(SnapshotError, match=r"^snapshot-000000000009\.bin is corrupt"):
        snapshots.read(newer)
    loaded, problems = snapshots.load_newest()
    assert loaded == {"model": "m", "value": 1.0}  # the older one
    assert problems == ["snapshot-000000000009.bin is corrupt (checksum mismatch)"]
    assert older.exists() and newer.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "is not a streamml snapshot"),
        (MAGIC + b"short", "is not a streamml snapshot"),
        (b"X" + MAGIC[1:] + hashlib.sha256(state(1.0)).digest() + state(1.0), "is not a"),
        (MAGIC + hashlib.sha256(b"junk").digest() + b"junk", "cannot be unpickled"),
        (MAGIC + hashlib.sha256(pickle.dumps([1])).digest() + pickle.dumps([1]), "service state"),
        (
            MAGIC + hashlib.sha256(pickle.dumps({"a": 1})).digest() + pickle.dumps({"a": 1}),
            "does not hold a service state",
        ),
    ],
)
def test_unusable_files_are_refused_with_a_reason(tmp_path, raw, message):
    snapshots = SnapshotDir(tmp_path)
    path = tmp_path / "snapshots" / "snapshot-000000000003.bin"
    path.write_bytes(raw)
    with pytest.raises(SnapshotError, match=message):
        snapshots.read(path)
    assert snapshots.load_newest()[0] is None


def test_only_snapshot_names_are_listed_newest_first_and_pruned(tmp_path):
    snapshots = SnapshotDir(tmp_path)
    for event_id in (3, 12, 1000000000000, 40):
        snapshots.write(event_id, state(float(event_id)))
    folder = tmp_path / "snapshots"
    (folder / "snapshot-12.bin").write_bytes(b"short name")
    (folder / "notes.txt").write_text("not a snapshot")
    (folder / ".snapshot-000000000050.bin.99.tmp").write_bytes(b"half written")
    assert [event_id for event_id, _ in snapshots.list()] == [1000000000000, 40, 12, 3]
    with pytest.raises(SnapshotError, match="refusing to load"):
        snapshots.read(folder / "snapshot-12.bin")
    assert snapshots.prune(2) == [1000000000000, 40]
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "notes.txt",
        "snapshot-000000000040.bin",
        "snapshot-1000000000000.bin",
        "snapshot-12.bin",
    ]
    loaded, _ = snapshots.load_newest()
    assert loaded["value"] == 1e12


def test_a_state_the_caller_rejects_falls_back_to_an_older_one(tmp_path):
    snapshots = SnapshotDir(tmp_path)
    snapshots.write(1, state(1.0))
    snapshots.write(2, state(2.0))

    def accept(loaded):
        if loaded["value"] == 2.0:
            raise SnapshotError("another model")

    def refuse(loaded):
        raise SnapshotError(f"not {loaded['value']}")

    assert snapshots.load_newest(accept) == ({"model": "m", "value": 1.0}, ["another model"])
    assert snapshots.load_newest(refuse) == (None, ["not 2.0", "not 1.0"])


def test_a_directory_in_place_of_a_snapshot_is_refused(tmp_path):
    snapshots = SnapshotDir(tmp_path)
    (tmp_path / "snapshots" / "snapshot-000000000004.bin").mkdir()
    with pytest.raises(SnapshotError, match="is not a regular file"):
        snapshots.read(tmp_path / "snapshots" / "snapshot-000000000004.bin")


def test_the_snapshot_directory_is_private_and_inside_the_data_directory(tmp_path):
    (tmp_path / "a").mkdir()
    old = os.umask(0o022)  # (a umask of 077 would hide a directory made readable by all)
    try:
        SnapshotDir(tmp_path / "a")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "snapshots").st_mode) == 0o700
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "snapshots").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(SnapshotError, match=r"snapshots resolves outside the data directory"):
        SnapshotDir(tmp_path / "b")


def test_pruning_deletes_only_its_own_temporary_files(tmp_path):
    snapshots = SnapshotDir(tmp_path)
    snapshots.write(1, state(1.0))
    folder = tmp_path / "snapshots"
    for name in (".snapshot-000000000002.bin.7.tmp", "mine.tmp", ".snapshot-notes"):
        (folder / name).write_bytes(b"x")
    assert snapshots.prune(5) == [1]
    names = sorted(p.name for p in folder.iterdir())
    assert names == [".snapshot-notes", "mine.tmp", "snapshot-000000000001.bin"]
