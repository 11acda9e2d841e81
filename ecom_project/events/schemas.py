"""One payload schema per event type and version. No PII: ids, amounts, SKUs and a country only."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

OrderId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Quantity = Annotated[int, Field(ge=1, le=10_000)]
# Money is a decimal with at most 2 places, a string on the wire so no float rounding creeps in.
Money = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("1000000000"), max_digits=12, decimal_places=2),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Step = Literal["inventory", "payment", "shipping"]
Action = Literal["releaseInventory", "refundPayment"]


class Payload(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")


class Line(Payload):
    sku: Sku
    qty: Quantity


class Shortage(Payload):
    sku: Sku
    requested: Quantity
    available: Annotated[int, Field(ge=0)]


class OrderCreatedV1(Payload):
    order_id: OrderId
    items: Annotated[list[Line], Field(min_length=1, max_length=100)]
    total: Money
    currency: Currency = "USD"
    shipping_country: Country | None = None


class InventoryReservedV1(Payload):
    order_id: OrderId
    items: Annotated[list[Line], Field(min_length=1, max_length=100)]
    total: Money
    currency: Currency
    shipping_country: Country | None = None


class InventoryFailedV1(Payload):
    order_id: OrderId
    reason: Reason
    shortages: list[Shortage] = Field(default_factory=list, max_length=100)


class InventoryReleasedV1(Payload):
    order_id: OrderId
    items: Annotated[list[Line], Field(max_length=100)]
    reason: Reason


class PaymentAuthorizedV1(Payload):
    order_id: OrderId
    payment_id: Annotated[str, Field(min_length=1, max_length=64)]
    amount: Money
    currency: Currency
    shipping_country: Country | None = None


class PaymentFailedV1(Payload):
    order_id: OrderId
    amount: Money
    currency: Currency
    reason: Reason


class PaymentRefundedV1(Payload):
    order_id: OrderId
    payment_id: Annotated[str, Field(min_length=1, max_length=64)]
    amount: Money
    currency: Currency
    reason: Reason


class OrderShippedV1(Payload):
    order_id: OrderId
    shipment_id: Annotated[str, Field(min_length=1, max_length=64)]
    carrier: Annotated[str, Field(min_length=1, max_length=64)]
    tracking_number: Annotated[str, Field(min_length=1, max_length=64)]


class ShippingFailedV1(Payload):
    order_id: OrderId
    reason: Reason


class RetryRequestedV1(Payload):
    """Carries what the step's owner needs to re-run it, even if it never saw the order before."""

    order_id: OrderId
    step: Step
    requested_by: Annotated[str, Field(min_length=1, max_length=64, description="operator user id")]
    items: Annotated[list[Line], Field(min_length=1, max_length=100)]
    total: Money
    currency: Currency
    shipping_country: Country | None = None


class CompensationRequestedV1(Payload):
    order_id: OrderId
    action: Action
    requested_by: Annotated[str, Field(min_length=1, max_length=64, description="operator user id")]


class DeadLetterV1(Payload):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")

    original_topic: Annotated[str, Field(max_length=249)]
    original_type: str | None = None
    original_event_id: str | None = None
    order_id: str | None = None
    consumer: str
    error: Annotated[str, Field(max_length=2000)]
    attempts: Annotated[int, Field(ge=0)]
    failed_at: str
    payload: dict | list | str | int | float | bool | None = Field(
        description="the original event; the raw text when it could not be parsed"
    )
