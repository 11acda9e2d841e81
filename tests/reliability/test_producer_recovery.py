"""Producer recovery drill: the broker is frozen (SIGSTOP) for longer than the producer's message
timeout while orders keep arriving. An idempotent producer whose messages time out has to reset its
producer id; where the broker refuses that (fenced, unknown producer id), the producer is dead for
good and only a new one can publish. Every order must finish, each effect applied once."""
from __future__ import annotations

import time
import uuid

import pytest

from loadlab.chaos import invariants as inv
from loadlab.chaos.ledger import read_ledger
from ecom_project.messaging.consumers import all_consumer_specs
from ecom_project.messaging.outbox import backlog
from ecom_project.messaging.worker import Worker
from inventory import selectors as stock_selectors, services as stock_services
from orders import selectors as order_selectors
from tests.support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]
PAUSE_SECONDS = 30
ORDER = {"items": [{"sku": "SKU-1", "qty": 1}], "total": 25, "shippingAddress": {"country": "US"}}
STOCK = 1000


@pytest.fixture
def pipeline(own_broker):
    stock_services.stock_seed(skus=1, qty=STOCK)
    specs = all_consumer_specs()
    worker = Worker(specs, group_suffix=f".recovery{uuid.uuid4().hex[:8]}", start_at_end=True).start()
    assert worker.wait_assigned(60)
    yield worker, specs
    worker.stop()


def place(client) -> str:
    response = client.post("/api/orders", ORDER, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["orderId"]


def unfinished(order_ids: list[str]) -> list[str]:
    return [o for o in order_ids if order_selectors.order_get(order_id=o)["status"] not in inv.TERMINAL]


def test_every_order_finishes_once_after_a_long_broker_pause(client, own_broker, pipeline):
    worker, specs = pipeline
    placed = [place(client)]
    wait_until(lambda: not unfinished(placed), timeout=60, message="pipeline works before the pause")

    own_broker.pause()
    try:
        pause_ends = time.monotonic() + PAUSE_SECONDS
        while time.monotonic() < pause_ends:  # load while the broker is gone: ~4 orders a second
            placed.append(place(client))
            time.sleep(0.25)
    finally:
        own_broker.resume()
    for _ in range(20):  # and load right after it comes back, while producers hit their dead ends
        placed.append(place(client))

    wait_until(lambda: not unfinished(placed), timeout=180, interval=0.5,
               message=f"every order terminal after the pause; left: {unfinished(placed)[:5]}")
    assert worker.alive(), worker.errors
    wait_until(lambda: backlog([c for spec in specs for c in spec.outbox_collections()]) == 0, timeout=60,
               message="outboxes empty")

    statuses = {o: order_selectors.order_get(order_id=o)["status"] for o in placed}
    assert set(statuses.values()) == {"SHIPPED"}, statuses
    ledger = read_ledger(set(placed))
    stock = stock_selectors.stock_list()
    histories = {o: [h["status"] for h in order_selectors.order_get(order_id=o)["statusHistory"]] for o in placed}
    checks = [
        inv.one_effect_per_order(ledger, placed),
        inv.stock_conserved(stock, {"SKU-1": STOCK}),
        inv.shipped_units_match(stock, [line for _ in placed for line in ORDER["items"]]),
        inv.status_history_monotonic(histories),
    ]
    assert all(check.ok for check in checks), [check.line() for check in checks]
