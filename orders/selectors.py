"""Reads of the orders app (the public order document and the operator list)."""
from __future__ import annotations

from datetime import datetime

from ecom_project.api_errors import ApplicationError
from orders import domain, identifiers, repository

MAX_LIST_LIMIT = 200


def order_get(*, order_id: str) -> dict:
    """The order document; 404 for a malformed or unknown id."""
    order = repository.order_find(order_id) if identifiers.is_order_id(order_id or "") else None
    if order is None:
        raise ApplicationError("No such order.", code="not_found", status_code=404)
    return order


def order_list(*, status: str | None = None, limit: int = 50, created_before: datetime | None = None) -> list[dict]:
    """Newest first; `created_before` (the last page's oldest createdAt) pages further back."""
    if status is not None and status not in domain.STATUSES:
        raise ApplicationError(f"Unknown status {status!r}.", code="invalid", fields={"status": f"one of {', '.join(domain.STATUSES)}"})
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise ApplicationError("limit out of range.", code="invalid", fields={"limit": f"1-{MAX_LIST_LIMIT}"})
    return repository.orders_find(status=status, limit=limit, created_before=created_before)
