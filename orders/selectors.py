"""Reads of the orders app (the public order document and the operator list)."""
from __future__ import annotations

import re
from datetime import datetime

from ecom_project.api_errors import ApplicationError
from orders import domain, repository

_ORDER_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_LIST_LIMIT = 200


def order_get(*, order_id: str, staff: bool = False) -> dict:
    """The order document; 404 for a malformed or unknown id. Only staff see the whole shipping
    address (name, street, phone); anyone else who holds the id sees its country."""
    order = repository.order_find(order_id) if _ORDER_ID.fullmatch(order_id or "") else None
    if order is None:
        raise ApplicationError("No such order.", code="not_found", status_code=404)
    return order if staff else anonymous_view(order)


def anonymous_view(order: dict) -> dict:
    address = order.get("shippingAddress")
    country = address.get("country") if isinstance(address, dict) else None
    return {**order, "shippingAddress": {"country": country} if country else None}


def order_list(*, status: str | None = None, limit: int = 50, created_before: datetime | None = None) -> list[dict]:
    """Newest first; `created_before` (the last page's oldest createdAt) pages further back."""
    if status is not None and status not in domain.STATUSES:
        raise ApplicationError(f"Unknown status {status!r}.", code="invalid", fields={"status": f"one of {', '.join(domain.STATUSES)}"})
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise ApplicationError("limit out of range.", code="invalid", fields={"limit": f"1-{MAX_LIST_LIMIT}"})
    return repository.orders_find(status=status, limit=limit, created_before=created_before)
