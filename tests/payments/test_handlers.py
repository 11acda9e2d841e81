"""Payment handlers on the store (the local FerretDB; unchanged on MongoDB): each event
applied at most once, refunds only of an authorisation and only once, order of arrival irrelevant."""
from __future__ import annotations

import json

import pytest

from ecom_project.events.registry import PAYMENT_AUTHORIZED, PAYMENT_FAILED, PAYMENT_REFUNDED
from payments import handlers, repository
from tests.payments.conftest import (
    compensation_requested, inventory_reserved, new_order_id, retry_requested, shipping_failed,
)


def deliver(*events) -> None:
    for event in events:
        handlers.HANDLERS[event.type](event)


def stored(order_id: str) -> dict:
    return repository.payment_find(order_id=order_id, internal=True)


def outbox_types(order_id: str) -> list[str]:
    return [json.loads(entry["value"])["type"] for entry in stored(order_id).get("outbox", [])]


def outbox_payloads(order_id: str) -> list[dict]:
    return [json.loads(entry["value"])["payload"] for entry in stored(order_id).get("outbox", [])]


def test_reserved_order_is_authorised_with_its_total_and_country():
    order_id = new_order_id()
    reserved = inventory_reserved(order_id, total="5000.00", country="GB")
    deliver(reserved)
    payment = stored(order_id)
    assert payment["status"] == "AUTHORIZED" and payment["amount"] == "5000.00" and payment["currency"] == "EUR"
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED]
    authorized = outbox_payloads(order_id)[0]
    assert authorized == {"orderId": order_id, "paymentId": payment["paymentId"], "amount": "5000.00",
                          "currency": "EUR", "shippingCountry": "GB"}
    assert json.loads(payment["outbox"][0]["value"])["causationId"] == str(reserved.event_id)


def test_total_above_the_limit_is_declined_with_a_reason():
    order_id = new_order_id()
    deliver(inventory_reserved(order_id, total="5000.01"))
    assert stored(order_id)["status"] == "DECLINED"
    assert "paymentId" not in stored(order_id)
    assert outbox_types(order_id) == [PAYMENT_FAILED]
    assert outbox_payloads(order_id)[0]["reason"] == "total 5000.01 exceeds the authorisation limit 5000.00"


def test_failure_rate_declines_the_same_orders_on_every_replay(settings):
    settings.PAYMENT_FAILURE_RATE = 0.5
    order_ids = [f"rate-{n}" for n in range(20)]  # fixed ids: the hash split is known to be mixed
    for order_id in order_ids:
        deliver(inventory_reserved(order_id))
    first = {o: stored(o)["status"] for o in order_ids}
    assert set(first.values()) == {"AUTHORIZED", "DECLINED"}
    repository.payments().drop()
    for order_id in order_ids:
        deliver(inventory_reserved(order_id))
    assert {o: stored(o)["status"] for o in order_ids} == first


def test_same_reservation_twice_authorises_once():
    order_id = new_order_id()
    reserved = inventory_reserved(order_id)
    deliver(reserved, reserved)
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED]
    assert stored(order_id)["appliedEvents"] == [str(reserved.event_id)]


def test_a_second_reservation_event_of_the_order_never_authorises_again():
    order_id = new_order_id()
    deliver(inventory_reserved(order_id), inventory_reserved(order_id), retry_requested(order_id))
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED]


def test_declined_payment_is_not_authorised_by_a_later_event():
    order_id = new_order_id()
    deliver(inventory_reserved(order_id, total="9000.00"), inventory_reserved(order_id, total="10.00"))
    assert stored(order_id)["status"] == "DECLINED"
    assert outbox_types(order_id) == [PAYMENT_FAILED]


def test_shipping_failure_refunds_the_authorisation_once():
    order_id = new_order_id()
    failed = shipping_failed(order_id)
    deliver(inventory_reserved(order_id), failed, failed, shipping_failed(order_id))
    payment = stored(order_id)
    assert payment["status"] == "REFUNDED"
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED, PAYMENT_REFUNDED]
    refunded = outbox_payloads(order_id)[1]
    assert refunded == {"orderId": order_id, "paymentId": payment["paymentId"], "amount": "120.50", "currency": "EUR",
                        "reason": "shipping failed: the carrier does not ship to BR"}


def test_shipping_failure_of_a_declined_payment_refunds_nothing():
    order_id = new_order_id()
    deliver(inventory_reserved(order_id, total="6000.00"), shipping_failed(order_id))
    assert stored(order_id)["status"] == "DECLINED"
    assert outbox_types(order_id) == [PAYMENT_FAILED]


def test_shipping_failure_before_the_authorisation_leaves_no_unrefunded_authorisation():
    order_id = new_order_id()
    failed = shipping_failed(order_id)
    deliver(failed, failed)
    early = stored(order_id)
    assert "status" not in early and early.get("outbox", []) == [] and early["refundRequested"]["reason"].startswith("shipping")
    reserved = inventory_reserved(order_id)
    deliver(reserved, reserved, shipping_failed(order_id), compensation_requested(order_id))
    payment = stored(order_id)
    assert payment["status"] == "REFUNDED"
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED, PAYMENT_REFUNDED]
    authorized, refunded = outbox_payloads(order_id)
    assert refunded["paymentId"] == authorized["paymentId"] == payment["paymentId"]
    assert refunded["amount"] == authorized["amount"] == "120.50"


def test_retry_authorises_only_an_order_without_a_payment_outcome():
    order_id = new_order_id()
    retry = retry_requested(order_id)
    deliver(retry_requested(order_id, step="shipping"), retry_requested(order_id, step="inventory"))
    assert stored(order_id) is None
    deliver(retry, retry, retry_requested(order_id))
    assert stored(order_id)["status"] == "AUTHORIZED"
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED]
    assert outbox_payloads(order_id)[0]["shippingCountry"] == "GB"


def test_compensation_refunds_only_an_authorised_payment_and_only_once():
    order_id = new_order_id()
    deliver(compensation_requested(order_id), compensation_requested(order_id, action="releaseInventory"))
    assert stored(order_id) is None, "no refund, and nothing remembered, without an authorisation"
    compensation = compensation_requested(order_id)
    deliver(inventory_reserved(order_id), compensation, compensation, compensation_requested(order_id))
    assert stored(order_id)["status"] == "REFUNDED"
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED, PAYMENT_REFUNDED]
    assert outbox_payloads(order_id)[1]["reason"] == "compensation requested by 7"


def test_refund_then_late_shipping_failure_changes_nothing():
    order_id = new_order_id()
    deliver(inventory_reserved(order_id), compensation_requested(order_id), shipping_failed(order_id))
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED, PAYMENT_REFUNDED]


@pytest.mark.parametrize("make_event", [inventory_reserved, shipping_failed, retry_requested, compensation_requested])
def test_every_handler_given_the_same_event_twice_has_one_effect(make_event):
    order_id = new_order_id()
    if make_event is compensation_requested:
        deliver(inventory_reserved(order_id))
    event = make_event(order_id)
    deliver(event)
    once = stored(order_id)
    deliver(event)
    twice = stored(order_id)
    assert twice.get("outbox") == once.get("outbox") and twice.get("status") == once.get("status")
    assert twice["appliedEvents"].count(str(event.event_id)) == 1
