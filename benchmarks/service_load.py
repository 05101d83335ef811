"""Load benchmark of the prediction service, driven from a separate process.

Starts `python -m service` (one uvicorn process owning the model) on a fresh data directory,
warms the model up on river's Yeast stream, then measures from this process, over keep-alive
HTTP connections:

1. predict latency (p50/p90/p99/max) under an open-loop load of `--rate` predictions per
   second, each prediction durable (its pending row committed) before the answer;
2. learn throughput with batches (`--clients` concurrent clients, `--batch` events per
   request) and with single-event requests (group commit), in events per second, every event
   durable (fsync'd) before its acknowledgement;
3. predict latency again while `--mixed-learn-rate` learn events per second arrive in batches
   of `--mixed-batch` (mixed load, both open loop).

The baseline, measured in this process, is the same model's own `learn_one` and
`predict_proba_one` speed on the same instances; the ratios show the service's overhead.

    python benchmarks/service_load.py                  # majority and the default model
    python benchmarks/service_load.py --models ihomer --rate 300 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Connection:
    """A minimal keep-alive HTTP/1.1 JSON client (cheap, so the client side adds little)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def yeast() -> tuple[list[dict], list[list[str]], list[str]]:
    from river import datasets

    xs, ons = [], []
    for x, y in datasets.Yeast():
        xs.append(x)
        ons.append([label for label, on in y.items() if on])
    return xs, ons, list(y)


def quantiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)

    def q(p):
        return values[min(len(values) - 1, int(p * len(values)))] * 1e3

    return {"p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": values[-1] * 1e3}


async def open_loop_predict(host, port, bodies, rate, seconds, pool=16) -> dict:
    """Send predictions at a fixed rate (not waiting for answers); latency per request."""
    conns = [await Connection(host, port).open() for _ in range(pool)]
    idle: asyncio.Queue = asyncio.Queue()
    for c in conns:
        idle.put_nowait(c)
    latencies, errors = [], 0
    loop = asyncio.get_running_loop()

    async def one(body):
        nonlocal errors
        conn = await idle.get()
        started = time.perf_counter()
        status, _ = await conn.request("POST", "/v1/predict", body)
        latencies.append(time.perf_counter() - started)
        errors += status != 200
        idle.put_nowait(conn)

    n = int(rate * seconds)
    t0 = loop.time()
    tasks = []
    for i, body in zip(range(n), itertools.cycle(bodies)):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - t0
    for c in conns:
        c.close()
    return {"requests": n, "achieved_rate": n / elapsed, "errors": errors, **quantiles(latencies)}


async def closed_loop_learn(host, port, bodies, clients, seconds, events_per_body) -> dict:
    """`clients` clients send learn requests back to back; durable events per second."""
    stop = time.perf_counter() + seconds
    counts, errors = [0] * clients, [0]
    source = itertools.cycle(bodies)

    async def client(k):
        conn = await Connection(host, port).open()
        while time.perf_counter() < stop:
            path, body = next(source)
            status, _ = await conn.request("POST", path, body)
            if status in (200, 202):
                counts[k] += events_per_body
            else:
                errors[0] += 1
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = time.perf_counter() - started
    return {"events": sum(counts), "events_per_s": sum(counts) / elapsed, "errors": errors[0]}


async def server_histogram(host, port, endpoint="/v1/predict") -> dict[float, float]:
    """Cumulative bucket counts of the service's own latency histogram for `endpoint`."""
    conn = await Connection(host, port).open()
    _, text = await conn.request("GET", "/metrics")
    conn.close()
    buckets = {}
    prefix = f'streamml_request_duration_seconds_bucket{{endpoint="{endpoint}",le="'
    for line in text.decode().splitlines():
        if line.startswith(prefix):
            le = line[len(prefix) :].split('"')[0]
            buckets[float(le)] = float(line.split()[-1])
    return buckets


