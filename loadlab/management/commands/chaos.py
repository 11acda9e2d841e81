"""`manage.py chaos --orders N --seed S [--faults K]`: the reliability drill (docs/reliability.md)."""
from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import Client
from tqdm import tqdm

from loadlab.chaos.drill import AppAccess, ChaosDrill
from loadlab.chaos.plan import FAULT_KINDS, SCARCE_SKU
from loadlab.chaos.report import report_lines
from ecom_project.config import ConfigError
from ecom_project.management.broker_setup import engines_for_run
from inventory import selectors as stock_selectors, services as stock_services
from orders import selectors as order_selectors

MAX_ORDERS = 100_000
NOT_TERMINAL = ("PENDING", "INVENTORY_RESERVED", "PAYMENT_AUTHORIZED")
PAGE = 200
# Low enough that a slow handler overruns it quickly; real Kafka wants >= session.timeout.ms (6 s).
CHAOS_MAX_POLL_INTERVAL_MS = 7000
SHED_RETRY_S = 60.0
CHAOS_OUTBOX_LEASE_MS = 1000  # a crashed relay's lease expires soon, so its successor republishes soon


def _wait_retry_after(seconds: float) -> None:
    time.sleep(seconds)


def app_access(*, orders: int) -> AppAccess:
    client = Client()

    def seed_stock() -> None:
        stock_services.stock_seed(skus=20, qty=10_000)
        if stock_selectors.stock_get(sku=SCARCE_SKU) is None:
            stock_services.stock_adjust(sku=SCARCE_SKU, delta=orders // 20 + 3, reason="chaos drill: scarce stock")

    def place_order(body: dict) -> tuple[int, dict]:
        """As a polite client: a 503 from back-pressure is offered again after its Retry-After (for up to
        a minute), so the drill places every order of its plan."""
        deadline = time.monotonic() + SHED_RETRY_S
        while True:
            response = client.post("/api/orders", data=json.dumps(body), content_type="application/json")
            if response.status_code != 503 or time.monotonic() >= deadline:
                return response.status_code, response.json()
            _wait_retry_after(min(float(response.headers.get("Retry-After", 1)), SHED_RETRY_S))

    def unfinished() -> int:
        return sum(len(order_selectors.order_list(status=status, limit=PAGE)) for status in NOT_TERMINAL)

    return AppAccess(seed_stock=seed_stock, stock=stock_selectors.stock_list, place_order=place_order,
                     unfinished=unfinished, orders=all_orders)


def all_orders() -> dict[str, dict]:
    found: dict[str, dict] = {}
    before = None
    while True:
        page = order_selectors.order_list(limit=PAGE, created_before=before)
        for doc in page:
            found[doc["orderId"]] = {"status": doc["status"], "items": doc["items"],
                                     "history": [h["status"] for h in doc.get("statusHistory", [])]}
        if len(page) < PAGE:
            return found
        before = page[-1]["createdAt"]


class Command(BaseCommand):
    help = (
        "Reliability drill: place N orders with a mix of outcomes through POST /api/orders while injecting "
        "seed-chosen faults (consumer/relay crashes with supervised restarts, handler errors, a handler slower "
        "than max.poll.interval.ms, duplicate deliveries, poison messages, the broker frozen for 20 s), wait for quiescence, check the "
        "invariants and print a report. Exits 1 on any violation. Runs every consumer in this process on fresh "
        "scratch engines (Kafka, FerretDB) unless KAFKA_BROKERS/MONGO_URL are set (then it must be a broker with no earlier pipeline traffic)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--orders", type=int, required=True, help=f"orders to place, 1-{MAX_ORDERS}")
        parser.add_argument("--seed", type=int, required=True, help="seed of the plan: same seed, same orders and faults")
        parser.add_argument("--faults", type=int, default=None, help="faults to inject (default max(10, orders/100))")
        parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for quiescence (default 900)")

    def handle(self, *args, orders: int, seed: int, faults: int | None, timeout: float, verbosity: int, **options) -> None:
        faults = max(10, orders // 100) if faults is None else faults
        if not 1 <= orders <= MAX_ORDERS:
            raise CommandError(f"--orders must be between 1 and {MAX_ORDERS}, got {orders}")
        kinds = len(FAULT_KINDS)
        if not kinds <= faults <= 10 * orders + kinds or not 1 <= timeout <= 86_400:
            raise CommandError(f"--faults must be at least {kinds} (one of every kind) and --timeout 1-86400 s")
        if verbosity < 2:  # the report is the output; thread deaths and dead letters are expected here
            logging.disable(logging.CRITICAL)
        self._tune_for_chaos()
        engines = None
        scratch = tempfile.TemporaryDirectory(prefix="ecom-chaos-")  # the drill judges every event: a clean slate
        try:
            settings.DATA_DIR = Path(scratch.name)
            engines = engines_for_run(self.stderr)
            show = verbosity >= 1 and sys.stderr.isatty()  # a bar on a terminal, else a line every 10 %
            drill = ChaosDrill(
                apps=app_access(orders=orders), orders=orders, seed=seed, faults=faults, quiescence_timeout=timeout,
                progress=lambda line: self.stderr.write(line) if verbosity >= 1 else None,
                bar=(lambda it, **kw: tqdm(it, file=sys.stderr, **kw)) if show else None,
                broker=engines.kafka if engines else None,  # None with KAFKA_BROKERS: broker.pause is then skipped
            )
            report = drill.run()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if engines:
                engines.stop()
            scratch.cleanup()
            logging.disable(logging.NOTSET)
        for line in report_lines(report):
            self.stdout.write(line)
        if not report.ok:
            raise CommandError("the chaos run found invariant violations (see the report above)")

    @staticmethod
    def _tune_for_chaos() -> None:
        if "testserver" not in settings.ALLOWED_HOSTS:  # orders are placed through the in-process test client
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        if not os.environ.get("KAFKA_CONSUMER_MAX_POLL_INTERVAL_MS"):
            settings.KAFKA_CONSUMER = {**settings.KAFKA_CONSUMER, "max.poll.interval.ms": CHAOS_MAX_POLL_INTERVAL_MS}
        if not os.environ.get("OUTBOX_LEASE_MS"):
            settings.OUTBOX_LEASE_MS = CHAOS_OUTBOX_LEASE_MS
