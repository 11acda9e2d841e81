"""Inventory writes: reserve all lines or none, release, ship, operator stock changes.

No multi-document transactions: each stock line is a guarded single-document update keyed
by a per-order hold, and each outcome is one write on the order's reservation document
(state + event + applied-event guard). After every outcome the holds are *settled* to match
it, which also repairs a crash between the two writes when the event is redelivered.
"""
from __future__ import annotations

import re

from ecom_project.api_errors import ApplicationError
from ecom_project.events.envelope import Envelope, new_event
from ecom_project.events.registry import INVENTORY_FAILED, INVENTORY_RELEASED, INVENTORY_RESERVED
from ecom_project.events.schemas import InventoryFailedV1, InventoryReleasedV1, InventoryReservedV1, Line, Shortage
from inventory import domain, repository
from inventory.domain import PlannedLine, ReservationRequest

SKU_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_ADJUST = 1_000_000_000
RACE_ATTEMPTS = 3


def reservation_reserve(*, request: ReservationRequest, cause: Envelope) -> str:
    """Reserve every line of the order or none; returns the reservation's status afterwards."""
    plan = domain.plan_reservation(request.items)
    # A redelivery (or an early release) finds the reservation there already: read it.
    reservation = repository.reservation_create(request=request, plan=plan) or repository.reservation_find(request.order_id)
    outcome = None
    if reservation["status"] == domain.CANCELLED:
        _fail_cancelled(reservation, cause=cause)
    elif domain.may_reserve(reservation["status"]):
        outcome = _hold_all_or_none(reservation, cause=cause)
    return _settle(request.order_id, known=outcome)


def reservation_release(*, order_id: str, reason: str, cause: Envelope, from_saga: bool = True) -> str | None:
    """Give back exactly what the order holds, once, and emit InventoryReleased."""
    for _ in range(RACE_ATTEMPTS):  # another write may change the reservation between our read and write
        reservation = repository.reservation_find(order_id)
        status = reservation and reservation["status"]
        if domain.records_early_release(status, from_saga=from_saga):
            if repository.reservation_record_early_release(
                order_id=order_id, status=domain.CANCELLED, reason=reason, event_id=str(cause.event_id)
            ):
                return domain.CANCELLED
            continue  # OrderCreated created it first: release that
        if not domain.may_release(status) or _mark_released(reservation, reason=reason, cause=cause):
            break
    return _settle(order_id)


def _mark_released(reservation: dict, *, reason: str, cause: Envelope) -> bool:
    order_id = reservation["_id"]
    released = _released_lines(reservation)
    event = new_event(INVENTORY_RELEASED, InventoryReleasedV1(
        order_id=order_id, items=_event_lines(released), reason=reason), order_id=order_id, cause=cause)
    return repository.reservation_transition(
        order_id=order_id, from_status=reservation["status"], to_status=domain.RELEASED, cause=cause, events=[event],
        fields={"reason": reason, "released": [{"sku": s.sku, "qty": s.qty} for s in released]},
    )


def reservation_ship(*, order_id: str, cause: Envelope) -> str | None:
    """Move the order's holds from reserved to shipped."""
    reservation = repository.reservation_find(order_id)
    if reservation and domain.may_ship(reservation["status"]) and repository.reservation_transition(
            order_id=order_id, from_status=domain.RESERVED, to_status=domain.SHIPPED, cause=cause):
        return _settle(order_id, known={**reservation, "status": domain.SHIPPED})
    return _settle(order_id)


def reservation_retry(*, request: ReservationRequest, cause: Envelope) -> str | None:
    """An operator's retry re-runs the reservation only while inventory has no outcome for the order."""
    reservation = repository.reservation_find(request.order_id)
    if reservation is None or domain.may_reserve(reservation["status"]):
        return reservation_reserve(request=request, cause=cause)
    return reservation["status"]


