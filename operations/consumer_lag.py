"""Consumer-group lag as the broker reports it: high watermark minus committed offset."""
from __future__ import annotations

from django.conf import settings

from ecom_project.messaging.groups import group_lag as _group_lag


def group_lag(*, group_id: str, topics: list[str]) -> int | None:
    if not settings.KAFKA_BROKERS or not topics:
        return None
    return _group_lag(settings.KAFKA_BROKERS, group_id, topics)
