"""The machine a benchmark ran on, the figures against the targets (issue 13), and docs/benchmarks.md."""
from __future__ import annotations

import os
import platform
import re
from datetime import datetime, timezone

TARGET_ORDERS_PER_SECOND = 150
TARGET_P99_MS_AT_100 = 250
TARGET_CPU_MS_PER_ORDER = 8
TARGET_OVERLOAD_P99_MS = 5000
TARGET_RAW_RATIO = 0.25
KEPT_HEADING = "## Notes (kept across runs)"


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "ramGiB": round(_meminfo_kib("MemTotal") / 2**20, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "loadAverage": [round(v, 2) for v in os.getloadavg()],
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _meminfo_kib(field: str) -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def figures(*, raw: dict, saturation: dict, latency: dict, intake: dict, overload: dict | None = None) -> dict:
    ratio = saturation["pipelineEventsPerSecond"] / raw["eventsPerSecond"] if raw["eventsPerSecond"] else 0.0
    return {
        "rawBrokerEventsPerSecond": raw["eventsPerSecond"],
        "pipelineOrdersPerSecond": saturation["completedRate"],
        "pipelineEventsPerSecond": saturation["pipelineEventsPerSecond"],
        "eventsPerOrder": saturation["eventsPerOrder"],
        "pipelineToRawRatio": round(ratio, 4),
        "latencyAt": latency["offeredRate"],
        "latencyP50Ms": latency["latency"]["p50Ms"],
        "latencyP99Ms": latency["latency"]["p99Ms"],
        "latencyShed": latency.get("shed", 0),
        "intakeRequestsPerSecond": intake["achievedRate"],
        "intakeP99Ms": intake["intakeLatency"]["p99Ms"],
        "cpuMsPerOrder": saturation.get("cpuMsPerOrder"),
        "saturationShed": saturation.get("shed", 0),
        "overload": {"offeredRate": overload["offeredRate"], "factor": overload["factor"], "sent": overload["sent"],
                     "accepted": overload["accepted"], "shed": overload.get("shed", 0),
                     "errors": sum(overload["errors"].values()), "p50Ms": overload["latency"]["p50Ms"],
                     "p99Ms": overload["latency"]["p99Ms"], "unfinished": overload["unfinished"],
                     "unexpected": overload["unexpectedOutcomes"]} if overload else None,
    }


def cores_needed(cpu_ms_per_order: dict[str, float | None] | None, orders_per_second: float) -> float | None:
    """Cores kept busy at `orders_per_second` at the measured CPU cost per order (the load generator's own
    share not counted)."""
    if not cpu_ms_per_order or any(v is None for v in cpu_ms_per_order.values()):
        return None
    return round(sum(cpu_ms_per_order.values()) * orders_per_second / 1000, 1)


def figure_lines(f: dict) -> list[str]:
    def verdict(ok: bool) -> str:
        return "meets target" if ok else "BELOW target"

    p99 = f["latencyP99Ms"]
    per_order = (f"{f['eventsPerOrder']} events/order" if f["eventsPerOrder"] is not None
                 else "events/order n/a: orders were still in flight at the end")
    return [
        f"(a) raw broker round trip        {f['rawBrokerEventsPerSecond']:>10,.0f} events/s",
        f"(b) pipeline at saturation       {f['pipelineOrdersPerSecond']:>10,.1f} orders/s end to end "
        f"({f['pipelineEventsPerSecond']:,.0f} events/s, {per_order}; {f.get('saturationShed', 0)} shed, "
        f"the client waiting out each Retry-After) "
        f"- target >= {TARGET_ORDERS_PER_SECOND}: {verdict(f['pipelineOrdersPerSecond'] >= TARGET_ORDERS_PER_SECOND)}",
        f"(c) latency at {f['latencyAt']:g} orders/s     p50 {f['latencyP50Ms']} ms, p99 {p99} ms "
        f"of the accepted ({f.get('latencyShed', 0)} shed) "
        f"- target p99 <= {TARGET_P99_MS_AT_100}: {verdict(p99 is not None and p99 <= TARGET_P99_MS_AT_100)}",
        f"(d) intake alone                 {f['intakeRequestsPerSecond']:>10,.1f} POST/s, p99 {f['intakeP99Ms']} ms",
        f"pipeline events/s / raw broker events/s = {f['pipelineToRawRatio']:.1%} "
        f"- target >= {TARGET_RAW_RATIO:.0%}: {verdict(f['pipelineToRawRatio'] >= TARGET_RAW_RATIO)}",
        *_cost_lines(f.get("cpuMsPerOrder")),
        *_overload_lines(f.get("overload")),
    ]


def _overload_lines(o: dict | None) -> list[str]:
    if not o:
        return []
    p99, lost = o["p99Ms"], o["unfinished"]
    ok = p99 is not None and p99 <= TARGET_OVERLOAD_P99_MS and lost == 0 and not o["unexpected"] and not o["errors"]
    return [f"(f) overload, {o['factor']:g}x (b) = {o['offeredRate']:g} orders/s offered: sent {o['sent']}, "
            f"accepted {o['accepted']}, shed {o['shed']} (503 + Retry-After), errors {o['errors']}; accepted p50 "
            f"{o['p50Ms']} ms, p99 {p99} ms; unfinished after the drain {lost}"
            + (f", unexpected outcomes {o['unexpected']}" if o["unexpected"] else "")
            + f" - target p99 <= {TARGET_OVERLOAD_P99_MS}, none lost: {'meets target' if ok else 'BELOW target'}"]


def _cost_lines(cost: dict[str, float | None] | None) -> list[str]:
    cores = cores_needed(cost, TARGET_ORDERS_PER_SECOND)
    if cores is None:
        return []
    parts = ", ".join(f"{process} {ms} ms" for process, ms in cost.items())
    total = round(sum(cost.values()), 2)
    verdict = "meets target" if total <= TARGET_CPU_MS_PER_ORDER else "BELOW target"
    return [f"(e) CPU per finished order in (b): {parts} (total {total} ms) "
            f"-> {cores} cores busy at {TARGET_ORDERS_PER_SECOND} orders/s - target <= {TARGET_CPU_MS_PER_ORDER} ms: {verdict}"]


def markdown(*, command: str, machine_info: dict, lines: list[str], soak: dict | None, notes: str,
             figures_note: str | None = None) -> str:
    soak_text = (
        f"- RSS of the all-in-one process over {soak['seconds']:g} s at {soak['rate']:g} orders/s "
        f"({soak['orders']} orders): start {soak['startMiB']} MiB, end {soak['endMiB']} MiB, max {soak['maxMiB']} MiB, "
        f"drift {soak['driftPercent']:+.1f} %; at the end the read model held {_statuses(soak)}\n"
        + "".join(_soak_minute_lines(soak))
        if soak else "- not run in this benchmark (`python manage.py bench --soak 600`)\n"
    )
    return (
        "# Benchmarks\n\n"
        "Written by `python manage.py bench` (`make bench`); rerun it to refresh this page.\n\n"
        f"- command: `{command}`\n"
        f"- date: {machine_info['date']}\n"
        f"- machine: {machine_info['cores']} cores ({machine_info['cpu']}), {machine_info['ramGiB']} GiB RAM, "
        f"Python {machine_info['python']}\n"
        f"- load average at start: {', '.join(map(str, machine_info['loadAverage']))} "
        "(other work on the machine makes every figure pessimistic)\n\n"
        "## Figures\n\n" + (f"{figures_note}\n\n" if figures_note else "")
        + "```\n" + "\n".join(lines) + "\n```\n\n"
        "## Memory\n\n" + soak_text + "\n"
        "## How each figure is measured\n\n" + notes
    )


METHOD_NOTES = """\
- (a) raw broker: a fresh local Kafka (empty data); as many real envelopes as the pipeline moved in (b)
  (events per order x orders) are produced with `settings.KAFKA_PRODUCER` and consumed back in a
  consumer group with `settings.KAFKA_CONSUMER`, committing each batch as the runner does;
  events/s from the first produce to the last message consumed.
- (b) saturation: a fresh `runpipeline` on empty data (its own local Kafka and FerretDB, in-memory
  channel layer), warmed up, offered far more happy-path orders than it can finish by a client that
  honours Retry-After (`loadgen --honour-retry-after`: after a 503 it sends nothing until Retry-After
  has passed); orders/s = orders finished / seconds from the first POST to the last terminal status
  seen on `/ws/orders/`. A client that kept sending would measure the door answering 503s on the same
  cores, not the pipeline.
  Pipeline events/s = events the outbox relays published (from `/metrics`) over the same time.
- (c) latency: a fresh `runpipeline`, warmed up, at a steady offered rate; POST sent -> terminal
  status received on the websocket feed, nearest-rank percentiles.
- (e) CPU cost: utime + stime of the `runpipeline` process (every thread: web, consumers, relays,
  librdkafka), of its Kafka (`kafka`) and of its FerretDB (`store`), read from /proc before and after
  (b), divided by the orders that finished (the pipeline at its capacity); the soak's table gives the
  same per minute at a steady rate below it; times the target rate it gives the cores the target would keep busy.
- (f) overload: a fresh `runpipeline`, warmed up, offered 5x the rate (b) finished, back-pressure on
  as shipped (docs/operations.md#back-pressure-503-at-the-door); shed = 503 + Retry-After, not offered
  again; p99 over the accepted orders; unfinished = accepted orders not terminal after the drain.
- (d) intake: the web process alone (daphne, no consumers, a local FerretDB), POST /api/orders as fast as it
  answers with the given concurrency.
- soak (`--soak N --soak-rate R`): one `runpipeline` at R orders/s for N s; RSS of each process, and
  per minute the CPU each process spent per order shipped in that minute (a cost that grows with
  history shows as a rising column).
- The load generator runs on the same machine and takes its share of the cores.
"""


def _soak_minute_lines(soak: dict) -> list[str]:
    """CPU per shipped order in each minute of the soak, per process, and the engines' RSS."""
    lines = []
    for name, rss in (soak.get("engineRss") or {}).items():
        if rss.get("startMiB") is not None:
            lines.append(f"- RSS of {name}: start {rss['startMiB']} MiB, end {rss['endMiB']} MiB, max {rss['maxMiB']} MiB, "
                         f"drift {rss['driftPercent']:+.1f} %\n")
    minutes = soak.get("minutes") or []
    if minutes:
        rss = list(minutes[0].get("rssMiB") or {})
        lines.append("\n| minute | orders shipped | " + " | ".join(f"{p} ms/order" for p in minutes[0]["cpuMsPerOrder"])
                     + "".join(f" | {p} RSS MiB" for p in rss) + " |\n")
        lines.append("|---|---|" + "---|" * (len(minutes[0]["cpuMsPerOrder"]) + len(rss)) + "\n")
        for m in minutes:
            lines.append(f"| {m['minute']} | {m['shipped']} | " + " | ".join(str(v) for v in m["cpuMsPerOrder"].values())
                         + "".join(f" | {(m.get('rssMiB') or {}).get(p)}" for p in rss) + " |\n")
    return lines


def _statuses(soak: dict) -> str:
    statuses = soak.get("storeStatuses")
    if statuses is None:
        return "an unknown mix (the process did not answer /api/read/status-counts in time)"
    return ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())) or "no orders"


def carried_figures(previous: str, previous_json: dict) -> tuple[list[str], dict, str | None]:
    """For a memory-only run: the figure lines and results of the page's last full run, and a line
    saying where they come from (nothing when the page has none)."""
    block = re.search(r"## Figures\n\n(?:.*\n\n)?```\n(.*?)\n```", previous, re.S)
    date = re.search(r"^- date: (.+)$", previous, re.M)
    if not block or not block.group(1).strip():
        return [], {}, None
    carried = previous_json.get("figuresFrom")  # the page was a memory-only run already: keep the full run's date
    when = carried["date"] if carried else (date.group(1) if date else "an earlier run")
    results = {key: value for key, value in previous_json.items() if key not in {"soak", "machine"}}
    results["figuresFrom"] = carried or {"date": when, "machine": previous_json.get("machine")}
    return block.group(1).split("\n"), results, f"Carried over from the full run of {when}; this run measured memory only."


def kept_notes(previous: str) -> str:
    """The hand-written analysis below KEPT_HEADING survives a regeneration of the page."""
    index = previous.find(KEPT_HEADING)
    return "\n" + previous[index:] if index >= 0 else ""