def _hold_all_or_none(reservation: dict, *, cause: Envelope) -> dict | None:
    """Hold every line or none and record the outcome; the reservation as written, or None when another
    write changed it first."""
    order_id = reservation["_id"]
    plan = repository.plan_of(reservation)
    held = []
    for line in plan:
        if not repository.stock_hold(sku=line.sku, order_id=order_id, qty=line.qty):
            break
        held.append(line.sku)
    if len(held) == len(plan):
        payload = InventoryReservedV1(
            order_id=order_id, items=[Line(**item) for item in reservation["items"]], total=reservation["total"],
            currency=reservation["currency"], shipping_country=reservation.get("shippingCountry"),
        )
        outcome, fields = domain.RESERVED, {}
        event = new_event(INVENTORY_RESERVED, payload, order_id=order_id, cause=cause)
    else:
        available = repository.stock_available(line.sku for line in plan)
        shortages = domain.find_shortages(plan, available=available, held=held)
        reason = domain.failure_reason(shortages)
        outcome, fields = domain.FAILED, {"reason": reason, "shortages": [s.__dict__ for s in shortages]}
        event = new_event(INVENTORY_FAILED, InventoryFailedV1(order_id=order_id, reason=reason, shortages=[
            Shortage(sku=s.sku, requested=min(s.requested, domain.MAX_EVENT_QTY), available=s.available)
            for s in shortages
        ]), order_id=order_id, cause=cause)
    if repository.reservation_transition(
        order_id=order_id, from_status=domain.RESERVING, to_status=outcome, cause=cause, events=[event], fields=fields
    ):
        return {**reservation, **fields, "status": outcome}
    return None


def _fail_cancelled(reservation: dict, *, cause: Envelope) -> None:
    order_id = reservation["_id"]
    reason = domain.cancelled_reason(reservation.get("reason", "released"))
    event = new_event(INVENTORY_FAILED, InventoryFailedV1(order_id=order_id, reason=reason), order_id=order_id, cause=cause)
    repository.reservation_transition(
        order_id=order_id, from_status=domain.CANCELLED, to_status=domain.FAILED, cause=cause, events=[event],
        fields={"reason": reason, "shortages": []},
    )


def _released_lines(reservation: dict) -> list[PlannedLine]:
    plan = repository.plan_of(reservation)
    if reservation["status"] == domain.RESERVED:
        return plan
    held = repository.stock_held_for(reservation["_id"], (line.sku for line in plan))  # mid-flight: what is held now
    return [PlannedLine(sku, qty) for sku, qty in sorted(held.items())]


def _event_lines(lines: list[PlannedLine]) -> list[Line]:
    return [Line(sku=line.sku, qty=line.qty) for line in domain.event_lines(lines)]


def _settle(order_id: str, *, known: dict | None = None) -> str | None:
    """Make the holds match the recorded outcome; each hold guards itself, so this repeats safely.
    `known`: the reservation as this call just wrote it (spares reading it back)."""
    reservation = known or repository.reservation_find(order_id)
    status = reservation and reservation["status"]
    move = domain.settlement(status)
    if move:
        settle_hold = repository.stock_release_hold if move == "release" else repository.stock_ship_hold
        for line in repository.plan_of(reservation):
            settle_hold(sku=line.sku, order_id=order_id, qty=line.qty)
    return status


def stock_seed(*, skus: int = 20, qty: int = 10_000, if_empty: bool = False) -> int | None:
    """Give SKU-1…SKU-<skus> `qty` available where the SKU does not exist yet; never clobbers live
    stock. Returns how many SKUs it created, or None when `if_empty` found stock already."""
    if if_empty and not repository.stock_is_empty():
        return None
    return sum(repository.stock_seed(sku=f"SKU-{n}", qty=qty) for n in range(1, skus + 1))


def stock_adjust(*, sku: str, delta: int, reason: str) -> dict:
    """An operator's stock correction: receive (delta > 0, creates a new SKU) or write off (delta < 0)."""
    errors = {}
    if not isinstance(sku, str) or not SKU_PATTERN.match(sku):
        errors["sku"] = "1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'."
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_ADJUST:
        errors["delta"] = f"A non-zero whole number between -{MAX_ADJUST} and {MAX_ADJUST}."
    if not isinstance(reason, str) or not reason.strip() or len(reason) > domain.MAX_REASON_CHARS:
        errors["reason"] = f"Say why, in 1-{domain.MAX_REASON_CHARS} characters."
    if errors:
        raise ApplicationError("The stock adjustment is invalid.", code="invalid", status_code=400, fields=errors)
    if not repository.stock_adjust(sku=sku, delta=delta, reason=reason.strip(), create=delta > 0):
        current = repository.stock_find(sku)
        if current is None:
            raise ApplicationError(f"No stock for SKU {sku}.", code="not_found", status_code=404)
        raise ApplicationError(
            f"Cannot remove {-delta} of {sku}: only {current['available']} available.",
            code="insufficient_stock", status_code=409, fields={"delta": f"At least -{current['available']}."},
        )
    return repository.stock_find(sku)
