"""Order rules without I/O: every event type, any order, duplicates, never backwards."""
from __future__ import annotations

import itertools

import pytest

from ecom_project.events import registry as ev
from orders import domain as d

HAPPY = [ev.INVENTORY_RESERVED, ev.PAYMENT_AUTHORIZED, ev.ORDER_SHIPPED]
PAYMENT_DECLINE = [ev.INVENTORY_RESERVED, ev.PAYMENT_FAILED, ev.INVENTORY_RELEASED]
SHIPPING_FAILURE = [ev.INVENTORY_RESERVED, ev.PAYMENT_AUTHORIZED, ev.SHIPPING_FAILED, ev.PAYMENT_REFUNDED, ev.INVENTORY_RELEASED]


def run(events, *, status=d.PENDING, facts=None):
    """Statuses after each event, applied the way the handler applies them."""
    facts, seen = dict(facts or {}), []
    for event_type in events:
        facts = d.with_event_fact(facts, event_type)
        status = d.next_status(status, facts)
        seen.append(status)
    return seen


def test_every_tracked_event_type_records_a_fact():
    assert set(d.TRACKED_EVENTS) == {
        ev.INVENTORY_RESERVED, ev.INVENTORY_FAILED, ev.INVENTORY_RELEASED, ev.PAYMENT_AUTHORIZED, ev.PAYMENT_FAILED,
        ev.PAYMENT_REFUNDED, ev.ORDER_SHIPPED, ev.SHIPPING_FAILED,
    }


def test_happy_path_moves_forward_to_shipped():
    assert run(HAPPY) == [d.INVENTORY_RESERVED, d.PAYMENT_AUTHORIZED, d.SHIPPED]


def test_inventory_failure_rejects():
    assert run([ev.INVENTORY_FAILED]) == [d.REJECTED]


def test_payment_decline_cancels_only_after_the_release():
    assert run(PAYMENT_DECLINE) == [d.INVENTORY_RESERVED, d.INVENTORY_RESERVED, d.CANCELLED]


def test_shipping_failure_cancels_only_after_refund_and_release():
    assert run(SHIPPING_FAILURE)[2:] == [d.PAYMENT_AUTHORIZED, d.PAYMENT_AUTHORIZED, d.CANCELLED]


@pytest.mark.parametrize("path, final", [(HAPPY, d.SHIPPED), (PAYMENT_DECLINE, d.CANCELLED), (SHIPPING_FAILURE, d.CANCELLED)])
def test_any_arrival_order_ends_the_same_and_never_moves_backwards(path, final):
    for order in itertools.permutations(path):
        statuses = run(order)
        assert statuses[-1] == final, order
        ranks = [d.STATUSES.index(s) if s not in d.TERMINAL else 99 for s in statuses]
        assert ranks == sorted(ranks), order


def test_release_before_payment_failure_still_waits_for_the_failure():
    assert run([ev.INVENTORY_RELEASED, ev.PAYMENT_FAILED]) == [d.INVENTORY_RESERVED, d.CANCELLED]


def test_payment_failure_without_a_seen_reservation_still_needs_the_release():
    assert run([ev.PAYMENT_FAILED]) == [d.INVENTORY_RESERVED]


@pytest.mark.parametrize("event_type", d.TRACKED_EVENTS)
def test_terminal_status_sticks_for_every_late_event(event_type):
    for terminal, path in [(d.SHIPPED, HAPPY), (d.CANCELLED, PAYMENT_DECLINE), (d.REJECTED, [ev.INVENTORY_FAILED])]:
        assert run([*path, event_type])[-1] == terminal


def test_duplicates_change_nothing():
    assert run([ev.INVENTORY_RESERVED, ev.INVENTORY_RESERVED, ev.PAYMENT_AUTHORIZED, ev.INVENTORY_RESERVED]) == [
        d.INVENTORY_RESERVED, d.INVENTORY_RESERVED, d.PAYMENT_AUTHORIZED, d.PAYMENT_AUTHORIZED,
    ]


