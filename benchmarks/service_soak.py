"""Soak benchmark of the prediction service: sustained load, kill -9 and restarts, disk and memory.

Starts `python -m service` on a fresh data directory and loads it for `--minutes` from
`--clients` client processes (`soak_clients.py`: predictions under ids labelled 0.5-5 s later
by id, alone or in batches, predictions never labelled, batches of whole instances). At
`--kills` random moments (drawn from `--seed`) the server is killed with SIGKILL and started
again at once. Every second it records the server's resident memory (RSS) and the size of every
file of the data directory; every answer is recorded by the clients.

At the end the server is killed once more and restarted, then checked: every acknowledged event
must be in the recovered model (its event id within the model's log, no two acknowledged ids
sharing an event), and every acknowledged id still remembered (the last `dedup_events`) is
answered as a duplicate with its event id when sent again.

Writes `<out>/soak.csv` (one row per second), `<out>/soak.md` (the summary) and
`<out>/soak.png` (throughput, latency, RSS and file sizes over time, kills marked).

    nice -n 5 python benchmarks/service_soak.py --minutes 10
    python benchmarks/service_soak.py --flood --minutes 1   # 4 clients, predictions only,
                                                            # default settings
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from service_load import free_port
from soak_clients import Start, flood_client, soak_client
from soak_report import Run, write_report

REPO = pathlib.Path(__file__).resolve().parents[1]

#: Settings of the soak's service (the rest are the defaults): with these the pending
#: predictions (capped, the oldest evicted), the remembered ids and the log (compacted at each
#: snapshot) reach their plateau within the first minutes, so that the last ones show whether
#: anything still grows.
SOAK_SETTINGS = {
    "STREAMML_MAX_PENDING": "10000",
    "STREAMML_DEDUP_EVENTS": "20000",
    "STREAMML_SNAPSHOT_EVERY": "5000",
}


class Server:
    """`python -m service` on a data directory, killed and restarted at will."""

    def __init__(self, data_dir: pathlib.Path, port: int, model: str, seed: int, env: dict, log):
        self.data_dir, self.port, self.model, self.seed = data_dir, port, model, seed
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMML_")}
        self.env.update(env)
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.ready = False

    def start(self) -> float:
        """Start and wait until ready; returns the seconds it took."""
        started = time.monotonic()
        cmd = [sys.executable, "-m", "service", "--port", str(self.port)]
        cmd += ["--data-dir", str(self.data_dir), "--model", self.model, "--seed", str(self.seed)]
        cmd += ["--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=self.log, stderr=self.log)
        while not self._ready():
            if self.proc.poll() is not None:
                raise SystemExit(f"the service exited with {self.proc.returncode}")
            if time.monotonic() - started > 300:
                raise SystemExit("the service did not become ready in 5 minutes")
            time.sleep(0.05)
        self.ready = True
        return time.monotonic() - started

    def _ready(self) -> bool:
        return self.get("/readyz")[0] == 200

    def get(self, path: str) -> tuple[int, bytes]:
        import http.client

        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        except OSError:
            return 0, b""

    def kill(self) -> None:
        self.ready = False
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        self.ready = False
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)

    def rss(self) -> int | None:
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except (FileNotFoundError, ProcessLookupError):
            return None
        return None


def file_sizes(data_dir: pathlib.Path) -> dict[str, int]:
    """Bytes of every file of the data directory (the snapshots as one total)."""
    sizes = {}
    for entry in os.scandir(data_dir):
        try:
            if entry.is_file(follow_symlinks=False):
                sizes[entry.name] = entry.stat(follow_symlinks=False).st_size
            elif entry.is_dir(follow_symlinks=False):
                sizes[entry.name] = sum(
                    e.stat(follow_symlinks=False).st_size for e in os.scandir(entry.path)
                )
        except FileNotFoundError:
            pass  # removed meanwhile (a temporary snapshot, a pruned one)
    return sizes


def log_events(data_dir: pathlib.Path) -> int | None:
    """Events in the log (those after the last compaction), read from the database."""
    import sqlite3

    try:
        db = sqlite3.connect(f"file:{data_dir / 'streamml.db'}?mode=ro", uri=True, timeout=1)
        try:
            low, high = db.execute("SELECT MIN(id), MAX(id) FROM events").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return 0 if low is None else high - low + 1


def kill_times(seconds: float, kills: int, rng: random.Random) -> list[float]:
    """`kills` moments in (5%, 95%) of the run, at least a 30th of it apart."""
    gap = seconds / 30
    for _ in range(10_000):
        times = sorted(rng.uniform(0.05 * seconds, 0.95 * seconds) for _ in range(kills))
        if all(b - a >= gap for a, b in zip(times, times[1:])):
            return times
    raise SystemExit(f"cannot fit {kills} kills {gap:.0f} s apart in {seconds:.0f} s")


def run(args) -> Run:
    work = pathlib.Path(tempfile.mkdtemp(prefix="streamml-soak-"))
    data_dir = work / "data"
    seconds = args.minutes * 60
    env = {} if args.flood else dict(SOAK_SETTINGS)
    log = open(work / "server.log", "ab")
    server = Server(data_dir, free_port(), args.model, args.seed, env, log)
    result = Run(args=vars(args), settings=env, work=work, started=time.time())
    result.restarts.append(server.start())
    rng = random.Random(args.seed)
    schedule = [] if args.flood else kill_times(seconds, args.kills, rng)
    context = multiprocessing.get_context("spawn")
    start = Start(context, args.clients)
    clients = [
        context.Process(
            target=flood_client if args.flood else soak_client,
            args=(k, args.clients, server.port, args.seed, str(work), start),
        )
        for k in range(args.clients)
    ]
    for client in clients:
        client.start()
    t0 = result.load_start = start.release(seconds)
    try:
        while any(c.is_alive() for c in clients):
            now = time.time()
            if schedule and now - t0 >= schedule[0]:
                schedule.pop(0)
                server.kill()
                result.kills.append(time.time() - t0)
                result.restarts.append(server.start())
            sample = {"t": time.time() - t0, "ready": server.ready, "rss": server.rss()}
            sample["files"] = file_sizes(data_dir)
            sample["log_events"] = log_events(data_dir)
            result.samples.append(sample)
            time.sleep(max(0.0, 1.0 - (time.time() - now)))
    finally:
        for client in clients:
            client.join(timeout=600)
    result.load_seconds = time.time() - t0
    if not args.flood:  # one more crash, then the check of the recovered state
        server.kill()
        result.final_restart = server.start()
        result.check = check(server, work, SOAK_SETTINGS)
    result.final_files = file_sizes(data_dir)
    server.stop()
    log.close()
    return result


def check(server: Server, work: pathlib.Path, settings: dict) -> dict:
    """The acknowledged events against those the recovered service holds."""
    import http.client

    acked: dict[str, tuple[int, list[str]]] = {}
    for path in sorted(work.glob("acked-*.jsonl")):
        for line in path.read_text().splitlines():
            item = json.loads(line)
            prior = acked.setdefault(item["id"], (item["event"], item["labels"]))
            if prior[0] != item["event"]:  # acknowledged twice under different events
                acked[item["id"]] = (-1, item["labels"])
    state = json.loads(server.get("/v1/model")[1])
    last = state["last_event_id"]
    by_event: dict[int, str] = {}
    collisions = inconsistent = beyond = 0
    for key, (event, _) in acked.items():
        if event < 0:
            inconsistent += 1
        elif event in by_event:
            collisions += 1
        elif event > last:
            beyond += 1
        by_event.setdefault(event, key)
    horizon = last - int(settings["STREAMML_DEDUP_EVENTS"])
    recent = [(k, e, labels) for k, (e, labels) in acked.items() if e > horizon]
    not_duplicate = 0
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)

    def send(path, body):
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())

    for k in range(0, len(recent), 500):
        chunk = recent[k : k + 500]
        status, outs = send("/v1/learn/batch", [{"id": i, "labels": on} for i, _, on in chunk])
        if status != 200:  # not all duplicates: which ones
            outs = [send("/v1/learn", {"id": i, "labels": on})[1] for i, _, on in chunk]
        for (_, event, _), out in zip(chunk, outs):
            if out.get("event_id") != event or not out.get("duplicate"):
                not_duplicate += 1
    after = json.loads(server.get("/v1/model")[1])
    return {
        "acknowledged_ids": len(acked),
        "last_event_id": last,
        "n_learned": state["n_learned"],
        "n_learn_failures": state["n_learn_failures"],
        "collisions": collisions,
        "inconsistent": inconsistent,
        "beyond_last_event": beyond,
        "lost": collisions + inconsistent + beyond,
        "resent": len(recent),
        "resent_not_duplicate": not_duplicate,
        "learned_by_resending": after["last_event_id"] - last,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument("--clients", type=int, default=None, help="client processes (3; 4)")
    parser.add_argument("--kills", type=int, default=None, help="kill -9 cycles (6 per 10 min)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kills and the load")
    parser.add_argument("--model", default="ihomer")
    parser.add_argument("--window", type=float, default=5.0, help="minutes checked for flatness")
    parser.add_argument(
        "--flood",
        action="store_true",
        help="predictions of 100 features only, back to back, default settings, no kills",
    )
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args(argv)
    if args.clients is None:
        args.clients = 4 if args.flood else 3
    if args.kills is None:
        args.kills = 0 if args.flood else max(1, round(args.minutes * 0.6))
    args.window = min(args.window, args.minutes / 2)
    result = run(args)
    name = "soak_flood" if args.flood else "soak"
    summary = write_report(result, pathlib.Path(args.out), name, " ".join(sys.argv))
    print(summary)
    if not args.keep:
        shutil.rmtree(result.work, ignore_errors=True)
    else:
        print(f"working directory kept: {result.work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
