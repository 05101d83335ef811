"""The local part of the drift study: scenarios, summaries and report."""

from __future__ import annotations

import json

import pytest

from benchmarks import drift, drift_local
from benchmarks.drift_local import local_scenario, recovery_delay, summarise


def test_scenarios_change_only_the_named_groups():
    for name, n_changed in (("1of4-sudden", 5), ("2of8-gradual", 10)):
        stream = local_scenario(name, seed=4, n_samples=2_000)
        (change,) = stream.schedule
        assert len(change.labels) == n_changed and change.what == ("relation",)
        assert change.at == 800 and change.end == (800 if "sudden" in name else 1_000)
        assert stream.groups_at(0) == stream.groups_at(1_999)
    with pytest.raises(ValueError, match="unknown local scenario"):
        local_scenario("3of4-sudden", seed=1)


def test_recovery_delay():
    assert recovery_delay([True] * 1_000, at=100, level=1.0) == 500  # a full window after
    assert recovery_delay([True] * 100 + [False] * 900, at=100, level=1.0) is None
    ok = [True] * 100 + [False] * 200 + [True] * 700
    assert recovery_delay(ok, at=100, level=0.9) == 640  # 12% of the window (60) may be wrong


def _run(hits_by_model, changed, at=4, end=4, n=10):
    return {
        "n": n,
        "at": at,
        "end": end,
        "change_point": at,
        "changed": changed,
        "models": {
            m: {"seconds": s, "hits": h, "adaptations": 0} for m, (s, h) in hits_by_model.items()
        },
    }


def test_summaries_split_changed_and_other_groups(monkeypatch):
    monkeypatch.setattr(drift_local, "BEFORE", 4)
    monkeypatch.setattr(drift_local, "AFTER", 4)
    monkeypatch.setattr(drift_local, "RECOVERY_WINDOW", 2)
    on, off = [True] * 10, [True] * 4 + [False, True, False, True, True, True]
    run = _run({"mlhat": (2.0, [off, on]), "ihomer": (4.0, [on, off])}, [True, False])
    s = summarise(run)
    assert s["mlhat"]["changed_before"] == 1.0 and s["mlhat"]["changed_after"] == 0.5
    assert s["ihomer"]["changed_after"] == 1.0 and s["ihomer"]["others_after"] == 0.5
    assert s["mlhat"]["whole"] == 0.8 and s["ihomer"]["others_whole"] == 0.8
    assert s["ihomer"]["speed"] == 0.5 and s["mlhat"]["speed"] == 1.0
    assert s["ihomer"]["recovery"] == 2 and s["mlhat"]["recovery"] == 5
    assert s["mlhat"]["groups_after"] == [0.5, 1.0]


@pytest.mark.slow
def test_a_short_study_writes_its_report(tmp_path):
    run = drift_local.run_one("1of4-sudden", 1, ["ihomer", "mlhat"], 3_000)
    assert set(run["summary"]) == {"ihomer", "mlhat"} and "hits" not in run["models"]["mlhat"]
    (tmp_path / "drift_local_runs.json").write_text(json.dumps([run]))
    text = drift_local.write_local_report(tmp_path)
    assert "| 1of4-sudden | ihomer |" in text and "Differences with `mlhat`" in text
    assert (tmp_path / "drift_local.png").stat().st_size > 10_000
    # Only the local study in this directory: drift.md is its section alone.
    md = drift.write_drift_report(tmp_path).read_text()
    assert md.startswith("# Drift study") and "| 1of4-sudden | ihomer |" in md
    assert "Detection by the structure-level detector" not in md
