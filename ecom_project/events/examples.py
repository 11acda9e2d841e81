"""One example payload per event type and version: documentation, and round-trip test input."""
from __future__ import annotations

from ecom_project.events import registry as r

_ORDER = "3f2a9c1e5b7d4e8fa0c1d2e3f4a5b6c7"
_LINES = [{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-7", "qty": 1}]

EXAMPLES: dict[tuple[str, int], dict] = {
    (r.ORDER_CREATED, 1): {"orderId": _ORDER, "items": _LINES, "total": "59.90", "currency": "USD", "shippingCountry": "US"},
    (r.INVENTORY_RESERVED, 1): {"orderId": _ORDER, "items": _LINES, "total": "59.90", "currency": "USD", "shippingCountry": "US"},
    (r.INVENTORY_FAILED, 1): {
        "orderId": _ORDER, "reason": "short stock for SKU-7",
        "shortages": [{"sku": "SKU-7", "requested": 1, "available": 0}],
    },
    (r.INVENTORY_RELEASED, 1): {"orderId": _ORDER, "items": _LINES, "reason": "payment declined"},
    (r.PAYMENT_AUTHORIZED, 1): {
        "orderId": _ORDER, "paymentId": "pay_3f2a9c1e", "amount": "59.90", "currency": "USD", "shippingCountry": "US",
    },
    (r.PAYMENT_FAILED, 1): {"orderId": _ORDER, "amount": "9000.00", "currency": "USD", "reason": "declined: over limit"},
    (r.PAYMENT_REFUNDED, 1): {
        "orderId": _ORDER, "paymentId": "pay_3f2a9c1e", "amount": "59.90", "currency": "USD", "reason": "shipping failed",
    },
    (r.ORDER_SHIPPED, 1): {"orderId": _ORDER, "shipmentId": "shp_3f2a9c1e", "carrier": "DHL", "trackingNumber": "1Z3F2A9C1E"},
    (r.SHIPPING_FAILED, 1): {"orderId": _ORDER, "reason": "carrier does not ship to BR"},
    (r.RETRY_REQUESTED, 1): {
        "orderId": _ORDER, "step": "payment", "requestedBy": "7", "items": _LINES, "total": "59.90", "currency": "USD",
    },
    (r.COMPENSATION_REQUESTED, 1): {"orderId": _ORDER, "action": "refundPayment", "requestedBy": "7"},
    (r.DEAD_LETTER, 1): {
        "originalTopic": "payment.PaymentAuthorized.v1", "originalType": "payment.PaymentAuthorized",
        "originalEventId": "0d6f1c2e-8d0b-4b8e-9a51-1d0f1f7a0b11", "orderId": _ORDER, "consumer": "shipping",
        "error": "RuntimeError: carrier timeout", "attempts": 3, "failedAt": "2026-11-25T20:00:00+00:00",
        "payload": {"type": "payment.PaymentAuthorized"},
    },
}
