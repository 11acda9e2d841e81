"""Every inventory handler given the same event twice has one effect (the runner's dedupe aside)."""
from __future__ import annotations

import pytest

from ecom_project.events.registry import INVENTORY_RELEASED, INVENTORY_RESERVED
from inventory import repository
from inventory.handlers import CONSUMER, HANDLERS
from tests.inventory.conftest import (
    compensation_requested, new_order_id, order_created, order_shipped, payment_failed, queued_events,
    retry_requested, shipping_failed, stock_of,
)


def deliver_twice(event) -> None:
    HANDLERS[event.type](event)
    HANDLERS[event.type](event)


def reserved_order(lines=None) -> str:
    order_id = new_order_id()
    created = order_created(order_id, lines or {"SKU-1": 3})
    HANDLERS[created.type](created)
    return order_id


def test_consumer_listens_to_the_saga_and_operator_topics():
    assert sorted(CONSUMER.topics) == sorted([
        "order.OrderCreated.v1", "payment.PaymentFailed.v1", "shipping.ShippingFailed.v1",
        "shipping.OrderShipped.v1", "ops.RetryRequested.v1", "ops.CompensationRequested.v1",
        "ops.retry.inventory",  # replays of its own dead letters
    ])
    CONSUMER.setup()
    assert CONSUMER.outbox_collections()[0].name == repository.reservation_collection().name


def test_order_created_twice_reserves_once(stock):
    order_id = new_order_id()
    deliver_twice(order_created(order_id, {"SKU-1": 3}))
    assert stock_of("SKU-1")["reserved"] == 3
    assert [e.type for e in queued_events(order_id)] == [INVENTORY_RESERVED]


@pytest.mark.parametrize("make_event", [payment_failed, shipping_failed, compensation_requested])
def test_release_twice_releases_once(stock, make_event):
    order_id = reserved_order()
    deliver_twice(make_event(order_id))
    assert stock_of("SKU-1") == {"available": 10, "reserved": 0, "shipped": 0, "stocked": 10, "holds": {}}
    assert [e.type for e in queued_events(order_id)] == [INVENTORY_RESERVED, INVENTORY_RELEASED]


def test_order_shipped_twice_ships_once(stock):
    order_id = reserved_order()
    deliver_twice(order_shipped(order_id))
    assert stock_of("SKU-1") == {"available": 7, "reserved": 0, "shipped": 3, "stocked": 10, "holds": {}}


def test_retry_twice_reserves_once(stock):
    order_id = new_order_id()
    deliver_twice(retry_requested(order_id, {"SKU-2": 4}))
    assert stock_of("SKU-2")["reserved"] == 4
    assert [e.type for e in queued_events(order_id)] == [INVENTORY_RESERVED]


def test_retry_of_another_step_and_refund_compensation_are_ignored(stock):
    order_id = new_order_id()
    deliver_twice(retry_requested(order_id, {"SKU-2": 4}, step="payment"))
    assert repository.reservation_find(order_id) is None
    order_id = reserved_order()
    deliver_twice(compensation_requested(order_id, action="refundPayment"))
    assert stock_of("SKU-1")["reserved"] == 3


def test_early_release_twice_then_order_created_twice_holds_nothing(stock):
    order_id = new_order_id()
    deliver_twice(shipping_failed(order_id))
    deliver_twice(order_created(order_id, {"SKU-1": 3}))
    assert stock_of("SKU-1")["available"] == 10
    assert len(queued_events(order_id)) == 1