def bucket_quantiles(before: dict, after: dict) -> dict[str, str]:
    """Server-side p50/p99 of a phase, as histogram bucket bounds ("<= x ms")."""
    diff = {le: after[le] - before.get(le, 0.0) for le in sorted(after)}
    total = diff[float("inf")]
    out = {}
    for name, q in (("server_p50", 0.5), ("server_p99", 0.99)):
        le = next(le for le, n in diff.items() if n >= q * total)
        out[name] = f"<= {le * 1e3:g} ms" if le != float("inf") else "> 10 s"
    return out


async def open_loop_learn(host, port, bodies, rate, seconds, events_per_body) -> dict:
    """Send learn requests at a fixed rate of events per second (not waiting for answers)."""
    conns = [await Connection(host, port).open() for _ in range(8)]
    idle: asyncio.Queue = asyncio.Queue()
    for c in conns:
        idle.put_nowait(c)
    done, errors = [0], [0]
    loop = asyncio.get_running_loop()

    async def one(path, body):
        conn = await idle.get()
        status, _ = await conn.request("POST", path, body)
        if status in (200, 202):
            done[0] += events_per_body
        else:
            errors[0] += 1
        idle.put_nowait(conn)

    n = int(rate * seconds / events_per_body)
    t0 = loop.time()
    tasks = []
    for i, (path, body) in zip(range(n), itertools.cycle(bodies)):
        delay = t0 + i * events_per_body / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(path, body)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - t0
    for c in conns:
        c.close()
    return {"events": done[0], "events_per_s": done[0] / elapsed, "errors": errors[0]}


def library_baseline(model_name, xs, ons, labels, n_learn, n_predict) -> dict:
    """The model alone in this process: learn_one / predict_proba_one per second."""
    from streamml import models

    model = models.make(model_name, seed=42)
    started = time.perf_counter()
    for k in range(n_learn):
        on = ons[k % len(xs)]
        model.learn_one(xs[k % len(xs)], {label: label in on for label in labels})
    learn = n_learn / (time.perf_counter() - started)
    started = time.perf_counter()
    for k in range(n_predict):
        model.predict_proba_one(xs[(k * 7) % len(xs)])
        model.predict_one(xs[(k * 7) % len(xs)])
    predict_ms = (time.perf_counter() - started) / n_predict * 1e3
    return {"learn_per_s": learn, "predict_ms": predict_ms}


def start_service(model, data_dir, port, labels) -> subprocess.Popen:
    env = {**os.environ, "STREAMML_LABELS": ",".join(labels)}
    env.pop("STREAMML_TOKEN", None)
    cmd = [sys.executable, "-m", "service", "--port", str(port), "--data-dir", str(data_dir)]
    cmd += ["--model", model, "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
                if s.recv(64)[9:12] == b"200":
                    return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"the service exited with {proc.returncode}")
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the service did not become ready")


