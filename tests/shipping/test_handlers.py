"""Shipping handlers on the store (the local FerretDB; unchanged on MongoDB): at most one
booking per order, whatever arrives twice, late or concurrently."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from ecom_project.events.registry import ORDER_SHIPPED, SHIPPING_FAILED
from shipping import handlers, repository
from shipping.domain import tracking_number_for
from tests.shipping.conftest import new_order_id, payment_authorized, retry_requested


def deliver(*events) -> None:
    for event in events:
        handlers.HANDLERS[event.type](event)


def outbox(order_id: str) -> list[dict]:
    document = repository.shipments().find_one({"_id": order_id})
    return [json.loads(entry["value"]) for entry in document["outbox"]]


def test_authorised_payment_books_a_shipment():
    order_id = new_order_id()
    authorized = payment_authorized(order_id, country="NL")
    deliver(authorized)
    shipment = repository.shipment_find(order_id=order_id)
    assert shipment["status"] == "SHIPPED" and shipment["trackingNumber"] == tracking_number_for(order_id)
    [shipped] = outbox(order_id)
    assert shipped["type"] == ORDER_SHIPPED and shipped["causationId"] == str(authorized.event_id)
    assert shipped["payload"] == {"orderId": order_id, "shipmentId": shipment["shipmentId"],
                                  "carrier": shipment["carrier"], "trackingNumber": shipment["trackingNumber"]}


def test_country_outside_the_list_fails_with_a_reason(settings):
    settings.SHIPPING_COUNTRIES = ["US"]
    order_id = new_order_id()
    deliver(payment_authorized(order_id, country="DE"))
    assert repository.shipment_find(order_id=order_id)["status"] == "FAILED"
    [failed] = outbox(order_id)
    assert failed["type"] == SHIPPING_FAILED
    assert failed["payload"] == {"orderId": order_id, "reason": "the carrier does not ship to DE"}


def test_failure_rate_fails_the_same_orders_on_every_replay(settings):
    settings.SHIPPING_FAILURE_RATE = 0.5
    order_ids = [f"rate-{n}" for n in range(20)]  # fixed ids: the hash split is known to be mixed
    deliver(*[payment_authorized(o) for o in order_ids])
    first = {o: repository.shipment_find(order_id=o)["status"] for o in order_ids}
    assert set(first.values()) == {"SHIPPED", "FAILED"}
    repository.shipments().drop()
    deliver(*[payment_authorized(o) for o in order_ids])
    assert {o: repository.shipment_find(order_id=o)["status"] for o in order_ids} == first


@pytest.mark.parametrize("make_event", [payment_authorized, retry_requested])
def test_every_handler_given_the_same_event_twice_books_once(make_event):
    order_id = new_order_id()
    event = make_event(order_id)
    deliver(event, event)
    assert [e["type"] for e in outbox(order_id)] == [ORDER_SHIPPED]


def test_at_most_one_booking_per_order_whatever_arrives():
    order_id = new_order_id()
    deliver(payment_authorized(order_id, country="BR"), payment_authorized(order_id, country="US"), retry_requested(order_id))
    assert repository.shipment_find(order_id=order_id)["status"] == "FAILED"
    assert [e["type"] for e in outbox(order_id)] == [SHIPPING_FAILED]


def test_concurrent_deliveries_book_once():
    order_id = new_order_id()
    events = [payment_authorized(order_id) for _ in range(4)] + [retry_requested(order_id) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        for future in [pool.submit(handlers.HANDLERS[e.type], e) for e in events]:
            future.result()
    assert [e["type"] for e in outbox(order_id)] == [ORDER_SHIPPED]


def test_retry_books_only_for_the_shipping_step_and_carries_the_country(settings):
    settings.SHIPPING_COUNTRIES = ["US"]
    order_id = new_order_id()
    deliver(retry_requested(order_id, step="payment"), retry_requested(order_id, step="inventory"))
    assert repository.shipment_find(order_id=order_id) is None
    deliver(retry_requested(order_id, country="CA"))
    assert repository.shipment_find(order_id=order_id)["failureReason"] == "the carrier does not ship to CA"
