"""`python -m benchmarks ab`: this tree against a git revision, in interleaved processes."""

from __future__ import annotations

import pathlib
import subprocess

import pytest

from benchmarks import ab

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _git_checkout() -> bool:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True)
    return done.returncode == 0


def test_sides_alternate_and_the_best_run_of_each_is_kept(monkeypatch, tmp_path):
    calls = []
    speeds = {"A": iter([100.0, 120.0, 90.0]), "B": iter([150.0, 140.0, 160.0])}
    metrics = {m: 0.5 for m in ab.METRICS}

    def fake(tree, stream, model, limit, timeout):
        side = "A" if tree != ROOT else "B"
        calls.append(side)
        return dict(metrics, n=10, instances_per_second=next(speeds[side]))

    monkeypatch.setattr(ab, "_one", fake)
    monkeypatch.setattr(ab, "extract", lambda revision, repo, into: into)
    (row,) = ab.run_ab("base", ["s.arff"], ["m"], reps=3)
    assert calls == ["A", "B", "B", "A", "A", "B"]
    assert (row["base"], row["here"]) == (120.0, 160.0)
    assert row["speedup"] == pytest.approx(160 / 120) and row["same_metrics"]
    assert "| s | m | 10 | 120 | 160 | 1.333x | yes |" in ab.table([row], "base")


def test_different_metrics_are_reported(monkeypatch):
    def fake(tree, stream, model, limit, timeout):
        value = 0.5 if tree == ROOT else 0.25
        metrics = {m: value for m in ab.METRICS}
        if tree == ROOT:
            metrics["hamming_loss"] = 0.25 - 3e-6
        return dict(metrics, n=10, instances_per_second=1.0)

    monkeypatch.setattr(ab, "_one", fake)
    monkeypatch.setattr(ab, "extract", lambda revision, repo, into: into)
    (row,) = ab.run_ab("base", ["synth:n_samples=10"], ["m"], reps=1)
    assert not row["same_metrics"] and row["stream"] == "synth:n_samples=10"
    assert row["deltas"] == pytest.approx(
        {"subset_accuracy": 0.25, "micro_f1": 0.25, "macro_f1": 0.25, "hamming_loss": -3e-6}
    )
    assert ab.table([row], "base").endswith(
        "| no (subset +0.2500, micro-F1 +0.2500, macro-F1 +0.2500, Hamming -3e-06) |"
    )


@pytest.mark.skipif(not _git_checkout(), reason="needs the git checkout")
def test_a_revision_against_itself_gives_the_same_metrics():
    # HEAD against this tree, which CI runs on a clean checkout of HEAD.
    stream = "synth:n_labels=6,n_groups=2,n_features=5,n_samples=200,seed=3"
    (row,) = ab.run_ab("HEAD", [stream], ["mlhat"], reps=1)
    assert row["n"] == 200 and row["base"] > 0 and row["here"] > 0
    assert row["same_metrics"]


def test_a_bad_revision_is_named(tmp_path):
    with pytest.raises(ValueError, match="no-such-revision"):
        ab.extract("no-such-revision", ROOT, tmp_path)
    with pytest.raises(ValueError, match="reps"):
        ab.run_ab("HEAD", ["x"], ["m"], reps=0)
