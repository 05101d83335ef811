"""The single owner of the model: learning, predictions, delayed-label scoring, recovery.

The model lives on the thread of one asyncio event loop. A request validates, stages its
writes with the committer (`committer.py`) and waits: it is answered once its writes are
committed, and for learn events once the model has learned them, in log order. So an
acknowledged event is always durable, the model learns exactly the log, in its order, and a
request sent after an acknowledgement sees its event.

On start the newest readable snapshot is loaded and the log after it is replayed through the
same code path as live learning, so the recovered state equals the uninterrupted one.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import pickle
import threading
import time

from .committer import Committer
from .config import ServiceConfig, default_model
from .disk import DiskGuard
from .errors import ServiceError
from .handlers import LearnItem, Requests
from .quality import OnlineQuality
from .recovery import ShardLost, ShardRecovery
from .slots import ClusterSlots
from .snapshots import SnapshotDir, SnapshotError
from .store import Event, Store
from .view import ModelView

__all__ = ["LearnItem", "Observer", "Runtime", "ServiceError"]

log = logging.getLogger("streamml.service")

_YIELD_EVERY = 0.005  # seconds of replay between two chances for other requests to run


class Observer:
    """Hooks the runtime calls (the metrics implement them); every one does nothing here."""

    def on_commit(self, seconds: float, n_events: int) -> None: ...

    def on_snapshot(self, seconds: float, ok: bool) -> None: ...

    def on_expired(self, n: int) -> None: ...

    def on_predictions(self, n: int) -> None: ...

    def on_learn_failure(self) -> None: ...


class Runtime(Requests, ShardRecovery):
    """Owns the model of one data directory.

    Parameters
    ----------
    config
        The service settings.
    observer
        Receives the runtime's events (commits, snapshots, ...) for the metrics.

    """

    def __init__(self, config: ServiceConfig, observer: Observer | None = None):
        self.config = config
        self.observer = observer or Observer()
        self.lock = threading.RLock()  # taken around every use of the model
        self.view = ModelView(self)
        self.state = "starting"
        self.reason: str | None = "starting"
        self.model = None
        self.model_name: str | None = None
        self.seed = config.seed
        self.shards = config.shards
        self.initial_labels: tuple[str, ...] = ()
        self.slots = ClusterSlots(config.cluster_slots)
        self.store: Store | None = None
        self.disk = DiskGuard(config.data_dir, config.min_free_bytes)
        self.snapshots: SnapshotDir | None = None
        self.committer: Committer | None = None
        self._lock_fd: int | None = None
        self._tasks: list[asyncio.Task] = []
        self._snapshot_task: asyncio.Task | None = None
        self._closing = False
        self.predictions_in_flight = 0  # predict requests being served (learning waits for them)
        self._reset()

    def _predicting(self) -> bool:
        return self.predictions_in_flight > 0

    @property
    def pending_count(self) -> int:
        """Predictions waiting for their labels (committed)."""
        return self.store.pending.rows if self.store is not None else 0

    def _reset(self) -> None:
        """Forget everything learned (before loading it again from the data directory)."""
        self.label_space: list[str] = list(self.initial_labels)
        self._label_set: set[str] = set(self.label_space)
        self._known_labels: set[str] = set(self.label_space)  # plus labels of staged events
        self.quality = OnlineQuality(self.config.quality_window)
        self.n_learned = 0
        self.n_learn_failures = 0
        self.last_event_id = 0
        self.next_event_id = 1
        self._ids_forgotten_through = 0  # the ids of events up to this one may be forgotten
        self.snapshot_event_id: int | None = None
        self.snapshot_time: float | None = None
        self._snapshot_clock = time.monotonic()  # when the last snapshot (or the start) was

    # -- life cycle -------------------------------------------------------------------------

    def open(self) -> None:
        """Lock the data directory and open the store (synchronous part of `start`)."""
        data_dir = self.config.data_dir
        if data_dir.exists() and not data_dir.is_dir():
            raise OSError(f"data directory {data_dir} exists and is not a directory")
        try:
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            reason = error.strerror or error
            raise OSError(f"cannot create the data directory {data_dir}: {reason}") from None
        fd = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OSError(f"data directory {data_dir} is in use by another process") from None
        self._lock_fd = fd
        try:
            self.store = Store(
                data_dir,
                fsync=self.config.fsync,
                max_pending=self.config.max_pending,
                max_pending_bytes=self.config.max_pending_bytes,
            )
            self.snapshots = SnapshotDir(data_dir)
            self._choose_model()
        except BaseException:
            self._release()
            raise

    def _choose_model(self) -> None:
        stored = self.store.get_meta("model")
        requested = self.config.model
        if stored is None:
            name = requested or ("custom" if self.config.model_factory else default_model())
            seed, shards = self.config.seed, self.config.shards
            self._check_name(name, shards)
            labels = list(self.config.labels or ())
            meta = {"model": name, "seed": str(seed), "labels": json.dumps(labels)}
            if shards:
                meta["shards"] = str(shards)
            self.store.write_log([("meta", key, value) for key, value in meta.items()])
        else:
            name, seed = stored, int(self.store.get_meta("seed") or self.config.seed)
            shards = int(self.store.get_meta("shards") or 0)
            labels = json.loads(self.store.get_meta("labels") or "[]")
            if requested is not None and requested != stored:
                log.warning(
                    "data directory %s holds a %r model; ignoring the requested %r",
                    self.config.data_dir,
                    stored,
                    requested,
                )
            if self.config.labels is not None and list(self.config.labels) != labels:
                log.warning("data directory %s keeps its labels %s", self.config.data_dir, labels)
            if self.config.shards and self.config.shards != shards:
                log.warning(
                    "data directory %s keeps its model on %s shards",
                    self.config.data_dir,
                    shards or "no",
                )
            self._check_name(name, shards)
        self.model_name, self.seed, self.initial_labels = name, seed, tuple(labels)
        self.shards = shards

    def _check_name(self, name: str, shards: int = 0) -> None:
        if self.config.model_factory is None:
            from streamml import models

            if name not in models.names():
                raise ValueError(f"unknown model {name!r}; choose one of: {models.names()}")
            if shards:
                if name != models.SHARDABLE:
                    raise ValueError(f"only {models.SHARDABLE!r} runs on shards, not {name!r}")
                try:
                    models.check_sharding()
                except ImportError as error:
                    raise ValueError(str(error)) from None

    def _new_model(self):
        if self.config.model_factory is not None:
            return self.config.model_factory()
        from streamml import models

        shards, address = self.shards or None, self.config.ray_address if self.shards else None
        return models.make(self.model_name, seed=self.seed, shards=shards, address=address)

    async def start(self) -> None:
        """Open the store, then load the model and replay the log in the background."""
        if self.store is None:
            self.open()
        self.committer = Committer(
            self.store, self._apply, self._on_commit, self._on_expired, busy=self._predicting
        )
        self._closing, self._snapshot_task = False, None
        self.state, self.reason = "loading", "loading the model"
        self._tasks = [asyncio.create_task(self._run(), name="streamml-runtime")]

    async def _run(self) -> None:
        try:
            await self._load()
        except Exception as error:  # the service stays alive and says why it is not ready
            log.exception("cannot load the model")
            self.state, self.reason = "failed", f"cannot load the model: {error}"
            return
        self.state, self.reason = "ready", None
        log.info(
            "model %r ready: %d instances learned, last event %d",
            self.model_name,
            self.n_learned,
            self.last_event_id,
        )
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="streamml-housekeeping"))
        self._catch_up_compaction()
        try:
            await self.committer.run(lambda: self._closing)
        except Exception:
            log.exception("the store failed")
        if self.committer.failure is not None:
            self.state = "failed"
            self.reason = f"the store failed ({self.committer.failure}); restart the service"

    async def stop(self) -> None:
        """Commit and learn what is staged, take a final snapshot, close the store."""
        self._closing = True
        if self.committer is not None:
            self.committer.wake()
        for task in self._tasks[1:]:
            task.cancel()
        if self._tasks:
            runner = self._tasks[0]
            if self.state == "ready":
                await asyncio.wait([runner], timeout=60)
            if not runner.done():
                runner.cancel()
        if self._snapshot_task is not None:
            await asyncio.wait([self._snapshot_task])
        if self.state == "ready" and self.last_event_id != (self.snapshot_event_id or 0):
            await self._snapshot()
        if self.state != "failed":
            self.state, self.reason = "closed", "shut down"
        if self.committer is not None:
            await self.committer.close()
        if callable(getattr(self.model, "close", None)):
            self.model.close()  # a sharded model's actors
        self._release()

    def _release(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- loading ----------------------------------------------------------------------------

    def _accept(self, state: dict) -> None:
        if state.get("model_name") != self.model_name:
            raise SnapshotError(f"snapshot of a {state.get('model_name')!r} model")
        if state.get("shards", 0) != self.shards:
            raise SnapshotError(f"snapshot of a model on {state.get('shards', 0)} shards")

    async def _load(self) -> None:
        self._reset()
        state, problems = self.snapshots.load_newest(accept=self._accept)
        for problem in problems:
            log.warning("skipping snapshot: %s", problem)
        if state is None:
            self.model, base = self._new_model(), 0
        else:
            self._restore(state)
            base = state["last_event_id"]
            self.snapshot_event_id, self.snapshot_time = base, state.get("created")
        compacted = int(self.store.get_meta("compacted_through") or 0)
        if compacted > base:
            raise RuntimeError(
                f"the log is compacted through event {compacted} but the newest readable "
                f"snapshot holds events up to {base} only"
            )
        total = self.store.count_events_after(base)
        deadline = time.perf_counter() + _YIELD_EVERY
        for k, event in enumerate(self.store.events_after(base)):
            if event.id != self.last_event_id + 1:
                raise RuntimeError(f"the log jumps from event {self.last_event_id} to {event.id}")
            self._apply(event)
            if time.perf_counter() > deadline:
                self.reason = f"replaying the log ({k + 1}/{total} events)"
                await asyncio.sleep(0)
                deadline = time.perf_counter() + _YIELD_EVERY
        if total:
            log.info("replayed %d logged events after snapshot event %d", total, base)
        self.next_event_id = max(self.store.max_event_id(), self.last_event_id, compacted) + 1
        self._known_labels = set(self.label_space)

    def _state(self) -> dict:
        return {
            "format": 1,
            "model_name": self.model_name,
            "seed": self.seed,
            "shards": self.shards,
            "last_event_id": self.last_event_id,
            "n_learned": self.n_learned,
            "n_learn_failures": self.n_learn_failures,
            "label_space": list(self.label_space),
            "quality": self.quality,
            "model": self.model,
            "created": time.time(),
        }

    def _restore(self, state: dict) -> None:
        self.model = state["model"]
        self._adopt(self.model)
        self.last_event_id = state["last_event_id"]
        self.n_learned = state["n_learned"]
        self.n_learn_failures = state.get("n_learn_failures", 0)
        self.label_space = list(state["label_space"])
        self._label_set = set(self.label_space)
        self.quality = state["quality"]
        self.quality.window = self.config.quality_window  # the setting may have changed

    # -- learning and committing --------------------------------------------------------------

    def _apply(self, event: Event) -> None:
        """Learn one committed event (live or replayed: the same code)."""
        on = dict.fromkeys(event.labels)
        for label in on:
            if label not in self._label_set:
                self._label_set.add(label)
                self.label_space.append(label)
        y = {label: label in on for label in self.label_space}
        if event.predicted is not None:
            self.quality.score(set(event.predicted), set(on), len(self.label_space))
        self.quality.observe(len(on))
        try:
            self.use_model(lambda model: model.learn_one(event.features, y))
        except ShardLost:
            raise  # the shards cannot be restarted: the service fails (nothing acknowledged
            # is lost: the log has it, and a restart replays it)
        except Exception:
            # Deterministic: the replay fails on the same event, and skips it the same way.
            log.exception("the model failed to learn event %d", event.id)
            self.n_learn_failures += 1
            self.observer.on_learn_failure()
        else:
            self.n_learned += 1
        self.last_event_id = event.id

    def _on_commit(self, seconds: float, n_events: int) -> None:
        self.observer.on_commit(seconds, n_events)
        self._maybe_snapshot()

    def _on_expired(self, n: int) -> None:
        self.observer.on_expired(n)

    # -- snapshots and housekeeping -----------------------------------------------------------

    def _maybe_snapshot(self) -> None:
        if self._snapshot_task is not None or self._closing:
            return
        behind = self.last_event_id - (self.snapshot_event_id or 0)
        if behind <= 0:
            return
        age = time.monotonic() - self._snapshot_clock
        if behind >= self.config.snapshot_every or age >= self.config.snapshot_interval:
            self._snapshot_task = asyncio.create_task(self._snapshot_then_clear())

    async def _snapshot_then_clear(self) -> None:
        try:
            await self._snapshot()
        finally:
            self._snapshot_task = None

    async def _snapshot(self) -> None:
        started = time.perf_counter()
        try:
            with self.lock:
                state = self._state()
                # A sharded model pickles by gathering every shard's state, at this event id.
                payload = self.use_model(
                    lambda model: pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
                )
            last = state["last_event_id"]
            await asyncio.to_thread(self.snapshots.write, last, payload)
            kept = await asyncio.to_thread(self.snapshots.prune, self.config.keep_snapshots)
        except Exception:
            log.exception("snapshot failed")
            self.observer.on_snapshot(time.perf_counter() - started, False)
            return
        self.snapshot_event_id, self.snapshot_time = last, state["created"]
        self._snapshot_clock = time.monotonic()
        self.observer.on_snapshot(time.perf_counter() - started, True)
        if kept and self.state == "ready" and not self._closing:
            self.committer.stage([("compact", min(kept))])

    def _catch_up_compaction(self) -> None:
        """Compact the log through the oldest snapshot kept, if a crash came between that
        snapshot and its compaction (the log would otherwise hold one interval more)."""
        kept = [event_id for event_id, _ in self.snapshots.list()[: self.config.keep_snapshots]]
        through = min(min(kept, default=0), self.snapshot_event_id or 0)
        if through > int(self.store.get_meta("compacted_through") or 0):
            self.committer.stage([("compact", through)])

    async def _housekeeping(self) -> None:
        """Expire predictions, forget the ids beyond the horizon, take timed snapshots."""
        period = min(1.0, self.config.pending_ttl / 4)
        while self.state == "ready":
            await asyncio.sleep(period)
            ops, pending_ops = [], []
            now = time.time()
            if self.store.has_expired(now):
                pending_ops.append(("expire", now))
            through = self.last_event_id - self.config.dedup_events
            if through > self._ids_forgotten_through:
                ops.append(("forget", through))
                self._ids_forgotten_through = through
            if ops or pending_ops:
                self.committer.stage(ops, pending_ops=pending_ops)
            self._maybe_snapshot()

    # -- reading ----------------------------------------------------------------------------

    async def readiness(self) -> tuple[bool, str | None]:
        """Whether the model is loaded and the store writable, and if not, why."""
        if self._closing:
            return False, "shutting down"
        if self.state != "ready":
            return False, self.reason
        try:
            loop = asyncio.get_running_loop()
            check = loop.run_in_executor(self.committer.writer, self.store.check_writable)
            await asyncio.wait_for(check, timeout=5)
            problem = self.disk.problem()
        except Exception as error:
            return False, f"store not writable: {error or type(error).__name__}"
        return problem is None, problem

    def describe(self) -> dict:
        """The body of `GET /v1/model`."""
        self._check_ready()
        return self.view.describe()
