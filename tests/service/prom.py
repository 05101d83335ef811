"""A real Prometheus for the tests: start it on a target, query it, and read the dashboard.

Debian's `prometheus` binary scrapes the service every second; `DashboardQueries` evaluates the
Grafana dashboard's expressions through Prometheus's HTTP API, as Grafana would.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import shutil
import subprocess
import time

import httpx

from .helpers import free_port

DASHBOARD = pathlib.Path(__file__).resolve().parents[2] / "service" / "grafana"
DASHBOARD = DASHBOARD / "streamml-drift.json"
PROMETHEUS = shutil.which("prometheus") or (
    "/usr/bin/prometheus" if pathlib.Path("/usr/bin/prometheus").exists() else None
)
#: Grafana's variables, as Grafana would set them for a 1 s scrape interval.
VARIABLES = {"$__rate_interval": "5s", "$__interval": "1s", "$__range": "1m", "$instance": ".*"}
#: Seconds of the range of the dashboard's rate() and increase() (`$__rate_interval`).
RATE_WINDOW = 5.0


def expressions(dashboard: dict | None = None) -> dict[str, str]:
    """`panel title / refId` (or `annotation NAME`) -> PromQL, the variables substituted."""
    if dashboard is None:
        dashboard = json.loads(DASHBOARD.read_text())
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append((f"{panel['title']} / {target['refId']}", target["expr"]))
    for annotation in dashboard["annotations"]["list"]:
        if "expr" in annotation:
            found.append((f"annotation {annotation['name']}", annotation["expr"]))
    out = {}
    for where, expr in found:
        for name in sorted(VARIABLES, key=len, reverse=True):
            expr = expr.replace(name, VARIABLES[name])
        assert "$" not in expr, f"{where}: unknown variable in {expr}"
        out[where] = expr
    return out


@contextlib.contextmanager
def prometheus(workdir: pathlib.Path, target: str):
    """Run Prometheus scraping `target` (host:port) every second; yields a `Prometheus`."""
    port = free_port()
    (workdir / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: streamml\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    log = workdir / "prometheus.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    api = Prometheus(f"http://127.0.0.1:{port}", log)
    try:
        api.wait_for("up", lambda v: v == 1.0, timeout=60)
        yield api
    finally:
        process.terminate()
        process.wait(timeout=30)
        api.close()


class Prometheus:
    """Queries of Prometheus's HTTP API (instant and range), returning plain values."""

    def __init__(self, url: str, log: pathlib.Path):
        self.http = httpx.Client(base_url=url, timeout=10)
        self.log = log

    def close(self):
        self.http.close()

    def _get(self, path: str, params: dict) -> list | None:
        try:
            r = self.http.get(path, params=params)
        except httpx.TransportError:
            return None
        if r.status_code == 503:  # still starting
            return None
        assert r.status_code == 200, f"{params['query']}: {r.text}"
        body = r.json()
        assert body["status"] == "success", f"{params['query']}: {body}"
        return body["data"]["result"]

    def instant(self, expr: str, at: float | None = None) -> dict[tuple, float]:
        """{sorted label items: value} of an instant query (at `at`, default now)."""
        params = {"query": expr} if at is None else {"query": expr, "time": at}
        result = self._get("/api/v1/query", params) or []
        return {_key(s["metric"]): float(s["value"][1]) for s in result}

    def series(self, expr: str, start: float, end: float) -> dict[tuple, list[float]]:
        """{sorted label items: values at every second from `start` to `end`}."""
        params = {"query": expr, "start": start, "end": end, "step": "1s"}
        result = self._get("/api/v1/query_range", params) or []
        return {_key(s["metric"]): [float(v) for _, v in s["values"]] for s in result}

    def wait_for(self, expr: str, done, timeout: float = 30.0) -> dict[tuple, float]:
        """Poll `expr` until `done(value)` holds for its single series; returns the result."""
        deadline = time.monotonic() + timeout
        while True:
            values = self.instant(expr)
            if len(values) == 1 and done(next(iter(values.values()))):
                return values
            if time.monotonic() > deadline:
                tail = self.log.read_text()[-2000:]
                raise AssertionError(f"{expr} is {values} after {timeout} s; log: {tail}")
            time.sleep(0.5)


def _key(metric: dict) -> tuple:
    return tuple(
        sorted((k, v) for k, v in metric.items() if k not in ("__name__", "instance", "job"))
    )
