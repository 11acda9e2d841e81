"""One chaos run: seed stock, start every consumer under a supervisor, place the planned orders while
injecting the planned faults, wait for quiescence, then judge the invariants.

The apps are reached through `AppAccess` (built by the command from their public API), so this
package stays in the kernel, which never imports an app."""
from __future__ import annotations

import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from loadlab.chaos import invariants as inv
from loadlab.chaos.injector import FaultInjector
from loadlab.chaos.ledger import read_ledger
from loadlab.chaos.plan import OUTCOMES, fault_schedule, planned_orders
from loadlab.chaos.report import Report
from loadlab.chaos.supervisor import Supervisor
from ecom_project.messaging.consumers import all_consumer_specs
from ecom_project.messaging.groups import LagReader
from ecom_project.messaging.deadletters import dead_letters
from ecom_project.messaging.outbox import backlog
from ecom_project.messaging.producer import Publisher, bootstrap_servers
from ecom_project.messaging.worker import Worker

BACKPRESSURE_EVERY = 25
IN_FLIGHT = 150


@dataclass
class AppAccess:
    seed_stock: Callable[[], None]
    stock: Callable[[], list[dict]]  # rows: sku, available, reserved, shipped, stocked, holds
    place_order: Callable[[dict], tuple[int, dict]]  # body -> (HTTP status, JSON answer)
    unfinished: Callable[[], int]  # orders not terminal yet (0 is all that matters)
    orders: Callable[[], dict[str, dict]]  # orderId -> {"status", "items", "history": [status, ...]}


