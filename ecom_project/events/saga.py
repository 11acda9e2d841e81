"""The one saga rule (DESIGN §6): the order status as a pure function of the facts seen.

The orders app (write model) and the projections app (read model) both fold their facts
through `next_status`, so the two never disagree on the same facts.

Facts are booleans set once and never unset, so events may arrive in any order or twice.
An order is *cancelling* once payment or shipping failed, or an operator requested a
compensation; it is CANCELLED when every effect done for it has been undone (a
reservation needs its InventoryReleased, an authorisation its PaymentRefunded). Effects
are also inferred from later facts (a PaymentFailed proves the stock was reserved, a
ShippingFailed that the payment was authorised).

Operator release at INVENTORY_RESERVED: the order is CANCELLED as soon as the release is
seen (nothing else was done for it). A payment authorised afterwards (it was in flight)
does not reopen it: a terminal status sticks; the fact is recorded, so the operator
pages still offer refundPayment for it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from ecom_project.events import registry as ev

PENDING = "PENDING"
INVENTORY_RESERVED = "INVENTORY_RESERVED"
PAYMENT_AUTHORIZED = "PAYMENT_AUTHORIZED"
SHIPPED = "SHIPPED"
REJECTED = "REJECTED"
CANCELLED = "CANCELLED"
STATUSES = (PENDING, INVENTORY_RESERVED, PAYMENT_AUTHORIZED, SHIPPED, REJECTED, CANCELLED)
TERMINAL = frozenset({SHIPPED, REJECTED, CANCELLED})
_RANK = {PENDING: 0, INVENTORY_RESERVED: 1, PAYMENT_AUTHORIZED: 2}

CANCEL_REQUESTED = "cancelRequested"
FACT_OF_EVENT: dict[str, str] = {
    ev.INVENTORY_RESERVED: "reserved",
    ev.INVENTORY_FAILED: "inventoryFailed",
    ev.INVENTORY_RELEASED: "released",
    ev.PAYMENT_AUTHORIZED: "authorized",
    ev.PAYMENT_FAILED: "paymentFailed",
    ev.PAYMENT_REFUNDED: "refunded",
    ev.ORDER_SHIPPED: "shipped",
    ev.SHIPPING_FAILED: "shippingFailed",
    ev.COMPENSATION_REQUESTED: CANCEL_REQUESTED,
}
CANCELLING_FACTS = ("paymentFailed", "shippingFailed", CANCEL_REQUESTED)

# The step an order waits for in each non-terminal status; a cancelling order waits for its compensation.
STEP_OF_STATUS = {PENDING: "inventory", INVENTORY_RESERVED: "payment", PAYMENT_AUTHORIZED: "shipping"}
COMPENSATION = "compensation"
STEPS = (*STEP_OF_STATUS.values(), COMPENSATION)


def with_event_fact(facts: Mapping[str, bool], event_type: str) -> dict[str, bool]:
    fact = FACT_OF_EVENT.get(event_type)
    return {**facts, fact: True} if fact else dict(facts)


def facts_of(event_types: Iterable[str]) -> dict[str, bool]:
    """The facts a set of seen event types states (what a reader that keeps events derives)."""
    return {FACT_OF_EVENT[t]: True for t in event_types if t in FACT_OF_EVENT}


def was_reserved(facts: Mapping[str, bool]) -> bool:
    # An operator compensation is accepted only for an order with a reservation, so it proves one
    # (a reader may see the request before the InventoryReserved: they are on different topics).
    evidence = ("reserved", "released", "paymentFailed", "shippingFailed", CANCEL_REQUESTED)
    return any(facts.get(f) for f in evidence) or was_authorized(facts)


def was_authorized(facts: Mapping[str, bool]) -> bool:
    return any(facts.get(f) for f in ("authorized", "refunded", "shippingFailed", "shipped"))


def is_cancelling(facts: Mapping[str, bool]) -> bool:
    return any(facts.get(f) for f in CANCELLING_FACTS)


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


def next_status(current: str | None, facts: Mapping[str, bool]) -> str:
    """The status after `facts`: never backwards, and a terminal status sticks."""
    current = current or PENDING
    if current in TERMINAL:
        return current
    derived = derived_status(facts)
    if derived in TERMINAL or _RANK[derived] >= _RANK[current]:
        return derived
    return current


def compensating(status: str, facts: Mapping[str, bool]) -> bool:
    return status not in TERMINAL and is_cancelling(facts)


def waiting_step(status: str, facts: Mapping[str, bool]) -> str | None:
    """The step the order waits for (None once final): what a stuck order is stuck on."""
    if status in TERMINAL:
        return None
    return COMPENSATION if is_cancelling(facts) else STEP_OF_STATUS[status]


def overdue_step(*, status: str, facts: Mapping[str, bool], since: datetime, now: datetime,
                 timeouts: Mapping[str, int]) -> str | None:
    """The step the order is stuck on: it has waited for it since `since` (its last progress)
    longer than the step's deadline. None when it is final or still in time."""
    step = waiting_step(status, facts)
    if step is None or (now - since).total_seconds() <= timeouts[step]:
        return None
    return step


def stuck_cutoffs(*, now: datetime, timeouts: Mapping[str, int]) -> dict[str, datetime]:
    """Per step, the last-progress time before which a waiting order is overdue (for store queries)."""
    return {step: now - timedelta(seconds=seconds) for step, seconds in timeouts.items()}


def waiting_statuses(step: str) -> tuple[str, ...]:
    """The statuses in which an order may be waiting for `step`."""
    if step == COMPENSATION:
        return tuple(s for s in STATUSES if s not in TERMINAL)
    return tuple(status for status, waited in STEP_OF_STATUS.items() if waited == step)
