"""Stock conservation after a mixed, shuffled batch of 200 orders through the handlers."""
from __future__ import annotations

import random

from inventory import domain, repository, services
from inventory.handlers import HANDLERS
from tests.inventory.conftest import (
    assert_conserved, compensation_requested, new_order_id, order_created, order_shipped, payment_failed,
    retry_requested, shipping_failed,
)

SKUS = [f"SKU-{n}" for n in range(1, 6)]
INITIAL = 150  # small enough that later orders run short


def saga_of(order_id: str, rng: random.Random) -> list:
    """The events one order may see: its creation, one outcome, duplicates, sometimes out of order."""
    skus = rng.sample(SKUS, rng.randint(1, 3)) + (["GHOST"] if rng.random() < 0.05 else [])
    lines = {sku: rng.randint(1, 12) for sku in skus}
    created = order_created(order_id, lines)
    fate = rng.choice(["ship", "pay-fail", "ship-fail", "compensate", "none", "early-release", "retry"])
    follow = {
        "ship": [order_shipped(order_id)],
        "pay-fail": [payment_failed(order_id)],
        "ship-fail": [shipping_failed(order_id)],
        "compensate": [compensation_requested(order_id)],
        "none": [],
        "early-release": [],
        "retry": [retry_requested(order_id, lines)],
    }[fate]
    events = [payment_failed(order_id), created] if fate == "early-release" else [created, *follow]
    return events + [rng.choice(events)]  # one redelivery, of any of them


def test_two_hundred_mixed_orders_conserve_stock():
    rng = random.Random(20240601)
    services.stock_seed(skus=len(SKUS), qty=INITIAL)
    order_ids = [new_order_id() for _ in range(200)]
    sagas = {order_id: saga_of(order_id, rng) for order_id in order_ids}
    cursor = {order_id: 0 for order_id in order_ids}
    while cursor:  # interleave orders at random, each order's events in its own order
        order_id = rng.choice(list(cursor))
        event = sagas[order_id][cursor[order_id]]
        HANDLERS[event.type](event)
        cursor[order_id] += 1
        if cursor[order_id] == len(sagas[order_id]):
            del cursor[order_id]
    assert_conserved()
    for sku in SKUS:
        assert repository.stock_find(sku)["stocked"] == INITIAL
    statuses = _check_holds_match_status(order_ids)
    assert {domain.RESERVED, domain.FAILED, domain.RELEASED, domain.SHIPPED} <= statuses


def _check_holds_match_status(order_ids: list[str]) -> set[str]:
    holds = {}
    for document in repository.stock_all():
        for order_id, qty in document["holds"].items():
            holds.setdefault(order_id, {})[document["_id"]] = qty
    statuses, shipped = set(), {}
    for order_id in order_ids:
        reservation = repository.reservation_find(order_id)
        statuses.add(reservation["status"])
        planned = {line.sku: line.qty for line in repository.plan_of(reservation)}
        expected = planned if reservation["status"] == domain.RESERVED else {}
        assert holds.get(order_id, {}) == expected, (order_id, reservation["status"])
        for sku, qty in planned.items() if reservation["status"] == domain.SHIPPED else ():
            shipped[sku] = shipped.get(sku, 0) + qty
    assert {d["_id"]: d["shipped"] for d in repository.stock_all() if d["shipped"]} == shipped
    return statuses
