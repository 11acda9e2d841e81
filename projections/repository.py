"""The only code that knows where projections are stored (`orders_projection`, and its counts per status
in `orders_projection_status_counts`, status_counts.py)."""
from __future__ import annotations

import time
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from ecom_project.mongo import ensure_index, get_db

COLLECTION = "orders_projection"
NEWEST_FIRST = [("createdAt", DESCENDING), ("_id", DESCENDING)]


def projections(name: str = COLLECTION) -> Any:
    return get_db()[name]


def status_counts() -> Any:
    return get_db()[f"{COLLECTION}_status_counts"]


def statuses() -> Any:
    """Every live projection's status, streamed in batches (a whole-collection read: only for the recount)."""
    return projections().find({}, {"_id": 0, "status": 1}, batch_size=1000)


def ensure_indexes(collection: Any | None = None) -> None:
    collection = collection if collection is not None else projections()
    ensure_index(collection, NEWEST_FIRST, name="newest_first")
    ensure_index(collection, [("status", ASCENDING), *NEWEST_FIRST], name="status_newest_first")
    ensure_index(collection, [("status", ASCENDING), ("progressAt", ASCENDING)], name="status_progressAt")  # stuck orders


def find(order_id: str, *, collection: Any | None = None) -> dict[str, Any] | None:
    collection = collection if collection is not None else projections()
    return collection.find_one({"_id": order_id})


def save_if_unchanged(projection: dict[str, Any], *, previous_revision: int, collection: Any | None = None) -> bool:
    """Compare-and-swap on `revision`: one atomic write that only lands if nobody wrote since we read.

    The timeline's eventIds in the stored document are what make a redelivery a no-op."""
    collection = collection if collection is not None else projections()
    document = {key: value for key, value in projection.items() if key != "_id"}
    if previous_revision == 0:
        try:
            collection.insert_one({"_id": projection["orderId"], **document})
        except DuplicateKeyError:
            return False
        return True
    result = collection.replace_one({"_id": projection["orderId"], "revision": previous_revision}, document)
    return result.matched_count == 1


StuckBefore = dict[str, tuple[tuple[str, ...], str]]


def page(*, status: str | None, after: tuple[str, str] | None, limit: int,
         stuck_before: StuckBefore | None = None) -> list[dict[str, Any]]:
    """Newest first; `after` is the (createdAt, orderId) of the last row of the previous page."""
    query = _query(status=status, after=after, stuck_before=stuck_before)
    return list(projections().find(query).sort(NEWEST_FIRST).limit(limit))


def count_stuck(stuck_before: StuckBefore) -> int:
    return projections().count_documents(_query(status=None, after=None, stuck_before=stuck_before))


def _query(*, status: str | None, after: tuple[str, str] | None, stuck_before: StuckBefore | None) -> dict[str, Any]:
    """`stuck_before`: step -> (statuses waiting for it, RFC 3339 time): only orders waiting for a
    step with no progress since that time."""
    clauses: list[dict[str, Any]] = [{"status": status}] if status else []
    if after:
        created, order_id = after
        clauses.append({"$or": [{"createdAt": {"$lt": created}}, {"createdAt": created, "_id": {"$lt": order_id}}]})
    if stuck_before:
        clauses.append({"$or": [
            {"status": {"$in": list(statuses)}, "compensating": step == "compensation", "progressAt": {"$lt": before}}
            for step, (statuses, before) in stuck_before.items()
        ]})
    return {"$and": clauses} if clauses else {}


def fresh_collection() -> Any:
    """An empty collection to rebuild into, next to the live one."""
    collection = projections(f"{COLLECTION}_rebuild_{int(time.time() * 1000)}")
    collection.drop()
    ensure_indexes(collection)
    return collection


def swap_in(collection: Any) -> None:
    """Replace the live projection by a rebuilt one: the live one is renamed aside, the rebuilt one
    takes its name, the old one is dropped. (FerretDB has no `dropTarget`; between the two renames,
    a few milliseconds, readers find no projection.)"""
    live = projections()
    retired = f"{COLLECTION}_retired_{int(time.time() * 1000)}"
    if COLLECTION in live.database.list_collection_names():
        live.rename(retired)
    collection.rename(COLLECTION)
    live.database[retired].drop()
    ensure_indexes()
