"""Reads of the read model: one order, a page of recent orders, counts per status."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ecom_project import order_directory
from ecom_project.api_errors import ApplicationError
from projections import domain, repository
from projections.services import public_view

MAX_LIMIT = 200


def order_projection_get(*, order_id: str) -> dict[str, Any]:
    projection = repository.find(order_id)
    if projection is None:
        raise ApplicationError(f"No order {order_id!r} in the read model.", code="not_found", status_code=404)
    return public_view(projection)


def order_projection_find(*, order_id: str) -> dict[str, Any] | None:
    projection = repository.find(order_id)
    return public_view(projection) if projection else None


def order_projection_follow(*, order_id: str) -> dict[str, Any] | None:
    """Where a subscription (SSE, websocket) starts: the projection, or None when the orders app
    accepted the order but the read model has not seen it yet (the subscriber waits for it).
    404 only for ids nobody knows."""
    projection = order_projection_find(order_id=order_id)
    if projection is None and not order_directory.order_known(order_id):
        raise ApplicationError(f"No order {order_id!r}.", code="not_found", status_code=404)
    return projection


def order_projection_list(*, status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
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
    return {"results": [public_view(row) for row in rows], "nextCursor": next_cursor}


def status_counts() -> dict[str, int]:
    counts = repository.count_by_status()
    return {status: counts.get(status, 0) for status in domain.STATUSES}


def encode_cursor(row: dict[str, Any]) -> str:
    raw = json.dumps([row["createdAt"], row["_id"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, order_id = json.loads(raw)
        if not isinstance(created, str) or not isinstance(order_id, str):
            raise ValueError("cursor fields are not strings")
    except (ValueError, TypeError, binascii.Error):
        raise ApplicationError("cursor is not one this API returned.", fields={"cursor": "invalid"}) from None
    return created, order_id
