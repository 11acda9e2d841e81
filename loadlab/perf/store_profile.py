"""Store commands and CPU per finished order, with every consumer and relay in this process.

What the batch kernel is judged by on FerretDB: each store command costs the store about 1–3 ms of
CPU, so commands per order is the figure that moves its cost. pymongo's command monitoring counts
every command the consumers and relays send (by command, collection and component); the orders are
placed through the orders service (no HTTP: `bench` measures intake apart)."""
from __future__ import annotations

import random
import resource
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from pymongo import monitoring

from loadlab.perf.pipeline_process import process_cpu_seconds

TERMINAL = ["SHIPPED", "REJECTED", "CANCELLED"]


class _Counter(monitoring.CommandListener):
    """Commands of the pipeline's threads (not the main thread, which places orders and polls)."""

    def __init__(self) -> None:
        self.on = False
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()

    def started(self, event) -> None:
        if self.on and threading.current_thread() is not threading.main_thread():
            component = threading.current_thread().name.split("-")[0]
            with self._lock:
                self.counts[(event.command_name, str(event.command.get(event.command_name)), component)] += 1

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


_listener = _Counter()
monitoring.register(_listener)  # before the first client exists: the project's client is made lazily


@dataclass
class Profile:
    orders: int
    seconds: float
    commands: Counter = field(default_factory=Counter)
    cpu_ms: dict[str, float | None] = field(default_factory=dict)

    def lines(self, top: int = 25) -> list[str]:
        total = sum(self.commands.values())
        out = [f"{self.orders} orders finished in {self.seconds:.1f} s; store commands per order: {total / self.orders:.1f}"]
        out += [f"  {count / self.orders:6.2f}  {command:<14} {collection:<26} {component}"
                for (command, collection, component), count in self.commands.most_common(top)]
        out.append("CPU per order: " + ", ".join(
            f"{name} {'n/a' if ms is None else f'{ms:.1f} ms'}" for name, ms in self.cpu_ms.items()))
        return out


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(*, orders: int, rate: float, store_pid: int | None, kafka_pid: int | None, timeout: float = 600.0,
        progress: Callable[[str], None] = lambda line: None) -> Profile:
    """Seed stock, start every consumer, warm up, then place `orders` happy-path orders at `rate`/s and
    count until every one is terminal in both the write and the read model."""
    from ecom_project.messaging.consumers import all_consumer_specs
    from ecom_project.messaging.worker import Worker
    from inventory import services as inventory
    from orders import repository as orders_repository
    from orders import services as order_service
    from projections import repository as projections_repository

    def place(rng: random.Random) -> None:
        order_service.order_create(items=[{"sku": f"SKU-{rng.randint(1, 20)}", "qty": 1}], total=Decimal("10.00"),
                                   currency="USD", shipping_address={"country": "US"})

    def finished() -> int:
        done = {"status": {"$in": TERMINAL}}
        return min(orders_repository.orders().count_documents(done),
                   projections_repository.projections().count_documents(done))

    def wait_for(count: int) -> None:
        deadline, last = time.monotonic() + timeout, 0.0
        while (now := finished()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {now} of {count} orders finished in {timeout:.0f} s")
            if time.monotonic() - last >= 5:
                progress(f"{now}/{count} orders finished")
                last = time.monotonic()
            time.sleep(1)

    inventory.stock_seed(skus=20, qty=1_000_000)
    worker = Worker(all_consumer_specs(), start_at_end=True, group_suffix=f".profile{random.randrange(10**6)}").start()
    try:
        if not worker.wait_assigned(60):
            raise TimeoutError("consumers got no partition assignment in 60 s")
        rng = random.Random(2026)
        base = finished()
        warmup = 20
        for _ in range(warmup):
            place(rng)
        wait_for(base + warmup)
        progress("warmed up; counting")
        time.sleep(1)
        pids = {"pipeline": None, "store": store_pid, "kafka": kafka_pid}
        before = {name: (_own_cpu() if name == "pipeline" else pid and process_cpu_seconds(pid)) for name, pid in pids.items()}
        _listener.counts.clear()
        _listener.on = True
        started = time.monotonic()
        for index in range(orders):
            place(rng)
            time.sleep(max(0.0, started + (index + 1) / rate - time.monotonic()))
        wait_for(base + warmup + orders)
        seconds = time.monotonic() - started
        _listener.on = False
        after = {name: (_own_cpu() if name == "pipeline" else pid and process_cpu_seconds(pid)) for name, pid in pids.items()}
        cpu = {name: None if before[name] is None else (after[name] - before[name]) * 1000 / orders for name in pids}
        return Profile(orders=orders, seconds=seconds, commands=Counter(_listener.counts), cpu_ms=cpu)
    finally:
        _listener.on = False
        worker.stop()
