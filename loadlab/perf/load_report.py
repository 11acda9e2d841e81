"""A load run's result: the JSON document, the text report and the self-contained HTML plot."""
from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timezone

from loadlab.perf.load_run import LoadOutcome
from loadlab.perf.order_mix import EXPECTED_STATUS
from loadlab.perf.stats import latency_per_second, latency_summary, per_second, rate


def summarize(outcome: LoadOutcome) -> dict:
    """Everything the report, the JSON file and the plot need, as plain JSON data."""
    plan, records = outcome.plan, outcome.records
    start = outcome.started_at
    send_seconds = max(outcome.send_ended_at - start, 1e-9)
    accepted = [r for r in records if r.order_id]
    finished = [r for r in accepted if r.terminal_at is not None]
    unseen = [r for r in accepted if r.terminal_at is None and r.store_status]
    last_terminal = max((r.terminal_at for r in finished), default=start)
    seconds = max(1, math.ceil(outcome.ended_at - start))
    samples = [(r.terminal_at, r.terminal_at - r.sent_at) for r in finished]
    unexpected = Counter(f"{r.kind}->{r.status}" for r in finished if EXPECTED_STATUS.get(r.kind) != r.status)
    return {
        "finishedAt": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "plan": {"rate": plan.rate, "duration": plan.duration, "baseUrl": plan.base_url, "concurrency": plan.concurrency,
                 "mix": plan.mix, "followed": plan.follow, "drainTimeout": plan.drain_timeout},
        "planned": plan.planned,
        "sent": len(records),
        "accepted": len(accepted),
        "shed": sum(1 for r in records if r.shed),
        "errors": dict(Counter(r.error for r in records if r.error)),
        "terminal": len(finished),
        "finishedUnseen": len(unseen) if plan.follow else None,
        "unfinished": len(accepted) - len(finished) - len(unseen) if plan.follow else None,
        "unfinishedUnchecked": sum(1 for r in accepted if r.status is None and not r.checked) if plan.follow else None,
        "offeredRate": plan.rate,
        "achievedRate": rate(len(accepted), send_seconds),
        "completedRate": rate(len(finished), last_terminal - start) if finished else 0.0,
        "outcomes": dict(Counter(r.status for r in finished)),
        "outcomesByKind": {kind: dict(Counter(r.status or r.store_status or "unfinished" for r in accepted if r.kind == kind))
                           for kind in sorted({r.kind for r in accepted})},
        "unexpectedOutcomes": dict(unexpected),
        "latency": latency_summary([latency for _, latency in samples]),
        "intakeLatency": latency_summary([r.answered_at - r.sent_at for r in records if r.answered_at and not r.error]),
        "feedMessages": outcome.feed_messages,
        "series": {
            "second": list(range(seconds)),
            "sent": per_second((r.sent_at for r in records), start=start, seconds=seconds),
            "shed": per_second((r.sent_at for r in records if r.shed), start=start, seconds=seconds),
            "terminal": per_second((at for at, _ in samples), start=start, seconds=seconds),
            "p50Ms": latency_per_second(samples, start=start, seconds=seconds, fraction=0.5),
            "p99Ms": latency_per_second(samples, start=start, seconds=seconds, fraction=0.99),
        },
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def report_lines(result: dict) -> list[str]:
    latency, intake = result["latency"], result["intakeLatency"]
    lines = [
        f"offered {result['offeredRate']:g} orders/s for {result['plan']['duration']:g} s: "
        f"sent {result['sent']}, accepted {result['accepted']} ({result['achievedRate']:g}/s), "
        f"shed {result.get('shed', 0)} (503 + Retry-After), "
        f"errors {sum(result['errors'].values())}" + (f" {result['errors']}" if result["errors"] else ""),
        f"intake POST latency   p50 {_ms(intake['p50Ms'])}  p99 {_ms(intake['p99Ms'])}  max {_ms(intake['maxMs'])}",
    ]
    if result["plan"]["followed"]:
        outcomes = ", ".join(f"{status} {n}" for status, n in sorted(result["outcomes"].items())) or "none"
        unseen = result.get("finishedUnseen") or 0
        unchecked = result.get("unfinishedUnchecked") or 0
        lines += [
            f"terminal {result['terminal']} ({result['completedRate']:g} orders/s end to end), "
            + (f"{unseen} more finished but never shown on the feed, " if unseen else "")
            + f"unfinished {result['unfinished']}" + (f" ({unchecked} not looked up)" if unchecked else "")
            + f": {outcomes}",
            f"POST->terminal latency p50 {_ms(latency['p50Ms'])}  p95 {_ms(latency['p95Ms'])}  "
            f"p99 {_ms(latency['p99Ms'])}  max {_ms(latency['maxMs'])}",
        ]
        if result["unexpectedOutcomes"]:
            lines.append(f"unexpected outcomes (kind->status): {result['unexpectedOutcomes']}")
    return lines


def _polyline(values: list, *, width: int, height: int, top: float, color: str) -> str:
    if not values or top <= 0:
        return ""
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - (v / top) * height:.1f}" for i, v in enumerate(values) if v is not None)
    return f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'


def _chart(title: str, series: dict[str, tuple[list, str]], unit: str) -> str:
    width, height = 760, 220
    top = max([v for values, _ in series.values() for v in values if v is not None] or [0]) * 1.1 or 1
    lines = "".join(_polyline(values, width=width, height=height, top=top, color=color) for values, color in series.values())
    legend = " ".join(f'<span style="color:{color}">&#9632; {name}</span>' for name, (_, color) in series.items())
    return (
        f"<h2>{title}</h2><p>{legend} &nbsp; (top of chart = {top:.0f} {unit}; x = seconds since start)</p>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'style="border:1px solid #ccc;background:#fff">{lines}</svg>'
    )


def html_plot(result: dict) -> str:
    """A self-contained page (inline SVG, no scripts, no external files) of throughput and latency over time."""
    series = result["series"]
    report = "".join(f"<li>{line}</li>" for line in report_lines(result))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>loadgen result</title></head>"
        "<body style='font-family:sans-serif'>"
        f"<h1>loadgen {result['finishedAt']}</h1><ul>{report}</ul>"
        + _chart("Throughput per second", {"sent": (series["sent"], "#1f77b4"), "shed": (series.get("shed", []), "#d62728"),
                                           "terminal": (series["terminal"], "#2ca02c")}, "orders/s")
        + _chart("POST→terminal latency of orders finished in each second",
                 {"p50": (series["p50Ms"], "#ff7f0e"), "p99": (series["p99Ms"], "#d62728")}, "ms")
        + "</body></html>"
    )
