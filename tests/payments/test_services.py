"""Payment services under concurrent deliveries of one order (two consumer instances, retries):
conditional single-document writes keep it to one authorisation and at most one refund."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from ecom_project.events.registry import PAYMENT_AUTHORIZED, PAYMENT_REFUNDED
from payments import handlers, repository
from tests.payments.conftest import (
    compensation_requested, inventory_reserved, new_order_id, retry_requested, shipping_failed,
)


def deliver_concurrently(events) -> None:
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        for future in [pool.submit(handlers.HANDLERS[e.type], e) for e in events]:
            future.result()


def outbox_types(order_id: str) -> list[str]:
    payment = repository.payment_find(order_id=order_id, internal=True)
    return sorted(json.loads(entry["value"])["type"] for entry in payment.get("outbox", []))


def test_concurrent_authorisations_of_one_order_authorise_once():
    order_id = new_order_id()
    deliver_concurrently([inventory_reserved(order_id) for _ in range(4)] + [retry_requested(order_id) for _ in range(4)])
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED]


def test_concurrent_refund_requests_and_authorisations_end_refunded_once():
    for _ in range(10):
        order_id = new_order_id()
        deliver_concurrently([
            inventory_reserved(order_id), shipping_failed(order_id), shipping_failed(order_id),
            retry_requested(order_id), compensation_requested(order_id),
        ])
        assert repository.payment_find(order_id=order_id)["status"] == "REFUNDED"
        assert outbox_types(order_id) == [PAYMENT_AUTHORIZED, PAYMENT_REFUNDED]


def authorised_in_between(monkeypatch, event) -> None:
    """The next read of the payment returns it as it was, and `event` is handled right after that read
    (another consumer instance, between this one's read and its write)."""
    real_find = repository.payment_find

    def find_then_handle(**kwargs):
        found = real_find(**kwargs)
        monkeypatch.setattr(repository, "payment_find", real_find)
        handlers.HANDLERS[event.type](event)
        return found

    monkeypatch.setattr(repository, "payment_find", find_then_handle)


def test_an_authorisation_between_the_read_and_the_write_of_another_is_not_repeated(monkeypatch):
    """The write's `status: {$exists: false}` guard is what keeps it to one authorisation."""
    order_id = new_order_id()
    authorised_in_between(monkeypatch, inventory_reserved(order_id))
    handlers.HANDLERS[retry_requested(order_id).type](retry_requested(order_id))
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED]


def test_a_refund_between_the_read_and_the_write_of_another_is_not_repeated(monkeypatch):
    order_id = new_order_id()
    handlers.HANDLERS[inventory_reserved(order_id).type](inventory_reserved(order_id))
    authorised_in_between(monkeypatch, shipping_failed(order_id))
    handlers.HANDLERS[compensation_requested(order_id).type](compensation_requested(order_id))
    assert outbox_types(order_id) == [PAYMENT_AUTHORIZED, PAYMENT_REFUNDED]
