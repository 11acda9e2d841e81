"""The phases of `bench`, each on its own fresh process(es): raw broker, pipeline latency at a
fixed rate and at saturation, intake alone, and the memory soak."""
from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from ecom_project.engines.local import LocalEngines
from ecom_project.messaging.broker import create_topics
from loadlab.perf.broker_roundtrip import raw_broker_roundtrip
from loadlab.perf.load_run import LoadPlan
from loadlab.perf.load_session import run_with_progress
from loadlab.perf.pipeline_process import PipelineProcess, produced_events, shipped_orders

HAPPY_ONLY = {"happy": 1.0}


@dataclass(frozen=True)
class BenchPlan:
    duration: float = 10.0
    latency_rate: float = 100.0
    saturation_rate: float = 1000.0
    intake_rate: float = 3000.0
    concurrency: int = 64
    drain_timeout: float = 60.0
    warmup: float = 3.0
    progress: bool = True


def warm_up(pipeline: PipelineProcess, plan: BenchPlan) -> None:
    """Measure only after an order got through (consumer-group joins, JIT and caches warm)."""
    warmup = LoadPlan(rate=20, duration=plan.warmup, base_url=pipeline.base_url, mix=HAPPY_ONLY, drain_timeout=60)
    run_with_progress(warmup, progress=plan.progress, desc="warm-up")


def pipeline_run(plan: BenchPlan, *, rate: float, desc: str, honour_retry_after: bool = False) -> dict:
    """One fresh all-in-one pipeline, warmed up, then `rate` orders/s for plan.duration seconds."""
    with PipelineProcess() as pipeline:
        warm_up(pipeline, plan)
        before = produced_events(pipeline.metrics_text())
        load = LoadPlan(rate=rate, duration=plan.duration, base_url=pipeline.base_url, concurrency=plan.concurrency,
                        mix=HAPPY_ONLY, drain_timeout=plan.drain_timeout, honour_retry_after=honour_retry_after)
        cpu_before = pipeline.cpu_seconds()
        started = time.monotonic()
        result = run_with_progress(load, progress=plan.progress, desc=desc)
        result["cpuMsPerOrder"] = cpu_per_order(cpu_before, pipeline.cpu_seconds(), orders=result["terminal"])
        events = produced_events(pipeline.metrics_text()) - before
        result["pipelineEvents"] = events
        finished = result["terminal"] + (result["finishedUnseen"] or 0)
        result["eventsPerOrder"] = events_per_order(events, terminal=finished, unfinished=result["unfinished"])
        result["pipelineEventsPerSecond"] = round(events / (time.monotonic() - started), 1)
        return result


def events_per_order(events: int, *, terminal: int, unfinished: int) -> float | None:
    """Only meaningful when every order taken has finished: events of orders still in flight at the
    end are counted, the orders themselves are not (a drain cut short showed 6.3 for 4 real)."""
    return round(events / terminal, 2) if terminal and not unfinished else None


def cpu_per_order(before: dict[str, float], after: dict[str, float], *, orders: int) -> dict[str, float | None]:
    """CPU milliseconds each process spent per finished order over a run (None without orders)."""
    return {name: round((after[name] - before.get(name, 0.0)) * 1000 / orders, 2) if orders else None for name in after}


def saturation_run(plan: BenchPlan) -> dict:
    """Offered well above capacity by a client that honours Retry-After: it sends nothing while told to wait, so
    the pipeline works at the pace its door allows, not answering a flood of 503s on the same cores.
    Completions/s over the whole run (drain included) is the ceiling; CPU per finished order (e) is taken here."""
    result = pipeline_run(plan, rate=plan.saturation_rate, desc="saturation", honour_retry_after=True)
    busy = result["terminal"] / result["completedRate"] if result["completedRate"] else 0
    result["pipelineEventsPerSecond"] = round(result["pipelineEvents"] / busy, 1) if busy else 0.0
    return result


def overload_run(plan: BenchPlan, *, saturation: float, factor: float = 5.0) -> dict:
    """Offered `factor` x the measured saturation, back-pressure on (the default): the door should shed the
    excess with 503 + Retry-After, the accepted orders finish within the latency budget, and none is lost."""
    rate = max(1.0, round(saturation * factor, 1))
    result = pipeline_run(plan, rate=rate, desc=f"overload @{rate:g}/s")
    result["factor"] = factor
    return result


