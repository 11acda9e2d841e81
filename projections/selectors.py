"""Reads of the read model: one order, a page of recent orders, counts per status."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import Any

from django.conf import settings

from ecom_project import order_directory
from ecom_project.api_errors import ApplicationError
from ecom_project.events import saga
from projections import domain, repository
from projections.status_counts import PROJECTION_COUNTS
from projections.services import public_view

MAX_LIMIT = 200
MAX_CURSOR_CHARS = 400  # ours are ~80; a longer one is not ours, and is not decoded at all
# What anyone holding an order id may see (ecom_project/access.py): no payment id or tracking
# number, which the timeline's `detail` texts carry; the country is the only part of the address.
# The saga's progress (waiting/overdue step, last progress, dead-letter count) names no person either.
ANONYMOUS_FIELDS = ("orderId", "status", "terminal", "compensating", "items", "total", "currency",
                    "shippingCountry", "createdAt", "updatedAt", "revision", "timeline",
                    "waitingStep", "overdueStep", "progressAt", "deadLetters")
ANONYMOUS_TIMELINE_FIELDS = ("type", "eventId", "at", "kind")


def reader_view(projection: dict[str, Any], *, staff: bool) -> dict[str, Any]:
    """The projection as this reader may see it (`projection` is stored or already public, with or
    without its overdue step)."""
    view = public_view(projection)
    if staff:
        return view
    shown = {key: view[key] for key in ANONYMOUS_FIELDS if key in view}
    shown["timeline"] = [{key: entry.get(key) for key in ANONYMOUS_TIMELINE_FIELDS} for entry in view.get("timeline", [])]
    return shown


def order_projection_get(*, order_id: str, staff: bool = False) -> dict[str, Any]:
    projection = repository.find(order_id)
    if projection is None:
        raise ApplicationError("No such order in the read model.", code="not_found", status_code=404)
    return reader_view(with_overdue(public_view(projection), now=datetime.now(timezone.utc)), staff=staff)


def order_projection_find(*, order_id: str, staff: bool = False) -> dict[str, Any] | None:
    projection = repository.find(order_id)
    return reader_view(projection, staff=staff) if projection else None


def order_projection_follow(*, order_id: str, staff: bool = False) -> dict[str, Any] | None:
    """Where a subscription (SSE, websocket) starts: the projection as this reader may see it, or None
    when the orders app accepted the order but the read model has not seen it yet (the subscriber
    waits for it). 404 only for ids nobody knows."""
    projection = order_projection_find(order_id=order_id, staff=staff)
    if projection is None and not order_directory.order_known(order_id):
        raise ApplicationError("No such order.", code="not_found", status_code=404)
    return projection


def order_projection_list(*, status: str | None, limit: int, cursor: str | None, stuck: bool = False,
                          staff: bool = False) -> dict[str, Any]:
    """A page of projections, newest first, as this reader may see them, and the opaque cursor of the
    next page (None at the end). `stuck`: only orders whose current step is past its deadline
    (SAGA_STEP_TIMEOUT_S)."""
    if status and not domain.is_valid_status(status):
        raise ApplicationError(
            f"Unknown status {status!r}.", fields={"status": f"one of {', '.join(domain.STATUSES)}"},
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError(f"limit must be between 1 and {MAX_LIMIT}.", fields={"limit": f"1..{MAX_LIMIT}"})
    now = datetime.now(timezone.utc)
    stuck_before = _stuck_before(now) if stuck else None
    rows = repository.page(status=status or None, after=decode_cursor(cursor) if cursor else None, limit=limit + 1,
                           stuck_before=stuck_before)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]) if more and rows else None
    return {"results": [reader_view(with_overdue(public_view(row), now=now), staff=staff) for row in rows],
            "nextCursor": next_cursor}


def with_overdue(projection: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The projection with the step it is stuck on (None when in time), by the kernel's saga rule."""
    since = projection.get("progressAt") or projection.get("updatedAt")
    if not since or not projection.get("waitingStep"):
        return {**projection, "overdueStep": None}
    facts = saga.facts_of(entry["type"] for entry in projection["timeline"])
    overdue = saga.overdue_step(status=projection["status"], facts=facts, since=datetime.fromisoformat(since.replace("Z", "+00:00")),
                                now=now, timeouts=settings.SAGA_STEP_TIMEOUT_S)
    return {**projection, "overdueStep": overdue}


def stuck_count() -> int:
    """Orders past their step's deadline in the read model (the dashboard's STUCK chip)."""
    return repository.count_stuck(_stuck_before(datetime.now(timezone.utc)))


def _stuck_before(now: datetime) -> repository.StuckBefore:
    cutoffs = saga.stuck_cutoffs(now=now, timeouts=settings.SAGA_STEP_TIMEOUT_S)
    return {step: (saga.waiting_statuses(step), domain.format_time(cutoff)) for step, cutoff in cutoffs.items()}


def status_counts() -> dict[str, int]:
    """Projections in each status: one read of the counters (status_counts.py), whatever the history."""
    return PROJECTION_COUNTS.current()


def encode_cursor(row: dict[str, Any]) -> str:
    raw = json.dumps([row["createdAt"], row["_id"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("cursor too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, order_id = json.loads(raw)
        if not isinstance(created, str) or not isinstance(order_id, str):
            raise ValueError("cursor fields are not strings")
    except (ValueError, TypeError, binascii.Error, RecursionError):  # RecursionError: deeply nested JSON
        raise ApplicationError("cursor is not one this API returned.", fields={"cursor": "invalid"}) from None
    return created, order_id
