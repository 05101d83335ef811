from __future__ import annotations

import math

import pytest

from benchmarks.drift import ari, detections, window_mean
from benchmarks.scaling import growth_exponent


def test_detection_delay_and_false_alarms():
    events = [50, 120, 1_020, 1_100, 1_900, 3_600, 5_000]
    delays, false_alarms, initial = detections(events, [1_000, 3_000], n=6_000, tolerance=500)
    assert delays == [20, None]  # 3,600 is past the 500-instance window of the change at 3,000
    assert initial == 2  # 50 and 120: the structure being learnt
    assert false_alarms == 3  # 1,900, 3,600 and 5,000


def test_detection_window_stops_at_the_next_change():
    delays, false_alarms, _ = detections([1_150], [1_000, 1_100], n=5_000, tolerance=500)
    assert delays == [None, 50]
    assert false_alarms == 0


def test_ari_ignores_cluster_order_and_labels_missing_on_one_side():
    assert ari([{"a", "b"}, {"c", "d"}], [["d", "c"], ["b", "a"]]) == 1.0
    assert ari([{"a", "b"}, {"c"}], [["a", "b", "c", "z"]]) == pytest.approx(0.0)
    assert math.isnan(ari([{"a"}], [["a"]]))


def test_window_mean_uses_blocks_ending_inside():
    blocks = [{"end": 100, "m": 1.0}, {"end": 200, "m": 3.0}, {"end": 300, "m": 5.0}]
    assert window_mean(blocks, 100, 300, "m") == 4.0
    assert math.isnan(window_mean(blocks, 300, 400, "m"))


def test_growth_exponent_recovers_a_power_law():
    labels = [10, 30, 100, 300, 1000]
    slope, intercept = growth_exponent(labels, [0.5 * x**1.5 for x in labels])
    assert slope == pytest.approx(1.5)
    assert math.exp(intercept) == pytest.approx(0.5)


def test_growth_exponent_skips_missing_points():
    slope, _ = growth_exponent([10, 100, 1000], [2.0, math.nan, 200.0])
    assert slope == pytest.approx(1.0)
    assert math.isnan(growth_exponent([10], [1.0])[0])