class ChaosDrill:
    def __init__(self, *, apps: AppAccess, orders: int, seed: int, faults: int, quiescence_timeout: float = 600.0,
                 progress: Callable[[str], None] = lambda line: None, bar: Callable | None = None,
                 broker=None) -> None:
        self.apps, self.count, self.seed = apps, orders, seed
        self.broker = broker  # pause()/resume(), for the broker.pause fault; None when not ours
        rng = random.Random(seed)
        self.plan = planned_orders(rng, orders)
        self.faults = fault_schedule(rng, orders=orders, faults=faults)
        self.quiescence_timeout = quiescence_timeout
        self.progress = progress
        self.bar = bar or (lambda iterable, **kw: iterable)
        self.report = Report(seed=seed, orders=orders, faults_planned=Counter(f.kind for f in self.faults))
        self.expected: dict[str, frozenset[str]] = {}

    def run(self) -> Report:
        self.apps.seed_stock()
        initial = {row["sku"]: row["available"] + row["reserved"] + row["shipped"] for row in self.apps.stock()}
        specs = all_consumer_specs()
        publisher = Publisher()
        worker = Worker(specs, group_suffix=f".chaos-{self.seed}-{uuid.uuid4().hex[:6]}", publisher=publisher,
                        start_at_end=True).start()
        supervisor = Supervisor(worker).start()
        injector = FaultInjector(seed=self.seed, publisher=publisher, our_keys=lambda: set(self.expected),
                                 broker=self.broker)
        self._lag_reader = LagReader(bootstrap_servers())  # one for the run: the wait asks every 0.5 s
        try:
            try:
                if not worker.wait_assigned(60):
                    raise RuntimeError("consumers got no partition assignment in 60 s")
                started = time.monotonic()
                self._place_orders(injector)
                placed = time.monotonic()
                self._wait_quiescent(worker, injector)
                self.report.seconds.update(placing=placed - started, quiescence=time.monotonic() - placed)
                self.report.restarts = supervisor.restarts
            finally:
                injector.resume_broker()
                supervisor.stop()
                worker.stop()
            self._judge(worker, injector, initial)
        finally:
            self._lag_reader.close()
        return self.report

    def _place_orders(self, injector: FaultInjector) -> None:
        faults = iter(self.faults)
        upcoming = next(faults, None)
        for order in self.bar(self.plan, desc="placing orders", unit="order"):
            if order.index % BACKPRESSURE_EVERY == 0:
                self._wait_below(IN_FLIGHT)
            if order.index and order.index % max(1, self.count // 10) == 0:
                self.progress(f"placed {order.index}/{self.count} orders, {sum(injector.injected.values())} "
                              f"faults sent so far (failpoints counted when they fire)")
            while upcoming is not None and upcoming.after_order <= order.index:
                injector.inject(upcoming)
                upcoming = next(faults, None)
            status, answer = self.apps.place_order(order.body)
            if status != 201:
                self.report.refused.append(f"order #{order.index} answered {status}: {answer}")
                continue
            self.expected[answer["orderId"]] = OUTCOMES[order.outcome][1]
        for fault in [upcoming, *faults]:
            if fault is not None:
                injector.inject(fault)

    def _wait_below(self, in_flight: int) -> None:
        """Keep the placing only a little ahead of the pipeline, so faults land all along the run
        instead of all in the first seconds while the consumers are still far behind."""
        deadline = time.monotonic() + self.quiescence_timeout
        while self.apps.unfinished() >= in_flight and time.monotonic() < deadline:
            time.sleep(0.2)

    def _wait_quiescent(self, worker: Worker, injector: FaultInjector) -> None:
        """Every order terminal, every outbox empty, and every consumer group committed every event of
        its topics, for 2 s on end (a slow or restarted consumer may lag behind the orders' outcomes)."""
        deadline = time.monotonic() + self.quiescence_timeout
        stable_since, last_line = None, 0.0
        outboxes = [c for spec in worker.specs for c in spec.outbox_collections()]
        while time.monotonic() < deadline:
            unfinished = self.apps.unfinished()
            pending = backlog(outboxes)
            lag = sum(v or 0 for v in self._lags(worker).values()) if not unfinished and not pending else None
            if unfinished or pending or lag:
                stable_since = None
            elif stable_since is None:
                stable_since = time.monotonic()
            elif time.monotonic() - stable_since >= 2.0:
                injector.settle_failpoints()  # a fault armed at the very end may never get its hit
                return
            if time.monotonic() - last_line >= 5:
                self.progress(f"draining: {unfinished}{'+' if unfinished >= 200 else ''} orders unfinished, "
                              f"{pending} outbox documents pending, consumer lag {'?' if lag is None else lag}")
                last_line = time.monotonic()
            time.sleep(0.5)
        injector.settle_failpoints()

    def _lags(self, worker: Worker) -> dict[str, int | None]:
        return {runner.spec.name: self._lag_reader.group_lag(runner.group_id, runner.spec.topics)
                for runner in worker.runners}

    def _judge(self, worker: Worker, injector: FaultInjector, initial: dict[str, int]) -> None:
        started = time.monotonic()
        ours = self.apps.orders()
        ours = {o: doc for o, doc in ours.items() if o in self.expected}
        statuses = {o: doc["status"] for o, doc in ours.items()}
        statuses.update({o: "MISSING" for o in self.expected if o not in ours})
        self.report.outcomes = Counter(statuses.values())
        self.report.faults_injected = injector.injected
        ledger = read_ledger(set(self.expected))
        self.report.events_read = ledger.copies
        stock = self.apps.stock()
        subscribers: dict[str, set[str]] = defaultdict(set)
        for spec in worker.specs:
            for topic in spec.topics:
                subscribers[topic].add(spec.name)
        lags = self._lags(worker)
        shipped_lines = [line for doc in ours.values() if doc["status"] == "SHIPPED" for line in doc["items"]]
        self.report.checks = [
            inv.every_order_terminal(statuses),
            inv.outcomes_as_designed(statuses, self.expected),
            inv.stock_conserved(stock, initial),
            inv.shipped_units_match(stock, shipped_lines),
            inv.one_effect_per_order(ledger, self.expected),
            inv.refund_after_authorisation(ledger, self.expected),
            inv.compensations_complete(ledger, statuses),
            inv.dead_letters_are_the_poison(dead_letters().find({}), injector.poison, subscribers),
            inv.every_group_consumed_its_topics(lags),
            inv.status_history_monotonic({o: doc["history"] for o, doc in ours.items()}),
        ]
        self.report.seconds["judging"] = time.monotonic() - started
