"""The client processes of the soak benchmark (`service_soak.py`).

A client process runs paced tasks on keep-alive connections, each with its own seeded random
generator:

- `labelled`: predictions under an id (one in ten as a batch of 5), whose labels are sent by
  id 0.5-5 s later (a due label alone, or up to 10 due labels as one batch); one prediction
  in ten never gets its labels;
- `anonymous`: predictions without an id, never labelled (they fill `pending.db` up to its
  cap);
- `direct`: batches of whole instances (features and labels) under ids.

Every learn request carries ids. A request cut by a crash of the server (a connection error) is
sent again, unchanged, once `/readyz` answers 200 again (as a load balancer would route it),
until it gets an answer: so every logged event is acknowledged exactly once, as new or as a
duplicate. Each answer is recorded in `requests-<k>.csv` (time, kind, status, latency,
items); each acknowledged event in `acked-<k>.jsonl` (id, event id, labels).
"""

from __future__ import annotations

import asyncio
import heapq
import json
import pathlib
import random
import time

from service_load import Connection

#: Loads per second of the whole benchmark, shared out between the client processes.
RATES = {"labelled": 90.0, "anonymous": 45.0, "direct_batches": 2.0}
DIRECT_BATCH = 20
LABEL_DELAY = (0.5, 5.0)
NEVER_LABELLED = 0.1


