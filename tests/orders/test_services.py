"""Order services on the store: event application, idempotency-key recovery, operator requests."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from ecom_project.api_errors import ApplicationError
from ecom_project.events import registry as ev
from ecom_project.events.envelope import decode, new_event
from ecom_project.events.schemas import (
    InventoryReleasedV1, InventoryReservedV1, Line, OrderShippedV1, PaymentAuthorizedV1, PaymentFailedV1, RetryRequestedV1,
)
from orders import domain, repository, services

ITEMS = [{"sku": "SKU-1", "qty": 2}]


def create_order(**overrides) -> str:
    args = {"items": ITEMS, "total": Decimal("10.00"), "currency": "USD", "shipping_address": {"country": "US"}, **overrides}
    return services.order_create(**args).order_id


def reserved(order_id):
    return new_event(ev.INVENTORY_RESERVED, InventoryReservedV1(
        order_id=order_id, items=[Line(**i) for i in ITEMS], total=Decimal("10"), currency="USD"), order_id=order_id)


def authorized(order_id):
    return new_event(ev.PAYMENT_AUTHORIZED, PaymentAuthorizedV1(
        order_id=order_id, payment_id="p1", amount=Decimal("10"), currency="USD"), order_id=order_id)


def payment_failed(order_id):
    return new_event(ev.PAYMENT_FAILED, PaymentFailedV1(
        order_id=order_id, amount=Decimal("10"), currency="USD", reason="declined: over limit"), order_id=order_id)


def released(order_id):
    return new_event(ev.INVENTORY_RELEASED, InventoryReleasedV1(
        order_id=order_id, items=[Line(**i) for i in ITEMS], reason="payment failed"), order_id=order_id)


def order(order_id) -> dict:
    return repository.order_find(order_id)


def test_same_event_twice_is_applied_once():
    order_id = create_order()
    event = reserved(order_id)
    services.order_apply_event(event=event)
    services.order_apply_event(event=event)
    doc = order(order_id)
    assert doc["status"] == domain.INVENTORY_RESERVED and doc["version"] == 2
    assert [h["status"] for h in doc["statusHistory"]] == ["PENDING", "INVENTORY_RESERVED"]
    assert doc["statusHistory"][1]["eventId"] == str(event.event_id)


def test_the_order_kept_after_applying_an_event_is_the_stored_one():
    order_id = create_order()
    for event in (reserved(order_id), authorized(order_id)):
        services.order_apply_event(event=event)
        kept, stored = services._written.get(order_id), order(order_id)
        fields = ("status", "facts", "version", "appliedEvents", "failure", "stuckStep")
        assert {f: kept.get(f) for f in fields} == {f: stored.get(f) for f in fields}
        assert [h["eventId"] for h in kept["statusHistory"]] == [h["eventId"] for h in stored["statusHistory"]]


def test_a_finished_order_is_let_go_and_a_late_event_reads_it_back():
    """The kept orders are the ones in flight: a process does not fill up with finished orders."""
    order_id = create_order()
    services.order_apply_event(event=reserved(order_id))
    services.order_apply_event(event=payment_failed(order_id))
    assert services._written.get(order_id) is not None
    services.order_apply_event(event=released(order_id))
    assert order(order_id)["status"] == domain.CANCELLED and services._written.get(order_id) is None
    late = authorized(order_id)  # delivered after the end: applied to the stored order, no error
    services.order_apply_event(event=late)
    assert str(late.event_id) in order(order_id)["appliedEvents"]


def test_an_operator_request_since_the_last_event_is_not_lost():
    """The kept order is stale once an operator request wrote the order: the guarded write fails, the kept
    copy is dropped, and the event is applied to the stored order."""
    order_id = create_order()
    services.order_apply_event(event=reserved(order_id))
    services.order_compensation_request(order_id=order_id, action="releaseInventory", requested_by="user:1")
    services.order_apply_event(event=authorized(order_id))
    doc = order(order_id)
    assert doc["status"] == domain.PAYMENT_AUTHORIZED and len(doc["operatorRequests"]) == 1


def test_version_conflict_raises_so_the_runner_retries(monkeypatch):
    order_id = create_order()
    stale = order(order_id)
    services.order_apply_event(event=reserved(order_id))
    services._written.clear()  # as in another process (or once the kept copy is forgotten): the read is stale
    monkeypatch.setattr(repository, "order_find", lambda _id: stale)
    with pytest.raises(services.OrderVersionConflict):
        services.order_apply_event(event=authorized(order_id))


def test_failure_is_recorded_with_its_reason_and_cancel_waits_for_release():
    order_id = create_order()
    services.order_apply_event(event=payment_failed(order_id))
    doc = order(order_id)
    assert doc["status"] == domain.INVENTORY_RESERVED
    assert doc["failure"]["kind"] == "payment" and doc["failure"]["reason"] == "declined: over limit"
    services.order_apply_event(event=released(order_id))
    assert order(order_id)["status"] == domain.CANCELLED


def test_event_for_unknown_order_is_ignored():
    services.order_apply_event(event=reserved(uuid.uuid4().hex))
    assert repository.orders().count_documents({}) == 0


def test_key_recorded_but_order_lost_in_a_crash_is_finished_by_the_repeat(monkeypatch):
    real_insert = repository.order_insert
    monkeypatch.setattr(repository, "order_insert", lambda *a: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        create_order(idempotency_key="k")
    [key_record] = repository.idempotency_keys().find()
    assert repository.orders().count_documents({}) == 0
    monkeypatch.setattr(repository, "order_insert", real_insert)
    creation = services.order_create(items=ITEMS, total=Decimal("10"), currency="USD",
                                     shipping_address={"country": "US"}, idempotency_key="k")
    assert creation.order_id == key_record["orderId"] and creation.created
    again = services.order_create(items=ITEMS, total=Decimal("10"), currency="USD",
                                  shipping_address={"country": "US"}, idempotency_key="k")
    assert again.order_id == creation.order_id and not again.created
    assert repository.orders().count_documents({}) == 1


def test_retry_request_writes_retry_event_through_the_outbox():
    order_id = create_order()
    services.order_apply_event(event=reserved(order_id))
    event_id = services.order_retry_request(order_id=order_id, step="payment", requested_by="7")
    doc = repository.orders().find_one({"_id": order_id})
    retry = decode(doc["outbox"][-1]["value"])
    assert str(retry.event_id) == event_id and retry.type == ev.RETRY_REQUESTED
    assert retry.payload == {"orderId": order_id, "step": "payment", "requestedBy": "7", "items": ITEMS,
                             "total": "10.00", "currency": "USD", "shippingCountry": "US"}
    assert doc["operatorRequests"][0]["kind"] == "retry" and doc["operatorRequests"][0]["eventId"] == event_id


def test_retry_shipping_of_unpaid_order_is_409_with_reason():
    order_id = create_order()
    services.order_apply_event(event=reserved(order_id))
    with pytest.raises(ApplicationError) as caught:
        services.order_retry_request(order_id=order_id, step="shipping", requested_by="7")
    assert caught.value.status_code == 409 and "PAYMENT_AUTHORIZED" in caught.value.fields["reason"]
    assert len(repository.orders().find_one({"_id": order_id})["outbox"]) == 1  # only OrderCreated


@pytest.mark.parametrize("call, kwargs, status", [
    (services.order_retry_request, {"step": "packing"}, 400),
    (services.order_compensation_request, {"action": "refundAll"}, 400),
    (services.order_retry_request, {"step": "inventory", "requested_by": ""}, 400),
    (services.order_compensation_request, {"action": "releaseInventory"}, 409),
])
def test_bad_operator_requests(call, kwargs, status):
    order_id = create_order()
    with pytest.raises(ApplicationError) as caught:
        call(**{"order_id": order_id, "requested_by": "7", **kwargs})
    assert caught.value.status_code == status


@pytest.mark.parametrize("call, kwargs", [
    (services.order_retry_request, {"step": "inventory"}), (services.order_compensation_request, {"action": "refundPayment"}),
])
def test_operator_request_for_unknown_order_is_404(call, kwargs):
    with pytest.raises(ApplicationError) as caught:
        call(order_id=uuid.uuid4().hex, requested_by="7", **kwargs)
    assert caught.value.status_code == 404


def test_operator_release_cancels_the_order_once_released():
    order_id = create_order()
    services.order_apply_event(event=reserved(order_id))
    event_id = services.order_compensation_request(order_id=order_id, action="releaseInventory", requested_by="7")
    doc = repository.orders().find_one({"_id": order_id})
    assert decode(doc["outbox"][-1]["value"]).payload == {"orderId": order_id, "action": "releaseInventory", "requestedBy": "7"}
    assert doc["operatorRequests"][0]["eventId"] == event_id and doc["status"] == domain.INVENTORY_RESERVED
    with pytest.raises(ApplicationError):  # the saga is being compensated: no retry
        services.order_retry_request(order_id=order_id, step="payment", requested_by="7")
    services.order_apply_event(event=released(order_id))
    assert order(order_id)["status"] == domain.CANCELLED


def test_racing_requests_with_one_key_make_one_order():
    from concurrent.futures import ThreadPoolExecutor

    def attempt(_):
        return services.order_create(items=ITEMS, total=Decimal("10"), currency="USD", shipping_address=None,
                                     idempotency_key="race")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(16)))
    assert len({r.order_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert repository.orders().count_documents({}) == 1


def shipped(order_id):
    return new_event(ev.ORDER_SHIPPED, OrderShippedV1(order_id=order_id, shipment_id="s1", carrier="sim",
                                                      tracking_number="T1"), order_id=order_id)


def outbox_types(order_id) -> list[str]:
    return [decode(entry["value"]).type for entry in repository.orders().find_one({"_id": order_id})["outbox"]]


def test_a_compensation_is_refused_while_the_shipment_is_in_flight():
    """Accepted, it could be followed by an OrderShipped: the order would end SHIPPED and refunded."""
    order_id = create_order()
    services.order_apply_event(event=reserved(order_id))
    services.order_apply_event(event=authorized(order_id))
    for action in domain.COMPENSATION_ACTIONS:
        with pytest.raises(ApplicationError) as caught:
            services.order_compensation_request(order_id=order_id, action=action, requested_by="7")
        assert caught.value.status_code == 409 and caught.value.fields["reason"] == domain.SHIPMENT_IN_FLIGHT
    assert outbox_types(order_id) == [ev.ORDER_CREATED]


def event_lands_between_read_and_write(monkeypatch, *events):
    """The operator's first reads of the order return it as it was; each event is applied right after
    one of them (as the orders consumer would, between the request's read and its write)."""
    real_find, queue = repository.order_find, list(events)

    def find_then_apply(order_id):
        found = real_find(order_id)
        if queue:
            monkeypatch.setattr(repository, "order_find", real_find)  # the consumer's own read is not raced
            services.order_apply_event(event=queue.pop(0))
            monkeypatch.setattr(repository, "order_find", find_then_apply)
        return found

    monkeypatch.setattr(repository, "order_find", find_then_apply)


def test_operator_refund_racing_an_order_shipped_is_refused_on_the_reread(monkeypatch):
    """A release at INVENTORY_RESERVED cancelled the order; the authorisation was in flight (refundPayment
    is offered for it). Its shipment lands between the request's read and write: the version guard makes
    the request read again, and it is refused (the goods are gone), with no event queued."""
    order_id = create_order()
    services.order_apply_event(event=reserved(order_id))
    services.order_compensation_request(order_id=order_id, action="releaseInventory", requested_by="7")
    services.order_apply_event(event=released(order_id))
    services.order_apply_event(event=authorized(order_id))
    assert order(order_id)["status"] == domain.CANCELLED
    event_lands_between_read_and_write(monkeypatch, shipped(order_id))
    with pytest.raises(ApplicationError) as caught:
        services.order_compensation_request(order_id=order_id, action="refundPayment", requested_by="7")
    assert caught.value.status_code == 409 and caught.value.fields["reason"] == "the order has shipped"
    assert outbox_types(order_id).count(ev.COMPENSATION_REQUESTED) == 1  # the release only


def test_operator_retry_racing_a_payment_failure_is_refused_on_the_reread(monkeypatch):
    order_id = create_order()
    services.order_apply_event(event=reserved(order_id))
    event_lands_between_read_and_write(monkeypatch, payment_failed(order_id))
    with pytest.raises(ApplicationError) as caught:
        services.order_retry_request(order_id=order_id, step="payment", requested_by="7")
    assert caught.value.status_code == 409 and caught.value.fields["reason"] == "the order is being compensated"
    assert outbox_types(order_id) == [ev.ORDER_CREATED]


def test_operator_request_losing_every_race_is_a_409_and_writes_nothing(monkeypatch):
    order_id = create_order()
    services.order_apply_event(event=reserved(order_id))
    # Events that change the order's version, not what the operator may do: each attempt reads a stale order.
    bumps = [new_event(ev.RETRY_REQUESTED, RetryRequestedV1(
        order_id=order_id, step="payment", requested_by="x", items=[Line(**i) for i in ITEMS], total=Decimal("10"),
        currency="USD"), order_id=order_id) for _ in range(services._OPERATOR_WRITE_ATTEMPTS)]
    event_lands_between_read_and_write(monkeypatch, *bumps)
    with pytest.raises(ApplicationError) as caught:
        services.order_compensation_request(order_id=order_id, action="releaseInventory", requested_by="7")
    assert caught.value.status_code == 409 and "changed concurrently" in caught.value.message
    assert outbox_types(order_id) == [ev.ORDER_CREATED] and order(order_id)["operatorRequests"] == []
