"""Writes of the read model: fold an event into the stored projection, then push the change live."""
from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings

from ecom_project import live
from ecom_project.bounded import LRU
from ecom_project.events.envelope import Envelope
from projections import domain, repository
from projections.status_counts import PROJECTION_COUNTS

log = logging.getLogger(__name__)
ALL_ORDERS_GROUP = "orders"
MAX_WRITE_ATTEMPTS = 20


# The projections this process wrote last, as stored: the next event of an order folds into it without
# reading it back. Sound because every write is a compare-and-swap on `revision`: if anyone else wrote
# the order since (another replica, a rebuild), the write fails, the entry is dropped and the order read;
# and an event the kept copy has already is checked against the store before it is skipped. A finished
# order is let go (an event that comes after reads it back once): only orders in flight are kept.
_written: LRU[str, dict[str, Any]] = LRU(settings.PROJECTION_CACHE_SIZE)


class ProjectionConflict(RuntimeError):
    """Other writers kept changing the same order; the runner retries the event."""


# Ids a live listener may follow: the characters and length a channel-layer group name allows
# ("order." + id < 100). Order ids are 32 hex characters; anything else is simply not an order.
FOLLOWABLE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def is_followable(order_id: str) -> bool:
    return bool(FOLLOWABLE_ID.fullmatch(order_id or ""))


def order_group(order_id: str) -> str:
    if not is_followable(order_id):
        raise ValueError("not an order id a listener can follow")
    return f"order.{order_id}"


def projection_apply(*, event: Envelope, collection: Any | None = None, notify: bool = True) -> dict[str, Any] | None:
    """Store the projection with `event` folded in; None when it was already in it.

    Optimistic concurrency: read, fold (pure), write only if the revision is unchanged;
    two consumers writing the same order concurrently simply retry the fold."""
    cached = collection is None  # a rebuild writes elsewhere, and reads what it wrote
    for _ in range(MAX_WRITE_ATTEMPTS):
        current = _written.get(event.key) if cached else None
        projection = domain.apply_event(current, event) if current else None
        if projection is None:  # not kept, or "already in it" by the kept copy: the store decides
            current = repository.find(event.key, collection=collection)
            projection = domain.apply_event(current, event)
        if projection is None:
            return None
        previous = current["revision"] if current else 0
        if repository.save_if_unchanged(projection, previous_revision=previous, collection=collection):
            if cached:
                if projection["status"] in domain.TERMINAL_STATUSES:
                    _written.pop(event.key)
                else:
                    _written.put(event.key, {**projection, "_id": projection["orderId"]})
                old = current["status"] if current else None
                if projection["status"] != old:
                    PROJECTION_COUNTS.moved(old=old, new=projection["status"])
            if notify:
                projection_broadcast(projection=projection)
            return projection
        _written.pop(event.key)
    raise ProjectionConflict(f"order {event.key} changed {MAX_WRITE_ATTEMPTS} times while applying {event.event_id}")


def public_view(projection: dict[str, Any]) -> dict[str, Any]:
    """What readers see: the stored document without storage internals."""
    return {key: value for key, value in projection.items() if key not in {"_id", "detailsFrom"}}


def projection_broadcast(*, projection: dict[str, Any]) -> None:
    """Push the stored change to websocket/SSE listeners. Best effort: the store is the truth and
    readers re-fetch it on reconnect, so a channel-layer outage must not fail (and re-run) the event."""
    try:
        live.send_latest(key=projection["orderId"], revision=projection["revision"], item=public_view(projection),
                         group=order_group(projection["orderId"]), feed=ALL_ORDERS_GROUP)
    except Exception as exc:  # noqa: BLE001 - logged, see docstring
        log.warning("projection broadcast failed", extra={"orderId": projection["orderId"], "error": str(exc)})
