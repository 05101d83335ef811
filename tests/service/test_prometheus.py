"""The Grafana dashboard against a real Prometheus scraping the service under load.

Debian's `prometheus` binary scrapes a running service every second while one client sends
predictions, delayed labels, direct learn events and some invalid requests; then every
expression of every dashboard panel (and annotation) is evaluated through Prometheus's HTTP API
and must give the values the load and a second model fed the same events imply
(`dashboard.run_dashboard_check`). The model is the toy model of the helpers, and iHOMER on a
synthetic stream with a sudden regrouping (slow).
"""

from __future__ import annotations

import json
import re

import pytest

from streamml import IHOMER

from .dashboard import run_dashboard_check
from .helpers import drifting_stream, regrouping_stream, toy_factory
from .prom import DASHBOARD, PROMETHEUS, expressions


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
    used = " ".join(expressions(dashboard).values())
    for metric in re.findall(r"streamml_[a-z0-9_]+", used):
        assert not metric.endswith("_"), metric


needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None, reason="Debian's prometheus binary is not installed"
)


@pytest.mark.prometheus
@needs_prometheus
def test_every_query_gives_the_expected_values_for_the_toy_model(tmp_path):
    stream = list(drifting_stream(700, seed=5, period=200))
    load = run_dashboard_check(
        tmp_path,
        toy_factory,
        stream,
        snapshot_every=150,
        cluster_slots=8,
        quality_window=200,
        max_pending=50,  # predictions are evicted too
    )
    assert len(load.learned) > 400 and load.n_evicted > 50


@pytest.mark.slow
@pytest.mark.prometheus
@needs_prometheus
def test_every_query_gives_the_expected_values_for_ihomer_through_a_regrouping(tmp_path):
    """iHOMER (public API only) on 9 labels in 3 groups regrouped at instance 1000."""
    generator, stream = regrouping_stream(n=2600, at=1000, seed=1)
    load = run_dashboard_check(
        tmp_path,
        lambda: IHOMER(seed=1),
        stream,
        levels=("structure", "cluster"),  # the partition changes, and the clusters' errors rise
        snapshot_every=500,
        quality_window=300,
    )
    assert len(load.learned) > 1500
