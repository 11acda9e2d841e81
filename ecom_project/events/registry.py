"""The one registry of event types: type + version -> topic and payload schema (DESIGN §5)."""
from __future__ import annotations

from pydantic import BaseModel

from ecom_project.events import schemas as s

ORDER_CREATED = "order.OrderCreated"
INVENTORY_RESERVED = "inventory.InventoryReserved"
INVENTORY_FAILED = "inventory.InventoryFailed"
INVENTORY_RELEASED = "inventory.InventoryReleased"
PAYMENT_AUTHORIZED = "payment.PaymentAuthorized"
PAYMENT_FAILED = "payment.PaymentFailed"
PAYMENT_REFUNDED = "payment.PaymentRefunded"
ORDER_SHIPPED = "shipping.OrderShipped"
SHIPPING_FAILED = "shipping.ShippingFailed"
RETRY_REQUESTED = "ops.RetryRequested"
COMPENSATION_REQUESTED = "ops.CompensationRequested"
DEAD_LETTER = "ops.DeadLetter"

SCHEMAS: dict[tuple[str, int], type[BaseModel]] = {
    (ORDER_CREATED, 1): s.OrderCreatedV1,
    (INVENTORY_RESERVED, 1): s.InventoryReservedV1,
    (INVENTORY_FAILED, 1): s.InventoryFailedV1,
    (INVENTORY_RELEASED, 1): s.InventoryReleasedV1,
    (PAYMENT_AUTHORIZED, 1): s.PaymentAuthorizedV1,
    (PAYMENT_FAILED, 1): s.PaymentFailedV1,
    (PAYMENT_REFUNDED, 1): s.PaymentRefundedV1,
    (ORDER_SHIPPED, 1): s.OrderShippedV1,
    (SHIPPING_FAILED, 1): s.ShippingFailedV1,
    (RETRY_REQUESTED, 1): s.RetryRequestedV1,
    (COMPENSATION_REQUESTED, 1): s.CompensationRequestedV1,
    (DEAD_LETTER, 1): s.DeadLetterV1,
}

DLQ_SUFFIX = ".dlq"
RETRY_PREFIX = "ops.retry."


def topic_of(event_type: str, version: int = 1) -> str:
    return f"{event_type}.v{version}"


def schema_for(event_type: str, version: int = 1) -> type[BaseModel]:
    return SCHEMAS[(event_type, version)]


def type_of_topic(topic: str) -> tuple[str, int]:
    """'payment.PaymentFailed.v1' -> ('payment.PaymentFailed', 1)."""
    for event_type, version in SCHEMAS:
        if topic_of(event_type, version) == topic:
            return event_type, version
    raise KeyError(topic)


def dlq_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


def retry_topic(consumer: str) -> str:
    """The topic only `consumer`'s group reads: a dead-letter replay goes there, so no other group sees it."""
    return RETRY_PREFIX + consumer


def is_retry_topic(topic: str) -> bool:
    return topic.startswith(RETRY_PREFIX)


EVENT_TOPICS: list[str] = [topic_of(t, v) for (t, v) in SCHEMAS if t != DEAD_LETTER]
ALL_TOPICS: list[str] = EVENT_TOPICS + [dlq_topic(t) for t in EVENT_TOPICS]
