"""The projection fold, without Kafka or a store: every event type, any order, duplicates."""
from __future__ import annotations

import itertools
import random

import pytest

from ecom_project.events import registry as r
from projections import domain
from tests.projections.conftest import HAPPY, PAYMENT_DECLINED, REJECTED, SHIPPING_FAILED, saga


def fold(events):
    projection = None
    for event in events:
        projection = domain.apply_event(projection, event) or projection
    return projection


@pytest.mark.parametrize(("path", "status"), [
    (HAPPY[:1], domain.PENDING),
    (HAPPY[:2], domain.INVENTORY_RESERVED),
    (HAPPY[:3], domain.PAYMENT_AUTHORIZED),
    (HAPPY, domain.SHIPPED),
    (REJECTED, domain.REJECTED),
    (PAYMENT_DECLINED[:3], domain.INVENTORY_RESERVED),
    (PAYMENT_DECLINED, domain.CANCELLED),
    (SHIPPING_FAILED[:5], domain.PAYMENT_AUTHORIZED),
    (SHIPPING_FAILED, domain.CANCELLED),
])
def test_status_along_every_saga_path(order_id, path, status):
    assert fold(saga(order_id, *path))["status"] == status


def test_cancelled_only_once_every_needed_compensation_is_seen(order_id):
    refund_only = fold(saga(order_id, *SHIPPING_FAILED[:5]))
    assert refund_only["compensating"] and not refund_only["terminal"]
    done = fold(saga(order_id, *SHIPPING_FAILED))
    assert done["status"] == domain.CANCELLED and done["terminal"] and not done["compensating"]


@pytest.mark.parametrize("path", [HAPPY, REJECTED, PAYMENT_DECLINED, SHIPPING_FAILED])
def test_every_arrival_order_gives_the_same_projection(order_id, path):
    events = saga(order_id, *path)
    expected = fold(events)
    for permutation in itertools.permutations(events):
        assert fold(permutation) == expected


def test_a_late_event_never_moves_status_backwards(order_id):
    created, reserved, authorized, shipped = saga(order_id, *HAPPY)
    projection = fold([created, shipped])
    assert projection["status"] == domain.SHIPPED
    for late in (authorized, reserved):
        projection = domain.apply_event(projection, late)
        assert projection["status"] == domain.SHIPPED


def test_a_duplicate_is_not_applied_again(order_id):
    events = saga(order_id, *HAPPY)
    projection = fold(events)
    for event in events:
        assert domain.apply_event(projection, event) is None
    assert len(projection["timeline"]) == 4 and projection["revision"] == 4


def test_timeline_is_ordered_by_event_time_whatever_the_arrival(order_id):
    events = saga(order_id, *SHIPPING_FAILED)
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    timeline = fold(shuffled)["timeline"]
    assert [entry["eventId"] for entry in timeline] == [str(e.event_id) for e in events]
    assert timeline[0]["at"] == "2030-01-01T12:00:00.000000Z"


def test_order_details_come_from_order_created_even_when_it_arrives_last(order_id):
    created, reserved = saga(order_id, r.ORDER_CREATED, r.INVENTORY_RESERVED)
    early = domain.apply_event(None, reserved)
    assert early["total"] == "42.50" and early["createdAt"] == early["timeline"][0]["at"]
    projection = domain.apply_event(early, created)
    assert projection["items"] == [{"sku": "SKU-1", "qty": 2}]
    assert (projection["total"], projection["currency"], projection["shippingCountry"]) == ("42.50", "USD", "US")
    assert projection["createdAt"] == "2030-01-01T12:00:00.000000Z"
    assert projection["updatedAt"] == "2030-01-01T12:00:01.000000Z"


ALL_TYPES = [t for (t, _v) in r.SCHEMAS if t != r.DEAD_LETTER]


@pytest.mark.parametrize(("event_type", "kind", "detail"), [
    (r.ORDER_CREATED, "ok", "2× SKU-1 for 42.50 USD, ship to US"),
    (r.INVENTORY_RESERVED, "ok", "reserved 2× SKU-1"),
    (r.INVENTORY_FAILED, "failed", "insufficient stock (short: SKU-1 1/2)"),
    (r.INVENTORY_RELEASED, "compensation", "released 2× SKU-1: payment declined"),
    (r.PAYMENT_AUTHORIZED, "ok", "authorised 42.50 USD (payment pay-1)"),
    (r.PAYMENT_FAILED, "failed", "declined 42.50 USD: over limit"),
    (r.PAYMENT_REFUNDED, "compensation", "refunded 42.50 USD: shipping failed"),
    (r.ORDER_SHIPPED, "ok", "SimPost tracking TRK123"),
    (r.SHIPPING_FAILED, "failed", "country ZZ not served"),
    (r.RETRY_REQUESTED, "operator", "retry of payment requested by ops-1"),
    (r.COMPENSATION_REQUESTED, "operator", "refundPayment requested by ops-1"),
])
def test_every_event_type_has_a_readable_timeline_entry(order_id, event_type, kind, detail):
    (event,) = saga(order_id, event_type)
    entry = domain.timeline_entry(event)
    assert entry == {"type": event_type, "eventId": str(event.event_id), "at": entry["at"], "detail": detail, "kind": kind}


def test_every_registered_event_type_is_covered():
    assert {t for (t, _v) in r.SCHEMAS} == set(domain.SAGA_ORDER)


def test_a_retry_request_does_not_change_status(order_id):
    projection = fold(saga(order_id, r.ORDER_CREATED, r.RETRY_REQUESTED))
    assert projection["status"] == domain.PENDING


def test_a_compensation_request_proves_a_reservation_it_may_overtake(order_id):
    projection = fold(saga(order_id, r.ORDER_CREATED, r.COMPENSATION_REQUESTED))
    assert projection["status"] == domain.INVENTORY_RESERVED and projection["compensating"]
