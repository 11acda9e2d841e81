"""The only code that knows inventory's collections.

`inventory_stock`: one document per SKU
    {_id: sku, available, reserved, shipped, stocked, holds: {orderId: qty}, lastAdjustments: [...]}
    `stocked` is every unit ever put in (seed + operator adjustments), so the invariant
    `stocked == available + reserved + shipped` can be checked at any time, and
    `reserved == sum(holds)`. A hold is the per-order guard: at most one per (SKU, order).
`inventory_reservations`: one document per order (_id = orderId): the plan, the outcome,
    the outbox and the applied-event guard.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from ecom_project.events.envelope import Envelope
from ecom_project.messaging.outbox import insert_with_events, update_with_events
from ecom_project.mongo import ensure_index, get_db
from inventory.domain import RESERVING, PlannedLine, ReservationRequest

ADJUSTMENTS_KEPT = 20


def stock_collection() -> Any:
    return get_db()["inventory_stock"]


def reservation_collection() -> Any:
    return get_db()["inventory_reservations"]


def outbox_collections() -> list[Any]:
    return [reservation_collection()]


def ensure_indexes() -> None:
    ensure_index(reservation_collection(), [("status", ASCENDING), ("updatedAt", ASCENDING)])


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _lines(plan: Iterable[PlannedLine]) -> list[dict]:
    return [{"sku": line.sku, "qty": line.qty} for line in plan]


def plan_of(reservation: dict) -> list[PlannedLine]:
    return [PlannedLine(line["sku"], line["qty"]) for line in reservation.get("lines", [])]


# --- reservations -------------------------------------------------------------------------

def reservation_find(order_id: str) -> dict | None:
    return reservation_collection().find_one({"_id": order_id})


def reservation_create(*, request: ReservationRequest, plan: Sequence[PlannedLine]) -> dict | None:
    """Record the plan before any hold, so a redelivery after a crash finishes the same plan. Returns the
    document as stored, or None when the order has a reservation already."""
    now = _now()
    document = {
        "_id": request.order_id, "status": RESERVING, "lines": _lines(plan), "items": _lines(request.items),
        "total": request.total, "currency": request.currency, "shippingCountry": request.shipping_country,
        "appliedEvents": [], "createdAt": now, "updatedAt": now,
    }
    return document if insert_with_events(reservation_collection(), document) else None


def reservation_record_early_release(*, order_id: str, status: str, reason: str, event_id: str) -> bool:
    now = _now()
    return insert_with_events(reservation_collection(), {
        "_id": order_id, "status": status, "lines": [], "items": [], "reason": reason,
        "appliedEvents": [event_id], "createdAt": now, "updatedAt": now,
    })


def reservation_transition(
    *, order_id: str, from_status: str, to_status: str, cause: Envelope,
    events: Sequence[Envelope] = (), fields: dict | None = None,
) -> bool:
    """State change + outgoing events + applied-event guard in one write; False if it no longer applies."""
    return update_with_events(
        reservation_collection(),
        filter={"_id": order_id, "status": from_status},
        update={"$set": {"status": to_status, "updatedAt": _now(), **(fields or {})}},
        events=events,
        applied_event_id=str(cause.event_id),
    )


# --- stock ------------------------------------------------------------------------------

def stock_hold(*, sku: str, order_id: str, qty: int) -> bool:
    """Hold `qty` of `sku` for the order; True if held now or by an earlier attempt."""
    hold = f"holds.{order_id}"
    result = stock_collection().update_one(
        {"_id": sku, "available": {"$gte": qty}, hold: {"$exists": False}},
        {"$inc": {"available": -qty, "reserved": qty}, "$set": {hold: qty, "updatedAt": _now()}},
    )
    if result.modified_count:
        return True
    return stock_collection().count_documents({"_id": sku, hold: {"$exists": True}}, limit=1) > 0


def stock_release_hold(*, sku: str, order_id: str, qty: int) -> bool:
    """Return a hold to `available`; the hold itself is the guard, so it happens once."""
    return _settle_hold(sku=sku, order_id=order_id, qty=qty, target="available")


def stock_ship_hold(*, sku: str, order_id: str, qty: int) -> bool:
    return _settle_hold(sku=sku, order_id=order_id, qty=qty, target="shipped")


def _settle_hold(*, sku: str, order_id: str, qty: int, target: str) -> bool:
    hold = f"holds.{order_id}"
    result = stock_collection().update_one(
        {"_id": sku, hold: qty},
        {"$inc": {"reserved": -qty, target: qty}, "$unset": {hold: ""}, "$set": {"updatedAt": _now()}},
    )
    return result.modified_count > 0


def stock_available(skus: Iterable[str]) -> dict[str, int]:
    return {d["_id"]: d["available"] for d in stock_collection().find({"_id": {"$in": list(skus)}}, {"available": 1})}


def stock_held_for(order_id: str, skus: Iterable[str]) -> dict[str, int]:
    hold = f"holds.{order_id}"
    found = stock_collection().find({"_id": {"$in": list(skus)}, hold: {"$exists": True}}, {hold: 1})
    return {d["_id"]: d["holds"][order_id] for d in found}


def stock_seed(*, sku: str, qty: int) -> bool:
    """Create the SKU with `qty` available; never touches an existing SKU. True if created."""
    try:
        result = stock_collection().update_one(
            {"_id": sku},
            {"$setOnInsert": {"available": qty, "reserved": 0, "shipped": 0, "stocked": qty, "holds": {},
                              "updatedAt": _now()}},
            upsert=True,
        )
    except DuplicateKeyError:  # a concurrent seeder created it first
        return False
    return result.upserted_id is not None


def stock_is_empty() -> bool:
    return stock_collection().count_documents({}, limit=1) == 0


def stock_adjust(*, sku: str, delta: int, reason: str, create: bool) -> bool:
    """Add `delta` to available (and stocked); never below zero. False if the SKU is missing or
    too little is available (the caller tells which)."""
    entry = {"delta": delta, "reason": reason, "at": _now()}
    update = {
        "$inc": {"available": delta, "stocked": delta},
        "$set": {"updatedAt": entry["at"]},
        "$push": {"lastAdjustments": entry},
    }
    if create:
        update["$setOnInsert"] = {"reserved": 0, "shipped": 0, "holds": {}}
    query = {"_id": sku} if delta >= 0 else {"_id": sku, "available": {"$gte": -delta}}
    try:
        result = stock_collection().update_one(query, update, upsert=create)
    except DuplicateKeyError:  # created concurrently: the plain increment applies now
        result = stock_collection().update_one(query, update)
    # Keep the newest ADJUSTMENTS_KEPT: FerretDB ignores `$push`'s `$slice`, so drop the oldest once over.
    stock_collection().update_one({"_id": sku, f"lastAdjustments.{ADJUSTMENTS_KEPT}": {"$exists": True}},
                                  {"$pop": {"lastAdjustments": -1}})
    return result.matched_count > 0 or result.upserted_id is not None


def stock_find(sku: str) -> dict | None:
    return stock_collection().find_one({"_id": sku})


def stock_all() -> list[dict]:
    return list(stock_collection().find({}))
