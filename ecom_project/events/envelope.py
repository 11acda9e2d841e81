"""The envelope every event travels in (DESIGN §5): camelCase JSON on the wire."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel


class InvalidEvent(ValueError):
    """Bytes that are not a valid event of a known type and version (goes to the DLQ at once)."""


class Envelope(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")

    event_id: uuid.UUID
    type: str = Field(min_length=3, max_length=100)
    version: int = Field(ge=1, le=1000)
    timestamp: datetime
    correlation_id: str = Field(min_length=1, max_length=100)
    causation_id: str | None = Field(default=None, max_length=100)
    key: str = Field(min_length=1, max_length=100)
    payload: dict[str, Any]
    headers: dict[str, str] = Field(default_factory=dict)

    @property
    def topic(self) -> str:
        return f"{self.type}.v{self.version}"

    @property
    def order_id(self) -> str:
        return self.key

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def new_event(
    event_type: str,
    payload: BaseModel,
    *,
    order_id: str,
    cause: Envelope | None = None,
    correlation_id: str | None = None,
    version: int = 1,
    headers: dict[str, str] | None = None,
) -> Envelope:
    """An event caused by `cause` (same correlation id, causationId = cause's eventId)."""
    from ecom_project.events.registry import schema_for

    schema = schema_for(event_type, version)
    if not isinstance(payload, schema):
        raise TypeError(f"{event_type} v{version} takes a {schema.__name__} payload")
    return Envelope(
        event_id=uuid.uuid4(),
        type=event_type,
        version=version,
        timestamp=datetime.now(timezone.utc),
        correlation_id=correlation_id or (cause.correlation_id if cause else order_id),
        causation_id=str(cause.event_id) if cause else None,
        key=order_id,
        payload=payload.model_dump(mode="json", by_alias=True, exclude_none=True),
        headers=headers or {},
    )


def decode(raw: bytes | str | None) -> Envelope:
    """Bytes from a topic -> a validated envelope whose payload matches its schema."""
    from ecom_project.events.registry import schema_for

    if raw is None:
        raise InvalidEvent("empty message")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidEvent("not a JSON object")
    try:
        envelope = Envelope.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(f"bad envelope: {_short(exc)}") from None
    try:
        schema = schema_for(envelope.type, envelope.version)
    except KeyError:
        raise InvalidEvent(f"unknown event type {envelope.type} v{envelope.version}") from None
    try:
        schema.model_validate(envelope.payload)
    except ValidationError as exc:
        raise InvalidEvent(f"bad {envelope.type} payload: {_short(exc)}") from None
    return envelope


def payload_of(envelope: Envelope) -> BaseModel:
    """The typed payload model of an envelope."""
    from ecom_project.events.registry import schema_for

    return schema_for(envelope.type, envelope.version).model_validate(envelope.payload)


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:5])