class Session:
    """One keep-alive connection that survives the server's crashes (see the module)."""

    def __init__(self, port: int, record):
        self.port = port
        self.record = record
        self.conn: Connection | None = None

    async def _ready(self) -> None:
        while True:
            try:
                probe = await Connection("127.0.0.1", self.port).open()
                try:
                    status, _ = await probe.request("GET", "/readyz")
                finally:
                    probe.close()
                if status == 200:
                    return
            except (OSError, asyncio.IncompleteReadError, ValueError):
                pass
            await asyncio.sleep(0.1)

    async def send(self, kind: str, path: str, payload, items: int) -> tuple[int, object]:
        body = json.dumps(payload).encode()
        while True:
            try:
                if self.conn is None:
                    await self._ready()
                    self.conn = await Connection("127.0.0.1", self.port).open()
                started = time.perf_counter()
                status, raw = await self.conn.request("POST", path, body)
                latency = time.perf_counter() - started
            except (OSError, asyncio.IncompleteReadError, ValueError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                self.record(kind, "cut", 0.0, items)
                continue
            self.record(kind, status, latency, items)
            return status, json.loads(raw) if raw else None


class Client:
    """The tasks of one client process."""

    def __init__(self, index: int, n_clients: int, port: int, seed: int, out):
        self.index, self.port, self.until = index, port, float("inf")
        self.share = 1.0 / n_clients
        self.seed = seed
        self.out = pathlib.Path(out)
        self.rows: list[str] = []
        self.acked: list[str] = []
        self.due: list[tuple[float, int, str, list[str]]] = []  # labels waiting to be sent
        self.stream = _yeast()

    def record(self, kind: str, status, latency: float, items: int) -> None:
        self.rows.append(f"{time.time():.3f},{kind},{status},{latency:.6f},{items}\n")

    def ack(self, key: str, answer: dict, labels: list[str]) -> None:
        self.acked.append(json.dumps({"id": key, "event": answer["event_id"], "labels": labels}))

    def instance(self, rng: random.Random) -> tuple[dict, list[str]]:
        return self.stream[rng.randrange(len(self.stream))]

    async def paced(self, rate: float, step) -> None:
        """Call `step(n)` `rate` times a second until the end (late calls are not caught up)."""
        n, when = 0, time.monotonic()
        while time.time() < self.until:
            await step(n)
            n += 1
            when = max(when + 1.0 / rate, time.monotonic())
            await asyncio.sleep(max(0.0, when - time.monotonic()))

    async def labelled(self) -> None:
        rng = random.Random(f"{self.seed}-labelled-{self.index}")
        session = Session(self.port, self.record)

        async def step(n):
            size = 5 if n % 10 == 9 else 1
            items = []
            for j in range(size):
                x, on = self.instance(rng)
                items.append((f"c{self.index}-p{n}-{j}", x, on))
            if size == 1:
                key, x, _ = items[0]
                status, _ = await session.send(
                    "predict", "/v1/predict", {"id": key, "features": x}, 1
                )
            else:
                body = [{"id": key, "features": x} for key, x, _ in items]
                status, _ = await session.send("predict_batch", "/v1/predict/batch", body, size)
            if status != 200:
                return
            for key, _, on in items:
                if rng.random() >= NEVER_LABELLED:
                    heapq.heappush(
                        self.due, (time.monotonic() + rng.uniform(*LABEL_DELAY), n, key, on)
                    )

        await self.paced(RATES["labelled"] * self.share / 1.4, step)  # 1.4 predictions a step

    async def labeller(self, final: asyncio.Event) -> None:
        session = Session(self.port, self.record)
        while not (final.is_set() and not self.due):
            now = time.monotonic()
            ready = []
            while self.due and (self.due[0][0] <= now or final.is_set()) and len(ready) < 10:
                ready.append(heapq.heappop(self.due))
            if not ready:
                await asyncio.sleep(0.01)
                continue
            if len(ready) == 1:
                _, _, key, on = ready[0]
                status, out = await session.send("label", "/v1/learn", {"id": key, "labels": on}, 1)
                outs = [out] if status in (200, 202) else None
            else:
                body = [{"id": key, "labels": on} for _, _, key, on in ready]
                status, outs = await session.send("label_batch", "/v1/learn/batch", body, len(body))
                outs = outs if status in (200, 202) else None
            if outs is not None:
                for (_, _, key, on), out in zip(ready, outs):
                    self.ack(key, out, on)

    async def anonymous(self) -> None:
        rng = random.Random(f"{self.seed}-anonymous-{self.index}")
        session = Session(self.port, self.record)

        async def step(n):
            x, _ = self.instance(rng)
            await session.send("predict_anonymous", "/v1/predict", {"features": x}, 1)

        await self.paced(RATES["anonymous"] * self.share, step)

    async def direct(self) -> None:
        rng = random.Random(f"{self.seed}-direct-{self.index}")
        session = Session(self.port, self.record)

        async def step(n):
            items = []
            for j in range(DIRECT_BATCH):
                x, on = self.instance(rng)
                items.append({"id": f"c{self.index}-d{n}-{j}", "features": x, "labels": on})
            status, outs = await session.send("direct_batch", "/v1/learn/batch", items, len(items))
            if status in (200, 202):
                for item, out in zip(items, outs):
                    self.ack(item["id"], out, item["labels"])

        await self.paced(RATES["direct_batches"] * self.share, step)

    async def flush(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.write()

    def write(self) -> None:
        rows, self.rows = self.rows, []
        acked, self.acked = self.acked, []
        with open(self.out / f"requests-{self.index}.csv", "a") as f:
            f.writelines(rows)
        with open(self.out / f"acked-{self.index}.jsonl", "a") as f:
            f.writelines(line + "\n" for line in acked)

    async def run(self) -> None:
        final = asyncio.Event()
        flusher = asyncio.create_task(self.flush())
        labeller = asyncio.create_task(self.labeller(final))
        await asyncio.gather(self.labelled(), self.anonymous(), self.direct())
        final.set()  # the labels still due are sent now
        await labeller
        flusher.cancel()
        self.write()


def _yeast() -> list[tuple[dict, list[str]]]:
    from river import datasets

    return [(x, [label for label, on in y.items() if on]) for x, y in datasets.Yeast()]


class Start:
    """How the parent starts its clients together: each says it is prepared, then waits for
    the go, and reads the end of the load."""

    def __init__(self, context, n_clients: int):
        self.prepared = context.Queue()
        self.go = context.Event()
        self.until = context.Value("d", 0.0)
        self.n_clients = n_clients

    def wait(self) -> float:
        """In a client: the end of the load (time.time()), once the parent says go."""
        self.prepared.put(None)
        self.go.wait()
        return self.until.value

    def release(self, seconds: float) -> float:
        """In the parent: once every client is prepared, start the load; its start time."""
        for _ in range(self.n_clients):
            self.prepared.get(timeout=600)
        now = time.time()
        self.until.value = now + seconds
        self.go.set()
        return now


def flood_client(index: int, n_clients: int, port: int, seed: int, out: str, start) -> None:
    """Predictions of 100 random features, back to back on 4 connections, until the end."""

    async def run():
        rng = random.Random(f"{seed}-flood-{index}")
        rows: list[str] = []

        def record(kind, status, latency, items):
            rows.append(f"{time.time():.3f},{kind},{status},{latency:.6f},{items}\n")

        async def connection():
            session = Session(port, record)
            while time.time() < until:
                x = {f"x{i}": rng.random() for i in range(100)}
                await session.send("predict_anonymous", "/v1/predict", {"features": x}, 1)

        await asyncio.gather(*(connection() for _ in range(4)))
        with open(pathlib.Path(out) / f"requests-{index}.csv", "a") as f:
            f.writelines(rows)

    until = start.wait()
    asyncio.run(run())


def soak_client(index: int, n_clients: int, port: int, seed: int, out: str, start) -> None:
    """The entry point of a client process of the soak."""
    client = Client(index, n_clients, port, seed, out)
    client.until = start.wait()
    asyncio.run(client.run())
