"""Order rules as pure functions: which fact an event records, the status those facts
imply, and whether an operator may retry a step or request a compensation.

The order keeps *facts* (booleans) rather than a state machine position, so events may
arrive in any order or twice: a fact is set once and never unset, and the status is
derived from the facts. The status never moves backwards and a terminal status sticks;
facts keep being recorded after it (so an operator can still see, say, a payment that
was authorised after the order was cancelled, and refund it).

Cancellation rule: an order is *cancelling* once payment or shipping failed, or an
operator requested a compensation. It becomes CANCELLED when every effect done for it
has been undone: a reservation needs its InventoryReleased, an authorisation its
PaymentRefunded. Effects are also inferred from later facts (a PaymentFailed proves the
stock was reserved, a ShippingFailed proves the payment was authorised), so a payment
decline waits for the release and a shipping failure for the refund and the release,
even if the event proving the effect is still in flight. An operator compensation on a
non-terminal order therefore cancels it once the requested compensation *and* the ones
the order's other effects require have been seen.
"""
from __future__ import annotations

from collections.abc import Mapping

from ecom_project.events import registry as ev

from ecom_project.events.saga import (  # noqa: F401  (the statuses are part of this module's vocabulary)
    CANCELLED,
    INVENTORY_RESERVED,
    PAYMENT_AUTHORIZED,
    PENDING,
    REJECTED,
    SHIPPED,
    STATUSES,
    TERMINAL,
)
_RANK = {PENDING: 0, INVENTORY_RESERVED: 1, PAYMENT_AUTHORIZED: 2}

FACT_OF_EVENT: dict[str, str] = {
    ev.INVENTORY_RESERVED: "reserved",
    ev.INVENTORY_FAILED: "inventoryFailed",
    ev.INVENTORY_RELEASED: "released",
    ev.PAYMENT_AUTHORIZED: "authorized",
    ev.PAYMENT_FAILED: "paymentFailed",
    ev.PAYMENT_REFUNDED: "refunded",
    ev.ORDER_SHIPPED: "shipped",
    ev.SHIPPING_FAILED: "shippingFailed",
}
TRACKED_EVENTS = tuple(FACT_OF_EVENT)
FAILURE_OF_EVENT = {ev.INVENTORY_FAILED: "inventory", ev.PAYMENT_FAILED: "payment", ev.SHIPPING_FAILED: "shipping"}
CANCEL_REQUESTED = "cancelRequested"  # fact set by an operator compensation request

RETRY_STEPS = ("inventory", "payment", "shipping")
COMPENSATION_ACTIONS = ("releaseInventory", "refundPayment")


def with_event_fact(facts: Mapping[str, bool], event_type: str) -> dict[str, bool]:
    return {**facts, FACT_OF_EVENT[event_type]: True}


def was_reserved(facts: Mapping[str, bool]) -> bool:
    return any(facts.get(f) for f in ("reserved", "released", "paymentFailed", "shippingFailed")) or was_authorized(facts)


def was_authorized(facts: Mapping[str, bool]) -> bool:
    return any(facts.get(f) for f in ("authorized", "refunded", "shippingFailed", "shipped"))


def is_cancelling(facts: Mapping[str, bool]) -> bool:
    return any(facts.get(f) for f in ("paymentFailed", "shippingFailed", CANCEL_REQUESTED))


def _compensated(facts: Mapping[str, bool]) -> bool:
    release_done = not was_reserved(facts) or facts.get("released", False)
    refund_done = not was_authorized(facts) or facts.get("refunded", False)
    return bool(release_done and refund_done)


def derived_status(facts: Mapping[str, bool]) -> str:
    """The status the facts alone imply."""
    if facts.get("shipped"):
        return SHIPPED
    if facts.get("inventoryFailed") and not was_reserved(facts):
        return REJECTED
    if is_cancelling(facts) and _compensated(facts):
        return CANCELLED
    if was_authorized(facts):
        return PAYMENT_AUTHORIZED
    if was_reserved(facts):
        return INVENTORY_RESERVED
    return PENDING


def next_status(current: str, facts: Mapping[str, bool]) -> str:
    """Never backwards; a terminal status sticks."""
    if current in TERMINAL:
        return current
    derived = derived_status(facts)
    if derived in TERMINAL or _RANK[derived] >= _RANK[current]:
        return derived
    return current


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


def compensation_refusal(*, status: str, facts: Mapping[str, bool], action: str) -> str | None:
    """Why `action` may not be requested now, or None when it may."""
    if status == SHIPPED:
        return "the order has shipped"
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
