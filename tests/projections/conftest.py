"""Saga events of one order, built with the kernel's event factory, with chosen timestamps."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ecom_project.events import registry as r
from ecom_project.events import schemas as s
from ecom_project.events.envelope import Envelope, new_event

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
LINES = [s.Line(sku="SKU-1", qty=2)]


def _payloads(order_id: str) -> dict[str, object]:
    money = {"currency": "USD"}
    return {
        r.ORDER_CREATED: s.OrderCreatedV1(order_id=order_id, items=LINES, total=Decimal("42.50"), shipping_country="US"),
        r.INVENTORY_RESERVED: s.InventoryReservedV1(order_id=order_id, items=LINES, total=Decimal("42.50"), **money),
        r.INVENTORY_FAILED: s.InventoryFailedV1(
            order_id=order_id, reason="insufficient stock",
            shortages=[s.Shortage(sku="SKU-1", requested=2, available=1)],
        ),
        r.INVENTORY_RELEASED: s.InventoryReleasedV1(order_id=order_id, items=LINES, reason="payment declined"),
        r.PAYMENT_AUTHORIZED: s.PaymentAuthorizedV1(order_id=order_id, payment_id="pay-1", amount=Decimal("42.50"), **money),
        r.PAYMENT_FAILED: s.PaymentFailedV1(order_id=order_id, amount=Decimal("42.50"), reason="over limit", **money),
        r.PAYMENT_REFUNDED: s.PaymentRefundedV1(
            order_id=order_id, payment_id="pay-1", amount=Decimal("42.50"), reason="shipping failed", **money,
        ),
        r.ORDER_SHIPPED: s.OrderShippedV1(order_id=order_id, shipment_id="shp-1", carrier="SimPost", tracking_number="TRK123"),
        r.SHIPPING_FAILED: s.ShippingFailedV1(order_id=order_id, reason="country ZZ not served"),
        r.RETRY_REQUESTED: s.RetryRequestedV1(
            order_id=order_id, step="payment", requested_by="ops-1", items=LINES, total=Decimal("42.50"), **money,
        ),
        r.COMPENSATION_REQUESTED: s.CompensationRequestedV1(order_id=order_id, action="refundPayment", requested_by="ops-1"),
    }


def saga(order_id: str, *types: str, start: datetime = T0) -> list[Envelope]:
    """Events of `types` for one order, one second apart, in the given order."""
    payloads = _payloads(order_id)
    events = []
    for index, event_type in enumerate(types):
        event = new_event(event_type, payloads[event_type], order_id=order_id)
        events.append(event.model_copy(update={"timestamp": start + timedelta(seconds=index)}))
    return events


HAPPY = (r.ORDER_CREATED, r.INVENTORY_RESERVED, r.PAYMENT_AUTHORIZED, r.ORDER_SHIPPED)
REJECTED = (r.ORDER_CREATED, r.INVENTORY_FAILED)
PAYMENT_DECLINED = (r.ORDER_CREATED, r.INVENTORY_RESERVED, r.PAYMENT_FAILED, r.INVENTORY_RELEASED)
SHIPPING_FAILED = (
    r.ORDER_CREATED, r.INVENTORY_RESERVED, r.PAYMENT_AUTHORIZED, r.SHIPPING_FAILED, r.PAYMENT_REFUNDED, r.INVENTORY_RELEASED,
)


@pytest.fixture
def order_id(monkeypatch) -> str:
    """An order id (and its "-suffix" variants) the orders app is taken to have accepted (a fake
    directory: the real one is tested in test_follow.py)."""
    from ecom_project import order_directory

    accepted = f"ord-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(order_directory, "_lookup", lambda candidate: candidate.startswith(accepted))
    return accepted


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test gets its own in-memory channel layer (the layer caches per-loop queues)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


ORIGIN = (b"origin", b"http://localhost")  # websockets: the Origin must be one of ALLOWED_HOSTS (read at import)


@pytest.fixture
def staff_socket_headers(transactional_db) -> list[tuple[bytes, bytes]]:
    """Handshake headers of a staff tool: the all-orders feed is for staff (ecom_project/access.py)."""
    from ecom_project.access import service_token

    return [ORIGIN, (b"authorization", f"Bearer {service_token(username='feed-reader')}".encode())]
