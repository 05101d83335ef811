"""Where the shards run: in the driver's process (`LocalShards`) or as Ray actors (`RayShards`).

Both give the same calls: `submit(i, method, *args)` starts a call on shard i, `gather(calls)`
waits for the results, `share(obj)` makes one copy of an argument that every shard reads.
Ray is imported only here, and only when `RayShards` is made.
"""

from __future__ import annotations

import contextlib
import signal
import threading

from .shard import Shard, ShardConfig

__all__ = ["LocalShards", "RayShards", "ShardLost", "RAY_MISSING", "make_shards"]

RAY_MISSING = 'sharding needs Ray: pip install "streamml[ray]"'
_START_TIMEOUT = 120.0  # seconds for the shards to start


class ShardLost(RuntimeError):
    """A shard (a Ray actor) died: the model has lost the state of its clusters and must be
    restored from a copy (a pickle, e.g. a service snapshot)."""


class LocalShards:
    """K shards in this process, called one after the other (for tests and for K=1 without
    Ray: the same results as the Ray actors)."""

    def __init__(self, n: int, config: ShardConfig):
        self.shards = [Shard(config) for _ in range(n)]

    def __len__(self) -> int:
        return len(self.shards)

    def submit(self, i: int, method: str, *args):
        return getattr(self.shards[i], method)(*args)

    def gather(self, calls: list) -> list:
        return list(calls)

    def share(self, obj):
        return obj

    def close(self) -> None:
        self.shards = []


def ray_module():
    """The `ray` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ImportError(RAY_MISSING) from None
    return ray


@contextlib.contextmanager
def _keeping_sigterm():
    """Keep this process's SIGTERM handler: `ray.init` replaces it with one that exits at once,
    which would cut a server's graceful shutdown (and the service's final snapshot)."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    finally:
        if main and previous is not None:
            signal.signal(signal.SIGTERM, previous)


class RayShards:
    """K shards as Ray actors, on a local Ray started on demand or on a cluster (`address`).

    Parameters
    ----------
    n
        Number of shards.
    config
        The shards' settings.
    address
        A Ray cluster to connect to ("auto", "ray://host:10001", "host:6379"); None starts a
        local Ray (with `num_cpus` CPUs) unless this process is already connected.
    num_cpus
        CPUs of a local Ray started here (None: all of the machine).
    actor_cpus
        CPUs reserved per actor (None: 1, or the free CPUs shared between the shards when
        fewer are free; 0 when none is free, as for a second model in a busy process).

    """

    def __init__(
        self,
        n: int,
        config: ShardConfig,
        address: str | None = None,
        num_cpus: int | None = None,
        actor_cpus: float | None = None,
    ):
        ray = ray_module()
        self._ray = ray
        if not ray.is_initialized():
            options = {"address": address} if address else {"num_cpus": num_cpus}
            with _keeping_sigterm():
                ray.init(
                    **options,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
        if actor_cpus is None:
            free = float(ray.available_resources().get("CPU", 0.0))
            actor_cpus = min(1.0, free / n)
        actor = ray.remote(_ActorShard).options(
            num_cpus=actor_cpus, max_restarts=0, scheduling_strategy="SPREAD"
        )
        self.actors = [actor.remote(config) for _ in range(n)]
        try:  # fail now if one cannot start
            ray.get([a.ping.remote() for a in self.actors], timeout=_START_TIMEOUT)
        except ray.exceptions.GetTimeoutError:
            self.close()
            raise RuntimeError(
                f"the {n} shards did not start within {_START_TIMEOUT:.0f} s (not enough CPUs "
                f"for {actor_cpus} each?)"
            ) from None

    def __len__(self) -> int:
        return len(self.actors)

    def submit(self, i: int, method: str, *args):
        return getattr(self.actors[i], method).remote(*args)

    def gather(self, calls: list) -> list:
        ray = self._ray
        try:
            return ray.get(list(calls))
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as error:
            raise ShardLost(f"a shard died: {type(error).__name__}") from error

    def share(self, obj):
        return self._ray.put(obj)

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []


class _ActorShard(Shard):
    """A shard in its own process: one BLAS thread (the learners make many small calls)."""

    def __init__(self, config: ShardConfig):
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        super().__init__(config)

    def pid(self) -> int:
        import os

        return os.getpid()


def make_shards(kind: str, n: int, config: ShardConfig, **options):
    """`LocalShards` ("local") or `RayShards` ("ray")."""
    if kind == "local":
        return LocalShards(n, config)
    if kind == "ray":
        return RayShards(n, config, **options)
    raise ValueError(f"backend must be 'ray' or 'local', got {kind!r}")
