"""The mutation report: counts per module, equivalent mutants apart, survivors shown."""

from __future__ import annotations

import json

import pytest

from benchmarks import mutation, mutation_report, mutation_targets


def record(verdicts: dict, diffs: dict, target=0.85, path="streamml/x.py") -> dict:
    return {
        "path": path,
        "group": "metrics and CLI",
        "target": target,
        "tests": ["tests/test_x.py"],
        "skip": [r"^\s+help="],
        "seconds": 90.0,
        "complete": True,
        "verdicts": verdicts,
        "diffs": diffs,
        "command": "python -m benchmarks mutation --modules cli",
    }


def test_report_counts_and_lists_the_survivors(tmp_path, monkeypatch):
    equivalent = tmp_path / "equivalent.txt"
    equivalent.write_text(
        "# reasons\nm.x__f__mutmut_2  the value is never read\nm.gone__mutmut_1  stale\n"
    )
    monkeypatch.setattr(mutation_report, "EQUIVALENT", equivalent)
    verdicts = {
        "m.x__f__mutmut_1": "killed",
        "m.x__f__mutmut_2": "survived",
        "m.x__f__mutmut_3": "survived",
        "m.x__f__mutmut_4": "timeout",
        "m.x__f__mutmut_5": "no tests",
        "m.x__f__mutmut_6": "not checked",
    }
    diffs = {k: f"--- a\n+++ b\n-old {k}\n+new {k}" for k, v in verdicts.items() if v != "killed"}
    diffs = {k: v for k, v in diffs.items() if verdicts[k] not in ("timeout", "not checked")}
    (tmp_path / "mutation.json").write_text(json.dumps({"cli": record(verdicts, diffs)}))
    text = mutation_report.write_report(tmp_path).read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `streamml/x.py`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # mutants, killed (timeout too), survived, no tests, equivalent, not run,
    # rate = 2 / (6 - 1 - 1)
    assert cells[2:9] == ["6", "2", "1", "1", "1", "1", "50.0%"]
    assert "not met" in cells[9] and cells[10] == "1.5 min" and cells[11] == "complete"
    assert "m.x__f__mutmut_3 (survived)" in text and "+new m.x__f__mutmut_3" in text
    assert "m.x__f__mutmut_5 (no tests)" in text
    assert "m.x__f__mutmut_2 (" not in text  # equivalent: counted apart, not listed
    assert "- `m.gone__mutmut_1`" in text  # listed as equivalent but no longer surviving
    assert r"lines not mutated: `^\s+help=`" in text
    assert "`python -m benchmarks mutation --modules cli`" in text


def test_an_equivalent_entry_needs_its_reason(tmp_path):
    path = tmp_path / "equivalent.txt"
    path.write_text("m.x__f__mutmut_2\n")
    with pytest.raises(ValueError, match="has no reason"):
        mutation_report.load_equivalent(path)


def test_unknown_modules_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown modules"):
        mutation.run_mutation(tmp_path, modules=["nope"])


def test_the_committed_equivalent_list_names_real_modules():
    modules = {t.path.removesuffix(".py").replace("/", ".") for t in mutation_targets.TARGETS}
    for name in mutation_report.load_equivalent():
        assert name.split(".x")[0] in modules, name
