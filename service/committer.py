"""Group commit of the runtime's writes, off the event loop, with an overlay of what is in flight.

Requests stage writes here and wait. Prediction rows (`pending.db`, no disk flush) staged
during one turn of the event loop are committed together at the end of the turn, on the loop's
thread: a short commit that never waits for the log. Everything else goes to batches committed
one after the other: the learn events (and compactions) to the log, flushed to the disk, by a
writer thread while the loop goes on serving; then the removal of the predictions they
consumed (after the rows staged before them, so a prediction row is always written before its
removal); then the batch's events are handed to the model (`apply`), in order, and only then
are its requests answered. Learning runs on the loop in slices of about a millisecond and
pauses while predictions are in flight (`busy`), so predictions do not queue behind it. (A
learner thread was tried and measured worse: under the interpreter lock it slowed every
request down instead of getting out of their way.)

Until its commit, a staged write is visible in the overlay (`pending`, `learned`), so a request
sees the writes of the requests before it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import typing

from .errors import ServiceError
from .store import Event, Pending, Store, labels_digest

__all__ = ["Committer"]

_YIELD_EVERY = 0.001  # seconds of learning between two chances for other requests to run


class _Batch:
    __slots__ = ("seq", "puts", "ops", "after", "events", "done")

    def __init__(self, seq: int, loop: asyncio.AbstractEventLoop):
        self.seq = seq
        self.puts: list[Pending] = []  # prediction rows, committed on the loop
        self.ops: list[list[tuple]] = []  # operations on the log, one list per request
        self.after: list[tuple] = []  # operations on the predictions, after those on the log
        self.events: list[Event] = []
        self.done = loop.create_future()  # committed (and, for events, learned)


class Committer:
    """Stages, commits and acknowledges writes for the runtime.

    Parameters
    ----------
    store
        The store (its `write` runs in this committer's writer thread).
    apply
        Called with each committed event, in order, on the event loop.
    on_commit
        Called with (seconds, number of events) after each batch of learn events.
    on_expired
        Called with the number of expired predictions an "expire" operation removed.
    busy
        Whether predictions are in flight: learning then lets them go first, so their latency
        does not queue behind learning.
    max_defer
        Seconds learning waits at most for `busy()` to turn false, before learning an event
        anyway (so a steady stream of predictions cannot stop learning).

    """

    def __init__(
        self,
        store: Store,
        apply: typing.Callable[[Event], None],
        on_commit: typing.Callable[[float, int], None],
        on_expired: typing.Callable[[int], None],
        busy: typing.Callable[[], bool] = lambda: False,
        max_defer: float = 0.005,
    ):
        self.store = store
        self.busy = busy
        self.max_defer = max_defer
        self.apply = apply
        self.on_commit = on_commit
        self.on_expired = on_expired
        self.loop = asyncio.get_running_loop()
        self.writer = concurrent.futures.ThreadPoolExecutor(1, "streamml-store")
        self.failure: Exception | None = None
        self._wake = asyncio.Event()
        self._seq = 0
        self._puts: _Batch | None = None  # the prediction rows of this turn of the loop
        self._ops: _Batch | None = None  # the next batch of other writes
        self._inflight: dict[int, _Batch] = {}
        self._pending: dict[str, tuple[int, Pending | None]] = {}
        self._learned: dict[str, tuple[int, tuple[int, bytes]]] = {}

    def _new(self) -> _Batch:
        self._seq += 1
        batch = self._inflight[self._seq] = _Batch(self._seq, self.loop)
        return batch

    # -- staging ----------------------------------------------------------------------------

    def put(self, pendings: list[Pending]) -> int:
        """Stage prediction rows; returns the batch to wait for."""
        if self._puts is None:
            self._puts = self._new()
            self.loop.call_soon(self._submit_puts)
        for pending in pendings:
            self._puts.puts.append(pending)
            self._pending[pending.id] = (self._puts.seq, pending)
        return self._puts.seq

    def stage(
        self,
        ops: list[tuple],
        events: list[Event] = (),
        consumed: list[str] = (),
        pending_ops: list[tuple] = (),
    ) -> int:
        """Stage operations on the log (and the events they log), then the removal of the
        `consumed` predictions and `pending_ops`; returns the batch to wait for."""
        if self._ops is None:
            self._ops = self._new()
            self._wake.set()
        batch = self._ops
        if ops:
            batch.ops.append(list(ops))
        batch.after.extend(("delete", key) for key in consumed)
        batch.after.extend(pending_ops)
        batch.events.extend(events)
        for event in events:
            if event.key is not None:
                self._learned[event.key] = (batch.seq, (event.id, labels_digest(event.labels)))
        for key in consumed:
            self._pending[key] = (batch.seq, None)
        return batch.seq

    async def wait(self, seq: int | None) -> None:
        """Until batch `seq` (if still in flight) is committed, and its events learned."""
        batch = self._inflight.get(seq) if seq is not None else None
        if batch is not None:
            await asyncio.shield(batch.done)

    # -- the overlay ------------------------------------------------------------------------

    def pending(self, id_: str, now: float) -> tuple[Pending | None, int | None]:
        """The prediction waiting under `id_` (staged or stored), and its batch if staged."""
        entry = self._pending.get(id_)
        if entry is not None:
            seq, pending = entry
            return (pending if pending and pending.expires >= now else None), seq
        return self.store.get_pending(id_, now), None

    def learned(self, key: str) -> tuple[tuple[int, bytes] | None, int | None]:
        """(event id, labels digest) under which `key` was learned (staged or remembered by the
        store), and its batch if staged."""
        entry = self._learned.get(key)
        if entry is not None:
            return entry[1], entry[0]
        return self.store.learned(key), None

    def _done(self, batch: _Batch) -> None:
        for overlay in (self._pending, self._learned):
            for key in [k for k, (seq, _) in overlay.items() if seq == batch.seq]:
                del overlay[key]
        del self._inflight[batch.seq]
        batch.done.set_result(None)

    # -- committing -------------------------------------------------------------------------

    def _submit_puts(self) -> None:
        batch, self._puts = self._puts, None
        if batch is None or self.failure is not None:
            return
        try:  # no disk flush: a short commit, made on the event loop's thread
            self.store.write_pending([("put", pending) for pending in batch.puts])
        except Exception as error:
            self.fail(error)
        else:
            self._done(batch)

    async def run(self, closing: typing.Callable[[], bool]) -> None:
        """Commit the batches one after the other until `closing()` and nothing is staged."""
        while self.failure is None:
            await self._wake.wait()
            self._wake.clear()
            batch, self._ops = self._ops, None
            if batch is not None:
                try:
                    await self._commit(batch)
                except Exception as error:
                    self.fail(error)
                    raise
            if closing() and self._ops is None and self._puts is None:
                return

    async def _commit(self, batch: _Batch) -> None:
        self._submit_puts()  # rows staged before these removals are written before them
        started = time.perf_counter()
        if batch.ops:
            await self.loop.run_in_executor(self.writer, self.store.write_log_groups, batch.ops)
        self.on_commit(time.perf_counter() - started, len(batch.events))
        if batch.after:
            expired, _ = self.store.write_pending(batch.after)
            if expired:
                self.on_expired(expired)
        deadline = time.perf_counter() + _YIELD_EVERY
        for event in batch.events:
            now = time.perf_counter()
            if now > deadline or self.busy():
                await self._make_way(now + self.max_defer)
                deadline = time.perf_counter() + _YIELD_EVERY
            self.apply(event)
        self._done(batch)

    async def _make_way(self, until: float) -> None:
        """Let the other requests run, and wait while predictions are in flight (until `until`)."""
        await asyncio.sleep(0)
        while self.busy() and time.perf_counter() < until:
            await asyncio.sleep(0)

    def wake(self) -> None:
        self._wake.set()

    def fail(self, error: Exception) -> None:
        """Fail every staged or in-flight request (the runtime then stops taking requests)."""
        if self.failure is None:
            self.failure = error
        failure = ServiceError(503, f"the store failed ({error}); restart the service")
        for batch in self._inflight.values():
            if not batch.done.done():
                batch.done.set_exception(failure)
                batch.done.exception()  # retrieved: the waiting requests re-raise it
        self._inflight.clear()
        self._puts = self._ops = None
        self._pending.clear()
        self._learned.clear()
        self._wake.set()

    async def close(self) -> None:
        """Wait for the writer thread's last commit, then stop it."""
        await asyncio.to_thread(self.writer.shutdown, True)
