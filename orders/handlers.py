"""Saga events -> order status. Routing is data: every tracked event type -> one handler."""
from __future__ import annotations

from ecom_project.events.envelope import Envelope
from ecom_project.messaging.consumers import ConsumerSpec
from orders import domain, repository, services, status_counts, stuck


def order_status_track(event: Envelope) -> None:
    services.order_apply_event(event=event)


EVENT_HANDLERS = {event_type: order_status_track for event_type in domain.TRACKED_EVENTS}

CONSUMER = ConsumerSpec(
    name="orders",
    handlers=EVENT_HANDLERS,
    outbox_collections=lambda: [repository.orders()],
    setup=repository.ensure_indexes,
    periodic_tasks=lambda: [*stuck.stuck_detector_tasks(), *status_counts.ORDER_COUNTS.recount_tasks()],
)