def intake_run(plan: BenchPlan) -> dict:
    """The web process alone (daphne, no consumers, no broker): POST /api/orders as fast as it answers."""
    with PipelineProcess(web_only=True) as web:
        load = LoadPlan(rate=plan.intake_rate, duration=plan.duration, base_url=web.base_url,
                        concurrency=plan.concurrency, mix=HAPPY_ONLY, follow=False)
        return run_with_progress(load, progress=plan.progress, desc="intake")


def raw_broker_run(*, events: int, progress: bool = True) -> dict:
    with tempfile.TemporaryDirectory(prefix="ecom-raw-broker-") as scratch:
        engines = LocalEngines(Path(scratch), store=False).start()
        broker = engines.kafka
        create_topics(broker.bootstrap, partitions=settings.KAFKA_PARTITIONS)

        def report(sent: int, received: int) -> None:
            if progress:
                print(f"\rraw broker: produced {sent}/{events}, consumed {received}", end="", flush=True)

        try:
            result = raw_broker_roundtrip(bootstrap=broker.bootstrap, events=events, on_progress=report)
        finally:
            engines.stop()
        if progress:
            print()
        return result


def soak_run(plan: BenchPlan, *, seconds: float, rate: float = 100.0, sample_every: float = 1.0,
             window: float = 60.0) -> dict:
    """RSS of the all-in-one process and its engines, sampled while it serves `rate` orders/s for `seconds`;
    and, per `window` (a minute), the CPU each process spent per order shipped in it: a broker or store whose
    cost grows with history shows as a rising line."""
    with PipelineProcess() as pipeline:
        warm_up(pipeline, plan)
        samples: list[tuple[float, int]] = []
        engines: list[tuple[float, dict[str, int]]] = []
        windows: list[dict] = []
        stop = threading.Event()

        def sample() -> None:
            started = time.monotonic()
            mark = (pipeline.cpu_seconds(), shipped_orders(pipeline.metrics_text()), started)
            while not stop.is_set():
                now = time.monotonic()
                samples.append((round(now - started, 1), pipeline.rss_bytes()))
                if now - mark[2] >= window:
                    cpu, shipped = pipeline.cpu_seconds(), shipped_orders(pipeline.metrics_text())
                    engines.append((round(now - started, 1), pipeline.engine_rss()))
                    rss = {"pipeline": samples[-1][1], **engines[-1][1]}
                    windows.append({"minute": len(windows) + 1, "shipped": shipped - mark[1],
                                    "cpuMsPerOrder": cpu_per_order(mark[0], cpu, orders=shipped - mark[1]),
                                    "rssMiB": {name: round(value / 2**20, 1) for name, value in rss.items()}})
                    mark = (cpu, shipped, now)
                stop.wait(sample_every)

        sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
        sampler.start()
        load = LoadPlan(rate=rate, duration=seconds, base_url=pipeline.base_url, concurrency=plan.concurrency,
                        mix=HAPPY_ONLY, drain_timeout=plan.drain_timeout)
        try:
            result = run_with_progress(load, progress=plan.progress, desc="soak")
        finally:
            stop.set()
            sampler.join(5)
        statuses = pipeline.status_counts()
    return {**rss_summary([rss for _, rss in samples]), "seconds": seconds, "rate": rate,
            "orders": result["accepted"], "finishedSeen": result["terminal"], "storeStatuses": statuses,
            "latency": result["latency"], "rssSeries": samples, "minutes": windows,
            "engineRss": {name: rss_summary([rss[name] for _, rss in engines if name in rss]) for name in ("kafka", "store")}}


def rss_summary(samples: list[int]) -> dict:
    """Start, end and max in MiB, and the drift of the end against the start in %."""
    if not samples:
        return {"startMiB": None, "endMiB": None, "maxMiB": None, "driftPercent": None}
    mib = [s / 2**20 for s in samples]
    return {"startMiB": round(mib[0], 1), "endMiB": round(mib[-1], 1), "maxMiB": round(max(mib), 1),
            "driftPercent": round((mib[-1] - mib[0]) / mib[0] * 100, 1)}
