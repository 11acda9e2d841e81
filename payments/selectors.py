"""Payment reads for operator pages."""
from __future__ import annotations

from ecom_project.api_errors import ApplicationError
from payments import repository
from payments.domain import PaymentStatus

MAX_LIST_LIMIT = 200


def payment_get(*, order_id: str) -> dict | None:
    return repository.payment_find(order_id=order_id)


def payment_list(*, status: str | None = None, limit: int = 50) -> list[dict]:
    """Newest payments first, optionally of one status."""
    if status is not None and status not in PaymentStatus.__members__:
        allowed = ", ".join(PaymentStatus.__members__)
        raise ApplicationError(f"status must be one of {allowed}", code="invalid", fields={"status": f"one of {allowed}"})
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise ApplicationError(f"limit must be an integer from 1 to {MAX_LIST_LIMIT}", fields={"limit": "1..200"})
    return repository.payment_search(status=status, limit=limit)
