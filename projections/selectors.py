"""Reads of the read model: one order, a page of recent orders, counts per status."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ecom_project.api_errors import ApplicationError
from projections import domain, repository
from projections.services import public_view

MAX_LIMIT = 200
MAX_CURSOR_CHARS = 400  # ours are ~80; a longer one is not ours, and is not decoded at all
# What anyone holding an order id may see (ecom_project/access.py): no payment id or tracking
# number, which the timeline's `detail` texts carry; the country is the only part of the address.
ANONYMOUS_FIELDS = ("orderId", "status", "terminal", "compensating", "items", "total", "currency",
                    "shippingCountry", "createdAt", "updatedAt", "revision", "timeline")
ANONYMOUS_TIMELINE_FIELDS = ("type", "eventId", "at", "kind")


def reader_view(projection: dict[str, Any], *, staff: bool) -> dict[str, Any]:
    """The projection as this reader may see it (`projection` is stored or already public)."""
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
    return reader_view(projection, staff=staff)


def order_projection_find(*, order_id: str, staff: bool = False) -> dict[str, Any] | None:
    projection = repository.find(order_id)
    return reader_view(projection, staff=staff) if projection else None


def order_projection_list(*, status: str | None, limit: int, cursor: str | None, staff: bool = False) -> dict[str, Any]:
    """A page of projections, newest first, and the opaque cursor of the next page (None at the end)."""
    if status and not domain.is_valid_status(status):
        raise ApplicationError(
            f"Unknown status {status!r}.", fields={"status": f"one of {', '.join(domain.STATUSES)}"},
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError(f"limit must be between 1 and {MAX_LIMIT}.", fields={"limit": f"1..{MAX_LIMIT}"})
    rows = repository.page(status=status or None, after=decode_cursor(cursor) if cursor else None, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]) if more and rows else None
    return {"results": [reader_view(row, staff=staff) for row in rows], "nextCursor": next_cursor}


def status_counts() -> dict[str, int]:
    counts = repository.count_by_status()
    return {status: counts.get(status, 0) for status in domain.STATUSES}


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
