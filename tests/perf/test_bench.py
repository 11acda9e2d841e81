"""The benchmark's parts that can be checked quickly: the raw-broker round trip, the RSS summary,
the report's verdicts and bad flags. The full `bench` is a long measurement, run by `make bench`."""
import os
import subprocess
import sys

import pytest
from django.conf import settings

from loadlab.perf.bench_phases import cpu_per_order, events_per_order, rss_summary
from loadlab.perf.benchmarks_doc import (
    KEPT_HEADING, carried_figures, cores_needed, figure_lines, figures, kept_notes, machine, markdown,
)
from loadlab.perf.pipeline_process import child_pids, process_cpu_seconds
from tests.support import manage, wait_until
from loadlab.perf.broker_roundtrip import raw_broker_roundtrip


@pytest.mark.integration
def test_raw_broker_round_trip_gets_back_every_event(kafka_broker):
    result = raw_broker_roundtrip(bootstrap=settings.KAFKA_BROKERS, events=300, timeout=60)
    assert result["received"] >= 300  # other tests share the topic: at least ours came back
    assert result["eventsPerSecond"] > 0 and result["messageBytes"] > 100


def test_rss_summary_reports_drift_against_the_start():
    mib = 2**20
    assert rss_summary([100 * mib, 130 * mib, 110 * mib]) == {
        "startMiB": 100.0, "endMiB": 110.0, "maxMiB": 130.0, "driftPercent": 10.0}
    assert rss_summary([])["driftPercent"] is None


def test_figures_compare_against_the_targets_and_land_in_markdown():
    f = figures(
        raw={"eventsPerSecond": 10_000.0},
        saturation={"completedRate": 600.0, "pipelineEventsPerSecond": 2_400.0, "eventsPerOrder": 4.0, "shed": 3,
                    "cpuMsPerOrder": {"pipeline": 3.0, "broker": 1.0}},
        latency={"offeredRate": 100.0, "latency": {"p50Ms": 40.0, "p99Ms": 300.0}, "shed": 7,
                 "cpuMsPerOrder": {"pipeline": 30.0, "broker": 10.0}},
        intake={"achievedRate": 900.0, "intakeLatency": {"p99Ms": 80.0}},
        overload=OVERLOAD,
    )
    assert f["pipelineToRawRatio"] == 0.24
    lines = figure_lines(f)
    assert "meets target" in lines[1] and "BELOW target" in lines[2] and "BELOW target" in lines[4]
    assert "p99 300.0 ms of the accepted (7 shed)" in lines[2]
    assert "3 shed, the client waiting out each Retry-After" in lines[1]
    assert lines[5].startswith("(e) CPU per finished order in (b): ")
    assert "pipeline 3.0 ms, broker 1.0 ms (total 4.0 ms) -> 0.6 cores busy at 150 orders/s" in lines[5]
    assert lines[5].endswith("target <= 8 ms: meets target")
    assert lines[6] == ("(f) overload, 5x (b) = 3000 orders/s offered: sent 30000, accepted 1500, shed 28500 "
                        "(503 + Retry-After), errors 0; accepted p50 900.0 ms, p99 4200.0 ms; unfinished after the "
                        "drain 0 - target p99 <= 5000, none lost: meets target")
    page = markdown(command="python manage.py bench", machine_info=machine(), lines=lines, soak=None, notes="n")
    assert "cores" in page and "GiB RAM" in page and "600.0 orders/s" in page


OVERLOAD = {"offeredRate": 3000.0, "factor": 5.0, "sent": 30000, "accepted": 1500, "shed": 28500, "errors": {},
            "latency": {"p50Ms": 900.0, "p99Ms": 4200.0}, "unfinished": 0, "unexpectedOutcomes": {}}


@pytest.mark.parametrize("overload, why", [
    ({"unfinished": 3}, "an accepted order lost"),
    ({"latency": {"p50Ms": 900.0, "p99Ms": 5200.0}}, "accepted orders waited too long"),
    ({"errors": {"500": 2}}, "errors are not shedding"),
])
def test_overload_misses_its_target_when_an_order_is_lost_or_late(overload, why):
    f = figures(raw={"eventsPerSecond": 1.0}, saturation={"completedRate": 1.0, "pipelineEventsPerSecond": 1.0,
                "eventsPerOrder": None}, latency={"offeredRate": 1.0, "latency": {"p50Ms": 1.0, "p99Ms": 1.0}},
                intake={"achievedRate": 1.0, "intakeLatency": {"p99Ms": 1.0}}, overload={**OVERLOAD, **overload})
    assert figure_lines(f)[-1].endswith("BELOW target"), why


@pytest.mark.parametrize("argv, reason", [
    (["--duration", "0"], "--duration must be in"),
    (["--duration", "soon"], "invalid float value"),
    (["--soak-only"], "--soak-only needs --soak"),
])
def test_bad_flags_are_one_line_and_non_zero(argv, reason):
    done = manage("bench", *argv)
    assert done.returncode != 0
    assert reason in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_hand_written_notes_survive_a_regeneration():
    assert kept_notes(f"# Benchmarks\nold figures\n{KEPT_HEADING}\nprofile says X\n") == f"\n{KEPT_HEADING}\nprofile says X\n"
    assert kept_notes("# Benchmarks\nno notes yet\n") == ""


