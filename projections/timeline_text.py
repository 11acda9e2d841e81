"""One readable line per event for the order timeline (pure: no I/O)."""
from __future__ import annotations

from ecom_project.events import registry as r
from ecom_project.events.envelope import Envelope, payload_of


def describe(envelope: Envelope) -> str:
    p = payload_of(envelope)
    t = envelope.type
    lines = lambda items: ", ".join(f"{line.qty}× {line.sku}" for line in items)  # noqa: E731
    if t == r.ORDER_CREATED:
        return f"{lines(p.items)} for {p.total:.2f} {p.currency}" + (f", ship to {p.shipping_country}" if p.shipping_country else "")
    if t == r.INVENTORY_RESERVED:
        return f"reserved {lines(p.items)}"
    if t == r.INVENTORY_FAILED:
        short = ", ".join(f"{s.sku} {s.available}/{s.requested}" for s in p.shortages)
        return p.reason + (f" (short: {short})" if short else "")
    if t == r.INVENTORY_RELEASED:
        return f"released {lines(p.items) or 'reservation'}: {p.reason}"
    if t == r.PAYMENT_AUTHORIZED:
        return f"authorised {p.amount:.2f} {p.currency} (payment {p.payment_id})"
    if t == r.PAYMENT_FAILED:
        return f"declined {p.amount:.2f} {p.currency}: {p.reason}"
    if t == r.PAYMENT_REFUNDED:
        return f"refunded {p.amount:.2f} {p.currency}: {p.reason}"
    if t == r.ORDER_SHIPPED:
        return f"{p.carrier} tracking {p.tracking_number}"
    if t == r.SHIPPING_FAILED:
        return p.reason
    if t == r.RETRY_REQUESTED:
        return f"retry of {p.step} requested by {p.requested_by}"
    if t == r.COMPENSATION_REQUESTED:
        return f"{p.action} requested by {p.requested_by}"
    if t == r.DEAD_LETTER:
        return f"dead letter: {p.consumer} failed {p.original_type} after {p.attempts} attempt(s): {p.error}"[:500]
    return t