async def bench_model(model, args, xs, ons, labels) -> dict:
    host, port = "127.0.0.1", free_port()
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="streamml-bench-"))
    proc = start_service(model, data_dir, port, labels)
    out = {"model": model}
    try:
        enc = [json.dumps({"features": x}).encode() for x in xs]
        learn_items = [{"features": x, "labels": on} for x, on in zip(xs, ons)]
        batches = [
            ("/v1/learn/batch", json.dumps(learn_items[k : k + args.batch]).encode())
            for k in range(0, len(learn_items) - args.batch + 1, args.batch)
        ]
        singles = [("/v1/learn", json.dumps(item).encode()) for item in learn_items]
        conn = await Connection(host, port).open()
        for path, body in batches[: max(1, args.warmup // args.batch)]:  # warm-up
            status, _ = await conn.request("POST", path, body)
            assert status == 202, status
        conn.close()

        before = await server_histogram(host, port)
        out["predict"] = await open_loop_predict(host, port, enc, args.rate, args.seconds)
        out["predict"].update(bucket_quantiles(before, await server_histogram(host, port)))
        out["learn_batch"] = await closed_loop_learn(
            host, port, batches, args.clients, args.seconds, args.batch
        )
        out["learn_single"] = await closed_loop_learn(
            host, port, singles, args.single_clients, args.seconds, 1
        )
        small = [
            ("/v1/learn/batch", json.dumps(learn_items[k : k + args.mixed_batch]).encode())
            for k in range(0, len(learn_items) - args.mixed_batch + 1, args.mixed_batch)
        ]
        learning = asyncio.create_task(
            open_loop_learn(
                host, port, small, args.mixed_learn_rate, args.seconds, args.mixed_batch
            )
        )
        before = await server_histogram(host, port)
        out["predict_while_learning"] = await open_loop_predict(
            host, port, enc, args.rate, args.seconds
        )
        out["learn_while_predicting"] = await learning
        out["predict_while_learning"].update(
            bucket_quantiles(before, await server_histogram(host, port))
        )
        conn = await Connection(host, port).open()
        _, metrics = await conn.request("GET", "/metrics")
        conn.close()
        out["events_per_commit"] = _mean_from_metrics(
            metrics.decode(), "streamml_store_commit_events"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        shutil.rmtree(data_dir, ignore_errors=True)
    n = min(len(xs), 2000)
    out["library"] = library_baseline(model, xs, ons, labels, n, 500)
    return out


def _mean_from_metrics(text: str, name: str) -> float | None:
    total = count = None
    for line in text.splitlines():
        if line.startswith(f"{name}_sum "):
            total = float(line.split()[1])
        elif line.startswith(f"{name}_count "):
            count = float(line.split()[1])
    return total / count if total is not None and count else None


def report(result: dict, args) -> None:
    lib = result["library"]
    p, pl = result["predict"], result["predict_while_learning"]
    lb, ls = result["learn_batch"], result["learn_single"]
    print(f"\n== {result['model']} ==")
    print(
        f"predict, {p['achieved_rate']:.0f}/s open loop: p50 {p['p50_ms']:.2f} ms, "
        f"p90 {p['p90_ms']:.2f} ms, p99 {p['p99_ms']:.2f} ms, max {p['max_ms']:.1f} ms, "
        f"errors {p['errors']}; in the service: p50 {p['server_p50']}, p99 {p['server_p99']} "
        f"(model alone: {lib['predict_ms']:.3f} ms per prediction)"
    )
    print(
        f"learn, {args.clients} clients x batches of {args.batch}: {lb['events_per_s']:.0f} "
        f"events/s (errors {lb['errors']}); model alone: {lib['learn_per_s']:.0f} learn_one/s; "
        f"service/library = {lb['events_per_s'] / lib['learn_per_s']:.2f}"
    )
    print(
        f"learn, {args.single_clients} clients x single events: {ls['events_per_s']:.0f} "
        f"events/s (errors {ls['errors']}); mean events per group commit over the run: "
        f"{result['events_per_commit']:.1f}"
    )
    lw = result["learn_while_predicting"]
    print(
        f"predict at {pl['achieved_rate']:.0f}/s while learning {lw['events_per_s']:.0f} "
        f"events/s (batches of {args.mixed_batch}, errors {lw['errors']}): "
        f"p50 {pl['p50_ms']:.2f} ms, p99 {pl['p99_ms']:.2f} ms, max {pl['max_ms']:.1f} ms; "
        f"in the service: p50 {pl['server_p50']}, p99 {pl['server_p99']}"
    )


def main(argv=None) -> int:
    from service.config import default_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=f"majority,{default_model()}")
    parser.add_argument("--rate", type=float, default=300.0, help="predictions per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=2, help="concurrent batch learners")
    parser.add_argument("--batch", type=int, default=100, help="events per batch request")
    parser.add_argument("--single-clients", type=int, default=16)
    parser.add_argument(
        "--mixed-learn-rate",
        type=float,
        default=2000.0,
        help="learn events per second sent during the mixed phase",
    )
    parser.add_argument("--mixed-batch", type=int, default=20, help="events per batch, mixed")
    parser.add_argument("--warmup", type=int, default=1000, help="events learned first")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)

    xs, ons, labels = yeast()
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    results = []
    for model in dict.fromkeys(m.strip() for m in args.models.split(",") if m.strip()):
        result = asyncio.run(bench_model(model, args, xs, ons, labels))
        report(result, args)
        results.append(result)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    sys.exit(main())