def test_cpu_cost_per_order_and_the_cores_it_takes():
    cost = cpu_per_order({"pipeline": 10.0, "broker": 2.0}, {"pipeline": 14.0, "broker": 3.0}, orders=200)
    assert cost == {"pipeline": 20.0, "broker": 5.0}
    assert cores_needed(cost, 500) == 12.5
    assert cpu_per_order({"pipeline": 1.0}, {"pipeline": 2.0}, orders=0) == {"pipeline": None}
    assert cores_needed({"pipeline": None}, 500) is None


def test_cpu_seconds_come_from_proc_for_a_process_and_its_children():
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert child.pid in child_pids(os.getpid())
        before = process_cpu_seconds(child.pid)
        wait_until(lambda: process_cpu_seconds(child.pid) > before, timeout=10)
    finally:
        child.kill()
        child.wait()
    assert process_cpu_seconds(child.pid) == 0.0


def test_events_per_order_only_when_every_order_finished():
    assert events_per_order(400, terminal=100, unfinished=0) == 4.0
    assert events_per_order(8472, terminal=1343, unfinished=775) is None  # in-flight events, uncounted orders
    assert events_per_order(0, terminal=0, unfinished=0) is None
    f = figures(raw={"eventsPerSecond": 1.0}, saturation={"completedRate": 1.0, "pipelineEventsPerSecond": 1.0,
                "eventsPerOrder": None}, latency={"offeredRate": 1.0, "latency": {"p50Ms": 1.0, "p99Ms": 1.0}},
                intake={"achievedRate": 1.0, "intakeLatency": {"p99Ms": 1.0}})
    assert "events/order n/a: orders were still in flight" in figure_lines(f)[1]


def test_a_memory_only_run_carries_the_last_figures_over():
    info = machine()
    full = markdown(command="python manage.py bench", machine_info=info, lines=["(a) one", "(b) two"], soak=None, notes="n")
    lines, results, note = carried_figures(full, {"machine": {"cores": 2}, "figures": {"x": 1}, "soak": {"old": 1}})
    assert lines == ["(a) one", "(b) two"]
    assert results == {"figures": {"x": 1}, "figuresFrom": {"date": info["date"], "machine": {"cores": 2}}}
    assert info["date"] in note
    again = markdown(command="python manage.py bench --soak 60 --soak-only", machine_info=info, lines=lines,
                     soak=None, notes="n", figures_note=note)
    assert carried_figures(again, {})[0] == lines  # carried twice, still the same figures
    later = {**machine(), "date": "a later date"}
    again = markdown(command="python manage.py bench --soak 60 --soak-only", machine_info=later, lines=lines,
                     soak=None, notes="n", figures_note=note)
    _, twice, note_twice = carried_figures(again, results)
    assert twice["figuresFrom"]["date"] == info["date"] and info["date"] in note_twice  # the full run's date, not the last run's
    assert carried_figures("# Benchmarks\nnothing yet\n", {}) == ([], {}, None)


def test_the_memory_section_says_what_the_store_held_at_the_end():
    soak = {"seconds": 60, "rate": 100, "orders": 10, "startMiB": 100.0, "endMiB": 110.0, "maxMiB": 111.0,
            "driftPercent": 10.0, "storeStatuses": {"SHIPPED": 8, "PENDING": 2}}
    page = markdown(command="c", machine_info=machine(), lines=[], soak=soak, notes="n")
    assert "drift +10.0 %; at the end the read model held 2 PENDING, 8 SHIPPED" in page
    page = markdown(command="c", machine_info=machine(), lines=[], soak={**soak, "storeStatuses": None}, notes="n")
    assert "the read model held an unknown mix (the process did not answer" in page


def test_the_soak_table_has_cpu_and_rss_of_each_process_per_minute():
    soak = {"seconds": 120, "rate": 5, "orders": 600, "startMiB": 100.0, "endMiB": 101.0, "maxMiB": 102.0,
            "driftPercent": 1.0, "storeStatuses": {"SHIPPED": 600},
            "minutes": [{"minute": 1, "shipped": 300, "cpuMsPerOrder": {"pipeline": 50.0, "store": 70.0},
                         "rssMiB": {"pipeline": 100.5, "kafka": 600.0, "store": 50.0}},
                        {"minute": 2, "shipped": 300, "cpuMsPerOrder": {"pipeline": 51.0, "store": 72.0},
                         "rssMiB": {"pipeline": 101.0, "kafka": 601.0, "store": 51.0}}]}
    page = markdown(command="c", machine_info=machine(), lines=[], soak=soak, notes="n")
    assert ("| minute | orders shipped | pipeline ms/order | store ms/order | pipeline RSS MiB | kafka RSS MiB "
            "| store RSS MiB |") in page
    assert "| 2 | 300 | 51.0 | 72.0 | 101.0 | 601.0 | 51.0 |" in page
