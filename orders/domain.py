"""Order rules as pure functions: which facts the orders app records, and whether an
operator may retry a step or request a compensation. The status itself is derived by the
kernel's one saga rule (ecom_project/events/saga.py), which the read model uses too.
"""
from __future__ import annotations

from collections.abc import Mapping

from ecom_project.events import registry as ev
from ecom_project.events.saga import (  # noqa: F401  (the saga's vocabulary and rule, re-exported for this app)
    CANCEL_REQUESTED,
    CANCELLED,
    FACT_OF_EVENT,
    INVENTORY_RESERVED,
    PAYMENT_AUTHORIZED,
    PENDING,
    REJECTED,
    SHIPPED,
    STATUSES,
    TERMINAL,
    derived_status,
    is_cancelling,
    next_status,
    was_authorized,
    was_reserved,
    with_event_fact,
)

# The orders app records the operator's compensation request when it accepts it (in the same
# write that queues the event), so it does not consume ops.CompensationRequested itself.
TRACKED_EVENTS = tuple(t for t in FACT_OF_EVENT if t != ev.COMPENSATION_REQUESTED)
FAILURE_OF_EVENT = {ev.INVENTORY_FAILED: "inventory", ev.PAYMENT_FAILED: "payment", ev.SHIPPING_FAILED: "shipping"}

RETRY_STEPS = ("inventory", "payment", "shipping")
COMPENSATION_ACTIONS = ("releaseInventory", "refundPayment")


def retry_refusal(*, status: str, facts: Mapping[str, bool], step: str) -> str | None:
    """Why `step` may not be retried now, or None when it may (its previous step
    succeeded and the step itself has no outcome yet)."""
    if status in TERMINAL:
        return f"the order is {status}"
    if is_cancelling(facts):
        return "the order is being compensated"
    needed = {"inventory": PENDING, "payment": INVENTORY_RESERVED, "shipping": PAYMENT_AUTHORIZED}[step]
    if status != needed:
        return f"retrying {step} needs status {needed}, the order is {status}"
    return None


SHIPMENT_IN_FLIGHT = ("the shipment is in flight and its outcome decides: a ShippingFailed refunds and releases "
                      "by itself (retry shipping if it is stuck)")


def compensation_refusal(*, status: str, facts: Mapping[str, bool], action: str) -> str | None:
    """Why `action` may not be requested now, or None when it may.

    Nothing is undone while the shipment may still be booked (PAYMENT_AUTHORIZED with no shipping
    outcome): shipping decides on its own topic, so a refund or release accepted then could be followed
    by an OrderShipped, and the order would end SHIPPED with its payment refunded or its stock given
    back (docs/operations.md, "Compensations")."""
    if status == SHIPPED or facts.get("shipped"):
        return "the order has shipped"
    if status == PAYMENT_AUTHORIZED and not facts.get("shippingFailed"):
        return SHIPMENT_IN_FLIGHT
    if action == "releaseInventory":
        if not was_reserved(facts):
            return "no inventory was reserved for the order"
        if facts.get("released"):
            return "the inventory was already released"
        return None
    if not was_authorized(facts):
        return "no payment was authorized for the order"
    if facts.get("refunded"):
        return "the payment was already refunded"
    return None


MAX_LINE_QTY = 10_000


def merged_lines(lines: list[Mapping]) -> list[dict]:
    """The same SKU on several lines is one line with the quantities summed, in order of
    first appearance (the caller checks the sum against MAX_LINE_QTY)."""
    quantities: dict[str, int] = {}
    for line in lines:
        quantities[line["sku"]] = quantities.get(line["sku"], 0) + line["qty"]
    return [{"sku": sku, "qty": qty} for sku, qty in quantities.items()]
