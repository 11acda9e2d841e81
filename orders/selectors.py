"""Reads of the orders app: the public order document, the operator list (filters, stuck orders, age)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.conf import settings

from ecom_project.api_errors import ApplicationError
from ecom_project.events import saga
from ecom_project.paging import decode_cursor, encode_cursor
from orders import domain, identifiers, repository

MAX_LIST_LIMIT = 200


def order_get(*, order_id: str, staff: bool = False) -> dict:
    """The order document with its progress; 404 for a malformed or unknown id. Only staff see the whole
    shipping address (name, street, phone); anyone else who holds the id sees its country."""
    order = repository.order_find(order_id) if identifiers.is_order_id(order_id or "") else None
    if order is None:
        raise ApplicationError("No such order.", code="not_found", status_code=404)
    order = with_progress(order)
    return order if staff else anonymous_view(order)


def anonymous_view(order: dict) -> dict:
    address = order.get("shippingAddress")
    country = address.get("country") if isinstance(address, dict) else None
    return {**order, "shippingAddress": {"country": country} if country else None}


def order_exists(order_id: str) -> bool:
    """Whether the orders app accepted this order (what a subscription waits on before the read model has it)."""
    return identifiers.is_order_id(order_id or "") and repository.order_find(order_id) is not None


def order_list(*, status: str | None = None, limit: int = 50, created_before: datetime | None = None) -> list[dict]:
    """Newest first; `created_before` (the last page's oldest createdAt) pages further back."""
    _check_status(status)
    _check_limit(limit)
    query = {"status": status} if status else {}
    if created_before:
        query["createdAt"] = {"$lt": created_before}
    return repository.orders_find(query=query, limit=limit)


@dataclass(frozen=True)
class OrderFilter:
    """What operators select orders by (the /ops/ list and the bulk actions)."""

    status: str | None = None
    step: str | None = None  # the step the order waits for
    stuck: bool = False  # only orders whose step is past its deadline
    older_than_s: int | None = None  # age: time since the order was placed
    error: str | None = None  # text in the failure reason


def order_search(*, where: OrderFilter, limit: int = 50, cursor: str | None = None,
                 now: datetime | None = None) -> tuple[list[dict], str | None]:
    """A page of orders matching `where`, newest first, each with its age and overdue step, and
    the cursor of the next page (None on the last)."""
    _check_status(where.status)
    _check_limit(limit)
    if where.step is not None and where.step not in saga.STEPS:
        raise ApplicationError(f"Unknown step {where.step!r}.", code="invalid", fields={"step": f"one of {', '.join(saga.STEPS)}"})
    now = now or datetime.now(timezone.utc)
    rows = repository.orders_find(query=filter_query(where, now=now), limit=limit + 1,
                                  after=decode_cursor(cursor) if cursor else None)
    next_cursor = encode_cursor(rows[limit - 1]["createdAt"], rows[limit - 1]["_id"]) if len(rows) > limit else None
    return [with_progress(row, now=now) for row in rows[:limit]], next_cursor


def filter_query(where: OrderFilter, *, now: datetime) -> dict:
    clauses: list[dict] = []
    if where.status:
        clauses.append({"status": where.status})
    if where.older_than_s:
        clauses.append({"createdAt": {"$lt": now - timedelta(seconds=where.older_than_s)}})
    if where.error:
        clauses.append({"failure.reason": {"$regex": re.escape(where.error), "$options": "i"}})
    steps = [where.step] if where.step else list(saga.STEPS)
    if where.stuck or where.step:
        cutoffs = saga.stuck_cutoffs(now=now, timeouts=settings.SAGA_STEP_TIMEOUT_S) if where.stuck else {}
        clauses.append({"$or": [waiting_query(step, before=cutoffs.get(step)) for step in steps]})
    return {"$and": clauses} if clauses else {}


def overdue_orders(*, now: datetime) -> list[tuple[dict, str]]:
    """The orders past their step's deadline now, each with that step, by the saga rule
    (saga.overdue_step): one read of the orders idle for at least the shortest deadline. On FerretDB
    any query but {_id} reads the whole collection, so this is one read, not one per step."""
    timeouts = settings.SAGA_STEP_TIMEOUT_S
    idle = repository.orders_waiting(statuses=saga.waiting_statuses(saga.COMPENSATION),
                                     before=now - timedelta(seconds=min(timeouts.values())))
    overdue = ((order, saga.overdue_step(status=order["status"], facts=order.get("facts") or {},
                                         since=_utc(order["updatedAt"]), now=now, timeouts=timeouts)) for order in idle)
    return [(order, step) for order, step in overdue if step is not None]


def stuck_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Per step, the orders past its deadline now (read only; the detector also flags them)."""
    counts = dict.fromkeys(saga.STEPS, 0)
    for _, step in overdue_orders(now=now or datetime.now(timezone.utc)):
        counts[step] += 1
    return counts


def waiting_query(step: str, *, before: datetime | None) -> dict:
    """Orders waiting for `step`, with no progress since `before` when given."""
    return repository.stuck_query(step=step, waiting_statuses=saga.waiting_statuses(step),
                                  cancelling_facts=saga.CANCELLING_FACTS, before=before)


def with_progress(order: dict, *, now: datetime | None = None) -> dict:
    """The order with its age, the step it waits for and, when past its deadline, its overdue step."""
    now = now or datetime.now(timezone.utc)
    facts = order.get("facts", {})
    since = _utc(order.get("updatedAt") or order["createdAt"])
    return {
        **order,
        "ageSeconds": max(0, int((now - _utc(order["createdAt"])).total_seconds())),
        "waitingStep": saga.waiting_step(order["status"], facts),
        "overdueStep": saga.overdue_step(status=order["status"], facts=facts, since=since, now=now,
                                         timeouts=settings.SAGA_STEP_TIMEOUT_S),
    }


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # mongomock hands back naive UTC


def _check_status(status: str | None) -> None:
    if status is not None and status not in domain.STATUSES:
        raise ApplicationError(f"Unknown status {status!r}.", code="invalid", fields={"status": f"one of {', '.join(domain.STATUSES)}"})


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise ApplicationError("limit out of range.", code="invalid", fields={"limit": f"1-{MAX_LIST_LIMIT}"})
