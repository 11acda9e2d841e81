"""The order read model as a pure fold over events: no I/O, so any arrival order can be unit-tested.

Status comes from the kernel's one saga rule (ecom_project/events/saga.py), the one the
orders app uses: the facts are those the event types seen state, folded with the stored
status, so a late event cannot move an order backwards and a duplicate changes nothing.
Dead letters about the order are timeline entries too (kind "deadLetter"): an order whose
OrderCreated failed in the projector still appears, as PENDING with its dead letters.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ecom_project.events import registry as r
from ecom_project.events import saga
from ecom_project.events.envelope import Envelope
from projections.timeline_text import describe

from ecom_project.events.saga import (  # noqa: F401  (the statuses are part of this module's vocabulary)
    CANCELLED,
    INVENTORY_RESERVED,
    PAYMENT_AUTHORIZED,
    PENDING,
    REJECTED,
    SHIPPED,
    STATUSES,
    TERMINAL,
)
TERMINAL_STATUSES = TERMINAL

FAILURES = frozenset({r.INVENTORY_FAILED, r.PAYMENT_FAILED, r.SHIPPING_FAILED})
COMPENSATIONS = frozenset({r.INVENTORY_RELEASED, r.PAYMENT_REFUNDED})
OPERATOR_ACTIONS = frozenset({r.RETRY_REQUESTED, r.COMPENSATION_REQUESTED})
# Ties in event time (same millisecond) are shown in saga order rather than by random eventId.
SAGA_ORDER = {t: i for i, t in enumerate([
    r.ORDER_CREATED, r.INVENTORY_RESERVED, r.INVENTORY_FAILED, r.PAYMENT_AUTHORIZED, r.PAYMENT_FAILED,
    r.ORDER_SHIPPED, r.SHIPPING_FAILED, r.PAYMENT_REFUNDED, r.INVENTORY_RELEASED,
    r.RETRY_REQUESTED, r.COMPENSATION_REQUESTED, r.DEAD_LETTER,
])}
# Where the order details may come from, best first: the order itself, then events that repeat them.
DETAIL_SOURCES = (r.ORDER_CREATED, r.INVENTORY_RESERVED, r.RETRY_REQUESTED)


def saga_facts(timeline: list[dict[str, Any]]) -> dict[str, bool]:
    return saga.facts_of(entry["type"] for entry in timeline)


def event_time(envelope: Envelope) -> str:
    return format_time(envelope.timestamp)


def format_time(stamp: datetime) -> str:
    """RFC 3339 UTC with microseconds: fixed width, so strings sort in time order."""
    stamp = stamp.replace(tzinfo=timezone.utc) if stamp.tzinfo is None else stamp.astimezone(timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timeline_entry(envelope: Envelope) -> dict[str, Any]:
    entry = {
        "type": envelope.type,
        "eventId": str(envelope.event_id),
        "at": event_time(envelope),
        "detail": describe(envelope),
        "kind": entry_kind(envelope.type),
    }
    if envelope.type == r.DEAD_LETTER and envelope.headers.get("deadLetterId"):
        entry["deadLetterId"] = envelope.headers["deadLetterId"]
    return entry


def is_projected(envelope: Envelope) -> bool:
    """A dead letter is projected only when it names a decoded event: undecodable input carries a
    guessed key, which must not create orders nobody placed."""
    return envelope.type != r.DEAD_LETTER or bool(envelope.payload.get("originalType") and envelope.payload.get("orderId"))


def entry_kind(event_type: str) -> str:
    if event_type in FAILURES:
        return "failed"
    if event_type in COMPENSATIONS:
        return "compensation"
    if event_type in OPERATOR_ACTIONS:
        return "operator"
    if event_type == r.DEAD_LETTER:
        return "deadLetter"
    return "ok"


def order_details(envelope: Envelope) -> dict[str, Any] | None:
    """items/total/currency/shippingCountry carried by this event, if it carries them."""
    if envelope.type not in DETAIL_SOURCES:
        return None
    p = envelope.payload
    return {"items": p["items"], "total": p["total"], "currency": p.get("currency", "USD"),
            "shippingCountry": p.get("shippingCountry")}


def sort_key(entry: dict[str, Any]) -> tuple:
    return entry["at"], SAGA_ORDER.get(entry["type"], 99), entry["eventId"]


def apply_event(current: dict[str, Any] | None, envelope: Envelope) -> dict[str, Any] | None:
    """The projection after `envelope`, or None when this event is already in it."""
    if not is_projected(envelope):
        return None
    current = current or {"orderId": envelope.key, "timeline": [], "revision": 0, "detailsFrom": None}
    event_id = str(envelope.event_id)
    if any(entry["eventId"] == event_id for entry in current["timeline"]):
        return None
    timeline = sorted([*current["timeline"], timeline_entry(envelope)], key=sort_key)
    facts = saga_facts(timeline)
    status = saga.next_status(current.get("status"), facts)
    projection = {
        **current,
        "timeline": timeline,
        "status": status,
        "compensating": saga.compensating(status, facts),
        "waitingStep": saga.waiting_step(status, facts),
        "deadLetters": sum(1 for entry in timeline if entry["type"] == r.DEAD_LETTER),
        "terminal": status in TERMINAL_STATUSES,
        "createdAt": _created_at(timeline),
        "updatedAt": timeline[-1]["at"],
        "progressAt": _progress_at(timeline),
        "revision": current["revision"] + 1,
    }
    return _with_details(projection, envelope)


def _created_at(timeline: list[dict[str, Any]]) -> str:
    created = [e["at"] for e in timeline if e["type"] == r.ORDER_CREATED]
    return created[0] if created else timeline[0]["at"]


def _progress_at(timeline: list[dict[str, Any]]) -> str:
    """When the saga last moved: a dead letter is not progress (the stuck-order clock keeps running)."""
    moved = [e["at"] for e in timeline if e["type"] != r.DEAD_LETTER]
    return moved[-1] if moved else timeline[0]["at"]


def _with_details(projection: dict[str, Any], envelope: Envelope) -> dict[str, Any]:
    details = order_details(envelope)
    if details is None:
        return projection
    rank = DETAIL_SOURCES.index(envelope.type)
    held = projection.get("detailsFrom")
    if held is not None and DETAIL_SOURCES.index(held) <= rank:
        return projection
    return {**projection, **details, "detailsFrom": envelope.type}


def is_valid_status(value: str) -> bool:
    return value in STATUSES
