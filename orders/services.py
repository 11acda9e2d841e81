"""Writes of the orders app: intake, status from saga events, operator requests."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from django.conf import settings

from ecom_project.api_errors import ApplicationError
from ecom_project.bounded import LRU
from ecom_project.events import registry as ev
from ecom_project.events.envelope import Envelope, new_event, payload_of
from ecom_project.events.schemas import CompensationRequestedV1, Line, OrderCreatedV1, RetryRequestedV1
from orders import domain, identifiers, idempotency, metrics, repository, status_counts

log = logging.getLogger(__name__)
_OPERATOR_WRITE_ATTEMPTS = 3


# The orders this process last wrote from a saga event, as written: the next event of the order applies to
# it without reading it back. Sound because the write is guarded by `version` (every versioned write bumps
# it) and by the event id: if anyone wrote the order since (an operator request), the write fails, the
# entry is dropped and the event retried on the stored order. An order is let go when it ends (a late
# compensation event then reads it back once): the cache holds the orders in flight, not the last N
# finished, so the process's memory does not fill up with finished orders.
_written: LRU[str, dict] = LRU(settings.ORDER_CACHE_SIZE)


class OrderVersionConflict(RuntimeError):
    """Another write changed the order between read and write; the runner retries the event."""


@dataclass(frozen=True)
class OrderCreation:
    order_id: str
    created: bool  # False: a repeat (same Idempotency-Key or client orderId) answered with the earlier order


def order_create(
    *, items: list[dict], total: Decimal, currency: str, shipping_address: dict | None,
    idempotency_key: str | None = None, order_id: str | None = None,
) -> OrderCreation:
    """Store a PENDING order and its OrderCreated in one write.

    `order_id` is a client-chosen id (identifiers.client_order_id); with it, or with an
    idempotency key, the request is claimed first (idempotency.py): a repeat re-uses the
    claimed orderId and (if a crash left the order unwritten) finishes creating it, so a
    key never yields two orders nor none."""
    now = datetime.now(timezone.utc)
    if idempotency_key is not None or order_id is not None:
        order_id = idempotency.claimed_order_id(
            new_order_id=identifiers.new_order_id(), client_order_id=order_id, idempotency_key=idempotency_key,
            body_hash=idempotency.body_hash(items=items, total=total, currency=currency, shipping_address=shipping_address),
            at=now,
        )
    else:
        order_id = identifiers.new_order_id()
    country = (shipping_address or {}).get("country")
    event = new_event(
        ev.ORDER_CREATED,
        OrderCreatedV1(order_id=order_id, items=[Line(**i) for i in items], total=total, currency=currency,
                       shipping_country=country),
        order_id=order_id,
    )
    document = {
        "_id": order_id, "orderId": order_id, "status": domain.PENDING, "items": items, "total": f"{total:.2f}",
        "currency": currency, "shippingAddress": shipping_address, "createdAt": now, "updatedAt": now,
        "statusHistory": [{"status": domain.PENDING, "at": now, "eventId": str(event.event_id)}],
        "facts": {}, "failure": None, "operatorRequests": [], "idempotencyKey": idempotency_key,
        "version": 1, "appliedEvents": [],
    }
    created = repository.order_insert(document, [event])
    if created:
        status_counts.ORDER_COUNTS.moved(old=None, new=domain.PENDING)
    return OrderCreation(order_id=order_id, created=created)


def order_apply_event(*, event: Envelope) -> None:
    """Record the fact an inventory/payment/shipping event states and move the status."""
    kept = _written.get(event.order_id)
    if kept is not None and _apply_to(kept, event):
        return
    order = repository.order_find(event.order_id)  # not kept, or the kept copy was stale
    if order is None:  # not ours: OrderCreated is stored before any event about the order can exist
        log.warning("event for an unknown order ignored", extra={"orderId": event.order_id, "type": event.type})
        return
    if not _apply_to(order, event):
        raise OrderVersionConflict(f"order {order['_id']} changed while applying {event.type} {event.event_id}")


def _apply_to(order: dict, event: Envelope) -> bool:
    """Apply `event` to the order as read, in one guarded write; False when the order changed since."""
    event_id = str(event.event_id)
    if event_id in order.get("appliedEvents", []):
        return True
    facts = domain.with_event_fact(order.get("facts", {}), event.type)
    status = domain.next_status(order["status"], facts)
    now = datetime.now(timezone.utc)
    update: dict = {"$set": {"facts": facts, "status": status, "updatedAt": now, "stuckStep": None}}
    if status != order["status"]:
        update["$push"] = {"statusHistory": {"status": status, "at": now, "eventId": event_id}}
    if event.type in domain.FAILURE_OF_EVENT and not order.get("failure"):
        reason = getattr(payload_of(event), "reason", "")
        update["$set"]["failure"] = {"kind": domain.FAILURE_OF_EVENT[event.type], "reason": reason, "eventId": event_id}
    if not repository.order_update(order_id=order["_id"], version=order["version"], update=update,
                                   applied_event_id=event_id):
        _written.pop(order["_id"])
        return False
    if status in domain.TERMINAL:
        _written.pop(order["_id"])
    else:
        _written.put(order["_id"], {
            **order, **update["$set"], "version": order["version"] + 1,
            "statusHistory": [*order.get("statusHistory", []), *update.get("$push", {}).values()],
            "appliedEvents": [*order.get("appliedEvents", []), event_id],
        })
    if status != order["status"]:
        status_counts.ORDER_COUNTS.moved(old=order["status"], new=status)
        if status in domain.TERMINAL:
            metrics.saga_finished(status=status, created_at=order["createdAt"], at=now)
    return True


def order_retry_request(*, order_id: str, step: str, requested_by: str) -> str:
    """Ask the step's owner to re-run it (ops.RetryRequested); returns the event's id."""
    if step not in domain.RETRY_STEPS:
        raise ApplicationError(f"Unknown step {step!r}.", code="invalid", fields={"step": f"one of {', '.join(domain.RETRY_STEPS)}"})

    def build(order: dict) -> tuple[str | None, Envelope]:
        refusal = domain.retry_refusal(status=order["status"], facts=order.get("facts", {}), step=step)
        country = (order.get("shippingAddress") or {}).get("country")
        payload = RetryRequestedV1(
            order_id=order_id, step=step, requested_by=requested_by, items=[Line(**i) for i in order["items"]],
            total=Decimal(order["total"]), currency=order["currency"], shipping_country=country,
        )
        return refusal, new_event(ev.RETRY_REQUESTED, payload, order_id=order_id)

    return _operator_request(order_id=order_id, kind="retry", detail={"step": step}, requested_by=requested_by, build=build)


def order_compensation_request(*, order_id: str, action: str, requested_by: str) -> str:
    """Ask the action's owner to compensate (ops.CompensationRequested); the order then
    cancels by the rule in domain.py. Returns the event's id."""
    if action not in domain.COMPENSATION_ACTIONS:
        raise ApplicationError(
            f"Unknown action {action!r}.", code="invalid", fields={"action": f"one of {', '.join(domain.COMPENSATION_ACTIONS)}"}
        )

    def build(order: dict) -> tuple[str | None, Envelope]:
        refusal = domain.compensation_refusal(status=order["status"], facts=order.get("facts", {}), action=action)
        payload = CompensationRequestedV1(order_id=order_id, action=action, requested_by=requested_by)
        return refusal, new_event(ev.COMPENSATION_REQUESTED, payload, order_id=order_id)

    return _operator_request(
        order_id=order_id, kind="compensation", detail={"action": action}, requested_by=requested_by, build=build,
        facts_set={f"facts.{domain.CANCEL_REQUESTED}": True},
    )


