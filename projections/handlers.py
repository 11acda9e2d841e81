"""Event -> projection. The projector listens to every event type of the saga."""
from __future__ import annotations

from ecom_project.events.envelope import Envelope
from ecom_project.events.registry import SCHEMAS
from ecom_project.messaging.consumers import ConsumerSpec
from projections import repository, services, status_counts


def project_event(event: Envelope) -> None:
    services.projection_apply(event=event)


# Every event type, dead letters included: an order whose OrderCreated failed still shows, with its letters.
EVENT_HANDLERS = {event_type: project_event for (event_type, _version) in SCHEMAS}

CONSUMER = ConsumerSpec(name="projections", handlers=EVENT_HANDLERS, setup=repository.ensure_indexes,
                        periodic_tasks=status_counts.PROJECTION_COUNTS.recount_tasks)
