"""The only code that knows where shipments are stored: one document per order (`_id` = orderId)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import pymongo

from ecom_project.events.envelope import Envelope
from ecom_project.messaging.outbox import insert_with_events
from ecom_project.mongo import ensure_index, get_db

_INTERNAL_FIELDS = {"outbox": 0, "outboxLease": 0, "appliedEvents": 0}


def shipments() -> Any:
    return get_db()["shipments"]


def ensure_indexes() -> None:
    ensure_index(shipments(), [("status", pymongo.ASCENDING), ("createdAt", pymongo.DESCENDING)])


def shipment_find(*, order_id: str) -> dict | None:
    return shipments().find_one({"_id": order_id}, _INTERNAL_FIELDS)


def shipment_record_outcome(*, order_id: str, fields: dict, events: Sequence[Envelope], applied_event_id: str) -> bool:
    """Insert the order's one shipment outcome; False if it has one already.

    The unique `_id` makes it at most one booking per order; `appliedEvents` is recorded for
    the same guard shape as every other consumer."""
    now = datetime.now(timezone.utc)
    document = {"_id": order_id, **fields, "createdAt": now, "updatedAt": now, "appliedEvents": [applied_event_id]}
    return insert_with_events(shipments(), document, events)