def _operator_request(*, order_id: str, kind: str, detail: dict, requested_by: str, build, facts_set: dict | None = None) -> str:
    """State check, then the request recorded on the order and its event queued in one
    write; re-checked on a concurrent change (a bounded number of times)."""
    if not 1 <= len(requested_by) <= 64:
        raise ApplicationError("requestedBy must be 1-64 characters.", code="invalid", fields={"requestedBy": "1-64 characters"})
    for _ in range(_OPERATOR_WRITE_ATTEMPTS):
        order = repository.order_find(order_id)
        if order is None:
            raise ApplicationError("No such order.", code="not_found", status_code=404)
        refusal, event = build(order)
        if refusal:
            raise ApplicationError(f"Cannot request {kind}: {refusal}.", code="conflict", status_code=409,
                                   fields={"reason": refusal, "status": order["status"]})
        now = datetime.now(timezone.utc)
        request = {"kind": kind, **detail, "requestedBy": requested_by, "at": now, "eventId": str(event.event_id)}
        # A request restarts the step's clock, so the order is no longer flagged stuck.
        update = {"$set": {"updatedAt": now, "stuckStep": None, **(facts_set or {})}, "$push": {"operatorRequests": request}}
        if repository.order_update(order_id=order_id, version=order["version"], update=update, events=[event]):
            return str(event.event_id)
    raise ApplicationError("The order changed concurrently; try again.", code="conflict", status_code=409)
