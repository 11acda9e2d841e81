"""Reservation services on the store (the local FerretDB; unchanged on MongoDB)."""
from __future__ import annotations

import pytest

from ecom_project.api_errors import ApplicationError
from ecom_project.events.registry import INVENTORY_FAILED, INVENTORY_RELEASED, INVENTORY_RESERVED
from inventory import domain, repository, services
from inventory.domain import PlannedLine, ReservationRequest
from inventory.handlers import on_order_created, on_order_shipped, on_payment_failed
from tests.inventory.conftest import (
    assert_conserved, new_order_id, order_created, order_shipped, payment_failed, queued_events, shipping_failed,
    stock_of,
)


def request_for(order_id: str, lines: dict[str, int]) -> ReservationRequest:
    return ReservationRequest(order_id, [PlannedLine(s, q) for s, q in lines.items()], "25.00", "EUR", "US")


def test_reserves_every_line_and_queues_inventory_reserved(stock):
    order_id = new_order_id()
    created = order_created(order_id, {"SKU-1": 3, "SKU-2": 10})
    on_order_created(created)
    assert stock_of("SKU-1") == {"available": 7, "reserved": 3, "shipped": 0, "stocked": 10, "holds": {order_id: 3}}
    assert stock_of("SKU-2")["available"] == 0
    [event] = queued_events(order_id)
    assert event.type == INVENTORY_RESERVED and event.causation_id == str(created.event_id)
    assert event.payload == {"orderId": order_id, "items": [{"sku": "SKU-1", "qty": 3}, {"sku": "SKU-2", "qty": 10}],
                             "total": "25.00", "currency": "EUR", "shippingCountry": "US"}
    assert_conserved()


def test_unknown_sku_reserves_nothing(stock):
    order_id = new_order_id()
    on_order_created(order_created(order_id, {"SKU-1": 2, "NOPE": 1}))
    assert stock_of("SKU-1") == {"available": 10, "reserved": 0, "shipped": 0, "stocked": 10, "holds": {}}
    [event] = queued_events(order_id)
    assert event.type == INVENTORY_FAILED
    assert event.payload["shortages"] == [{"sku": "NOPE", "requested": 1, "available": 0}]
    assert "NOPE unknown SKU" in event.payload["reason"]


def test_short_line_rolls_back_the_lines_already_held(stock):
    order_id = new_order_id()
    on_order_created(order_created(order_id, {"SKU-1": 4, "SKU-2": 11, "SKU-3": 1}))
    for sku in ("SKU-1", "SKU-2", "SKU-3"):
        assert stock_of(sku)["available"] == 10 and stock_of(sku)["holds"] == {}
    [event] = queued_events(order_id)
    assert event.payload["shortages"] == [{"sku": "SKU-2", "requested": 11, "available": 10}]
    assert repository.reservation_find(order_id)["status"] == domain.FAILED
    assert_conserved()


def test_payment_failure_returns_exactly_what_was_reserved_once(stock):
    order_id = new_order_id()
    on_order_created(order_created(order_id, {"SKU-1": 3, "SKU-3": 2}))
    on_payment_failed(payment_failed(order_id))
    services.reservation_release(order_id=order_id, reason="again", cause=shipping_failed(order_id))
    assert stock_of("SKU-1")["available"] == 10 and stock_of("SKU-3")["available"] == 10
    released = [e for e in queued_events(order_id) if e.type == INVENTORY_RELEASED]
    assert len(released) == 1
    assert released[0].payload["items"] == [{"sku": "SKU-1", "qty": 3}, {"sku": "SKU-3", "qty": 2}]
    assert released[0].payload["reason"] == "payment failed: card declined"
    assert_conserved()


def test_shipping_moves_held_quantities_to_shipped_and_a_later_release_does_nothing(stock):
    order_id = new_order_id()
    on_order_created(order_created(order_id, {"SKU-1": 3}))
    on_order_shipped(order_shipped(order_id))
    assert stock_of("SKU-1") == {"available": 7, "reserved": 0, "shipped": 3, "stocked": 10, "holds": {}}
    services.reservation_release(order_id=order_id, reason="late", cause=shipping_failed(order_id), from_saga=False)
    assert stock_of("SKU-1")["shipped"] == 3
    assert [e.type for e in queued_events(order_id)] == [INVENTORY_RESERVED]
    assert_conserved()


def test_release_before_reservation_is_remembered_and_the_late_order_holds_nothing(stock):
    order_id = new_order_id()
    on_payment_failed(payment_failed(order_id))
    assert repository.reservation_find(order_id)["status"] == domain.CANCELLED
    on_order_created(order_created(order_id, {"SKU-1": 3}))
    assert stock_of("SKU-1")["available"] == 10
    [event] = queued_events(order_id)
    assert event.type == INVENTORY_FAILED and "released before inventory reserved it" in event.payload["reason"]
    assert repository.reservation_find(order_id)["status"] == domain.FAILED


def test_operator_release_of_an_unknown_order_is_a_no_op(stock):
    order_id = new_order_id()
    services.reservation_release(order_id=order_id, reason="op", cause=payment_failed(order_id), from_saga=False)
    assert repository.reservation_find(order_id) is None
    on_order_created(order_created(order_id, {"SKU-1": 1}))
    assert repository.reservation_find(order_id)["status"] == domain.RESERVED


def test_redelivery_after_a_crash_mid_reservation_finishes_without_a_second_hold(stock):
    order_id = new_order_id()
    created = order_created(order_id, {"SKU-1": 3, "SKU-2": 4})
    request = request_for(order_id, {"SKU-1": 3, "SKU-2": 4})
    repository.reservation_create(request=request, plan=domain.plan_reservation(request.items))
    assert repository.stock_hold(sku="SKU-1", order_id=order_id, qty=3)  # ...and the process died here
    on_order_created(created)
    assert stock_of("SKU-1") == {"available": 7, "reserved": 3, "shipped": 0, "stocked": 10, "holds": {order_id: 3}}
    assert stock_of("SKU-2")["holds"] == {order_id: 4}
    assert [e.type for e in queued_events(order_id)] == [INVENTORY_RESERVED]
    assert_conserved()


