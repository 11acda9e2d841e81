"""The load run's summary, text report and HTML plot from hand-made records (no network, no clock)."""
from loadlab.perf.load_report import html_plot, report_lines, summarize
from loadlab.perf.load_run import LoadOutcome, LoadPlan, OrderRecord


def outcome() -> LoadOutcome:
    plan = LoadPlan(rate=4, duration=1, mix={"happy": 0.5, "unknown": 0.5})
    records = [
        OrderRecord("happy", 0.00, 0.01, "a", status="SHIPPED", terminal_at=0.10),
        OrderRecord("happy", 0.25, 0.26, "b", status="SHIPPED", terminal_at=0.55),
        OrderRecord("unknown", 0.50, 0.52, "c", status="REJECTED", terminal_at=1.30),
        OrderRecord("unknown", 0.75, 0.80, "d"),
        OrderRecord("happy", 0.80, 0.90, error="HTTP 503"),
    ]
    return LoadOutcome(plan, started_at=0.0, send_ended_at=1.0, ended_at=2.0, records=records)


def test_summary_counts_outcomes_rates_and_latency():
    result = summarize(outcome())
    assert (result["sent"], result["accepted"], result["terminal"], result["unfinished"]) == (5, 4, 3, 1)
    assert result["errors"] == {"HTTP 503": 1}
    assert result["outcomes"] == {"SHIPPED": 2, "REJECTED": 1}
    assert result["outcomesByKind"]["unknown"] == {"REJECTED": 1, "unfinished": 1}
    assert result["achievedRate"] == 4.0
    assert result["completedRate"] == round(3 / 1.3, 2)
    assert result["latency"]["p50Ms"] == 300.0 and result["latency"]["maxMs"] == 800.0
    assert result["series"]["terminal"] == [2, 1]
    assert result["unexpectedOutcomes"] == {}


def test_report_and_plot_show_the_figures():
    result = summarize(outcome())
    text = "\n".join(report_lines(result))
    assert "offered 4 orders/s" in text and "p99 800.0 ms" in text and "unfinished 1" in text
    page = html_plot(result)
    assert page.startswith("<!doctype html>") and page.count("<svg") == 2 and "<script" not in page


def test_orders_found_finished_in_the_store_are_not_reported_unfinished():
    base = outcome()
    base.records[3].store_status, base.records[3].checked = "REJECTED", True
    result = summarize(base)
    assert (result["terminal"], result["finishedUnseen"], result["unfinished"], result["unfinishedUnchecked"]) == (3, 1, 0, 0)
    assert result["outcomesByKind"]["unknown"] == {"REJECTED": 2}
    assert result["latency"]["count"] == 3, "no latency is made up for an order the feed never showed"
    assert "1 more finished but never shown on the feed, unfinished 0" in "\n".join(report_lines(result))


def test_shed_orders_are_counted_and_reported_apart_from_errors():
    base = outcome()
    base.records.append(OrderRecord("happy", 0.90, 0.91, shed=True))
    result = summarize(base)
    assert result["shed"] == 1 and result["errors"] == {"HTTP 503": 1}
    assert result["series"]["shed"] == [1, 0]
    assert "shed 1 (503 + Retry-After)" in "\n".join(report_lines(result))
