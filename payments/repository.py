"""The only code that knows where payments are stored: one document per order (`_id` = orderId)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import pymongo

from ecom_project.events.envelope import Envelope
from ecom_project.messaging.outbox import update_with_events
from ecom_project.mongo import ensure_index, get_db

_INTERNAL_FIELDS = {"outbox": 0, "outboxLease": 0, "appliedEvents": 0}


def payments() -> Any:
    return get_db()["payments"]


def ensure_indexes() -> None:
    ensure_index(payments(), [("status", pymongo.ASCENDING), ("createdAt", pymongo.DESCENDING)])
    ensure_index(payments(), [("createdAt", pymongo.DESCENDING)])


@lru_cache(maxsize=1)
def _ensure_indexes_once() -> None:
    """The web process lists payments without running the consumer's setup."""
    ensure_indexes()


def payment_find(*, order_id: str, internal: bool = False) -> dict | None:
    """The payment document; `internal` includes the outbox and the applied-event guard."""
    return payments().find_one({"_id": order_id}, None if internal else _INTERNAL_FIELDS)


def payment_search(*, status: str | None, limit: int) -> list[dict]:
    _ensure_indexes_once()
    query = {"status": status} if status else {}
    cursor = payments().find(query, _INTERNAL_FIELDS).sort([("createdAt", -1), ("_id", -1)]).limit(limit)
    return list(cursor)


def payment_record_outcome(
    *, order_id: str, fields: dict, refund_requested: bool, events: Sequence[Envelope], applied_event_id: str
) -> bool:
    """Write the order's one payment outcome; False if it has one already (or the refund request changed)."""
    now = datetime.now(timezone.utc)
    return update_with_events(
        payments(),
        filter={"_id": order_id, "status": {"$exists": False}, "refundRequested": {"$exists": refund_requested}},
        update={"$set": {**fields, "updatedAt": now}, "$setOnInsert": {"createdAt": now}},
        events=events,
        applied_event_id=applied_event_id,
        upsert=not refund_requested,
    )


def payment_mark_refunded(*, order_id: str, reason: str, events: Sequence[Envelope], applied_event_id: str) -> bool:
    """AUTHORIZED -> REFUNDED once; False if the payment is not (or no longer) authorised."""
    now = datetime.now(timezone.utc)
    return update_with_events(
        payments(),
        filter={"_id": order_id, "status": "AUTHORIZED"},
        update={"$set": {"status": "REFUNDED", "refundReason": reason, "refundedAt": now, "updatedAt": now}},
        events=events,
        applied_event_id=applied_event_id,
    )


def payment_remember_refund_request(*, order_id: str, reason: str, applied_event_id: str) -> bool:
    """Keep a refund request that came before any payment outcome (no event: nothing to refund yet)."""
    now = datetime.now(timezone.utc)
    return update_with_events(
        payments(),
        filter={"_id": order_id, "status": {"$exists": False}, "refundRequested": {"$exists": False}},
        update={"$set": {"refundRequested": {"reason": reason, "at": now}, "updatedAt": now},
                "$setOnInsert": {"createdAt": now}},
        applied_event_id=applied_event_id,
        upsert=True,
    )
