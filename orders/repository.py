"""The only code that knows the orders collections.

`orders`: one document per order, `_id` = orderId, carrying its outbox.
`order_status_counts`: one document, `_id` = "orders", counting the orders in each status
(status_counts.py).
`order_idempotency_keys`: `_id` = the client's Idempotency-Key, or `orderId:<id>` for a
client-chosen orderId (idempotency.py), written before the order so two racing requests
with one key agree on one orderId.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from ecom_project.events.envelope import Envelope
from ecom_project.messaging.outbox import insert_with_events, update_with_events
from ecom_project.mongo import ONE_BATCH, ensure_index, get_db


def orders() -> Any:
    return get_db()["orders"]


def status_counts() -> Any:
    return get_db()["order_status_counts"]


def idempotency_keys() -> Any:
    return get_db()["order_idempotency_keys"]


def ensure_indexes() -> None:
    ensure_index(orders(), [("status", ASCENDING), ("createdAt", DESCENDING)], name="status_createdAt")
    ensure_index(orders(), [("createdAt", DESCENDING)], name="createdAt")
    ensure_index(orders(), [("status", ASCENDING), ("updatedAt", ASCENDING)], name="status_updatedAt")  # stuck orders


def order_insert(document: dict, events: Sequence[Envelope]) -> bool:
    """False when an order with this _id exists already."""
    return insert_with_events(orders(), document, events)


def order_find(order_id: str) -> dict | None:
    return orders().find_one({"_id": order_id}, {"outbox": 0, "outboxLease": 0})


def order_update(
    *, order_id: str, version: int, update: dict, events: Sequence[Envelope] = (), applied_event_id: str | None = None
) -> bool:
    """One atomic write guarded by the version read (optimistic concurrency) and, when
    given, by the event id not being applied yet. False when either guard fails."""
    change = {**update, "$inc": {"version": 1}}
    return update_with_events(
        orders(), filter={"_id": order_id, "version": version}, update=change, events=events,
        applied_event_id=applied_event_id,
    )


LIST_FIELDS = {"outbox": 0, "outboxLease": 0, "appliedEvents": 0, "statusHistory": 0}


def orders_find(*, query: dict, limit: int, after: tuple[datetime, str] | None = None) -> list[dict]:
    """Newest first; `after` is the (createdAt, _id) of the last row of the previous page."""
    clauses = [query] if query else []
    if after:
        created, order_id = after
        clauses.append({"$or": [{"createdAt": {"$lt": created}}, {"createdAt": created, "_id": {"$lt": order_id}}]})
    cursor = orders().find({"$and": clauses} if clauses else {}, LIST_FIELDS)
    return list(cursor.sort([("createdAt", DESCENDING), ("_id", DESCENDING)]).limit(limit))


def stuck_query(*, step: str, waiting_statuses: Sequence[str], cancelling_facts: Sequence[str],
                before: datetime | None) -> dict:
    """Orders waiting for `step` (with no progress since `before`, when given): the saga rule's
    waiting_step as a query on the status_updatedAt index."""
    cancelling = [{f"facts.{fact}": True} for fact in cancelling_facts]
    query: dict = {"status": {"$in": list(waiting_statuses)}}
    if before is not None:
        query["updatedAt"] = {"$lt": before}
    if step == "compensation":
        return {**query, "$or": cancelling}
    return {**query, **{f"facts.{fact}": {"$ne": True} for fact in cancelling_facts}}


WAITING_FIELDS = {"status": 1, "facts": 1, "updatedAt": 1, "stuckStep": 1}


def orders_waiting(*, statuses: Sequence[str], before: datetime) -> list[dict]:
    """The orders in `statuses` with no progress since `before` (status, facts, updatedAt, stuckStep):
    one read on the status_updatedAt index, in one reply."""
    query = {"status": {"$in": list(statuses)}, "updatedAt": {"$lt": before}}
    return list(orders().find(query, WAITING_FIELDS, batch_size=ONE_BATCH))


def order_flag_stuck(order: dict, *, step: str, at: datetime) -> bool:
    """Mark the order, as read, stuck on `step` (not a versioned change: it decides nothing, any event
    application or operator request clears it). False when it moved on since it was read, or was
    marked already."""
    unchanged = {"_id": order["_id"], "status": order["status"], "updatedAt": order["updatedAt"], "stuckStep": {"$ne": step}}
    return orders().update_one(unchanged, {"$set": {"stuckStep": step, "stuckSince": at}}).modified_count == 1


def idempotency_key_claim(*, key: str, body_hash: str, order_id: str, at: datetime) -> dict:
    """The key's record: the one just written, or the one an earlier request wrote."""
    record = {"_id": key, "bodyHash": body_hash, "orderId": order_id, "createdAt": at}
    try:
        idempotency_keys().insert_one(record)
    except DuplicateKeyError:
        existing = idempotency_keys().find_one({"_id": key})
        if existing is not None:
            return existing
        raise
    return record


def order_statuses() -> Iterator[dict]:
    """Every order's status and updatedAt, streamed in batches (a whole-collection read: only for the
    recount; a `$group` would hold every document in the store's memory at once on FerretDB)."""
    return orders().find({}, {"_id": 0, "status": 1, "updatedAt": 1}, batch_size=1000)