def test_late_inventory_failure_after_reservation_does_not_reject():
    assert run([ev.INVENTORY_RESERVED, ev.INVENTORY_FAILED]) == [d.INVENTORY_RESERVED, d.INVENTORY_RESERVED]


def test_operator_release_cancels_once_released():
    facts = {"reserved": True, d.CANCEL_REQUESTED: True}
    assert d.next_status(d.INVENTORY_RESERVED, facts) == d.INVENTORY_RESERVED
    assert run([ev.INVENTORY_RELEASED], status=d.INVENTORY_RESERVED, facts=facts) == [d.CANCELLED]


def test_operator_release_on_authorized_order_also_needs_the_refund():
    facts = {"reserved": True, "authorized": True, d.CANCEL_REQUESTED: True}
    assert run([ev.INVENTORY_RELEASED, ev.PAYMENT_REFUNDED], status=d.PAYMENT_AUTHORIZED, facts=facts) == [
        d.PAYMENT_AUTHORIZED, d.CANCELLED,
    ]


@pytest.mark.parametrize("step, status, facts, allowed", [
    ("inventory", d.PENDING, {}, True),
    ("inventory", d.INVENTORY_RESERVED, {"reserved": True}, False),
    ("payment", d.INVENTORY_RESERVED, {"reserved": True}, True),
    ("payment", d.PENDING, {}, False),
    ("payment", d.INVENTORY_RESERVED, {"reserved": True, "paymentFailed": True}, False),
    ("shipping", d.PAYMENT_AUTHORIZED, {"reserved": True, "authorized": True}, True),
    ("shipping", d.INVENTORY_RESERVED, {"reserved": True}, False),
    ("shipping", d.SHIPPED, {"shipped": True}, False),
    ("payment", d.INVENTORY_RESERVED, {"reserved": True, d.CANCEL_REQUESTED: True}, False),
])
def test_retry_is_for_a_stuck_step_whose_previous_step_succeeded(step, status, facts, allowed):
    refusal = d.retry_refusal(status=status, facts=facts, step=step)
    assert (refusal is None) is allowed, refusal


@pytest.mark.parametrize("action, status, facts, allowed", [
    ("releaseInventory", d.INVENTORY_RESERVED, {"reserved": True}, True),
    ("releaseInventory", d.PENDING, {}, False),
    ("releaseInventory", d.CANCELLED, {"reserved": True, "released": True, "paymentFailed": True}, False),
    ("releaseInventory", d.SHIPPED, {"reserved": True, "authorized": True, "shipped": True}, False),
    ("refundPayment", d.PAYMENT_AUTHORIZED, {"reserved": True, "authorized": True}, False),  # shipment in flight
    ("releaseInventory", d.PAYMENT_AUTHORIZED, {"reserved": True, "authorized": True}, False),
    ("refundPayment", d.PAYMENT_AUTHORIZED, {"reserved": True, "authorized": True, "shippingFailed": True}, True),
    ("refundPayment", d.CANCELLED, {"reserved": True, "released": True, d.CANCEL_REQUESTED: True, "authorized": True,
                                    "shipped": True}, False),  # a late authorisation that shipped
    ("refundPayment", d.INVENTORY_RESERVED, {"reserved": True}, False),
    ("refundPayment", d.CANCELLED, {"authorized": True, "refunded": True, "shippingFailed": True}, False),
    ("refundPayment", d.CANCELLED, {"reserved": True, "released": True, "paymentFailed": True, "authorized": True}, True),
])
def test_compensation_needs_an_effect_to_undo(action, status, facts, allowed):
    refusal = d.compensation_refusal(status=status, facts=facts, action=action)
    assert (refusal is None) is allowed, refusal


def test_repeated_skus_are_merged_in_first_seen_order():
    lines = [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}, {"sku": "A", "qty": 3}]
    assert d.merged_lines(lines) == [{"sku": "A", "qty": 4}, {"sku": "B", "qty": 2}]