def test_redelivery_after_a_crash_between_outcome_and_stock_write_repairs_the_stock(stock, monkeypatch):
    order_id = new_order_id()
    on_order_created(order_created(order_id, {"SKU-1": 3, "SKU-2": 4}))
    failed = payment_failed(order_id)
    real_settle = repository._settle_hold
    calls = {"n": 0}

    def crash_on_second_line(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("store went away")
        return real_settle(**kwargs)

    monkeypatch.setattr(repository, "_settle_hold", crash_on_second_line)
    with pytest.raises(ConnectionError):
        on_payment_failed(failed)
    assert stock_of("SKU-2")["holds"] == {order_id: 4}  # the outcome is written, one line still held
    on_payment_failed(failed)
    assert stock_of("SKU-1")["available"] == 10 and stock_of("SKU-2")["available"] == 10
    assert [e.type for e in queued_events(order_id)] == [INVENTORY_RESERVED, INVENTORY_RELEASED]
    assert_conserved()


def test_release_while_reserving_returns_what_is_held_and_a_redelivery_holds_nothing(stock):
    order_id = new_order_id()
    created = order_created(order_id, {"SKU-1": 3, "SKU-2": 4})
    request = request_for(order_id, {"SKU-1": 3, "SKU-2": 4})
    repository.reservation_create(request=request, plan=domain.plan_reservation(request.items))
    repository.stock_hold(sku="SKU-1", order_id=order_id, qty=3)
    services.reservation_release(order_id=order_id, reason="op", cause=payment_failed(order_id), from_saga=False)
    on_order_created(created)
    assert stock_of("SKU-1")["available"] == 10 and stock_of("SKU-2")["available"] == 10
    [event] = queued_events(order_id)
    assert event.type == INVENTORY_RELEASED and event.payload["items"] == [{"sku": "SKU-1", "qty": 3}]
    assert_conserved()


def test_retry_reserves_an_unknown_order_and_ignores_one_with_an_outcome(stock):
    order_id = new_order_id()
    retry = order_created(order_id, {"SKU-1": 2})
    assert services.reservation_retry(request=request_for(order_id, {"SKU-1": 2}), cause=retry) == domain.RESERVED
    again = order_created(order_id, {"SKU-1": 2})
    assert services.reservation_retry(request=request_for(order_id, {"SKU-1": 2}), cause=again) == domain.RESERVED
    assert stock_of("SKU-1")["available"] == 8
    assert len(queued_events(order_id)) == 1


def test_stock_adjust_receives_creates_and_writes_off():
    assert services.stock_adjust(sku="NEW-1", delta=5, reason="received")["available"] == 5
    services.stock_adjust(sku="NEW-1", delta=-2, reason="damaged")
    assert stock_of("NEW-1") == {"available": 3, "reserved": 0, "shipped": 0, "stocked": 3, "holds": {}}
    assert [a["reason"] for a in repository.stock_find("NEW-1")["lastAdjustments"]] == ["received", "damaged"]
    assert_conserved()


@pytest.mark.parametrize("sku, delta, reason, status, field", [
    ("bad sku!", 1, "x", 400, "sku"),
    ("SKU-1", 0, "x", 400, "delta"),
    ("SKU-1", True, "x", 400, "delta"),
    ("SKU-1", 1, " ", 400, "reason"),
    ("MISSING", -1, "x", 404, None),
    ("SKU-1", -11, "x", 409, "delta"),
])
def test_stock_adjust_rejects_bad_input(stock, sku, delta, reason, status, field):
    with pytest.raises(ApplicationError) as error:
        services.stock_adjust(sku=sku, delta=delta, reason=reason)
    assert error.value.status_code == status
    assert field is None or field in error.value.fields
    assert stock_of("SKU-1")["available"] == 10


def test_seed_never_clobbers_live_stock(stock):
    on_order_created(order_created(new_order_id(), {"SKU-1": 4}))
    assert services.stock_seed(skus=5, qty=10_000) == 2
    assert stock_of("SKU-1")["available"] == 6 and stock_of("SKU-5")["available"] == 10_000
    assert services.stock_seed(skus=20, qty=10_000, if_empty=True) is None
    assert repository.stock_find("SKU-20") is None


def test_release_racing_a_reservation_that_completes_first_still_releases(stock, monkeypatch):
    order_id = new_order_id()
    created = order_created(order_id, {"SKU-1": 3})
    request = request_for(order_id, {"SKU-1": 3})
    repository.reservation_create(request=request, plan=domain.plan_reservation(request.items))
    real_transition = repository.reservation_transition
    raced = []

    def reservation_completes_in_between(**kwargs):
        if kwargs["to_status"] == domain.RELEASED and not raced:
            raced.append(True)
            monkeypatch.setattr(repository, "reservation_transition", real_transition)
            on_order_created(created)  # the reserver wins the write
        return real_transition(**kwargs)

    monkeypatch.setattr(repository, "reservation_transition", reservation_completes_in_between)
    on_payment_failed(payment_failed(order_id))
    assert raced
    assert stock_of("SKU-1")["available"] == 10
    reserved, released = queued_events(order_id)
    assert (reserved.type, released.type) == (INVENTORY_RESERVED, INVENTORY_RELEASED)
    assert released.payload["items"] == [{"sku": "SKU-1", "qty": 3}]
    assert_conserved()
