"""Inventory rules, free of I/O: reservation planning, shortages and the reservation's states.

A reservation moves through these states (the per-order document inventory owns):

    reserving --all lines held--> reserved --OrderShipped--> shipped
        |  \\--a line short-----> failed
        |                           reserved --release------> released
        \\--release (mid-flight)--> released
    (none) --release before any reservation--> cancelled --later OrderCreated--> failed

After every state change the stock is *settled* to match the state (holds released
or moved to shipped), so a crash between the two writes is repaired by redelivery.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

RESERVING = "reserving"
RESERVED = "reserved"
FAILED = "failed"
RELEASED = "released"
SHIPPED = "shipped"
CANCELLED = "cancelled"

MAX_EVENT_QTY = 10_000  # the event schemas cap a line's qty; bigger merged lines are split or capped
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class PlannedLine:
    sku: str
    qty: int


@dataclass(frozen=True)
class ShortLine:
    sku: str
    requested: int
    available: int
    known: bool


@dataclass(frozen=True)
class ReservationRequest:
    """What reserving needs, from OrderCreated or a RetryRequested for the inventory step."""

    order_id: str
    items: list[PlannedLine]
    total: str
    currency: str
    shipping_country: str | None = None


def plan_reservation(items: Iterable[PlannedLine]) -> list[PlannedLine]:
    """One line per SKU (a SKU listed twice is summed: the order holds at most one hold per SKU),
    sorted so every attempt walks the lines in the same order."""
    merged: dict[str, int] = {}
    for line in items:
        if line.qty <= 0:
            raise ValueError(f"quantity of {line.sku} must be positive, got {line.qty}")
        merged[line.sku] = merged.get(line.sku, 0) + line.qty
    return [PlannedLine(sku, qty) for sku, qty in sorted(merged.items())]


def find_shortages(
    plan: Iterable[PlannedLine], *, available: Mapping[str, int], held: Iterable[str] = ()
) -> list[ShortLine]:
    """Lines that cannot be held now: unknown SKUs and short stock. Lines already held are fine."""
    held_skus = set(held)
    shortages = []
    for line in plan:
        if line.sku in held_skus:
            continue
        if line.sku not in available:
            shortages.append(ShortLine(line.sku, line.qty, 0, known=False))
        elif available[line.sku] < line.qty:
            shortages.append(ShortLine(line.sku, line.qty, max(available[line.sku], 0), known=True))
    return shortages


def failure_reason(shortages: Iterable[ShortLine]) -> str:
    parts = [
        f"{s.sku} short (requested {s.requested}, available {s.available})" if s.known else f"{s.sku} unknown SKU"
        for s in shortages
    ]
    return _clip("cannot reserve all lines: " + "; ".join(parts) if parts else "cannot reserve all lines")


def cancelled_reason(release_reason: str) -> str:
    return _clip(f"order was released before inventory reserved it ({release_reason})")


def event_lines(plan: Iterable[PlannedLine]) -> list[PlannedLine]:
    """Lines as events may carry them: a merged qty above the schema's cap is split, so totals stay exact."""
    lines = []
    for line in plan:
        left = line.qty
        while left > 0:
            lines.append(PlannedLine(line.sku, min(left, MAX_EVENT_QTY)))
            left -= MAX_EVENT_QTY
    return lines


def may_reserve(status: str | None) -> bool:
    """OrderCreated/RetryRequested (re)run the holds only while no outcome is recorded."""
    return status in (None, RESERVING)


def may_release(status: str | None) -> bool:
    return status in (RESERVING, RESERVED)


def may_ship(status: str | None) -> bool:
    return status == RESERVED


def records_early_release(status: str | None, *, from_saga: bool) -> bool:
    """A saga failure (PaymentFailed/ShippingFailed) for an order never seen is remembered, so its
    late OrderCreated holds nothing; an operator's compensation for an unknown order is a no-op."""
    return status is None and from_saga


def settlement(status: str | None) -> str | None:
    """What must happen to any hold still left for the order: 'release', 'ship' or nothing."""
    if status in (FAILED, RELEASED, CANCELLED):
        return "release"
    if status == SHIPPED:
        return "ship"
    return None


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"
