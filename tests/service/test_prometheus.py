"""The Grafana dashboard against a real Prometheus scraping the service under load.

Debian's `prometheus` binary scrapes a running service every second while clients send
predictions, delayed labels, direct learn events and some invalid requests; then every
expression of every dashboard panel (and annotation) is evaluated through Prometheus's HTTP API
and must return data.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import threading
import time

import httpx
import pytest

from service import ServiceConfig, create_app

from .helpers import drifting_stream, free_port, serve_in_thread, toy_factory, wait_ready

DASHBOARD = (
    pathlib.Path(__file__).resolve().parents[2] / "service" / "grafana" / ("streamml-drift.json")
)
PROMETHEUS = shutil.which("prometheus") or (
    "/usr/bin/prometheus" if pathlib.Path("/usr/bin/prometheus").exists() else None
)
#: Grafana's variables, as Grafana would set them for a 1 s scrape interval.
VARIABLES = {"$__rate_interval": "5s", "$__interval": "1s", "$__range": "1m", "$instance": ".*"}


def expressions(dashboard: dict) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and annotation, variables substituted."""
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append((f"{panel['title']} / {target['refId']}", target["expr"]))
    for annotation in dashboard["annotations"]["list"]:
        if "expr" in annotation:
            found.append((f"annotation {annotation['name']}", annotation["expr"]))
    out = []
    for where, expr in found:
        for name in sorted(VARIABLES, key=len, reverse=True):
            expr = expr.replace(name, VARIABLES[name])
        assert "$" not in expr, f"{where}: unknown variable in {expr}"
        out.append((where, expr))
    return out


def test_dashboard_model_is_well_formed():
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in ("drift", "cluster", "restructuring", "quality", "latency", "requests", "disk"):
        assert topic in titles
    used = " ".join(expr for _, expr in expressions(dashboard))
    for metric in re.findall(r"streamml_[a-z0-9_]+", used):
        assert not metric.endswith("_"), metric


@pytest.mark.prometheus
@pytest.mark.skipif(PROMETHEUS is None, reason="Debian's prometheus binary is not installed")
def test_every_panel_returns_data_from_a_real_prometheus(tmp_path):
    dashboard = json.loads(DASHBOARD.read_text())
    queries = expressions(dashboard)
    config = ServiceConfig(
        data_dir=tmp_path / "data",
        model="toy",
        model_factory=toy_factory,
        snapshot_every=150,
        cluster_slots=8,
        max_pending=50,  # predictions are evicted too
    )
    with serve_in_thread(create_app(config)) as url:
        with httpx.Client(base_url=url, timeout=10) as client:
            wait_ready(client)
        target = url.removeprefix("http://")
        prom_port = free_port()
        (tmp_path / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: streamml\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        prometheus = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "prometheus.log", "wb"),
        )
        stop = threading.Event()
        load = threading.Thread(target=drive, args=(url, stop), daemon=True)
        load.start()
        api = httpx.Client(base_url=f"http://127.0.0.1:{prom_port}", timeout=10)
        try:
            started = time.time()
            missing = queries
            deadline = time.monotonic() + 50
            while missing and time.monotonic() < deadline:
                time.sleep(2)
                missing = [(w, q) for w, q in queries if not has_data(api, q, started)]
            assert load.is_alive(), "the load generator stopped"
        finally:
            stop.set()
            load.join(timeout=10)
            prometheus.terminate()
            prometheus.wait(timeout=30)
            api.close()
    log = (tmp_path / "prometheus.log").read_text()[-2000:]
    assert not missing, f"panels without data: {missing}\nprometheus log: {log}"


def has_data(api: httpx.Client, expr: str, start: float) -> bool:
    """Whether a range query of `expr` since `start` has a finite value."""
    try:
        r = api.get(
            "/api/v1/query_range",
            params={"query": expr, "start": start, "end": time.time(), "step": "1s"},
        )
    except httpx.TransportError:
        return False
    if r.status_code != 200:
        assert r.status_code == 503, f"{expr}: {r.text}"  # 503: Prometheus still starting
        return False
    body = r.json()
    assert body["status"] == "success", f"{expr}: {body}"
    return any(
        value not in ("NaN", "+Inf", "-Inf")
        for series in body["data"]["result"]
        for _, value in series["values"]
    )


def drive(url: str, stop: threading.Event) -> None:
    """Bounded load (about 150 requests/s): predictions, delayed labels, learning, bad input."""
    stream = drifting_stream(10**6, seed=5, period=200)
    with httpx.Client(base_url=url, timeout=10) as client:
        k = 0
        while not stop.is_set():
            x, on = next(stream)
            if k % 3 == 0:
                client.post("/v1/learn", json={"features": x, "labels": on})
            else:
                out = client.post("/v1/predict", json={"features": x}).json()
                if k % 5:
                    client.post("/v1/learn", json={"id": out["id"], "labels": on})
            if k % 20 == 0:
                client.post("/v1/predict", json={"features": {"x": "y" * 2000}})  # 422
                client.get("/v1/model")
            k += 1
            time.sleep(0.005)
