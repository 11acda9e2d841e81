"""Percentiles and per-second series: pure, no timing."""
import pytest

from loadlab.perf.stats import latency_per_second, latency_summary, per_second, percentile, rate


def test_percentile_is_nearest_rank_and_a_real_sample():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([7.0], 0.99) == 7.0


def test_percentile_of_nothing_is_none_and_fraction_is_checked():
    assert percentile([], 0.5) is None
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)


def test_latency_summary_in_milliseconds():
    summary = latency_summary([0.010, 0.020, 0.030, 0.040])
    assert summary == {"count": 4, "p50Ms": 20.0, "p95Ms": 40.0, "p99Ms": 40.0, "maxMs": 40.0, "meanMs": 25.0}
    assert latency_summary([])["p99Ms"] is None


def test_per_second_counts_and_ignores_outside_the_window():
    assert per_second([100.1, 100.9, 101.5, 99.0, 103.2], start=100.0, seconds=3) == [2, 1, 0]


def test_latency_per_second_is_none_where_nothing_finished():
    samples = [(100.2, 0.010), (100.4, 0.030), (102.1, 0.050)]
    assert latency_per_second(samples, start=100.0, seconds=3, fraction=0.5) == [10.0, None, 50.0]


def test_rate_of_no_time_is_zero():
    assert rate(10, 0) == 0.0
    assert rate(10, 4) == 2.5
