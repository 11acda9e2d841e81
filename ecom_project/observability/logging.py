"""JSON logs carrying service, eventId, correlationId and orderId of the event in hand."""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone

_event_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("event_context", default={})
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@contextlib.contextmanager
def event_context(**fields: str | None) -> Iterator[None]:
    """Attach eventId/correlationId/orderId to every log line written inside the block."""
    token = _event_context.set({**_event_context.get(), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _event_context.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from django.conf import settings

        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": getattr(settings, "SERVICE_NAME", "ecom"),
            "logger": record.name,
            "message": record.getMessage(),
            **_event_context.get(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
